"""Looking across evidence: ``match`` finds records of another list that correspond to an item.

::

    match:
      in: org.hr_roster                 # a list anywhere in the target's evidence (org.* included)
      by: {employee_id: employee_id}    # record field: item field, every pair equal
      where: {field: status, eq: left}  # optional: the corresponding record must also satisfy this

It holds when such a record exists. Text keys are compared after NFKC normalisation, removal
of all white space and case folding, so 石岡　太郎 (full-width space) matches 石岡 太郎 and
ＡＢ123 matches ab123. An item whose key is empty matches nothing. Records are indexed once
per target, so comparing 100,000 accounts with a 100,000-person roster stays linear.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

from auditor.conditions import (
    MISSING,
    Context,
    EvaluationError,
    Finding,
    MissingFact,
    Operator,
    Outcome,
    Path,
    Problem,
    compiled,
    describe,
    get_path,
    getter,
    params_of,
    register,
    validate,
)


def normalise(value: Any) -> Any:
    if isinstance(value, str):
        if value.isascii() and value.isalnum():  # an employee number: NFKC and spaces change nothing
            return value.lower()  # casefold() of ASCII
        return "".join(unicodedata.normalize("NFKC", value).split()).casefold()
    return value


def _key(record: Any, gets: list[Callable[[Any], Any]]) -> tuple[Any, ...] | None:
    """The normalised values of a record's key fields (read by ``gets``); None if one is absent or empty."""
    if not isinstance(record, dict):
        return None
    key = []
    for get in gets:
        value = normalise(get(record))
        if value is MISSING or value is None or value == "":
            return None
        key.append(value)
    return tuple(key)


@register
class Match(Operator):
    name = "match"

    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        if not isinstance(arg, dict):
            yield path, "expected a mapping with in, by and optionally where"
            return
        for key in arg:
            if key not in ("in", "by", "where"):
                hint = " (YAML reads a bare on as true: the key is by)" if key is True else ""
                yield path + (key,), f"unknown key (expected: in, by, where){hint}"
        if not isinstance(arg.get("in"), str) or not arg.get("in"):
            yield path + ("in",), "expected the dotted path of a list, such as org.hr_roster"
        by = arg.get("by")
        if not isinstance(by, dict) or not by or not all(isinstance(k, str) and isinstance(v, str)
                                                         for k, v in by.items()):
            yield path + ("by",), "expected a mapping of record field to item field, such as {employee_id: employee_id}"
        if "where" in arg:
            yield from validate(arg["where"], path + ("where",))

    def params(self, arg: Any) -> Iterator[str]:
        if "where" in arg:
            yield from params_of(arg["where"])

    def _index(self, arg: dict[str, Any], ctx: Context) -> dict[tuple[Any, ...], list[Any]]:
        records = get_path(ctx.root, arg["in"])
        if records is MISSING:
            raise MissingFact(arg["in"])
        if records is None:
            records = []
        if not isinstance(records, list):
            raise EvaluationError(f"{arg['in']} is not a list")
        fields = tuple(arg["by"])
        cache_key = ("match", id(records), fields)
        index = ctx.cache.get(cache_key)
        if index is None:
            index = {}
            gets = [getter(f) for f in fields]
            for record in records:
                key = _key(record, gets)
                if key is not None:
                    index.setdefault(key, []).append(record)
            ctx.cache[cache_key] = index
        return index

    def holds(self, subject: Any, arg: Any, ctx: Context, label: str) -> bool:
        return self.compile(arg)(subject, ctx, label)

    def compile(self, arg: Any) -> Callable[[Any, Context, str], bool]:
        # Runs once per account against a roster: the item's key fields and the where filter
        # are resolved here, once, and the index is found in the per-target cache.
        records_of = getter(arg["in"])
        fields = tuple(arg["by"])
        item_fields = tuple(arg["by"].values())
        gets = [getter(f) for f in item_fields]
        where = arg.get("where")
        accept = compiled(where) if where is not None else None

        def judge(subject: Any, ctx: Context, label: str) -> bool:
            records = records_of(ctx.root)
            index = ctx.cache.get(("match", id(records), fields)) if type(records) is list else None
            if index is None:
                index = self._index(arg, ctx)
            key = _key(subject, gets)
            if key is None:
                return False
            found = index.get(key, ())
            if accept is None:
                return bool(found)
            return any(accept(record, ctx, "") for record in found)

        return judge

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        if self.holds(subject, arg, ctx, label):
            return Outcome(True)
        shown = {item: get_path(subject, item) for item in arg["by"].values()} if isinstance(subject, dict) else subject
        return Outcome(False, [Finding(label, shown, self.describe(arg, ctx))])

    def describe(self, arg: Any, ctx: Context) -> str:
        pairs = " and ".join(f"{rec} = {item}" for rec, item in arg["by"].items())
        where = f" with {describe(arg['where'], ctx)}" if "where" in arg else ""
        return f"a record of {arg['in']} where {pairs}{where}"
