"""``secedit /export /cfg FILE``: a Windows host's local security policy (INI, UTF-16 LE).

The ``[System Access]`` keys are locale-independent, unlike ``net accounts``. Encoding of
values follows the security-template convention, not the GUI's: ``MaximumPasswordAge = -1``
means passwords never expire, ``LockoutDuration`` is in minutes and ``-1`` means until an
administrator unlocks, ``LockoutBadCount = 0`` never locks. The export shows the *local*
policy; a domain policy that overrides it is imported separately.

Section names and keys are compared case-insensitively, as Windows reads INF files. A key
given twice in one section, or a section header given twice, is refused naming both lines:
secedit never writes either, and keeping one of the values silently could weaken a rule
(``MinimumPasswordLength = 6`` and then ``= 14``). Numbers are ASCII digits with an optional
minus sign, at most :data:`auditor.limits.MAX_INT_DIGITS` of them; -1 only where it has a
meaning (the two above), and the two flags (``PasswordComplexity``, ``ClearTextPassword``) 0 or 1.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, BinaryIO

from auditor.evidence.bundle import BundleBuilder
from auditor.evidence.importers import register
from auditor.evidence.importers.textio import decode

from auditor.errors import InputError, duplicate_key
from auditor.limits import MAX_FILE_BYTES, check_int_text, check_size

Sections = dict[str, dict[str, tuple[str, int]]]  # by case-folded section name and key
_INTEGER = re.compile(r"-?[0-9]+")


def parse_inf(text: str, name: str) -> Sections:
    """Sections of KEY = VALUE lines, each value with its line number (for error messages).

    Sections and keys are stored case-folded (``access["minimumpasswordlength"]``). Quoted,
    comma-separated entries (``"MACHINE\\SOFTWARE\\...",2,"D:PAR(...)"``) are skipped: they set
    permissions, which no check reads.
    """
    sections: Sections = {}
    headers: dict[str, tuple[str, int]] = {}  # folded name → (as written, line)
    lines: dict[str, tuple[str, int]] = {}  # folded key of the current section → (as written, line)
    current: dict[str, tuple[str, int]] | None = None
    section = ""
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            folded = section.casefold()
            if folded in headers:
                raise duplicate_key(name, f"[{section}]", headers[folded][1], number, what="section")
            headers[folded] = (section, number)
            current = sections[folded] = {}
            lines = {}
            continue
        if line.startswith('"') and current is not None:
            # "NAME",MODE,"SDDL": the comma-separated entries of [Registry Keys], [File Security] and
            # [Service General Setting], which a domain PC's Group Policy fills; no key to read here
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key or current is None:
            raise InputError(name, f"expected a [Section] or KEY = VALUE, found {line[:40]!r}", line=number)
        folded = key.casefold()
        if folded in lines:
            raise duplicate_key(name, key, lines[folded][1], number, where=f"[{section}]")
        lines[folded] = (key, number)
        current[folded] = (value.strip(), number)
    return sections


def _int(section: dict[str, tuple[str, int]], key: str, name: str, minimum: int = 0,
         maximum: int | None = None) -> int | None:
    """A number from ``minimum`` to ``maximum``: -1 has a meaning only for the keys that take it (never, until
    unlocked), and a flag is 0 or 1 (what Windows makes of a 2 is not documented, so it is not guessed)."""
    found = section.get(key.casefold())
    if found is None:
        return None
    value, number = found
    if not _INTEGER.fullmatch(value):
        raise InputError(name, f"{key}: expected a whole number, found {value[:40]!r}", line=number)
    check_int_text(value, name, line=number, where=key)
    if int(value) < minimum or (maximum is not None and int(value) > maximum):
        expected = f"{minimum} or more" if maximum is None else f"{minimum} or {maximum}" \
            if maximum == minimum + 1 else f"{minimum} to {maximum}"
        raise InputError(name, f"{key}: expected {expected}, found {value}", line=number)
    return int(value)


def facts_from(sections: Sections, name: str) -> dict[str, Any]:
    """The OS-neutral ``password_policy`` and ``lockout_policy`` facts of an export."""
    access = sections.get("system access")
    if access is None:
        raise InputError(name, "no [System Access] section: not a secedit /export of the security policy")
    password: dict[str, Any] = {"sources": [f"{name} [System Access]"]}
    if (length := _int(access, "MinimumPasswordLength", name)) is not None:
        password["min_length"] = length
    if (complexity := _int(access, "PasswordComplexity", name, maximum=1)) is not None:
        password["complexity"] = complexity == 1
        password["min_char_classes"] = 3 if complexity == 1 else 0  # Windows: 3 of the 4 classes
    if (max_age := _int(access, "MaximumPasswordAge", name, minimum=-1)) is not None:
        password["max_age_days"] = None if max_age <= 0 else max_age
    if (min_age := _int(access, "MinimumPasswordAge", name)) is not None:
        password["min_age_days"] = min_age
    if (history := _int(access, "PasswordHistorySize", name)) is not None:
        password["history"] = history
    if (clear := _int(access, "ClearTextPassword", name, maximum=1)) is not None:
        password["reversible_encryption"] = clear == 1

    lockout: dict[str, Any] = {}
    threshold = _int(access, "LockoutBadCount", name)
    if threshold is not None:
        lockout = {"enabled": threshold > 0, "threshold": threshold}
        duration = _int(access, "LockoutDuration", name, minimum=-1)
        if duration is not None:
            lockout["duration_minutes"] = 0 if duration < 0 else duration
        window = _int(access, "ResetLockoutCount", name)
        if window is not None:
            lockout["window_minutes"] = window
    return {"os": {"family": "windows"}, "password_policy": password, "lockout_policy": lockout}


class SeceditImporter:
    name = "secedit"
    target_kind = "endpoint"
    description = "secedit /export /cfg FILE (Windows local security policy)"

    def read_stream(self, path: Path, file: BinaryIO, builder: BundleBuilder) -> None:
        """As :meth:`read`, the file's size checked before it is read."""
        check_size(path, "text")
        self.read(path, file.read(MAX_FILE_BYTES["text"] + 1), builder)

    def read(self, path: Path, data: bytes, builder: BundleBuilder) -> None:
        check_size(path, "text", len(data))
        text, encoding = decode(data, str(path))
        facts = facts_from(parse_inf(text, str(path)), str(path))
        for area, value in facts.items():
            if value:
                builder.add_source(str(path), f"secedit ({encoding})", data, area)
                builder.set_fact(area, value)
        if not facts["lockout_policy"]:
            builder.add_error("lockout_policy", f"{path}: no LockoutBadCount in [System Access]", str(path))


@register("secedit")
def secedit_importer() -> SeceditImporter:
    return SeceditImporter()
