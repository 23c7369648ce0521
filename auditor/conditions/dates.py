"""Dates: within_days, older_than_days, in_fiscal_year.

Ages are counted to the evaluation date (the bundle's ``collected_at`` or ``--as-of``),
never to the auditing machine's clock, so an old export is judged as of its collection.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from functools import partial
from itertools import compress, repeat
from typing import Any

from auditor.clock import parse_date
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


_HEAD = operator.itemgetter(slice(None, 10))
_NONE = type(None)
_SAMPLE = 1000  # values looked at to tell whether a column's values are few
_NULL_AS = {None: "2000-01-01"}
# The dates and instants importers write. Such a text is a valid date or instant if its first
# ten characters are a valid date, which is then its date (an instant keeps its own offset's).
_CANONICAL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
                        r"(?:T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:[+-](?:[01][0-9]|2[0-3]):[0-5][0-9]|Z)?)?")


def iso_days(values: list[Any], kinds: set[type]) -> list[str | None] | None:
    """The date of each value as ``YYYY-MM-DD`` text (which orders as dates do), null kept as None;
    None unless every value is null or a canonical date or instant (raises for an invalid date).

    ``kinds``: a superset of the values' types. Directory exports have a distinct instant per
    account: they are checked by one regular expression each and their days parsed once each.
    """
    if not kinds <= {str, _NONE}:
        return None
    texts, nulls = values, []
    if _NONE in kinds:  # judged as a valid date standing in for null, then null again
        nulls = list(compress(range(len(values)), map(operator.is_, values, repeat(None))))
        if nulls:
            texts = list(map(_NULL_AS.get, values, values))
    if len(set(texts[:_SAMPLE])) * 2 <= min(len(texts), _SAMPLE):  # few distinct (creation times): each once
        distinct = set(texts)
        if not all(map(_CANONICAL.fullmatch, distinct)):
            return None
        heads = list(map({text: text[:10] for text in distinct}.__getitem__, texts))
    else:
        if not all(map(_CANONICAL.fullmatch, texts)):
            return None
        heads = list(map(_HEAD, texts))
    for head in set(heads).difference(_DAYS):
        day = date.fromisoformat(head)  # ValueError for a day that does not exist: judged per item
        if len(_DAYS) < _MEMO_LIMIT:
            _DAYS[head] = day
    for i in nulls:
        heads[i] = None
    return heads


def dates_of(values: list[Any], kinds: set[type]) -> list[date | None]:
    """:func:`to_date` of each value, null kept as None (raises as to_date does, for any value).

    ``kinds``: a superset of the values' types. Text is parsed once per distinct value.
    """
    if not kinds <= {str, _NONE}:
        return [None if v is None else to_date(v) for v in values]
    distinct = {text: to_date(text) for text in set(values) if text is not None}
    distinct[None] = None
    return list(map(distinct.__getitem__, values))


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

    def compile_select(self, field: str | None, arg: Any) -> ListJudge | None:
        # An age above (or within) the days is a date before (or from) one cutoff date: the
        # dates of the whole list are read at once and each compared with it in C.
        if field is None or type(self).ok not in (WithinDays.ok, OlderThanDays.ok):
            return None
        whole, never = self._whole, self.name == "older_than_days"
        param = arg["param"] if is_param(arg) else None

        def run(frame: Frame, positions: list[int], ctx: Context) -> list[int]:
            days = arg if param is None else ctx.params[param]
            if days.__class__ is not int:
                days = whole(days)  # raises: not a whole number of days
            cutoff = ctx.as_of - timedelta(days=days)  # OverflowError for absurd days: judged per item
            text = cutoff.isoformat()

            def verdicts(values: list[Any], kinds_of: Callable[[], set[type]]) -> list[bool]:
                kinds = kinds_of()
                found: list[Any] | None = iso_days(values, kinds)
                bound: Any = text
                if found is None:
                    found, bound = dates_of(values, kinds), cutoff
                flags = list(map(bound.__gt__ if never else bound.__le__, found))
                if None in found:
                    for i, day in enumerate(found):
                        if day is None:
                            flags[i] = never
                return flags

            return frame.judge(field, positions, (self.name, cutoff), verdicts)

        return ListJudge((field,), run)

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

    def explain(self, arg: Any, w: Any, scope: Any, negated: bool) -> Any:
        return _explain_age(arg, w, scope, recent=not negated)


@register
class OlderThanDays(_Age):
    name = "older_than_days"

    def ok(self, age: int, days: int) -> bool:
        return age > days

    def describe(self, arg: Any, ctx: Context) -> str:
        return f"more than {resolve(arg, ctx)} days old"

    def explain(self, arg: Any, w: Any, scope: Any, negated: bool) -> Any:
        return _explain_age(arg, w, scope, recent=negated)


def _explain_age(arg: Any, w: Any, scope: Any, recent: bool) -> Any:
    """A date's age in words: at most N days before the audit date (``recent``), or more."""
    from auditor.conditions import wording

    value, name, known = w.value(arg)
    if not known:
        ja_n, en_n = wording.unknown(name)
    else:
        ja_n = f"{wording.plain(value, 'ja')} 日"
        en_n = f"{wording.plain(value, 'en')} day{'' if value == 1 else 's'}"
    if recent:
        return wording.leaf(scope.subject, f"監査日から {ja_n}以内である", f"is at most {en_n} before the audit date")
    return wording.leaf(scope.subject, f"監査日より {ja_n}を超えて前である",
                        f"is more than {en_n} before the audit date")


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

    def compile_select(self, field: str | None, arg: Any) -> ListJudge | None:
        if field is None:
            return None

        def run(frame: Frame, positions: list[int], ctx: Context) -> list[int]:
            start = fiscal_year_start(ctx.as_of)
            end = ctx.as_of.replace(year=start.year + 1, month=3, day=31)

            def verdicts(values: list[Any], kinds_of: Callable[[], set[type]]) -> list[bool]:
                kinds = kinds_of()
                found: list[Any] | None = iso_days(values, kinds)
                first: Any = start.isoformat()
                last: Any = end.isoformat()
                if found is None:
                    found, first, last = dates_of(values, kinds), start, end
                return [(day is not None and first <= day <= last) == arg for day in found]

            return frame.judge(field, positions, (self.name, start, end, arg), verdicts)

        return ListJudge((field,), run)

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        if self.holds(subject, arg, ctx, label):
            return Outcome(True)
        return Outcome(False, [Finding(label, subject, self.describe(arg, ctx))])

    def describe(self, arg: Any, ctx: Context) -> str:
        start = fiscal_year_start(ctx.as_of)
        span = f"fiscal year {start.year} ({start.isoformat()} to {start.year + 1}-03-31)"
        return f"in {span}" if arg else f"not in {span}"

    def explain(self, arg: Any, w: Any, scope: Any, negated: bool) -> Any:
        from auditor.conditions import wording

        if arg != negated:
            return wording.leaf(scope.subject, "監査日の属する年度（4月から翌年3月まで）内である",
                                "falls in the fiscal year (April to March) of the audit date")
        return wording.leaf(scope.subject, "監査日の属する年度（4月から翌年3月まで）の外である",
                            "falls outside the fiscal year (April to March) of the audit date")
