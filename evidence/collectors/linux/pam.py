"""Reading PAM stacks, shared by ``password_policy`` and ``lockout_policy``.

Debian-style systems put the common stacks in common-password / common-auth, RHEL-style
ones (authselect) in system-auth / password-auth. Includes are followed so that the
module lines that actually run are seen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from auditor.evidence.bundle import BundleBuilder

from .common import Context, exists, read_text

PAM_DIR = "/etc/pam.d"
_INCLUDE_CONTROLS = ("include", "substack")


@dataclass(frozen=True)
class PamLine:
    """One module line: ``type control module args``; ``module`` is the bare name, e.g. pam_unix."""

    type: str
    control: str
    module: str
    args: tuple[str, ...]
    file: str

    def option(self, name: str) -> str | None:
        """The value of ``name=value`` among the arguments (last one wins), else None."""
        value = None
        for arg in self.args:
            key, eq, val = arg.partition("=")
            if eq and key == name:
                value = val
        return value

    def flag(self, name: str) -> bool:
        """True when the bare option ``name`` is among the arguments."""
        return name in self.args

    @property
    def enforcing(self) -> bool:
        """An ``optional`` module's failure does not fail the stack, so it enforces nothing."""
        return self.control != "optional"


def _module_name(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name[:-3] if name.endswith(".so") else name


def parse_pam(text: str, file: str = "") -> list[PamLine]:
    """Module lines of one PAM file. ``@include x`` becomes a line of type ``@include``;
    ``include``/``substack`` lines keep their control and name the file as module."""
    out: list[PamLine] = []
    buf = ""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        line = (buf + line).strip()
        buf = ""
        if not line:
            continue
        if line.startswith("@include"):
            parts = line.split()
            if len(parts) >= 2:
                out.append(PamLine("@include", "include", parts[1], (), file))
            continue
        m = re.match(r"^-?(\w+)\s+(\[[^\]]*\]|\S+)\s+(\S+)\s*(.*)$", line)
        if not m:
            continue
        ptype, control, module, args = m.groups()
        if control in _INCLUDE_CONTROLS:
            out.append(PamLine(ptype.lower(), control, module, (), file))
        else:
            out.append(PamLine(ptype.lower(), control, _module_name(module), tuple(args.split()), file))
    return out


def expand_stack(files: dict[str, list[PamLine]], start: str, ptype: str, depth: int = 0) -> list[PamLine]:
    """The module lines of type ``ptype`` that run for file ``start``, includes expanded.
    ``files`` maps PAM file name to its parsed lines."""
    out: list[PamLine] = []
    if depth > 8 or start not in files:
        return out
    for line in files[start]:
        if line.type == "@include" or (line.type == ptype and line.control in _INCLUDE_CONTROLS):
            out.extend(expand_stack(files, line.module, ptype, depth + 1))
        elif line.type == ptype:
            out.append(line)
    return out


def stack_files(ctx: Context, debian: str, redhat: tuple[str, ...]) -> list[str]:
    """The common stack files of this distribution style that exist (Debian style first)."""
    if exists(ctx, f"{PAM_DIR}/{debian}"):
        return [debian]
    present = [name for name in redhat if exists(ctx, f"{PAM_DIR}/{name}")]
    return present or [debian]


def load_stacks(builder: BundleBuilder, ctx: Context, area: str, starts: list[str],
                ptype: str) -> dict[str, list[PamLine]] | None:
    """For each start file, its expanded ``ptype`` lines; None when a start file is unreadable."""
    files: dict[str, list[PamLine]] = {}
    pending = list(starts)
    failed = False
    while pending:
        name = pending.pop(0)
        if name in files:
            continue
        text = read_text(builder, ctx, f"{PAM_DIR}/{name}", area, "linux.pam")
        if text is None:
            files[name] = []
            failed = failed or name in starts
            continue
        files[name] = parse_pam(text, f"{PAM_DIR}/{name}")
        pending.extend(line.module for line in files[name]
                       if line.type == "@include" or line.control in _INCLUDE_CONTROLS)
    if failed:
        return None
    return {start: expand_stack(files, start, ptype) for start in starts}
