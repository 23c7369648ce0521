"""``auditor serve --dir DIR``: the collection point offices upload their bundles to (see
:mod:`auditor.collection_point`); ``auditor audit DIR/2026-11`` then audits a month's uploads."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from auditor.upload import DEFAULT_MAX_BYTES, MIN_TOKEN_LENGTH, PATH, TOKEN_ENV, add_token_arguments


def _port(value: str) -> int:
    if not value.isdigit() or not 0 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {value!r}")
    return int(value)


def _size(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a number of bytes, got {value!r}")
    return int(value)


def register(sub: Any) -> None:
    serve = sub.add_parser("serve", allow_abbrev=False,
                           help="receive the bundles offices upload (auditor collect --upload) into a directory",
                           description=f"Receive evidence bundles posted to {PATH} by auditor collect --upload or "
                           f"auditor upload, and store each in DIR/YYYY-MM/. The upload token (at least "
                           f"{MIN_TOKEN_LENGTH} characters) is read from ${TOKEN_ENV} or --token-file, never "
                           "from the command line.")
    serve.add_argument("--dir", required=True, metavar="DIR", help="where received bundles are stored")
    serve.add_argument("--bind", default="127.0.0.1", metavar="ADDRESS",
                       help="address to listen on (default: 127.0.0.1; any other needs --cert and --key)")
    serve.add_argument("--port", type=_port, default=8443, metavar="N", help="port (default: 8443; 0: any free one)")
    serve.add_argument("--cert", metavar="FILE", help="the server's TLS certificate chain (PEM)")
    serve.add_argument("--key", metavar="FILE", help="the certificate's private key (PEM, unencrypted, mode 0600)")
    serve.add_argument("--max-bytes", type=_size, default=DEFAULT_MAX_BYTES, metavar="N",
                       help=f"largest bundle accepted, in bytes (default: {DEFAULT_MAX_BYTES:,})")
    add_token_arguments(serve)
    serve.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from auditor import collection_point as cp
    from auditor.errors import InputError
    from auditor.upload import read_token

    token = read_token(args.token_file, min_length=MIN_TOKEN_LENGTH)
    settings = cp.settings_of(args.dir, token, args.max_bytes, args.cert, args.key, args.bind)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        server = cp.Server((args.bind, args.port), settings, log)
    except OSError as exc:
        raise InputError(f"--bind {args.bind} --port {args.port}", f"cannot listen: {exc.strerror or exc}") from None
    log(cp.banner(server))
    cp.serve(server)
    return 0
