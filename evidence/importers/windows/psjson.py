"""JSON as Windows PowerShell 5.1's ``ConvertTo-Json`` writes it.

- The script writes it UTF-8 with a byte-order mark; :func:`textio.decode` also reads the
  UTF-16 LE that ``Out-File`` would have written, so a re-saved file still imports.
- ``DateTime`` values are ``"\\/Date(1730500000000)\\/"``: milliseconds since 1970-01-01 UTC
  (.NET's JavaScriptSerializer), which :func:`instant` writes in the import's time zone. The
  form with an offset (``/Date(1730500000000+0900)/``) is the same instant. PowerShell 7
  writes ISO 8601 with the offset instead, and a ``Get-Date`` object comes as
  ``{"value": "/Date(..)/", "DisplayHint": 2, "DateTime": "..."}``; both are read.
  ``DateTime.MinValue`` (``/Date(-62135596800000)/``) means "never".
- One object where a list was expected is a list of one; 5.1 sometimes wraps an array as
  ``{"value": [...], "Count": n}``, which is unwrapped.
- 5.1 writes enums as numbers; the script casts the enums it writes to their names.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timezone
from typing import Any

from auditor.evidence.importers.textio import decode

from auditor.errors import InputError

_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")
_MIN_VALUE_MS = -62135596800000  # 0001-01-01T00:00:00Z, DateTime.MinValue


def load(data: bytes, name: str) -> tuple[Any, str]:
    """The parsed document and the encoding it was read in."""
    text, encoding = decode(data, name)
    try:
        return json.loads(text), encoding
    except json.JSONDecodeError as exc:
        raise InputError(name, f"not JSON as ConvertTo-Json writes it: {exc.msg}", line=exc.lineno) from None


def unwrap(value: Any) -> Any:
    """An array 5.1 wrapped as ``{"value": [...], "Count": n}`` is the array."""
    if isinstance(value, dict) and set(value) == {"value", "Count"} and isinstance(value["value"], list):
        return value["value"]
    return value


def records(value: Any, name: str) -> list[dict[str, Any]]:
    """A list of objects: one object is a list of one, null or nothing an empty list."""
    value = unwrap(value)
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise InputError(name, "expected a list of objects as ConvertTo-Json writes it")
    return value


def record(value: Any, name: str) -> dict[str, Any]:
    """One object (the only element of a one-element list is accepted too)."""
    value = unwrap(value)
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, dict):
        raise InputError(name, "expected one object as ConvertTo-Json writes it, found "
                         f"{'nothing' if value is None else type(value).__name__}")
    return value


def instant(value: Any, zone: timezone, name: str, key: str) -> str | None:
    """An ISO instant with an offset, seconds precision; None for null or DateTime.MinValue."""
    if isinstance(value, dict) and "value" in value:
        value = value["value"]
    if value is None or value == "":
        return None
    if isinstance(value, str):
        match = _DATE.fullmatch(value.strip())
        if match is not None:
            millis = int(match[1])
            if millis <= _MIN_VALUE_MS:
                return None
            moment = datetime.fromtimestamp(millis / 1000, tz=UTC)
            return moment.astimezone(zone).isoformat(timespec="seconds")
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
            if moment.year <= 1:
                return None
            return moment.isoformat(timespec="seconds")
    raise InputError(name, f"{key}: expected a date as ConvertTo-Json writes it (\"\\/Date(1730500000000)\\/\" or "
                     f"ISO 8601), found {value!r}")


def boolean(value: Any, name: str, key: str) -> bool | None:
    """A boolean; None when the value is null (the property is not there)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().casefold() in ("true", "false"):
        return value.strip().casefold() == "true"
    raise InputError(name, f"{key}: expected true or false, found {value!r}")


def integer(value: Any, name: str, key: str) -> int | None:
    """A whole number (registry DWORDs may come as text); None when null."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise InputError(name, f"{key}: expected a whole number, found {value!r}")


def text(value: Any) -> str | None:
    """Stripped text; None for null or blank."""
    if value is None:
        return None
    value = str(value).strip()
    return value or None
