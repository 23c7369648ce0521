"""A per-user cache on disk for work that is slow to redo and quick to check (a compiled policy).

An entry is plain JSON data (dicts with text keys, lists, text, numbers, booleans, null): reading
one executes nothing, whatever the file holds. The few other values YAML data holds, dates,
times and the tuples of a loaded policy, are written as text and lists, with the places where
they were listed beside the data and put back on reading; anything else (a number as a key,
a lone surrogate, NaN) makes the data uncacheable, which is checked by reading every entry back
before it is kept. It is stored under a key its user derives from
everything the data depends on, with the SHA-256 of the data in a header line, and written
whole or not at all (a temporary file renamed over the old entry), so that two runs writing at
once leave one complete entry. A missing, unreadable, truncated, corrupt or foreign entry is
ignored (the caller rebuilds and rewrites it); a cache that cannot be written is skipped. The
cache never changes a result and never fails a run.

Where: ``$AUDITOR_CACHE_DIR``, else the platform's user cache directory (``$XDG_CACHE_HOME`` or
``~/.cache`` on Linux, ``%LOCALAPPDATA%`` on Windows, ``~/Library/Caches`` on macOS) under
``lg-security-auditor``. ``AUDITOR_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

DIR_ENV = "AUDITOR_CACHE_DIR"
OFF_ENV = "AUDITOR_NO_CACHE"
APP = "lg-security-auditor"
FORMAT = b"auditor-cache/1"
MAX_ENTRY_BYTES = 64 * 1024 * 1024  # far above any policy; a larger file is not ours


def directory() -> Path | None:
    """The cache directory, or None when the cache is off or no user directory is known."""
    if os.environ.get(OFF_ENV, "").strip() not in ("", "0"):
        return None
    configured = os.environ.get(DIR_ENV)
    if configured:
        return Path(configured)
    try:
        if sys.platform == "win32":
            local = os.environ.get("LOCALAPPDATA")
            base = Path(local) if local else Path.home() / "AppData" / "Local"
        elif sys.platform == "darwin":
            base = Path.home() / "Library" / "Caches"
        else:
            xdg = os.environ.get("XDG_CACHE_HOME", "")
            base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"  # the spec ignores a relative one
    except RuntimeError:  # no home directory to be found
        return None
    return base / APP


def _path(kind: str, key: str) -> Path | None:
    root = directory()
    return None if root is None else root / kind / f"{key}.json"


def read(kind: str, key: str) -> Any | None:
    """The data stored under ``key`` (a hex digest) among ``kind``'s entries, or None."""
    path = _path(kind, key)
    if path is None:
        return None
    try:
        with path.open("rb") as fh:
            blob = fh.read(MAX_ENTRY_BYTES + 1)
    except OSError:
        return None
    header, sep, body = blob.partition(b"\n")
    if not sep or len(blob) > MAX_ENTRY_BYTES:
        return None
    if header != _header(key, body):
        return None  # another format, another key, or a body that is not what was written
    try:
        return _restored(orjson.loads(body))
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError, ValueError):
        return None


def write(kind: str, key: str, data: Any) -> bool:
    """Store ``data`` under ``key``; False (and nothing stored) when it does not read back equal
    (see the module) or the cache cannot be written."""
    path = _path(kind, key)
    if path is None:
        return False
    marks: dict[str, list[list[str | int]]] = {"date": [], "datetime": [], "tuple": []}
    try:
        body = orjson.dumps({"data": _plain(data, [], marks), "marks": marks})
        if _restored(orjson.loads(body)) != data:
            return False
    except (_NotPlain, orjson.JSONEncodeError, RecursionError):
        return False
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "wb") as fh:
            fh.write(_header(key, body) + b"\n" + body)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return False
    return True


def _header(key: str, body: bytes) -> bytes:
    return b" ".join((FORMAT, key.encode(), hashlib.sha256(body).hexdigest().encode()))


class _NotPlain(Exception):
    """A value JSON cannot hold as it is, nor the marks put back."""


def _plain(value: Any, path: list[str | int], marks: dict[str, list[list[str | int]]]) -> Any:
    """``value`` as JSON data; where a date, a time or a tuple was is added to ``marks``."""
    kind = type(value)
    if value is None or kind in (str, int, float, bool):
        return value
    if kind is dict:
        if not all(type(k) is str for k in value):
            raise _NotPlain("a key that is not text")
        return {k: _plain(v, [*path, k], marks) for k, v in value.items()}
    if kind is list or kind is tuple:
        if kind is tuple:
            marks["tuple"].append(path)
        return [_plain(v, [*path, i], marks) for i, v in enumerate(value)]
    if kind is datetime.datetime or kind is datetime.date:
        marks[kind.__name__].append(path)
        return value.isoformat()
    raise _NotPlain(kind.__name__)


def _restored(stored: dict[str, Any]) -> Any:
    """The data of an entry with its dates, times and tuples put back where the marks say."""
    data, marks = stored["data"], stored["marks"]
    holder = [data]
    for name, parse in (("date", datetime.date.fromisoformat), ("datetime", datetime.datetime.fromisoformat)):
        for path in marks[name]:
            parent, last = _parent(holder, path)
            parent[last] = parse(parent[last])
    for path in sorted(marks["tuple"], key=len, reverse=True):  # inner tuples first
        parent, last = _parent(holder, path)
        parent[last] = tuple(parent[last])
    return holder[0]


def _parent(holder: list[Any], path: list[Any]) -> tuple[Any, Any]:
    node: Any = holder
    last: Any = 0
    for step in path:
        node, last = node[last], step
    return node, last
