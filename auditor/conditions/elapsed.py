"""``elapsed``: the time between two dates or instants of one record, compared with a bound.

::

    elapsed:
      from: {field: created_at}              # the earlier moment
      to: {field: password_last_set_at}      # the later one
      unit: hours                            # hours or days (default days)
      le: {param: initial_pw_grace_hours}    # exactly one of eq ne lt le gt ge

Some requirements are about two moments of the same thing rather than about its age: a
password set within an hour of the account's creation, an exception whose end lies at most a
year after its approval. The difference is ``to − from`` (negative when ``to`` is earlier), in
fractional hours or days; when either side is a bare date, both are taken as dates. A null
moment (never set) satisfies no bound: nothing can be said of a span with no end. The two
sides are written ``{field: NAME}`` so that a finding shows their values.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from itertools import compress, repeat
from typing import Any

from auditor.conditions import (
    MISSING,
    Context,
    EvaluationError,
    Finding,
    Frame,
    ListJudge,
    MissingFact,
    Operator,
    Outcome,
    Path,
    Problem,
    field_label,
    lookup,
    register,
    resolve,
    take,
    validate_value,
    value_params,
)

COMPARISONS = {"eq": float.__eq__, "ne": float.__ne__, "lt": float.__lt__, "le": float.__le__,
               "gt": float.__gt__, "ge": float.__ge__}
UNITS = {"hours": 3600.0, "days": 86400.0}


def moment(value: Any) -> date | datetime:
    """An ISO date (a ``date``) or instant (an aware ``datetime``); EvaluationError for anything else."""
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) > 10:
                found = datetime.fromisoformat(text.replace("Z", "+00:00"))
                if found.tzinfo is not None:
                    return found
            else:
                return date.fromisoformat(text)
        except ValueError:
            pass
    raise EvaluationError(f"{value!r} is not an ISO 8601 date or an instant with its offset")


def span_seconds(start: Any, end: Any) -> float:
    """Seconds from ``start`` to ``end``; by calendar days when either is a bare date."""
    first, last = moment(start), moment(end)
    if isinstance(first, datetime) and isinstance(last, datetime):
        return (last - first).total_seconds()
    as_day = [m.date() if isinstance(m, datetime) else m for m in (first, last)]
    return float((as_day[1] - as_day[0]).days * 86400)


# An instant as the importers write it, with its offset: what a directory's accounts hold. Such a
# text is read by moment() exactly as datetime.fromisoformat reads it (no spaces to strip, and
# fromisoformat takes Z as +00:00 from Python 3.11).
_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:[+-][0-9]{2}:[0-9]{2}|Z)")
_NONE = type(None)


def instants(values: list[Any], kinds: set[type]) -> tuple[list[datetime | None]] | tuple[()]:
    """:func:`moment` of every value, null kept as None, as a 1-tuple; () unless every value is
    null or an instant with its offset as the importers write it (a bare date, a mistyped or
    impossible instant: judged record by record, which says what is wrong).

    ``kinds``: a superset of the values' types."""
    if not kinds <= {str, _NONE}:
        return ()
    texts = [v for v in values if v is not None] if _NONE in kinds else values
    if not all(map(_INSTANT.fullmatch, texts)):
        return ()
    try:
        parsed = list(map(datetime.fromisoformat, texts))
    except ValueError:  # a day or an hour that does not exist
        return ()
    if texts is values:
        return (parsed,)
    found = iter(parsed)
    return ([None if v is None else next(found) for v in values],)


def _side(arg: Any) -> str | None:
    return arg["field"] if isinstance(arg, dict) and set(arg) == {"field"} and isinstance(arg["field"], str) \
        and arg["field"] else None


@register
class Elapsed(Operator):
    name = "elapsed"

    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        if not isinstance(arg, dict):
            yield path, "expected a mapping with from, to, unit and one comparison"
            return
        for key in ("from", "to"):
            if _side(arg.get(key)) is None:
                yield path + (key,), "expected {field: NAME}, a date or instant field of the record"
        if arg.get("unit", "days") not in UNITS:
            yield path + ("unit",), f"expected one of: {', '.join(UNITS)}"
        bounds = [k for k in arg if k in COMPARISONS]
        if len(bounds) != 1:
            yield path, f"expected exactly one of: {', '.join(COMPARISONS)}"
        for key in arg:
            if key not in ("from", "to", "unit", *COMPARISONS):
                yield path + (key,), f"unknown key (expected: from, to, unit, {', '.join(COMPARISONS)})"
        for key in bounds:
            yield from validate_value(arg[key], path + (key,))

    def params(self, arg: Any) -> Iterator[str]:
        for key in COMPARISONS:
            if key in arg:
                yield from value_params(arg[key])

    @staticmethod
    def _bound(arg: dict[str, Any], ctx: Context) -> tuple[str, float]:
        key = next(k for k in arg if k in COMPARISONS)
        value = resolve(arg[key], ctx)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise EvaluationError(f"elapsed needs a number of {arg.get('unit', 'days')}, got {value!r}")
        return key, float(value)

    def compile_select(self, field: str | None, arg: Any) -> ListJudge | None:
        # The two columns read as instants once for the target (several checks of a directory
        # read its creation and password times) and each record's span compared in C; a column
        # that is not all instants with offsets is judged record by record, as holds() does.
        if field is not None:
            return None
        first, last = _side(arg["from"]) or "", _side(arg["to"]) or ""
        unit = UNITS[arg.get("unit", "days")]

        def run(frame: Frame, positions: list[int], ctx: Context) -> list[int]:
            key, bound = self._bound(arg, ctx)
            sides = [frame.derived(("instants", name), lambda name=name: instants(frame.column(name),
                                                                                 frame.kinds(name)))
                     for name in (first, last)]
            if not all(sides) or first not in frame.present or last not in frame.present:
                items = frame.items
                return [i for i in positions if self.holds(items[i], arg, ctx, "")]
            starts, ends = (take(side[0], positions) for side in sides)
            if _NONE in frame.kinds(first) or _NONE in frame.kinds(last):  # a null moment satisfies no bound
                known = [a is not None and b is not None for a, b in zip(starts, ends, strict=True)]
                positions, starts, ends = (list(compress(v, known)) for v in (positions, starts, ends))
            spans = map(operator.truediv, map(timedelta.total_seconds, map(operator.sub, ends, starts)), repeat(unit))
            return list(compress(positions, map(COMPARISONS[key], spans, repeat(bound))))

        return ListJudge((first, last), run)

    def span(self, subject: Any, arg: dict[str, Any], label: str) -> float | None:
        """The span in the argument's unit, or None when either moment is null."""
        start = lookup(subject, _side(arg["from"]) or "", label)
        end = lookup(subject, _side(arg["to"]) or "", label)
        for value, side in ((start, "from"), (end, "to")):
            if value is MISSING:
                raise MissingFact(field_label(label, _side(arg[side]) or ""))
        if start is None or end is None:
            return None
        return span_seconds(start, end) / UNITS[arg.get("unit", "days")]

    def holds(self, subject: Any, arg: Any, ctx: Context, label: str) -> bool:
        key, bound = self._bound(arg, ctx)
        found = self.span(subject, arg, label)
        return found is not None and COMPARISONS[key](found, bound)

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        if self.holds(subject, arg, ctx, label):
            return Outcome(True)
        found = self.span(subject, arg, label)
        actual = None if found is None else f"{round(found, 2)} {arg.get('unit', 'days')}"
        return Outcome(False, [Finding(label, actual, self.describe(arg, ctx))])

    def describe(self, arg: Any, ctx: Context) -> str:
        key = next(k for k in arg if k in COMPARISONS)
        symbol = {"eq": "=", "ne": "≠", "lt": "<", "le": "≤", "gt": ">", "ge": "≥"}[key]
        return (f"{_side(arg['to'])} − {_side(arg['from'])} {symbol} {resolve(arg[key], ctx)} "
                f"{arg.get('unit', 'days')}")

    def explain(self, arg: Any, w: Any, scope: Any, negated: bool) -> Any:
        key = next(k for k in arg if k in COMPARISONS)
        start, end = (w.field(scope, _side(arg[side]) or "") for side in ("from", "to"))
        return span_clause(w, start, end, arg.get("unit", "days"), {key: arg[key]}, negated)


SPAN_UNITS = {"hours": ("時間", "hour", "hours"), "days": ("日", "day", "days")}


def span_clause(w: Any, start: Any, end: Any, unit: str, bound: dict[str, Any], negated: bool) -> Any:
    """The span from the field scope ``start`` to ``end`` compared as ``bound`` says ({le: 1}), in
    words: 作成日時からパスワードを最後に設定した日時までの時間が1 時間以下である, the time from the
    creation date to … is at most 1 hour. Shared with ``days_between``."""
    from auditor.conditions import wording

    first = start.noun or wording.W.VALUE
    last = end.noun or wording.W.VALUE
    ja_span, en_span = ("時間", "time") if unit == "hours" else ("期間", "period")
    span = wording.Noun(f"{first.ja}から{last.ja}までの{ja_span}", f"{en_span} from {first.the()} to {last.the()}",
                        unit=SPAN_UNITS.get(unit, SPAN_UNITS["days"]))
    return w.clause(bound, wording.Scope("", "", span), negated)
