"""Helpers shared by the Linux collector areas.

Every area reads through these so that paths are resolved under the collection root
(tests point it at a fake tree), commands only run against the live system, and every
read or failure is recorded by the :class:`BundleBuilder`.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from auditor.evidence.bundle import BundleBuilder

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

    def path(self, absolute: str) -> Path:
        """The file-system path of an absolute target path, under the collection root."""
        return self.root / absolute.lstrip("/")


def make_context(root: Path | str, today: date | None = None) -> Context:
    """A context for ``root``; ``live`` when it resolves to "/"."""
    root = Path(root)
    return Context(root=root, live=root.resolve() == Path("/"), today=today or date.today())


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


def which(name: str) -> str | None:
    """The full path of a tool on PATH or in the usual system directories, else None."""
    search = os.pathsep.join([os.environ.get("PATH", ""), *_EXTRA_PATH])
    return shutil.which(name, path=search)


def run(builder: BundleBuilder, ctx: Context, argv: list[str], area: str, parser: str,
        ok_codes: tuple[int, ...] = (0,), timeout: float = 10.0) -> str | None:
    """Run a tool on the live system through the builder; against a file tree, record why not."""
    if not ctx.live:
        builder.add_error(area, f"{argv[0]}: not run, {ctx.root} is a file tree, not the running system",
                          "command: " + " ".join(argv))
        return None
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


def parse_os_release(text: str) -> dict[str, str]:
    """``KEY=value`` pairs of os-release, with shell quoting removed."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
            value = value.replace('\\"', '"').replace("\\$", "$").replace("\\`", "`").replace("\\\\", "\\")
        out[key.strip()] = value
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
