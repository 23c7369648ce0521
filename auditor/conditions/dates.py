"""Age of a date: within_days, older_than_days.

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

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        require_present(subject, label)
        days = self._days(arg, ctx)
        if subject is None:
            passed = self.name == "older_than_days"  # never happened is older than any age
            actual: Any = None
        else:
            age = (ctx.as_of - to_date(subject)).days
            passed = self.ok(age, days)
            actual = f"{subject} ({age} days before {ctx.as_of.isoformat()})"
        if passed:
            return Outcome(True)
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
