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
from collections.abc import Callable, Iterator
from typing import Any

from auditor.conditions import (
    MISSING,
    REGISTRY,
    Context,
    EvaluationError,
    Finding,
    Operator,
    Outcome,
    Path,
    Problem,
    compiled,
    describe,
    evaluate,
    getter,
    label_path,
    params_of,
    register,
    require_present,
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
Namer = Callable[[Any, int, str], str]
_NAMERS: dict[str | None, Namer] = {}


def _name(item: Any, index: int, ctx: Context, label: str) -> str:
    """An item's name: one field (``item: name``) or a template of fields (``item: "{protocol}/{port}"``)."""
    return _namer(ctx.item_key)(item, index, label)


def _namer(key: str | None) -> Namer:
    """:func:`_name` for one ``item`` key, its template parsed once (findings can number 100,000)."""
    namer = _NAMERS.get(key)
    if namer is None:
        namer = _NAMERS[key] = _make_namer(key)
    return namer


def _make_namer(key: str | None) -> Namer:
    if not key:
        def by_position(item: Any, index: int, label: str) -> str:
            return label_path(label, index)

        return by_position
    if "{" not in key:
        def by_field(item: Any, index: int, label: str) -> str:
            if isinstance(item, dict) and item.get(key) is not None:
                return str(item[key])
            return label_path(label, index)

        return by_field
    pieces = _FIELD.split(key)  # literal, field, literal, field, ..., literal
    template = "{}".join(p.replace("{", "{{").replace("}", "}}") for p in pieces[0::2])
    fields = [getter(f) for f in pieces[1::2]]

    def by_template(item: Any, index: int, label: str) -> str:
        if not isinstance(item, dict):
            return label_path(label, index)
        return template.format(*[_text(get(item)) for get in fields])

    return by_template


def _text(value: Any) -> str:
    return "?" if value is MISSING or value is None else str(value)


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


def _matching(where: dict[str, Any] | None, items: list[Any], ctx: Context) -> Iterator[tuple[int, Any]]:
    """(index, item) of the items that satisfy ``where`` (all of them without one), in order.

    The filter is compiled once for the whole list instead of being looked up per item.
    """
    if where is None:
        yield from enumerate(items)
        return
    judge = compiled(where)
    for pair in enumerate(items):
        if judge(pair[1], ctx, ""):
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


@register
class All(_Quantifier):
    name = "all"
    keys = ("where", "require")
    required = ("require",)

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        findings: list[Finding] = []
        name_of = _namer(ctx.item_key)
        for i, item in _matching(arg.get("where"), _items(subject, label), ctx):
            outcome = evaluate(arg["require"], item, ctx, "")
            name = name_of(item, i, label)
            for f in outcome.findings:
                findings.append(Finding(name, f.actual, f"{f.item} {f.expected}" if f.item else f.expected))
        return Outcome(not findings, findings)

    def describe(self, arg: Any, ctx: Context) -> str:
        return f"every item with {self._where_text(arg, ctx)}: {describe(arg['require'], ctx)}"


@register
class Any_(_Quantifier):
    name = "any"

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        items = _items(subject, label)
        if next(_matching(arg["where"], items, ctx), None) is not None:
            return Outcome(True)
        return Outcome(False, [Finding(label, f"none of {len(items)} items", self.describe(arg, ctx))])

    def describe(self, arg: Any, ctx: Context) -> str:
        return f"at least one item with {self._where_text(arg, ctx)}"


@register
class None_(_Quantifier):
    name = "none"

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        items = _items(subject, label)
        matched = list(_matching(arg["where"], items, ctx))
        if not matched:
            return Outcome(True)
        fields = fields_of(arg["where"])
        expected = self.describe(arg, ctx)
        name_of = _namer(ctx.item_key)
        if len(fields) == 1:
            get = getter(fields[0])
            return Outcome(False, [Finding(name_of(item, i, label), get(item), expected) for i, item in matched])
        getters = [(f, getter(f)) for f in fields]
        return Outcome(False, [
            Finding(name_of(item, i, label), {f: get(item) for f, get in getters} if fields else item, expected)
            for i, item in matched])

    def describe(self, arg: Any, ctx: Context) -> str:
        return f"no item with {self._where_text(arg, ctx)}"


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
        n = sum(1 for _ in _matching(arg.get("where"), items, ctx))
        cmp = self._cmp(arg)
        if evaluate({cmp: arg[cmp]}, n, ctx, label).passed:
            return Outcome(True)
        return Outcome(False, [Finding(label, n, self.describe(arg, ctx))])

    def describe(self, arg: Any, ctx: Context) -> str:
        cmp = self._cmp(arg)
        return f"number of items with {self._where_text(arg, ctx)} {REGISTRY[cmp].describe(arg[cmp], ctx)}"
