"""A fast checker compiled from Cerberus rule sets, for evidence at fleet scale.

Cerberus builds a child validator for every nested mapping it meets, which costs tens
of milliseconds for one endpoint's account list: too slow for ten thousand bundles.
The evidence schemas stay Cerberus rule sets (one source of truth, and the policy
documents are still validated by Cerberus itself); this module compiles the subset of
rules they use into plain closures. ``tests/test_schemas_compiled.py`` checks, on
generated documents, that both always agree on whether a document is valid.

Unsupported rules are refused when compiling, so a schema can never be half-checked.

Long lists (an imported directory's 100,000 accounts) are first checked a column at a time
(:func:`compile_column`): every record's value of one key at once, types by one set of
types, patterns once per distinct value, mostly in C. That check only ever says "all
valid"; when it cannot say so, the item-by-item checker runs and reports exactly what it
always did, so the problems and their order do not depend on the fast path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from itertools import chain, repeat
from operator import contains, getitem, itemgetter
from typing import Any

from auditor.memory import paused_gc

Problem = tuple[tuple[Any, ...], str]
Checker = Callable[[Any, tuple[Any, ...], list[Problem]], None]

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "float": (float, int),
    "number": (int, float),
    "boolean": (bool,),
    "dict": (Mapping,),
    "list": (Sequence,),
    "date": (date,),  # as Cerberus: a datetime is a date too
}
_IGNORED = {"default", "required"}  # required is handled by the enclosing mapping
_SUPPORTED = {"type", "nullable", "schema", "regex", "allowed", "allow_unknown", "min", "max", "minlength",
              "empty", "keysrules", "valuesrules", "check_with", "anyof",
              "dependencies"} | _IGNORED  # dependencies (names of sibling keys) is checked by the mapping


def _type_ok(name: str, value: Any) -> bool:
    if name == "list":
        return isinstance(value, Sequence) and not isinstance(value, str | bytes)
    if name == "number" and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[name])


def compile_rules(rules: Mapping[str, Any]) -> Checker:
    """Compile the rules for one value."""
    unknown = set(rules) - _SUPPORTED
    if unknown:
        raise ValueError(f"rules not supported by the compiled checker: {sorted(unknown)}")
    steps: list[Checker] = []
    nullable = rules.get("nullable", False)
    types = rules.get("type")
    names = [] if types is None else [types] if isinstance(types, str) else list(types)
    # The common single plain type is one isinstance call; the rest goes through _type_ok.
    plain = {"string": str, "boolean": bool, "dict": dict}.get(names[0]) if len(names) == 1 else None

    if "allowed" in rules:
        allowed = list(rules["allowed"])

        def check_allowed(value: Any, path: tuple[Any, ...], out: list[Problem]) -> None:
            values = value if isinstance(value, list) else [value]
            bad = [v for v in values if v not in allowed]
            if bad:
                out.append((path, f"unallowed value {bad[0]!r} (expected one of: {', '.join(map(str, allowed))})"))

        steps.append(check_allowed)
    if "regex" in rules:
        pattern = re.compile(rules["regex"])

        def check_regex(value: Any, path: tuple[Any, ...], out: list[Problem]) -> None:
            if isinstance(value, str) and not pattern.fullmatch(value):
                out.append((path, f"value {value!r} does not match the pattern {rules['regex']}"))

        steps.append(check_regex)
    for key, test, word in (("min", lambda v, lim: v < lim, "min value is"),
                            ("max", lambda v, lim: v > lim, "max value is")):
        if key in rules:
            limit = rules[key]

            def check_limit(value: Any, path: tuple[Any, ...], out: list[Problem],
                            limit: Any = limit, test: Any = test, word: str = word) -> None:
                try:
                    if test(value, limit):
                        out.append((path, f"{word} {limit}"))
                except TypeError:
                    pass

            steps.append(check_limit)
    if "minlength" in rules:
        minimum = rules["minlength"]

        def check_minlength(value: Any, path: tuple[Any, ...], out: list[Problem]) -> None:
            if hasattr(value, "__len__") and len(value) < minimum:
                out.append((path, f"min length is {minimum}"))

        steps.append(check_minlength)
    if rules.get("empty") is False:
        def check_empty(value: Any, path: tuple[Any, ...], out: list[Problem]) -> None:
            if hasattr(value, "__len__") and len(value) == 0:
                out.append((path, "empty values not allowed"))

        steps.append(check_empty)
    if "check_with" in rules:
        custom = rules["check_with"]

        def check_custom(value: Any, path: tuple[Any, ...], out: list[Problem]) -> None:
            custom(path[-1] if path else "", value, lambda _field, message: out.append((path, message)))

        steps.append(check_custom)
    sub = rules.get("schema")
    if sub is not None:
        if "dict" in ([types] if isinstance(types, str) else list(types or [])):
            steps.append(_compile_mapping(sub, rules.get("allow_unknown", False)))
        else:
            items = compile_rules(sub)
            all_valid = compile_column(sub)

            def check_items(value: Any, path: tuple[Any, ...], out: list[Problem]) -> None:
                if isinstance(value, list):
                    if len(value) >= COLUMN_MIN_ITEMS and _without_cycle_collection(all_valid, value):
                        return  # the whole list is valid: nothing to report
                    for i, item in enumerate(value):
                        items(item, (*path, i), out)

            steps.append(check_items)
    if "anyof" in rules:
        steps.append(_compile_anyof(rules))
    if "keysrules" in rules or "valuesrules" in rules:
        keys = compile_rules(rules["keysrules"]) if "keysrules" in rules else None
        values = compile_rules(rules["valuesrules"]) if "valuesrules" in rules else None
        keys_valid = compile_column(rules["keysrules"]) if "keysrules" in rules else None
        values_valid = compile_column(rules["valuesrules"]) if "valuesrules" in rules else None

        def check_entries(value: Any, path: tuple[Any, ...], out: list[Problem]) -> None:
            if isinstance(value, Mapping):
                if (len(value) >= COLUMN_MIN_ITEMS and (keys_valid is None or keys_valid(list(value)))
                        and (values_valid is None or _without_cycle_collection(values_valid, list(value.values())))):
                    return  # every key and value valid: nothing to report
                for k, v in value.items():
                    if keys is not None:
                        keys(k, (*path, k), out)
                    if values is not None:
                        values(v, (*path, k), out)

        steps.append(check_entries)

    def check(value: Any, path: tuple[Any, ...], out: list[Problem]) -> None:
        if value is None:
            if not nullable:
                out.append((path, "null value not allowed"))
            return
        if plain is not None:
            if not isinstance(value, plain):
                out.append((path, f"expected {names[0]}, got {type(value).__name__}"))
                return
        elif names and not any(_type_ok(n, value) for n in names):
            out.append((path, f"expected {' or '.join(names)}, got {type(value).__name__}"))
            return
        for step in steps:
            step(value, path, out)

    return check


def _compile_anyof(rules: Mapping[str, Any]) -> Checker:
    """``anyof``: at least one alternative holds; as in Cerberus, each inherits the field's ``type``
    and ``allow_unknown`` when it does not set its own."""
    alternatives = []
    for definition in rules["anyof"]:
        inherited = {k: rules[k] for k in ("type", "allow_unknown") if k in rules and k not in definition}
        alternatives.append(compile_rules({**definition, **inherited}))

    def check_anyof(value: Any, path: tuple[Any, ...], out: list[Problem]) -> None:
        for alternative in alternatives:
            found: list[Problem] = []
            alternative(value, path, found)
            if not found:
                return
        out.append((path, "does not match any allowed form"))

    return check_anyof


def _dependencies(rules: Mapping[str, Any]) -> list[str]:
    """The sibling keys a field needs (``dependencies`` as one name or a list of names)."""
    needed = rules.get("dependencies", [])
    names = [needed] if isinstance(needed, str) else needed
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"dependencies other than key names are not supported by the compiled checker: {needed!r}")
    return names


_PLAIN = {"string": str, "boolean": bool, "integer": int}


def _simple(rules: Mapping[str, Any]) -> tuple[type, bool, bool, Any, Any] | None:
    """(type, nullable, rejects bool) for a field that needs nothing but a type check.

    Most fields of a record are such; checking them inline, without a call per field,
    is what makes a 100,000-record list cheap. A ``check_with`` function marked
    ``rejects_bool`` (Cerberus counts True as an integer) is folded into the type check.
    """
    extra = set(rules) - {"type", "nullable", "required", "default", "check_with", "min", "max"}
    kind = rules.get("type")
    if extra or not isinstance(kind, str) or kind not in _PLAIN:
        return None
    custom = rules.get("check_with")
    if custom is not None and not getattr(custom, "rejects_bool", False):
        return None
    if kind != "integer" and ("min" in rules or "max" in rules):
        return None
    return (_PLAIN[kind], bool(rules.get("nullable", False)), custom is not None, rules.get("min"),
            rules.get("max"))


def _compile_mapping(schema: Mapping[str, Any], allow_unknown: bool) -> Checker:
    fields = {key: compile_rules(rules) for key, rules in schema.items()}
    simple = {key: spec for key, rules in schema.items() if (spec := _simple(rules)) is not None}
    required = [key for key, rules in schema.items() if rules.get("required")]
    depending = {key: needs for key, rules in schema.items() if (needs := _dependencies(rules))}

    def check(value: Any, path: tuple[Any, ...], out: list[Problem]) -> None:
        if not isinstance(value, Mapping):
            return
        for key in required:
            if key not in value:
                out.append(((*path, key), "required field"))
        for key, needs in depending.items():
            if key in value:
                out.extend(((*path, key), f"field {need!r} is required") for need in needs if need not in value)
        for key, item in value.items():
            spec = simple.get(key)
            if spec is not None:
                kind, nullable, strict, low, high = spec
                if item is None:
                    if not nullable:
                        out.append(((*path, key), "null value not allowed"))
                elif not isinstance(item, kind) or (strict and item.__class__ is bool):
                    name = "boolean" if kind is bool else "integer" if kind is int else "string"
                    out.append(((*path, key), f"expected {name}, got {type(item).__name__}"))
                elif low is not None and item < low:
                    out.append(((*path, key), f"min value is {low}"))
                elif high is not None and item > high:
                    out.append(((*path, key), f"max value is {high}"))
                continue
            checker = fields.get(key)
            if checker is not None:
                checker(item, (*path, key), out)
            elif not allow_unknown:
                out.append(((*path, key), "unknown key"))

    return check


def compile_schema(schema: Mapping[str, Any], allow_unknown: bool = False) -> Callable[[Any], list[Problem]]:
    """A checker for a whole document against a Cerberus schema (a mapping of fields)."""
    mapping = _compile_mapping(schema, allow_unknown)

    def problems(document: Any) -> list[Problem]:
        if not isinstance(document, Mapping):
            return [((), f"expected a mapping, got {type(document).__name__}")]
        out: list[Problem] = []
        mapping(document, (), out)
        return out

    return problems


# ---------------------------------------------------------------- whole columns

COLUMN_MIN_ITEMS = 6  # below this, checking item by item is faster (measured: 4 to 5 records of the fact areas)
ColumnCheck = Callable[[Sequence[Any]], bool]

# Exact Python types that pass each type rule. JSON gives exactly these types, and a value of
# any other type is left to the item-by-item checker: the column check may only be stricter.
_EXACT: dict[str, frozenset[type]] = {
    "string": frozenset({str}),
    "boolean": frozenset({bool}),
    "integer": frozenset({int, bool}),  # Cerberus counts True as an integer (see check_with below)
    "float": frozenset({float, int, bool}),
    "number": frozenset({int, float}),
    "dict": frozenset({dict}),
    "list": frozenset({list}),
}
_SIZED = frozenset({str, list, dict})
_NUMBERS = frozenset({int, float, bool})
_NONE = type(None)


def _without_cycle_collection(check: ColumnCheck, values: Sequence[Any]) -> bool:
    """``check(values)`` with the cycle collector paused: reading a long list by columns makes as
    many short-lived (acyclic) tuples as it has items, which a collection would scan for nothing."""
    with paused_gc():
        return check(values)


def compile_column(rules: Mapping[str, Any]) -> ColumnCheck:
    """A check of many values at once against the rules for one value.

    It returns True only when :func:`compile_rules` finds no problem in any of the values;
    False means "not shown valid" (the caller checks item by item). Rules it has no column
    form for are applied with the item checker, value by value.
    """
    one = compile_rules(rules)

    def each(values: Sequence[Any]) -> bool:
        out: list[Problem] = []
        for value in values:
            one(value, (), out)
            if out:
                return False
        return True

    names = rules.get("type")
    names = [] if names is None else [names] if isinstance(names, str) else list(names)
    custom = rules.get("check_with")
    if not names or any(n not in _EXACT for n in names) or (custom is not None
                                                             and not getattr(custom, "rejects_bool", False)):
        return each
    if "anyof" in rules:
        return each
    exact = frozenset().union(*(_EXACT[n] for n in names))
    if custom is not None:
        exact -= {bool}  # folded into the types, as _simple does
    accepted = exact | {_NONE} if rules.get("nullable", False) else exact
    steps: list[ColumnCheck] = []
    if "allowed" in rules:
        try:
            allowed = set(rules["allowed"])
        except TypeError:  # an unhashable allowed value
            return each
        if not exact <= {str, int}:
            return each
        steps.append(lambda values: set(values) <= allowed)
    if "regex" in rules:
        match = re.compile(rules["regex"]).fullmatch
        if exact == {str} and _digit_blind(rules["regex"]):
            steps.append(lambda values: all(map(match, _shapes(values))))
        elif exact == {str}:
            steps.append(lambda values: all(map(match, set(values))))
        else:
            steps.append(lambda values: all(map(match, {v for v in values if isinstance(v, str)})))
    for key, least in (("min", True), ("max", False)):
        if key in rules:
            limit = rules[key]
            if not exact <= _NUMBERS or type(limit) not in _NUMBERS:
                return each
            steps.append(lambda values, limit=limit, least=least:
                         not values or (min(values) >= limit if least else max(values) <= limit))
    if "minlength" in rules or rules.get("empty") is False:
        if not exact <= _SIZED:
            return each
        minimum = max(rules.get("minlength", 0), 0 if rules.get("empty", True) else 1)
        steps.append(lambda values: not values or min(map(len, values)) >= minimum)
    sub = rules.get("schema")
    if sub is not None:
        if exact == {dict}:
            steps.append(_compile_records(sub, rules.get("allow_unknown", False)))
        elif exact == {list}:
            items = compile_column(sub)
            steps.append(lambda values: items(list(chain.from_iterable(values))))
        else:
            return each
    if "keysrules" in rules or "valuesrules" in rules:
        return each

    def check(values: Sequence[Any]) -> bool:
        found = set(map(type, values))
        if not found <= accepted:
            return False
        if _NONE in found:
            values = [v for v in values if v is not None]
        return all(step(values) for step in steps)

    return check


_QUANTIFIER = re.compile(r"\{\d+(,\d*)?\}")
_ZERO_DIGITS = str.maketrans("123456789", "000000000")


def _digit_blind(pattern: str) -> bool:
    r"""Whether the pattern cannot tell one ASCII digit from another: no digit in it but in ``{m,n}``.

    (Telling them apart needs a digit written in the pattern: a literal, a range such as
    ``[0-5]``, an escape such as ``\x30``; ``\d``, ``.`` and ranges like ``[!-~]`` treat all ten alike.)
    """
    return not any(c.isascii() and c.isdigit() for c in _QUANTIFIER.sub("", pattern))


def _shapes(values: Sequence[str]) -> set[str]:
    """The distinct values with every ASCII digit made 0, for a digit-blind pattern: an instant
    column of 100,000 distinct values has one or two shapes (``0000-00-00T00:00:00+00:00``)."""
    distinct = set(values)
    joined = "\n".join(distinct)
    if len(distinct) < 64 or joined.count("\n") != len(distinct) - 1:  # few values, or a value with a newline
        return distinct
    return set(joined.translate(_ZERO_DIGITS).split("\n"))


def _compile_records(schema: Mapping[str, Any], allow_unknown: bool) -> ColumnCheck:
    """A column check for records (exact dicts) against a mapping schema, key by key."""
    if any("dependencies" in rules for rules in schema.values()):
        return lambda records: False  # a rule between keys of one record: the item checker's
    fields = {key: (bool(rules.get("required")), compile_column(rules)) for key, rules in schema.items()}
    known = set(schema)

    def check(records: Sequence[dict[str, Any]]) -> bool:
        if not records:
            return True
        if not allow_unknown and not known.issuperset(chain.from_iterable(records)):
            return False
        # The keys of the first record are usually every record's: read them all in one pass.
        common = [key for key in fields if key in records[0]]
        columns: dict[str, Sequence[Any]] = {}
        try:
            if len(common) == 1:
                columns = {common[0]: list(map(getitem, records, repeat(common[0])))}
            elif common:
                columns = dict(zip(common, zip(*map(itemgetter(*common), records), strict=True), strict=True))
        except KeyError:  # some record lacks one of them: key by key below
            columns = {}
        for key, (required, column_ok) in fields.items():
            values = columns.get(key)
            if values is None:
                having = sum(map(contains, records, repeat(key)))
                if having == len(records):
                    values = list(map(getitem, records, repeat(key)))
                elif required:
                    return False
                elif having:
                    values = [r[key] for r in records if key in r]
                else:
                    continue
            if not column_ok(values):
                return False
        return True

    return check
