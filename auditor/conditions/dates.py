"""Dates: within_days, older_than_days, in_fiscal_year.

Ages are counted to the evaluation date (the bundle's ``collected_at`` or ``--as-of``),
never to the auditing machine's clock, so an old export is judged as of its collection.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from datetime import date, datetime
from functools import partial
from typing import Any

from auditor.clock import parse_date
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
    field_label,
    is_param,
    lookup,
    register,
    require_present,
    resolve,
    validate_value,
    value_params,
)

# An instant's date is its text's first ten characters, once the text is known to be valid.
# A directory's instants are mostly distinct, but their days and their times of day are few:
# both parts are remembered from instants that parsed, so that most instants are judged by
# two lookups instead of a datetime (with a time zone object) each.
_DAYS: dict[str, date] = {}  # "2026-11-02" → its date
_TIMES: set[str] = set()  # "T08:41:07+09:00": valid after any valid day, and staying on that day
_MEMO_LIMIT = 200_000


def to_date(value: Any) -> date:
    """The calendar date of an ISO date or instant (an instant keeps its own offset's date)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        instant = len(value) > 11 and value[10] == "T"
        if instant:
            day = _DAYS.get(value[:10])
            if day is not None and value[10:] in _TIMES:
                return day
        try:
            found = parse_date(value)
        except ValueError:
            pass
        else:
            if instant:
                _remember(value, found)
            return found
    raise EvaluationError(f"{value!r} is not an ISO 8601 date")


def _remember(instant: str, found: date) -> None:
    """Note the parts of a valid instant whose date is its first ten characters' date.

    Python reads an instant's date and its time of day separately, so any remembered day
    followed by any remembered time is valid and has that day's date. A time that moves the
    date (24:00, which newer Pythons read as the next midnight) is not remembered.
    """
    try:
        day = date.fromisoformat(instant[:10])
    except ValueError:
        return
    if day == found and len(_DAYS) < _MEMO_LIMIT and len(_TIMES) < _MEMO_LIMIT:
        _DAYS[instant[:10]] = day
        _TIMES.add(instant[10:])


class _Age(Operator):
    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        if isinstance(arg, dict):
            yield from validate_value(arg, path)
        elif isinstance(arg, bool) or not isinstance(arg, int) or arg < 0:
            yield path, "expected a number of days (0 or more) or {param: NAME}"

    def params(self, arg: Any) -> Iterator[str]:
        yield from value_params(arg)

    def _days(self, arg: Any, ctx: Context) -> int:
        return self._whole(resolve(arg, ctx))

    def _whole(self, days: Any) -> int:
        if isinstance(days, bool) or not isinstance(days, int):
            raise EvaluationError(f"{self.name} needs a whole number of days, got {days!r}")
        return days

    def ok(self, age: int, days: int) -> bool:
        raise NotImplementedError

    def holds(self, subject: Any, arg: Any, ctx: Context, label: str) -> bool:
        require_present(subject, label)
        days = self._days(arg, ctx)
        if subject is None:
            return self.name == "older_than_days"  # never happened is older than any age
        return self.ok((ctx.as_of - to_date(subject)).days, days)

    def compile_field(self, field: str, arg: Any) -> Callable[[Any, Context, str], bool]:
        # holds() with the field read here: ages are judged once per account of a directory.
        whole, ok, never = self._whole, type(self).ok, self.name == "older_than_days"
        param = arg["param"] if is_param(arg) else None
        # ok() of the two ages as one C comparison (no call of a method per account)
        compare = {WithinDays.ok: operator.le, OlderThanDays.ok: operator.gt}.get(ok, partial(ok, self))

        def judge(subject: Any, ctx: Context, label: str) -> bool:
            value = subject.get(field, MISSING) if type(subject) is dict else lookup(subject, field, label)
            if value is MISSING:
                raise MissingFact(field_label(label, field))
            days = arg if param is None else ctx.params[param]
            if days.__class__ is not int:
                days = whole(days)  # raises: not a whole number of days
            if value is None:
                return never
            return compare((ctx.as_of - to_date(value)).days, days)

        return judge

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        if self.holds(subject, arg, ctx, label):
            return Outcome(True)
        actual = None if subject is None else (
            f"{subject} ({(ctx.as_of - to_date(subject)).days} days before {ctx.as_of.isoformat()})")
        return Outcome(False, [Finding(label, actual, self.describe(arg, ctx))])


@register
class WithinDays(_Age):
    name = "within_days"

    def ok(self, age: int, days: int) -> bool:
        return age <= days

    def describe(self, arg: Any, ctx: Context) -> str:
        return f"at most {resolve(arg, ctx)} days old"


@register
class OlderThanDays(_Age):
    name = "older_than_days"

    def ok(self, age: int, days: int) -> bool:
        return age > days

    def describe(self, arg: Any, ctx: Context) -> str:
        return f"more than {resolve(arg, ctx)} days old"


def fiscal_year_start(day: date) -> date:
    """April 1 of the Japanese fiscal year (年度) that contains ``day``."""
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


@register
class InFiscalYear(Operator):
    """The date falls in the fiscal year (April to March, 年度) of the evaluation date."""

    name = "in_fiscal_year"

    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        if not isinstance(arg, bool):
            yield path, "expected true or false"

    def holds(self, subject: Any, arg: Any, ctx: Context, label: str) -> bool:
        require_present(subject, label)
        start = fiscal_year_start(ctx.as_of)
        inside = subject is not None and start <= to_date(subject) <= ctx.as_of.replace(
            year=start.year + 1, month=3, day=31)
        return inside == arg

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        if self.holds(subject, arg, ctx, label):
            return Outcome(True)
        return Outcome(False, [Finding(label, subject, self.describe(arg, ctx))])

    def describe(self, arg: Any, ctx: Context) -> str:
        start = fiscal_year_start(ctx.as_of)
        span = f"fiscal year {start.year} ({start.isoformat()} to {start.year + 1}-03-31)"
        return f"in {span}" if arg else f"not in {span}"
