"""``auditor upload FILE ... --url URL``: post bundles already written (collected offline, imported
from Windows exports) to a collection point; ``auditor collect --upload`` does it as it collects."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from auditor.upload import RETRIES, add_client_arguments


def _retries(value: str) -> int:
    if not value.isdigit() or int(value) > 20:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 20, got {value!r}")
    return int(value)


def register(sub: Any) -> None:
    upload = sub.add_parser("upload", allow_abbrev=False,
                            help="post bundle files to a collection point (auditor serve)")
    upload.add_argument("bundles", nargs="+", metavar="FILE", help="bundle files, or directories of them (recursively)")
    add_client_arguments(upload, "--url", required=True)
    upload.add_argument("--retries", type=_retries, default=RETRIES, metavar="N",
                        help=f"retries after a failed connection or a 502/503/504 answer, with back-off "
                        f"(default: {RETRIES})")
    upload.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from auditor import bundles, output
    from auditor.errors import InputError
    from auditor.limits import check_size
    from auditor.upload import destination, send_files

    dest = destination(args, retries=args.retries)
    files = []
    for path in bundles.discover(args.bundles):
        check_size(path, "bundle")
        try:
            files.append((str(path), path.read_bytes()))
        except OSError as exc:
            raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None
    if not files:
        raise InputError(", ".join(args.bundles), "no bundle (*.json) to upload")
    lines, refused = send_files(dest, files)
    output.write_stdout("".join(lines))
    for problem in refused:
        print(f"auditor: {problem}", file=sys.stderr)
    return 2 if refused else 0
