"""A log together with its logrotate rotations, oldest first.

Debian and Ubuntu rotate dpkg.log and apt's history.log monthly and keep twelve: dpkg.log.1
stays plain (``delaycompress``), older rotations and every rotation of history.log are gzipped
(``dpkg.log.2.gz``, ``history.log.1.gz``); dnf rotates dnf.rpm.log itself (``dnf.rpm.log.1``).
A package history read from the current file alone forgets everything before the last
rotation, so "when was this host last updated" would turn into "unknown" every month.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib

from auditor.evidence.bundle import BundleBuilder

from .common import Context, list_dir, read_optional, read_text

# Decompressed size of one rotation: a busy host's month of dpkg.log is a few MB.
MAX_LOG_BYTES = 64 << 20


def rotation_number(base: str, name: str) -> int | None:
    """N of ``<base>.N`` or ``<base>.N.gz`` (the names logrotate gives), else None."""
    m = re.fullmatch(re.escape(base) + r"\.([0-9]{1,4})(\.gz)?", name)
    return int(m.group(1)) if m else None


def gunzip(data: bytes, limit: int = MAX_LOG_BYTES) -> str | None:
    """The text of a gzip file (every member), or None when it is not gzip or inflates beyond ``limit``."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
            raw = fh.read(limit + 1)
    except (OSError, EOFError, zlib.error):
        return None
    if len(raw) > limit:
        return None
    return raw.decode("utf-8", "replace")


def read_rotated(builder: BundleBuilder, ctx: Context, absolute: str, area: str, parser: str,
                 required: bool = True) -> list[str]:
    """The texts of ``absolute`` and its rotations, oldest first, each recorded as a source.

    A missing current file is an error when ``required`` (dpkg.log always exists on a Debian
    host); missing rotations are normal. A rotation that cannot be read or inflated is an
    error of ``area`` and is skipped, so the rest of the history still counts.
    """
    directory, _, base = absolute.rpartition("/")
    rotations = []
    for path in list_dir(builder, ctx, directory or "/", area, base + ".*"):
        number = rotation_number(base, path.rpartition("/")[2])
        if number is not None:
            rotations.append((number, path))
    texts: list[str] = []
    for _, path in sorted(rotations, key=lambda item: (-item[0], item[1])):
        if path.endswith(".gz"):
            data = builder.read_file(ctx.path(path), area, parser + "+gzip")
            if data is None:
                continue
            text = gunzip(data)
            if text is None:
                builder.add_error(area, f"{ctx.path(path)}: not a gzip file, or larger than "
                                        f"{MAX_LOG_BYTES >> 20} MiB when inflated", path)
                continue
        else:
            text = read_text(builder, ctx, path, area, parser)
            if text is None:
                continue
        texts.append(text)
    current = (read_text if required else read_optional)(builder, ctx, absolute, area, parser)
    if current is not None:
        texts.append(current)
    return texts
