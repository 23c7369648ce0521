"""Quantifiers over a list of records: all, any, none, count, each with a ``where`` filter.

::

    all:   {where: COND, require: COND}   every matching item satisfies require
    any:   {where: COND}                  at least one item matches
    none:  {where: COND}                  no item matches (each match is a finding)
    count: {where: COND, le: 5}           the number of matching items compares as given

Findings name each offending item by the check's ``item`` key (an account's name, a
socket's port), so an inspector can find it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial
from itertools import repeat
from typing import Any

from auditor.conditions import (
    MISSING,
    REGISTRY,
    Context,
    EvaluationError,
    Finding,
    Frame,
    Operator,
    Outcome,
    Path,
    Problem,
    compiled,
    describe,
    evaluate,
    getter,
    label_path,
    list_positions,
    params_of,
    register,
    require_present,
    row_source,
    select_positions,
    take,
    validate,
)


def _items(subject: Any, label: str) -> list[Any]:
    require_present(subject, label)
    if subject is None:
        return []
    if not isinstance(subject, list):
        raise EvaluationError(f"{label or 'the fact'} is not a list")
    return subject


_FIELD = re.compile(r"\{([a-z_][a-z0-9_.]*)\}")
_NAMERS: dict[str | None, _Namer] = {}


def _name(item: Any, index: int, ctx: Context, label: str) -> str:
    """An item's name: one field (``item: name``) or a template of fields (``item: "{protocol}/{port}"``)."""
    return _namer(ctx.item_key)(item, index, label)


def _namer(key: str | None) -> _Namer:
    """:func:`_name` for one ``item`` key, its template parsed once (findings can number 100,000)."""
    namer = _NAMERS.get(key)
    if namer is None:
        namer = _NAMERS[key] = _Namer(key)
    return namer


class _Namer:
    """Names items by one ``item`` key: one at a time, or all the matches of a list at once."""

    def __init__(self, key: str | None) -> None:
        self.key = key
        self.fields: list[str] = []
        self.template = ""
        if key and "{" in key:
            pieces = _FIELD.split(key)  # literal, field, literal, field, ..., literal
            self.template = "{}".join(p.replace("{", "{{").replace("}", "}}") for p in pieces[0::2])
            self.fields = pieces[1::2]
        self.gets = [getter(f) for f in self.fields]

    def __call__(self, item: Any, index: int, label: str) -> str:
        key = self.key
        if not key or not isinstance(item, dict):
            return label_path(label, index)
        if self.template:
            return self.template.format(*[_text(get(item)) for get in self.gets])
        if item.get(key) is not None:
            return str(item[key])
        return label_path(label, index)

    def reads(self) -> list[str]:
        """The fields a name is made of (none read as paths for a plain key, which may hold a dot)."""
        return self.fields if self.template else [self.key] if self.key and "." not in self.key else []

    def all(self, chosen: list[Any], positions: list[int], label: str, frame: Frame | None) -> list[str]:
        """The names of ``chosen``, the items at ``positions`` of a list: from the columns of its
        ``frame`` if there is one, else one by one."""
        fields = self.reads()
        if (self.template or fields) and frame is not None:
            found = {f: take(frame.column(f), positions) for f in fields}
            kinds = {f: frame.kinds(f) for f in fields}  # of whole columns: supersets of the matches'
            if not self.template:
                if kinds[fields[0]] <= _SHOWN_AS_STR:
                    return list(map(str, found[fields[0]]))
            elif not fields:
                return [self.template.format()] * len(chosen)
            else:
                return list(map(self.template.format, *(_texts(found[f], kinds[f]) for f in fields)))
        return list(map(self, chosen, positions, repeat(label)))


_SHOWN_AS_STR = {str, int, float, bool, list, dict}  # str() of these is the name; not None or MISSING


def _text(value: Any) -> str:
    """A field as an item's name shows it; a list as its entries (the groups a policy is in force for)."""
    if isinstance(value, list):
        return ", ".join(map(_text, value))
    return "?" if value is MISSING or value is None else str(value)


def _texts(values: list[Any], kinds: set[type]) -> list[str]:
    """:func:`_text` of each value, given a superset of their types."""
    if kinds == {str}:
        return values
    if kinds <= _SHOWN_AS_STR - {list}:
        return list(map(str, values))
    return list(map(_text, values))


def _records(fields: list[str], shown: list[list[Any]]) -> list[Any]:
    """The value of each item (one field), or a {field: value} dict (several), from the fields' columns."""
    if len(fields) == 1:
        return shown[0]
    if len(fields) == 2:  # a dict display builds a dict several times faster than dict(zip(...))
        a, b = fields
        return [{a: x, b: y} for x, y in zip(*shown, strict=True)]
    if len(fields) == 3:
        a, b, c = fields
        return [{a: x, b: y, c: z} for x, y, z in zip(*shown, strict=True)]
    return list(map(dict, map(partial(zip, fields), zip(*shown, strict=True))))


def fields_of(cond: Any) -> list[str]:
    """The fields a condition looks at, in order (to show them as the actual value)."""
    found: list[str] = []
    if isinstance(cond, dict):
        if isinstance(cond.get("field"), str):
            found.append(cond["field"])
        for key, value in cond.items():
            if key == "match" and isinstance(value, dict):  # its where speaks of the other list's records
                found.extend(f for f in (value.get("by") or {}).values() if f not in found)
            elif key != "field":
                for sub in value if isinstance(value, list) else [value]:
                    found.extend(f for f in fields_of(sub) if f not in found)
    return found


def _matching(where: dict[str, Any] | None, items: list[Any], ctx: Context,
              label: str) -> Iterator[tuple[int, Any]]:
    """(index, item) of the items that satisfy ``where`` (all of them without one), in order.

    The list is judged at once where it can be; otherwise item by item as the caller asks
    for them, so that ``any`` stops at the first match and ``all`` judges its requirement of
    each match before the filter's next item, as they always did.
    """
    if where is None:
        yield from enumerate(items)
        return
    found = list_positions(where, items, ctx)
    if found is not None:
        yield from zip(found[0], map(items.__getitem__, found[0]), strict=True)
        return
    judge = compiled(where)
    for pair in enumerate(items):
        if judge(pair[1], ctx, label_path(label, pair[0])):
            yield pair


class _Quantifier(Operator):
    keys: tuple[str, ...] = ("where",)
    required: tuple[str, ...] = ("where",)

    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        if not isinstance(arg, dict):
            yield path, f"expected a mapping with {', '.join(self.keys)}"
            return
        for key in self.required:
            if key not in arg:
                yield path + (key,), "required key is missing"
        for key, value in arg.items():
            if key not in self.keys:
                yield path + (key,), f"unknown key (expected: {', '.join(self.keys)})"
            else:
                yield from validate(value, path + (key,))

    def params(self, arg: Any) -> Iterator[str]:
        for key in self.keys:
            if key in arg:
                yield from params_of(arg[key])

    def _where_text(self, arg: Any, ctx: Context) -> str:
        return describe(arg["where"], ctx) if "where" in arg else "any item"

    def _phrase(self, where: Any, w: Any, scope: Any, extra: Any = None) -> Any:
        """The records of the list ``scope`` that ``where`` (and ``extra``, a clause) selects, in words."""
        from auditor.conditions import wording

        items = w.items(scope)
        parts = ([w.clause(where, items)] if where is not None else []) + ([extra] if extra is not None else [])
        return wording.records(items.noun, wording.both(parts) if parts else None), items


@register
class All(_Quantifier):
    name = "all"
    keys = ("where", "require")
    required = ("require",)

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        findings: list[Finding] = []
        name_of = _namer(ctx.item_key)
        for i, item in _matching(arg.get("where"), _items(subject, label), ctx, label):
            outcome = evaluate(arg["require"], item, ctx, "")
            if not outcome.findings:
                continue
            name = name_of(item, i, label)
            source = row_source(item.get("source")) if type(item) is dict else None
            for f in outcome.findings:
                findings.append(Finding(name, f.actual, f"{f.item} {f.expected}" if f.item else f.expected,
                                        f.source or source))
        return Outcome(not findings, findings)

    def describe(self, arg: Any, ctx: Context) -> str:
        return f"every item with {self._where_text(arg, ctx)}: {describe(arg['require'], ctx)}"

    def explain(self, arg: Any, w: Any, scope: Any, negated: bool) -> Any:
        return every(self, arg.get("where"), arg["require"], w, scope, negated)


@register
class Any_(_Quantifier):
    name = "any"

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        items = _items(subject, label)
        if next(_matching(arg["where"], items, ctx, label), None) is not None:
            return Outcome(True)
        return Outcome(False, [Finding(label, f"none of {len(items)} items", self.describe(arg, ctx))])

    def describe(self, arg: Any, ctx: Context) -> str:
        return f"at least one item with {self._where_text(arg, ctx)}"

    def explain(self, arg: Any, w: Any, scope: Any, negated: bool) -> Any:
        return some(self, arg["where"], w, scope, present=not negated)


@register
class None_(_Quantifier):
    name = "none"

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        items = _items(subject, label)
        namer = _namer(ctx.item_key)
        positions, frame = select_positions(arg["where"], items, ctx, label)
        if not positions:
            return Outcome(True)
        matched = take(items, positions)
        fields = fields_of(arg["where"])
        names = namer.all(matched, positions, label, frame)
        if frame is None:  # a short or unusual list: each item's values read from it
            shown = [list(map(getter(f), matched)) for f in fields]
        else:  # from the frame's columns, all at once
            shown = [take(frame.column(f), positions) for f in fields]
        actuals = _records(fields, shown) if fields else matched
        sources = [row_source(m.get("source")) if type(m) is dict else None for m in matched]
        return Outcome(False, list(map(Finding, names, actuals, repeat(self.describe(arg, ctx)), sources)))

    def describe(self, arg: Any, ctx: Context) -> str:
        return f"no item with {self._where_text(arg, ctx)}"

    def explain(self, arg: Any, w: Any, scope: Any, negated: bool) -> Any:
        where = arg["where"]
        parts = where.get("all_of") if isinstance(where, dict) and set(where) == {"all_of"} else None
        last = parts[-1] if isinstance(parts, list) and len(parts) > 1 else None
        if not negated and isinstance(last, dict) and set(last) == {"not"}:  # no A that is not B: every A is B
            rest = parts[0] if len(parts) == 2 else {"all_of": parts[:-1]}
            return every(self, rest, last["not"], w, scope, False)
        return some(self, where, w, scope, present=negated)


COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")


@register
class Count(_Quantifier):
    name = "count"
    keys = ("where", *COMPARISONS)
    required = ()

    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        if isinstance(arg, dict):
            cmp = [k for k in arg if k in COMPARISONS]
            if len(cmp) != 1:
                yield path, f"count needs exactly one of: {', '.join(COMPARISONS)}"
                return
            if "where" in arg:
                yield from validate(arg["where"], path + ("where",))
            yield from REGISTRY[cmp[0]].validate(arg[cmp[0]], path + (cmp[0],))
            extra = [k for k in arg if k not in self.keys]
            for key in extra:
                yield path + (key,), f"unknown key (expected: where and one of {', '.join(COMPARISONS)})"
        else:
            yield from super().validate(arg, path)

    def params(self, arg: Any) -> Iterator[str]:
        if "where" in arg:
            yield from params_of(arg["where"])
        yield from REGISTRY[self._cmp(arg)].params(arg[self._cmp(arg)])

    @staticmethod
    def _cmp(arg: dict[str, Any]) -> str:
        return next(k for k in arg if k in COMPARISONS)

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        items = _items(subject, label)
        n = len(select_positions(arg["where"], items, ctx, label)[0]) if "where" in arg else len(items)
        cmp = self._cmp(arg)
        if evaluate({cmp: arg[cmp]}, n, ctx, label).passed:
            return Outcome(True)
        return Outcome(False, [Finding(label, n, self.describe(arg, ctx))])

    def describe(self, arg: Any, ctx: Context) -> str:
        cmp = self._cmp(arg)
        return f"number of items with {self._where_text(arg, ctx)} {REGISTRY[cmp].describe(arg[cmp], ctx)}"

    def explain(self, arg: Any, w: Any, scope: Any, negated: bool) -> Any:
        from auditor.conditions import wording

        phrase, _ = self._phrase(arg.get("where"), w, scope)
        count = wording.Noun(f"{phrase.ja}の数", f"number of {phrase.en_many}")
        cmp = self._cmp(arg)
        return w.clause({cmp: arg[cmp]}, wording.Scope("", "", count), negated)


def some(op: _Quantifier, where: Any, w: Any, scope: Any, present: bool) -> Any:
    """There is (``present``) or is not a record that ``where`` selects."""
    from auditor.conditions import wording

    phrase, _ = op._phrase(where, w, scope)
    if present:
        return wording.statement(wording.exists_ja(phrase, True), f"there is at least one {phrase.en}")
    return wording.statement(wording.exists_ja(phrase, False), f"there is no {phrase.en}")


def every(op: _Quantifier, where: Any, require: Any, w: Any, scope: Any, negated: bool) -> Any:
    """Every record that ``where`` selects satisfies ``require``; negated, some record does not."""
    from auditor.conditions import wording

    if negated:
        phrase, _ = op._phrase(where, w, scope, w.clause(require, w.items(scope), True))
        return wording.statement(wording.exists_ja(phrase, True), f"there is at least one {phrase.en}")
    phrase, items = op._phrase(where, w, scope)
    need = w.clause(require, items)
    ja = f"{wording.particle(phrase.ja, 'は')}、いずれも{wording.ja_text(need)}"
    if wording.about_fields(need):
        return wording.statement(ja, f"for every {phrase.en}, {wording.en_top(need)}")
    return wording.statement(ja, f"every {phrase.en} {wording.en_vp(need)}")
