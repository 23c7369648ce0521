"""Cerberus schemas for every document the auditor reads, and the one validate() that applies them."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from auditor.errors import InputError
from auditor.schemas.compiled import compile_schema
from auditor.yamldoc import format_path

if TYPE_CHECKING:
    import cerberus
    from cerberus import errors as cerr

# Cerberus (and the importlib.metadata it loads, 40 ms of every start-up) is imported only
# when a document has a problem to word: the compiled checker answers "valid" without it.
_validators: dict[int, cerberus.Validator] = {}
_compiled: dict[int, Callable[[Any], list[Any]] | None] = {}


def _validator(schema: dict) -> cerberus.Validator:
    import cerberus

    # Building a validator checks the schema itself, which is slow; reuse one per schema.
    v = _validators.get(id(schema))
    if v is None:
        v = cerberus.Validator(schema, allow_unknown=False)
        _validators[id(schema)] = v
    return v


def _leaves(errs: Sequence[cerr.ValidationError]) -> list[cerr.ValidationError]:
    out: list[cerr.ValidationError] = []
    for e in errs:
        if e.is_logic_error:
            out.append(e)
        elif e.is_group_error:
            out.extend(_leaves(e.child_errors))
        else:
            out.append(e)
    return out


def _describe(e: cerr.ValidationError) -> str:
    from cerberus import errors as cerr

    if e.code == cerr.UNKNOWN_FIELD.code:
        return "unknown key"
    if e.is_logic_error:
        return "does not match any allowed form"
    if e.code == cerr.BAD_TYPE.code:
        expected = e.constraint if isinstance(e.constraint, str) else " or ".join(e.constraint)
        return f"expected {expected}, got {type(e.value).__name__}"
    if e.code == cerr.UNALLOWED_VALUE.code:
        return f"unallowed value {e.value!r} (expected one of: {', '.join(map(str, e.constraint))})"
    if e.code == cerr.UNALLOWED_VALUES.code:
        return f"unallowed values {list(e.info[0])} (expected values from: {', '.join(map(str, e.constraint))})"
    if e.code == cerr.REGEX_MISMATCH.code:
        return f"value {e.value!r} does not match the pattern {e.constraint}"
    template = cerr.BasicErrorHandler.messages.get(e.code, "invalid value")
    try:
        return template.format(*e.info, constraint=e.constraint, field=e.field, value=e.value)
    except (IndexError, KeyError):
        return template


def _non_text_key(data: Any, path: tuple[Any, ...]) -> tuple[tuple[Any, ...], str] | None:
    """The first mapping key that is not text (null, a number, true), iteratively; every document's keys are text."""
    pending = [(data, path)]
    while pending:
        node, here = pending.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str):
                    return here, f"a key must be text, got {key!r} (quote it)"
                pending.append((value, (*here, key)))
        elif isinstance(node, list):
            pending.extend((item, (*here, n)) for n, item in enumerate(node))
    return None


def problems(data: Any, schema: dict) -> list[tuple[tuple[Any, ...], str]]:
    """All validation problems as (key path, message), in document order of paths."""
    if not isinstance(data, dict):
        return [((), f"expected a mapping, got {type(data).__name__}")]
    # The compiled checker (which agrees with Cerberus on every document's validity, see
    # tests/test_schemas_compiled.py) answers "valid" ten times faster: an audit loads some 180
    # policy files. Only a document with a problem goes to Cerberus, for its exact messages.
    fast = _compiled.get(id(schema), False)
    if fast is False:
        try:
            fast = _compiled[id(schema)] = compile_schema(schema)
        except ValueError:  # a rule it does not know: Cerberus alone
            fast = _compiled[id(schema)] = None
    if fast is not None and not fast(data):
        return []
    odd = _non_text_key(data, ())
    if odd is not None:  # Cerberus cannot even sort its errors about such a key (a bare "? " in YAML)
        return [odd]
    v = _validator(schema)
    # Cerberus' normalisation costs five times its validation; defaults are filled in by with_defaults().
    if v.validate(data, normalize=False):
        return []
    found = [(tuple(e.document_path), _describe(e)) for e in _leaves(v._errors)]
    return sorted(found, key=lambda p: format_path(p[0]))


def validated(data: Any, schema: dict, name: str,
              line_of: Callable[[tuple[Any, ...]], int | None] | None = None) -> dict:
    """Validate and normalise (defaults filled in); raise InputError on the first problem."""
    found = problems(data, schema)
    if found and line_of is not None:
        found.sort(key=lambda p: (line_of(p[0]) or 0, format_path(p[0])))
    if found:
        keys, message = found[0]
        if len(found) > 1:
            message += f" (and {len(found) - 1} more problem{'s' if len(found) > 2 else ''})"
        raise InputError(name, message, where=format_path(keys) or None,
                         line=line_of(keys) if line_of else None)
    return with_defaults(data, schema)


def with_defaults(data: dict[str, Any], schema: dict) -> dict[str, Any]:
    """A copy of a valid document with every ``default`` of the schema filled in, at any depth."""
    out = dict(data)
    for key, rules in schema.items():
        if key not in out:
            if "default" in rules:
                out[key] = copy.deepcopy(rules["default"])
            continue
        if rules.get("type") == "dict" and isinstance(rules.get("schema"), dict) and isinstance(out[key], dict):
            out[key] = with_defaults(out[key], rules["schema"])
    return out
