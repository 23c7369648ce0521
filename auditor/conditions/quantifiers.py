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
    describe,
    evaluate,
    get_path,
    holds,
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


def _name(item: Any, index: int, ctx: Context, label: str) -> str:
    """An item's name: one field (``item: name``) or a template of fields (``item: "{protocol}/{port}"``)."""
    key = ctx.item_key
    if key and isinstance(item, dict):
        if "{" in key:
            return _FIELD.sub(lambda m: _text(get_path(item, m.group(1))), key)
        if item.get(key) is not None:
            return str(item[key])
    return label_path(label, index)


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


def _matches(where: dict[str, Any] | None, item: Any, ctx: Context, label: str) -> bool:
    return where is None or holds(where, item, ctx, label)


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
        for i, item in enumerate(_items(subject, label)):
            if not _matches(arg.get("where"), item, ctx, ""):
                continue
            outcome = evaluate(arg["require"], item, ctx, "")
            name = _name(item, i, ctx, label)
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
        if any(_matches(arg["where"], item, ctx, "") for item in items):
            return Outcome(True)
        return Outcome(False, [Finding(label, f"none of {len(items)} items", self.describe(arg, ctx))])

    def describe(self, arg: Any, ctx: Context) -> str:
        return f"at least one item with {self._where_text(arg, ctx)}"


@register
class None_(_Quantifier):
    name = "none"

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        fields = fields_of(arg["where"])
        expected = self.describe(arg, ctx)
        findings = []
        for i, item in enumerate(_items(subject, label)):
            if _matches(arg["where"], item, ctx, ""):
                if len(fields) == 1:
                    actual = get_path(item, fields[0])
                else:
                    actual = {f: get_path(item, f) for f in fields} if fields else item
                findings.append(Finding(_name(item, i, ctx, label), actual, expected))
        return Outcome(not findings, findings)

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
        n = sum(1 for item in items if _matches(arg.get("where"), item, ctx, ""))
        cmp = self._cmp(arg)
        if evaluate({cmp: arg[cmp]}, n, ctx, label).passed:
            return Outcome(True)
        return Outcome(False, [Finding(label, n, self.describe(arg, ctx))])

    def describe(self, arg: Any, ctx: Context) -> str:
        cmp = self._cmp(arg)
        return f"number of items with {self._where_text(arg, ctx)} {REGISTRY[cmp].describe(arg[cmp], ctx)}"
