"""JSON as Windows PowerShell 5.1's ``ConvertTo-Json`` writes it.

- The script writes it UTF-8 with a byte-order mark; :func:`textio.decode` also reads the
  UTF-16 LE that ``Out-File`` would have written, so a re-saved file still imports.
- ``DateTime`` values are ``"\\/Date(1730500000000)\\/"``: milliseconds since 1970-01-01 UTC
  (.NET's JavaScriptSerializer), which :func:`instant` writes in the import's time zone. The
  form with an offset (``/Date(1730500000000+0900)/``) is the same instant. PowerShell 7
  writes ISO 8601 with the offset instead, and a ``Get-Date`` object comes as
  ``{"value": "/Date(..)/", "DisplayHint": 2, "DateTime": "..."}``; both are read.
  ``DateTime.MinValue`` (``/Date(-62135596800000)/``) means "never"; 5.1 converts it to UTC
  first, so in a zone west of Greenwich it is a few hours later: any instant in the year 1 is
  read as "never". An instant before MinValue or after ``DateTime.MaxValue``, or one that leaves
  the years 1 to 9999 when moved to the import's zone, is refused naming the file and key.
- One object where a list was expected is a list of one; 5.1 sometimes wraps an array as
  ``{"value": [...], "Count": n}``, which is unwrapped.
- 5.1 writes enums as numbers; the script casts the enums it writes to their names.

What :func:`load` refuses (with the file and line), although ``json.loads`` would take it: a
key given twice in one object, *compared case-insensitively* — PowerShell's property names
are case-insensitive, so ConvertTo-Json never writes ``"Name"`` and ``"name"`` in one object,
ConvertFrom-Json refuses such an object, and which of the two a cmdlet meant cannot be told
(``json.loads`` silently keeps the last, which could weaken a policy value); nesting deeper
than :data:`auditor.limits.MAX_JSON_DEPTH` (ConvertTo-Json's own maximum, where
``json.loads`` would only stop at Python's recursion limit); an integer of more digits than
:data:`auditor.limits.MAX_INT_DIGITS`.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from auditor.evidence.importers.textio import decode

from auditor.errors import InputError, duplicate_key
from auditor.jsonio import deep_line, depth, first_duplicate
from auditor.limits import MAX_INT_DIGITS, MAX_JSON_DEPTH, check_int_text

_DATE = re.compile(r"/Date\((-?[0-9]+)(?:([+-])([0-9]{2})([0-9]{2}))?\)/")
_INTEGER = re.compile(r"-?[0-9]+")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MIN_VALUE_MS = -62135596800000  # 0001-01-01T00:00:00Z, DateTime.MinValue
_YEAR_2_MS = -62104060800000  # 0002-01-01T00:00:00Z: before it, DateTime.MinValue in some zone
_MAX_VALUE_MS = 253402300799999  # 9999-12-31T23:59:59.999Z, DateTime.MaxValue to the millisecond


class _Duplicate(Exception):
    pass


class _LongInteger(Exception):
    def __init__(self, digits: str) -> None:
        super().__init__(digits)
        self.digits = digits


def _pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(items)
    if len(obj) != len(items) or len({key.casefold() for key in obj}) != len(obj):
        raise _Duplicate
    return obj


def _integer(digits: str) -> int:
    if len(digits) - digits.startswith("-") > MAX_INT_DIGITS:
        raise _LongInteger(digits)
    return int(digits)


def loads(text: str, name: str, what: str = "JSON as ConvertTo-Json writes it") -> Any:
    """Parsed JSON text, refusing what PowerShell never writes (see the module's notes)."""
    try:
        doc = json.loads(text, object_pairs_hook=_pairs, parse_int=_integer)
    except json.JSONDecodeError as exc:
        raise InputError(name, f"not {what}: {exc.msg}", line=exc.lineno) from None
    except _Duplicate:
        raise _duplicate(text, name) from None
    except _LongInteger as exc:
        digits = len(exc.digits.lstrip("-"))
        at = text.find(exc.digits)
        raise InputError(name, f"an integer of {digits:,} digits; at most {MAX_INT_DIGITS} are allowed",
                         line=text.count("\n", 0, at) + 1 if at >= 0 else None) from None
    except RecursionError:
        raise _too_deep(text, name) from None
    if depth(doc) > MAX_JSON_DEPTH:
        raise _too_deep(text, name)
    return doc


def load(data: bytes, name: str) -> tuple[Any, str]:
    """The parsed document and the encoding it was read in."""
    text, encoding = decode(data, name)
    return loads(text, name), encoding


def _too_deep(text: str, name: str) -> InputError:
    """Nesting beyond the limit, at the line where it first goes beyond (found only once it is known to)."""
    return InputError(name, f"nested more than {MAX_JSON_DEPTH} levels deep (ConvertTo-Json's own maximum is "
                      f"{MAX_JSON_DEPTH})", line=deep_line(text))


def _duplicate(text: str, name: str) -> InputError:
    """The first key given twice in one object, compared case-insensitively as PowerShell does, with both lines."""
    found = first_duplicate(text, str.casefold)
    if found is None:
        return InputError(name, "a key is given twice in one object: ConvertTo-Json never writes that")
    first, first_line, key, line = found
    if first == key:
        return duplicate_key(name, key, first_line, line)
    return InputError(name, f"duplicate key {key!r}: {first!r} (line {first_line}) is the same "
                      "property to PowerShell, which ignores case; give it once", line=line)


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


def _in_range(moment: datetime, name: str, key: str, shown: Any) -> str:
    """ISO text of an aware instant that exists in UTC too (0001-01-01T00:00:00+09:00 does not:
    comparing it with another instant would overflow)."""
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise InputError(name, f"{key}: {shown!r} is outside the years 1 to 9999") from None
    return moment.isoformat(timespec="seconds")


def _from_millis(match: re.Match[str], zone: timezone, name: str, key: str, shown: str) -> str | None:
    digits, sign, hours, minutes = match.groups()
    check_int_text(digits, name, where=key)
    if sign is not None and (int(hours) > 14 or int(minutes) > 59):
        raise InputError(name, f"{key}: {shown!r} has the offset {sign}{hours}{minutes}; expected one of "
                         "-1400 to +1400")
    millis = int(digits)
    if millis < _MIN_VALUE_MS or millis > _MAX_VALUE_MS:
        raise InputError(name, f"{key}: {shown!r} is outside .NET's DateTime range (years 1 to 9999)")
    if millis < _YEAR_2_MS:
        return None  # DateTime.MinValue, converted to UTC from whichever zone wrote it
    moment = _EPOCH + timedelta(milliseconds=millis)
    try:
        local = moment.astimezone(zone)
    except OverflowError:
        raise InputError(name, f"{key}: {shown!r} is after the year 9999 in the import's time zone") from None
    return local.isoformat(timespec="seconds")


def instant(value: Any, zone: timezone, name: str, key: str) -> str | None:
    """An ISO instant with an offset, seconds precision; None for null or DateTime.MinValue."""
    if isinstance(value, dict) and "value" in value:
        value = value["value"]
    if value is None or value == "":
        return None
    if isinstance(value, str):
        stripped = value.strip()
        match = _DATE.fullmatch(stripped)
        if match is not None:
            return _from_millis(match, zone, name, key, stripped)
        try:
            moment = datetime.fromisoformat(stripped.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None:
            if moment.year <= 1:
                return None  # DateTime.MinValue, whatever offset it was written with
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
            return _in_range(moment, name, key, stripped)
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
    """A whole number (registry DWORDs may come as text: ASCII digits only); None when null."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        check_int_text(value, name, where=key)
        return int(value.strip())
    raise InputError(name, f"{key}: expected a whole number, found {value!r}")


def text(value: Any) -> str | None:
    """Stripped text; None for null or blank."""
    if value is None:
        return None
    value = str(value).strip()
    return value or None
