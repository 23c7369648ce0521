"""End of the vendor's security support for an operating-system release (``os.eol_date``).

The dated table ``eol.yaml`` ships in this package; every row cites its source page, and the
table carries the day it was compiled. Both the Linux collector and the Windows importer ask
:func:`eol_for`, so one table decides for every target:

    eol_for("debian", "12")                                  -> ("2026-06-10", "https://... (EOL table of ...)")
    eol_for("windows", "10.0.22631", "Windows 11 Enterprise") -> ("2026-11-10", "...")
    eol_for("debian", "99")                                  -> None   (not in the table: no eol_date)

A returned date of ``None`` means the vendor has announced no end (``eol_date: null``).
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import cerberus
import yaml

TABLE = Path(__file__).with_name("eol.yaml")
FORMAT = "auditor-eol/1"
WINDOWS_EDITIONS = ("home-pro", "enterprise-education", "ltsc", "iot-ltsc", "server")
# Linux ids whose table rows are major versions ("9" matches "9.4").
MAJOR_VERSION_IDS = {"rhel", "rocky", "almalinux"}
# yaml.safe_load's loader, in C when libyaml is there (about 7 times faster here).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_ROW = {
    "os": {"type": "string", "required": True, "allowed": ["debian", "ubuntu", "rhel", "rocky", "almalinux",
                                                           "windows"]},
    "name": {"type": "string", "required": True, "empty": False},
    "eol_date": {"type": "date", "required": True, "nullable": True},
    "precision": {"type": "string", "allowed": ["day", "month"]},
    "source": {"type": "string", "required": True, "regex": r"https://\S+"},
    # Linux rows
    "version": {"type": "string", "regex": r"\d+(\.\d+)?", "excludes": ["build", "product", "editions"]},
    # Windows rows
    "product": {"type": "string", "allowed": ["client", "server"], "dependencies": ["build", "editions"]},
    "build": {"type": "integer", "min": 1, "dependencies": ["product", "editions"]},
    "editions": {"type": "list", "minlength": 1, "schema": {"type": "string", "allowed": list(WINDOWS_EDITIONS)}},
}
SCHEMA = {
    "format": {"type": "string", "required": True, "allowed": [FORMAT]},
    "table_date": {"type": "date", "required": True},
    "releases": {"type": "list", "required": True, "minlength": 1,
                 "schema": {"type": "dict", "schema": _ROW}},
}


class EolTableError(ValueError):
    """The shipped table is malformed (a packaging bug, never a target's fault)."""


def validate_table(data: Any) -> list[str]:
    """Problems with a loaded table, empty when it is valid (schema, and one row per release)."""
    validator = cerberus.Validator(SCHEMA)
    if not validator.validate(data):
        return [f"{key}: {value}" for key, value in sorted(validator.errors.items(), key=str)]
    problems = []
    seen: set[tuple[Any, ...]] = set()
    for index, row in enumerate(data["releases"]):
        if row["os"] == "windows":
            if "build" not in row:
                problems.append(f"releases[{index}]: a windows row needs product, build and editions")
                continue
            keys = [("windows", row["product"], row["build"], edition) for edition in row["editions"]]
        else:
            if "version" not in row:
                problems.append(f"releases[{index}]: a {row['os']} row needs a version")
                continue
            keys = [(row["os"], row["version"])]
        for key in keys:
            if key in seen:
                problems.append(f"releases[{index}]: {key} is listed twice")
            seen.add(key)
    return problems


@lru_cache(maxsize=1)
def load_table() -> dict[str, Any]:
    """The shipped table, validated (raises :class:`EolTableError` when it is not valid)."""
    data = yaml.load(TABLE.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)
    problems = validate_table(data)
    if problems:
        raise EolTableError(f"{TABLE}: " + "; ".join(problems))
    return data


def windows_edition(name: str) -> str | None:
    """The edition group of a Windows product name (``Windows 11 Pro`` → ``home-pro``), or None."""
    text = f" {name.lower()} "
    if "server" in text:
        return "server"
    if re.search(r"\blts[bc]\b", text):
        return "iot-ltsc" if re.search(r"\biot\b", text) else "ltsc"
    if "pro education" in text:
        return "home-pro"
    if re.search(r"\b(enterprise|education)\b", text):
        return "enterprise-education"
    if re.search(r"\b(home|pro|core|se)\b", text):
        return "home-pro"
    return None


def _windows_build(version: str) -> int | None:
    parts = version.strip().split(".")
    if len(parts) >= 3 and parts[2].isdigit():
        return int(parts[2])  # 10.0.22631 or 10.0.22631.4602
    return None


def _source(row: dict[str, Any], table_date: date) -> str:
    text = f"{row['name']}: {row['source']} (EOL table of {table_date.isoformat()}"
    if row.get("precision") == "month":
        text += "; the vendor gives the month only, its last day is used"
    return text + ")"


def _answer(row: dict[str, Any], table_date: date) -> tuple[str | None, str]:
    when = row["eol_date"]
    return (when.isoformat() if when is not None else None), _source(row, table_date)


def eol_for(os_id: str, version: str, name: str | None = None) -> tuple[str | None, str] | None:
    """``(eol_date, source)`` for a release, or None when the table does not list it.

    ``os_id`` and ``version`` are the ``os`` area's ``id`` and ``version``. Windows needs
    ``name`` (the product name) too: the same build is a client or a server release, and the
    end depends on the edition; without a recognisable edition the answer is None.
    """
    table = load_table()
    table_date = table["table_date"]
    os_id = os_id.strip().lower()
    if os_id == "windows":
        build = _windows_build(version)
        edition = windows_edition(name) if name else None
        if build is None or edition is None:
            return None
        product = "server" if edition == "server" else "client"
        for row in table["releases"]:
            if row["os"] == "windows" and row["product"] == product and row["build"] == build \
                    and edition in row["editions"]:
                return _answer(row, table_date)
        return None
    version = version.strip()
    wanted = version.split(".", 1)[0] if os_id in MAJOR_VERSION_IDS else version
    for row in table["releases"]:
        if row["os"] == os_id and row.get("version") == wanted:
            return _answer(row, table_date)
    return None
