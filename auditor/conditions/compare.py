"""Comparisons of one value: eq, ne, lt, le, gt, ge, in, not_in, regex, exists, empty."""

from __future__ import annotations

import operator
import re
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
    is_param,
    register,
    require_present,
    resolve,
    validate_value,
    value_params,
)


def show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return str(value)


class _Binary(Operator):
    """A comparison of the subject with one value (literal or parameter)."""

    symbol: str
    fn: Callable[[Any, Any], bool]

    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        yield from validate_value(arg, path)

    def params(self, arg: Any) -> Iterator[str]:
        yield from value_params(arg)

    def test(self, subject: Any, expected: Any) -> bool:
        if subject is None and expected is not None:
            return False  # "not set" never satisfies an ordering
        try:
            return bool(type(self).fn(subject, expected))
        except TypeError:
            raise EvaluationError(f"cannot compare {show(subject)!r} with {show(expected)!r}") from None

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        if self.holds(subject, arg, ctx, label):
            return Outcome(True)
        return Outcome(False, [Finding(label, subject, self.describe(arg, ctx))])

    def holds(self, subject: Any, arg: Any, ctx: Context, label: str) -> bool:
        require_present(subject, label)
        return self.test(subject, resolve(arg, ctx))

    def compile(self, arg: Any) -> Callable[[Any, Context, str], bool]:
        test = self.test
        if is_param(arg):
            name = arg["param"]

            def judge_param(subject: Any, ctx: Context, label: str) -> bool:
                if subject is MISSING:
                    raise MissingFact(label)
                return test(subject, ctx.params[name])

            return judge_param

        def judge(subject: Any, ctx: Context, label: str) -> bool:
            if subject is MISSING:
                raise MissingFact(label)
            return test(subject, arg)

        return judge

    def describe(self, arg: Any, ctx: Context) -> str:
        return f"{self.symbol} {show(resolve(arg, ctx))}"


def _eq(a: Any, b: Any) -> bool:
    # True == 1 in Python; a policy asking for `true` must not accept the number 1.
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


@register
class Eq(_Binary):
    name, symbol, fn = "eq", "==", staticmethod(_eq)

    def test(self, subject: Any, expected: Any) -> bool:
        return _eq(subject, expected)


@register
class Ne(_Binary):
    name, symbol, fn = "ne", "!=", staticmethod(lambda a, b: not _eq(a, b))

    def test(self, subject: Any, expected: Any) -> bool:
        return not _eq(subject, expected)


def _ordered(a: Any, b: Any) -> None:
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, type(b)) and not (
        isinstance(a, int | float) and isinstance(b, int | float)
    ):
        raise TypeError


def _order(fn: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        _ordered(a, b)
        return fn(a, b)

    return compare


@register
class Lt(_Binary):
    name, symbol, fn = "lt", "<", staticmethod(_order(operator.lt))


@register
class Le(_Binary):
    name, symbol, fn = "le", "<=", staticmethod(_order(operator.le))


@register
class Gt(_Binary):
    name, symbol, fn = "gt", ">", staticmethod(_order(operator.gt))


@register
class Ge(_Binary):
    name, symbol, fn = "ge", ">=", staticmethod(_order(operator.ge))


class _Membership(_Binary):
    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        if isinstance(arg, dict):
            yield from validate_value(arg, path)
        elif not isinstance(arg, list):
            yield path, "expected a list of values or {param: NAME}"

    def _members(self, expected: Any) -> list[Any]:
        if not isinstance(expected, list):
            raise EvaluationError(f"{self.name} needs a list, the parameter is {show(expected)!r}")
        return expected

    def _contains(self, subject: Any, expected: Any) -> bool:
        return any(_eq(subject, m) for m in self._members(expected))


@register
class In(_Membership):
    name, symbol = "in", "one of"

    def test(self, subject: Any, expected: Any) -> bool:
        return self._contains(subject, expected)


@register
class NotIn(_Membership):
    name, symbol = "not_in", "none of"

    def test(self, subject: Any, expected: Any) -> bool:
        return not self._contains(subject, expected)


@register
class Intersects(_Membership):
    """A list shares at least one element with the given list (text compared case-insensitively,
    as directory group names are)."""

    name, symbol = "intersects", "shares an element with"

    def test(self, subject: Any, expected: Any) -> bool:
        if subject is None:
            return False
        if not isinstance(subject, list):
            raise EvaluationError(f"intersects needs a list, got {show(subject)!r}")
        wanted = {_fold(m) for m in self._members(expected)}
        return any(_fold(v) in wanted for v in subject)


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


@register
class Regex(_Binary):
    """Matches anywhere in the value (use ^ and $ to anchor), like grep -E."""

    name, symbol = "regex", "matches"

    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        if isinstance(arg, dict):
            yield from validate_value(arg, path)
            return
        if not isinstance(arg, str):
            yield path, "expected a regular expression string"
            return
        try:
            re.compile(arg)
        except re.error as exc:
            yield path, f"invalid regular expression: {exc}"

    def test(self, subject: Any, expected: Any) -> bool:
        if subject is None:
            return False
        if not isinstance(subject, str):
            raise EvaluationError(f"regex needs text, got {show(subject)!r}")
        try:
            return re.search(expected, subject) is not None
        except (re.error, TypeError) as exc:
            raise EvaluationError(f"invalid regular expression {expected!r}: {exc}") from None

    def describe(self, arg: Any, ctx: Context) -> str:
        return f"matches /{resolve(arg, ctx)}/"


class _Flag(Operator):
    """An operator whose argument is true or false: `exists: true`, `empty: false`."""

    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        if not isinstance(arg, bool):
            yield path, "expected true or false"


@register
class Exists(_Flag):
    """Whether the key is present at all (null counts as present)."""

    name = "exists"

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        present = subject is not MISSING
        if present == arg:
            return Outcome(True)
        actual = "absent" if not present else subject
        return Outcome(False, [Finding(label, actual, self.describe(arg, ctx))])

    def describe(self, arg: Any, ctx: Context) -> str:
        return "present" if arg else "absent"


@register
class Empty(_Flag):
    """Null, an empty string, list or mapping."""

    name = "empty"

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        require_present(subject, label)
        if subject is not None and not isinstance(subject, str | list | dict):
            raise EvaluationError(f"empty needs text, a list or a mapping, got {show(subject)!r}")
        empty = subject is None or len(subject) == 0
        if empty == arg:
            return Outcome(True)
        return Outcome(False, [Finding(label, subject, self.describe(arg, ctx))])

    def describe(self, arg: Any, ctx: Context) -> str:
        return "empty" if arg else "not empty"
