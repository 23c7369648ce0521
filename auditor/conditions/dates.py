"""Dates: within_days, older_than_days, in_fiscal_year.

Ages are counted to the evaluation date (the bundle's ``collected_at`` or ``--as-of``),
never to the auditing machine's clock, so an old export is judged as of its collection.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from auditor.clock import parse_date
from auditor.conditions import (
    Context,
    EvaluationError,
    Finding,
    Operator,
    Outcome,
    Path,
    Problem,
    register,
    require_present,
    resolve,
    validate_value,
    value_params,
)


def to_date(value: Any) -> date:
    """The calendar date of an ISO date or instant (an instant keeps its own offset's date)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return parse_date(value)
        except ValueError:
            pass
    raise EvaluationError(f"{value!r} is not an ISO 8601 date")


class _Age(Operator):
    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        if isinstance(arg, dict):
            yield from validate_value(arg, path)
        elif isinstance(arg, bool) or not isinstance(arg, int) or arg < 0:
            yield path, "expected a number of days (0 or more) or {param: NAME}"

    def params(self, arg: Any) -> Iterator[str]:
        yield from value_params(arg)

    def _days(self, arg: Any, ctx: Context) -> int:
        days = resolve(arg, ctx)
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
