"""The parameter catalogue: which parameters a policy has, of which type, within which bounds.

A profile or tailoring sets parameters by name. Without a catalogue a misspelt name
(``dormant_day: 30``) would be accepted and change nothing, and a value of the wrong type
(``password_min_length: "8"``) would surface only later, as a check ``error`` that does not
name the file that caused it. So every value is checked here when its profile or tailoring
is loaded, and a problem names that file, the key and the line.

Each type is one function in :data:`TYPES`; adding a type is one function and its entry.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from auditor.errors import InputError
from auditor.yamldoc import format_path

Problem = tuple[tuple[Any, ...], str]
Check = Callable[[dict[str, Any], Any, tuple[Any, ...]], Iterator[Problem]]


@dataclass(frozen=True)
class Parameter:
    name: str
    spec: dict[str, Any]
    title: dict[str, str]

    def problems(self, value: Any) -> list[Problem]:
        """What is wrong with ``value`` for this parameter (empty when it is fine)."""
        return list(check_value(self.spec, value, ()))


def _bounds(spec: dict[str, Any], size: float, path: tuple[Any, ...], what: str) -> Iterator[Problem]:
    if "min" in spec and size < spec["min"]:
        yield path, f"expected {what} of at least {spec['min']}, got {size}"
    if "max" in spec and size > spec["max"]:
        yield path, f"expected {what} of at most {spec['max']}, got {size}"


def _allowed(spec: dict[str, Any], value: Any, path: tuple[Any, ...]) -> Iterator[Problem]:
    if "allowed" in spec and value not in spec["allowed"]:
        yield path, f"expected one of {', '.join(map(str, spec['allowed']))}, got {value!r}"


def _integer(spec: dict[str, Any], value: Any, path: tuple[Any, ...]) -> Iterator[Problem]:
    if isinstance(value, bool) or not isinstance(value, int):
        yield path, f"expected a whole number, got {_shown(value)}"
        return
    yield from _bounds(spec, value, path, "a number")
    yield from _allowed(spec, value, path)


def _number(spec: dict[str, Any], value: Any, path: tuple[Any, ...]) -> Iterator[Problem]:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:  # NaN is no number
        yield path, f"expected a number, got {_shown(value)}"
        return
    yield from _bounds(spec, value, path, "a number")


def _boolean(spec: dict[str, Any], value: Any, path: tuple[Any, ...]) -> Iterator[Problem]:
    if not isinstance(value, bool):
        yield path, f"expected true or false, got {_shown(value)}"


def _string(spec: dict[str, Any], value: Any, path: tuple[Any, ...]) -> Iterator[Problem]:
    if not isinstance(value, str):
        yield path, f"expected a text, got {_shown(value)}"
        return
    yield from _bounds(spec, len(value), path, "a text length")
    yield from _allowed(spec, value, path)


def _regex(spec: dict[str, Any], value: Any, path: tuple[Any, ...]) -> Iterator[Problem]:
    if not isinstance(value, str):
        yield path, f"expected a regular expression (a text), got {_shown(value)}"
        return
    try:
        re.compile(value)
    except re.error as exc:
        yield path, f"not a valid regular expression: {exc}"


def _date(spec: dict[str, Any], value: Any, path: tuple[Any, ...]) -> Iterator[Problem]:
    if isinstance(value, date):  # YAML reads an unquoted 2026-04-01 as a date
        return
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        yield path, f"expected a date such as 2026-04-01, got {_shown(value)}"


def _list(spec: dict[str, Any], value: Any, path: tuple[Any, ...]) -> Iterator[Problem]:
    if not isinstance(value, list):
        yield path, f"expected a list, got {_shown(value)}"
        return
    yield from _bounds({k: spec[k] for k in ("min_items", "max_items") if k in spec}, len(value), path, "a length")
    items = spec.get("items")
    if items is not None:
        for n, item in enumerate(value):
            yield from check_value(items, item, (*path, n))


def _mapping(spec: dict[str, Any], value: Any, path: tuple[Any, ...]) -> Iterator[Problem]:
    if not isinstance(value, dict):
        yield path, f"expected a mapping, got {_shown(value)}"
        return
    values = spec.get("values")
    for key, item in value.items():
        if not isinstance(key, str):
            yield (*path, key), f"expected text keys, got {_shown(key)}"
        elif values is not None:
            yield from check_value(values, item, (*path, key))


def _flows(spec: dict[str, Any], value: Any, path: tuple[Any, ...]) -> Iterator[Problem]:
    """Zone-to-zone flows, as the reachability condition's ``permit`` reads them (checked by it)."""
    from auditor import conditions

    if not isinstance(value, list):
        yield path, f"expected a list of flows {{from, to, services}}, got {_shown(value)}"
        return
    probe = {"reachability": {"from": {"segment": "mynumber"}, "to": {"segment": "mynumber"}, "permit": value}}
    for keys, message in conditions.validate(probe, ()):
        inner = tuple(keys)
        if inner[:2] == ("reachability", "permit"):
            inner = inner[2:]
        yield (*path, *inner), message


TYPES: dict[str, Check] = {
    "integer": _integer, "number": _number, "boolean": _boolean, "string": _string, "regex": _regex,
    "date": _date, "list": _list, "mapping": _mapping, "flows": _flows,
}


def check_value(spec: dict[str, Any], value: Any, path: tuple[Any, ...]) -> Iterator[Problem]:
    if value is None:
        if not spec.get("nullable", False):
            yield path, "expected a value, got null"
        return
    yield from TYPES[spec["type"]](spec, value, path)


def _shown(value: Any) -> str:
    text = repr(value)
    kind = {bool: "true/false", int: "a number", float: "a number", str: "a text", list: "a list",
            dict: "a mapping"}.get(type(value), type(value).__name__)
    return f"{kind} {text if len(text) <= 60 else text[:59] + '…'}"


def unknown(name: str, known: dict[str, Parameter]) -> str:
    """The message for a parameter the catalogue does not have, with the nearest names."""
    near = difflib.get_close_matches(name, known, n=3, cutoff=0.75)
    hint = f" (did you mean {', '.join(near)}?)" if near else ""
    return f"unknown parameter {name!r}{hint}: the policy's parameters.yaml lists every parameter"


def check_settings(settings: dict[str, Any], catalogue: dict[str, Parameter], source: str,
                   line_of: Callable[[tuple[Any, ...]], int | None] | None, prefix: tuple[Any, ...],
                   value_key: str | None = None) -> None:
    """Refuse, naming the file, key and line, a setting the catalogue does not know or a value of
    the wrong type. ``value_key``: settings are mappings holding their value under it (tailoring)."""
    for name, setting in settings.items():
        keys = (*prefix, name)
        if name not in catalogue:
            raise InputError(source, unknown(name, catalogue), where=format_path(keys),
                             line=line_of(keys) if line_of else None)
        value = setting[value_key] if value_key is not None else setting
        if value_key is not None:
            keys = (*keys, value_key)
        found = catalogue[name].problems(value)
        if found:
            inner, message = found[0]
            full = (*keys, *inner)
            raise InputError(source, message, where=format_path(full), line=line_of(full) if line_of else None)


def load_catalogue(data: Any, source: str, line_of: Callable[[tuple[Any, ...]], int | None]) -> dict[str, Parameter]:
    """The parameters of a policy (its ``parameters.yaml``), validated."""
    from auditor.schemas import documents as S
    from auditor.schemas import validated

    doc = validated(data, S.PARAMETERS, source, line_of)
    return {name: Parameter(name=name, spec={k: v for k, v in spec.items() if k not in ("title", "description")},
                            title=spec["title"])
            for name, spec in sorted(doc["parameters"].items())}
