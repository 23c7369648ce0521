"""An item judged together with its record in another list: ``joined``; and ``days_between`` two dates.

``match`` asks whether a corresponding record exists; some requirements compare the item with
that record (a vendor's directory account expires no later than its contract ends)::

    joined:
      in: org.vendor_accounts        # a list anywhere in the target's evidence
      by: {account: name}            # record field: item field (compared as match compares them)
      as: contract                   # the record, seen beside the item's own fields under this key
      latest: contract_end           # optional: only the record with the latest value of this field
      where:                         # judged on the item with the record under `as`
        days_between: {from: contract.contract_end, to: expires_at, gt: 1}

It holds when a corresponding record (the latest one, with ``latest``: a renewed contract
replaces the one before) satisfies ``where``. ``days_between`` counts the days from one date
or instant of its subject to another (an instant by its own date) and compares the count; a
null or empty date never satisfies it, as null never satisfies an ordering.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from auditor.conditions import (
    MISSING,
    REGISTRY,
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
    resolve,
    validate,
    validate_value,
    value_params,
)
from auditor.conditions.crossref import _key
from auditor.conditions.dates import to_date

COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")


@register
class Joined(Operator):
    name = "joined"
    keys = ("in", "by", "as", "latest", "where")

    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        if not isinstance(arg, dict):
            yield path, "expected a mapping with in, by, as and where (latest optional)"
            return
        for key in arg:
            if key not in self.keys:
                yield path + (key,), f"unknown key (expected: {', '.join(self.keys)})"
        for key in ("in", "as"):
            if not isinstance(arg.get(key), str) or not arg.get(key):
                yield path + (key,), "expected a name (in: the dotted path of a list; as: a key)"
        if "latest" in arg and (not isinstance(arg["latest"], str) or not arg["latest"]):
            yield path + ("latest",), "expected a field of the records"
        by = arg.get("by")
        if not isinstance(by, dict) or not by or not all(isinstance(k, str) and isinstance(v, str)
                                                         for k, v in by.items()):
            yield path + ("by",), "expected a mapping of record field to item field, such as {account: name}"
        if "where" not in arg:
            yield path + ("where",), "required key is missing"
        else:
            yield from validate(arg["where"], path + ("where",))

    def params(self, arg: Any) -> Iterator[str]:
        yield from params_of(arg["where"])

    def _index(self, arg: dict[str, Any], ctx: Context) -> dict[tuple[Any, ...], list[Any]]:
        records = get_path(ctx.root, arg["in"])
        if records is MISSING:
            raise MissingFact(arg["in"])
        if records is None:
            records = []
        if not isinstance(records, list):
            raise EvaluationError(f"{arg['in']} is not a list")
        gets = [getter(field) for field in arg["by"]]
        latest = arg.get("latest")

        def build() -> dict[tuple[Any, ...], list[Any]]:
            index: dict[tuple[Any, ...], list[Any]] = {}
            for record in records:
                key = _key(record, gets)
                if key is not None:
                    index.setdefault(key, []).append(record)
            if latest is not None:
                for key, found in index.items():
                    dated = [r for r in found if r.get(latest) is not None]
                    index[key] = [max(dated, key=lambda r: to_date(r[latest]))] if dated else found[-1:]
            return index

        return ctx.memoized(records, ("joined", id(records), tuple(arg["by"]), latest), build)

    def _pairs(self, subject: Any, arg: dict[str, Any], ctx: Context) -> list[dict[str, Any]]:
        key = _key(subject, [getter(field) for field in arg["by"].values()])
        if key is None:
            return []
        return [{**subject, arg["as"]: record} for record in self._index(arg, ctx).get(key, ())]

    def holds(self, subject: Any, arg: Any, ctx: Context, label: str) -> bool:
        judge = compiled(arg["where"])
        return any(judge(pair, ctx, label) for pair in self._pairs(subject, arg, ctx))

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        if self.holds(subject, arg, ctx, label):
            return Outcome(True)
        shown = {f: get_path(subject, f) for f in arg["by"].values()} if isinstance(subject, dict) else subject
        return Outcome(False, [Finding(label, shown, self.describe(arg, ctx))])

    def explain(self, arg: Any, w: Any, scope: Any, negated: bool) -> Any:
        """The item has (negated: has no) a corresponding record, the latest one where ``latest``
        says so, for which ``where`` holds; the record's fields read under ``as`` are its own words
        (委託先IDの台帳の記録のうち契約終了日が…, a vendor account entry whose contract end …)."""
        from auditor.conditions import wording
        from auditor.conditions.crossref import same_keys
        from auditor.conditions.words import particle

        other = w.items(w.top(arg["in"]))
        noun = other.noun
        if "latest" in arg:
            latest = w.field(other, arg["latest"]).noun or wording.W.VALUE
            noun = replace(noun, ja=f"{noun.ja}（{particle(latest.ja, 'が')}最も新しいもの）",
                           en=f"{noun.en} (the one with the latest {latest.en})",
                           en_plural=f"{noun.many()} (the ones with the latest {latest.en})")
        pair = replace(scope, beside=((arg["as"], other),))
        parts = same_keys(w, scope, other, arg["by"]) + [w.clause(arg["where"], pair)]
        phrase = wording.records(noun, wording.both(parts))
        if negated:
            return wording.leaf(None, wording.exists_ja(phrase, False), f"has no {phrase.en}")
        return wording.leaf(None, wording.exists_ja(phrase, True), f"has {wording.Noun(phrase.en, phrase.en).a()}")

    def describe(self, arg: Any, ctx: Context) -> str:
        pairs = " and ".join(f"{rec} = {item}" for rec, item in arg["by"].items())
        which = f"the latest by {arg['latest']} of " if "latest" in arg else ""
        return f"{which}the records of {arg['in']} where {pairs} (as {arg['as']}) with {describe(arg['where'], ctx)}"


@register
class DaysBetween(Operator):
    name = "days_between"

    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        if not isinstance(arg, dict):
            yield path, "expected a mapping with from, to and one comparison (eq, ne, lt, le, gt, ge)"
            return
        for key in ("from", "to"):
            if not isinstance(arg.get(key), str) or not arg.get(key):
                yield path + (key,), "expected the dotted path of a date"
        cmp = [k for k in arg if k in COMPARISONS]
        if len(cmp) != 1:
            yield path, f"exactly one of: {', '.join(COMPARISONS)}"
        for key in arg:
            if key not in ("from", "to", *COMPARISONS):
                yield path + (key,), f"unknown key (expected: from, to, {', '.join(COMPARISONS)})"
        for key in cmp:
            value = arg[key]
            if isinstance(value, bool) or not isinstance(value, int | dict):
                yield path + (key,), "expected a whole number of days or {param: NAME}"
            elif isinstance(value, dict):
                yield from validate_value(value, path + (key,))

    def params(self, arg: Any) -> Iterator[str]:
        yield from value_params(arg[self._cmp(arg)])

    @staticmethod
    def _cmp(arg: dict[str, Any]) -> str:
        return next(k for k in arg if k in COMPARISONS)

    def days(self, subject: Any, arg: dict[str, Any], label: str) -> int | None:
        """Days from ``from`` to ``to`` (negative when ``to`` is earlier); None when either is null or empty."""
        values = []
        for key in ("from", "to"):
            value = get_path(subject, arg[key])
            if value is MISSING:
                raise MissingFact(f"{label}.{arg[key]}" if label else arg[key])
            if value is None or value == "":
                return None
            values.append(to_date(value))
        return (values[1] - values[0]).days

    def holds(self, subject: Any, arg: Any, ctx: Context, label: str) -> bool:
        count = self.days(subject, arg, label)
        if count is None:
            return False
        cmp = self._cmp(arg)
        return REGISTRY[cmp].holds(count, arg[cmp], ctx, label)

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        if self.holds(subject, arg, ctx, label):
            return Outcome(True)
        return Outcome(False, [Finding(label, self.days(subject, arg, label), self.describe(arg, ctx))])

    def explain(self, arg: Any, w: Any, scope: Any, negated: bool) -> Any:
        from auditor.conditions.elapsed import span_clause

        cmp = self._cmp(arg)
        return span_clause(w, w.field(scope, arg["from"]), w.field(scope, arg["to"]), "days", {cmp: arg[cmp]},
                           negated)

    def describe(self, arg: Any, ctx: Context) -> str:
        cmp = self._cmp(arg)
        return f"days from {arg['from']} to {arg['to']} {REGISTRY[cmp].describe(resolve(arg[cmp], ctx), ctx)}"
