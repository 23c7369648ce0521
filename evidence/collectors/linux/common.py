"""Helpers shared by the Linux collector areas.

Every area reads through these so that paths are resolved under the collection root
(tests point it at a fake tree), commands only run against the live system, and every
read or failure is recorded by the :class:`BundleBuilder`.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psutil
from auditor.evidence.bundle import BundleBuilder

from .osrelease import parse_os_release as parse_os_release  # the areas read os-release through common

# Tools such as iptables-save live in sbin, which is not on an ordinary user's PATH.
_EXTRA_PATH = ("/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/bin", "/bin")


@dataclass(frozen=True)
class Context:
    """Where and when one collection runs.

    ``live`` is true when ``root`` is "/": only then do commands run and do live kernel
    and process data (sockets, interfaces, boot time) describe the target.
    """

    root: Path
    live: bool
    today: date
    euid: int | None = None  # the collector's effective uid on the live system; None for a file tree
    # Live data several areas share (the process table), read once per collection.
    shared: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def path(self, absolute: str) -> Path:
        """The file-system path of an absolute target path, under the collection root."""
        return self.root / absolute.lstrip("/")

    @property
    def root_user(self) -> bool:
        """True when collecting live as root (root-only files and tools are readable)."""
        return self.live and self.euid == 0


def make_context(root: Path | str, today: date | None = None) -> Context:
    """A context for ``root``; ``live`` when it resolves to "/"."""
    root = Path(root)
    live = root.resolve() == Path("/")
    return Context(root=root, live=live, today=today or date.today(), euid=os.geteuid() if live else None)


def read_text(builder: BundleBuilder, ctx: Context, absolute: str, area: str, parser: str) -> str | None:
    """Read a target file as text, recording the source, or record an error and return None."""
    data = builder.read_file(ctx.path(absolute), area, parser)
    return None if data is None else data.decode("utf-8", "replace")


def exists(ctx: Context, absolute: str) -> bool:
    """True when the target path exists (a dangling symlink counts as present, so reading it errors)."""
    p = ctx.path(absolute)
    return p.exists() or p.is_symlink()


def read_optional(builder: BundleBuilder, ctx: Context, absolute: str, area: str, parser: str) -> str | None:
    """Read a file whose absence is normal (drop-ins, rotated logs): missing gives None and no error."""
    if not exists(ctx, absolute):
        return None
    return read_text(builder, ctx, absolute, area, parser)


def list_dir(builder: BundleBuilder, ctx: Context, absolute: str, area: str, pattern: str = "*") -> list[str]:
    """Absolute target paths of the regular files in a directory matching ``pattern``, sorted.

    A missing directory is empty (drop-in directories are optional); one that exists but
    cannot be listed is recorded as an error.
    """
    p = ctx.path(absolute)
    try:
        with os.scandir(p) as it:
            names = sorted(e.name for e in it if fnmatch.fnmatch(e.name, pattern) and e.is_file())
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        builder.add_error(area, f"{p}: {exc.strerror or exc}", str(p))
        return []
    return [absolute.rstrip("/") + "/" + n for n in names]


def read_head(builder: BundleBuilder, ctx: Context, absolute: str, area: str, parser: str,
              size: int) -> bytes | None:
    """The first ``size`` bytes of a (large) target file, recorded as the source; missing is None
    without an error, a read failure is an error. Only the bytes read are hashed."""
    p = ctx.path(absolute)
    try:
        with p.open("rb") as fh:
            data = fh.read(size)
    except FileNotFoundError:
        return None
    except OSError as exc:
        builder.add_error(area, f"{p}: {exc.strerror or exc}", str(p))
        return None
    builder.add_source(f"{p} (first {size} bytes)", parser, data, area)
    return data


def _process_names(ctx: Context) -> frozenset[str] | OSError | psutil.Error:
    """The names of the running processes, read once per collection and shared by the areas."""
    with ctx.lock:
        if "processes" not in ctx.shared:
            try:
                ctx.shared["processes"] = frozenset(
                    p.info.get("name") or "" for p in psutil.process_iter(["name"]))
            except (psutil.Error, OSError) as exc:
                ctx.shared["processes"] = exc
        return ctx.shared["processes"]


def process_names(builder: BundleBuilder, ctx: Context, area: str) -> frozenset[str] | None:
    """The live process table's names (walked once per collection; the caller records what it
    used from it as its source), or None with an error for ``area``."""
    table = _process_names(ctx)
    if not isinstance(table, frozenset):
        builder.add_error(area, f"psutil.process_iter: {table}")
        return None
    return table


def running(builder: BundleBuilder, ctx: Context, area: str, names: Iterable[str]) -> dict[str, bool] | None:
    """Which of the process ``names`` run (exact names as psutil gives them), recorded as a
    source of ``area``; None with an error against a file tree or when the table is unreadable."""
    wanted = sorted(set(names))
    if not ctx.live:
        not_live(builder, ctx, area, "running processes")
        return None
    table = process_names(builder, ctx, area)
    if table is None:
        return None
    found = {name: name in table for name in wanted}
    builder.add_source(f"psutil.process_iter(['name']) {', '.join(wanted)}", "linux.processes",
                       json.dumps(found, sort_keys=True).encode(), area)
    return found


def which(name: str) -> str | None:
    """The full path of a tool on PATH or in the usual system directories, else None."""
    search = os.pathsep.join([os.environ.get("PATH", ""), *_EXTRA_PATH])
    return shutil.which(name, path=search)


def run(builder: BundleBuilder, ctx: Context, argv: list[str], area: str, parser: str,
        ok_codes: tuple[int, ...] = (0,), timeout: float = 10.0) -> str | None:
    """Run a tool on the live system through the builder; against a file tree, record why not.

    A slow tool the collection started first (``ctx.shared["early"]``, see :mod:`.early`) is
    waited for instead of started again; it is recorded the same way.
    """
    if not ctx.live:
        builder.add_error(area, f"{argv[0]}: not run, {ctx.root} is a file tree, not the running system",
                          "command: " + " ".join(argv))
        return None
    with ctx.lock:
        started = ctx.shared.get("early", {}).pop(tuple(argv), None)
    if started is not None:
        return builder.run(argv, area, parser, timeout=timeout, ok_codes=ok_codes, started=started.result)
    return builder.run(argv, area, parser, timeout=timeout, ok_codes=ok_codes)


def not_live(builder: BundleBuilder, ctx: Context, area: str, what: str) -> None:
    """Record that live-only data was not collected because the root is a file tree."""
    builder.add_error(area, f"{what}: not collected, {ctx.root} is a file tree, not the running system")


def strip_comment(line: str, marker: str = "#") -> str:
    """The line without a trailing comment and surrounding whitespace."""
    idx = line.find(marker)
    return (line if idx < 0 else line[:idx]).strip()


def parse_login_defs(text: str) -> dict[str, str]:
    """``KEY VALUE`` pairs of login.defs (and /etc/default/useradd's ``KEY=VALUE``); last one wins."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = strip_comment(raw)
        if not line:
            continue
        parts = line.split(None, 1)
        if "=" in parts[0]:
            key, _, value = line.partition("=")
        else:
            key, value = parts[0], parts[1] if len(parts) > 1 else ""
        out[key.strip()] = value.strip().strip('"').strip("'")
    return out


def parse_ini(text: str) -> dict[str, dict[str, str]]:
    """Sections of a systemd-style ``[Section]`` / ``Key=Value`` file; later keys win."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1].strip(), {})
            continue
        if current is None or "=" not in line:
            continue
        key, _, value = line.partition("=")
        current[key.strip()] = value.strip()
    return sections


def iso_instant(ts: float) -> str:
    """A POSIX timestamp as an ISO 8601 instant in the collector's local offset."""
    return datetime.fromtimestamp(ts, UTC).astimezone().isoformat(timespec="seconds")


def to_int(value: str | None) -> int | None:
    """``int(value)`` or None when it is missing or not an integer."""
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None
