"""Comparisons of one value: eq, ne, lt, le, gt, ge, in, not_in, regex, exists, empty."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from itertools import chain, compress, repeat
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
    is_param,
    lookup,
    register,
    require_present,
    resolve,
    take,
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


_UNSET: Any = object()  # a memo not filled yet (None is a value a parameter can have)


class _Binary(Operator):
    """A comparison of the subject with one value (literal or parameter)."""

    local = True

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
        if is_param(arg):
            name = arg["param"]
            test = self.param_test()

            def judge_param(subject: Any, ctx: Context, label: str) -> bool:
                if subject is MISSING:
                    raise MissingFact(label)
                return test(subject, ctx.params[name])

            return judge_param
        bound = self.literal_test(arg)

        def judge(subject: Any, ctx: Context, label: str) -> bool:
            if subject is MISSING:
                raise MissingFact(label)
            return bound(subject)

        return judge

    def compile_field(self, field: str, arg: Any) -> Callable[[Any, Context, str], bool]:
        # compile() with the field read here: one call per record instead of two.
        if is_param(arg):
            name = arg["param"]
            test = self.param_test()

            def judge_field_param(subject: Any, ctx: Context, label: str) -> bool:
                value = subject.get(field, MISSING) if type(subject) is dict else lookup(subject, field, label)
                if value is MISSING:
                    raise MissingFact(field_label(label, field))
                return test(value, ctx.params[name])

            return judge_field_param
        bound = self.literal_test(arg)

        def judge_field(subject: Any, ctx: Context, label: str) -> bool:
            value = subject.get(field, MISSING) if type(subject) is dict else lookup(subject, field, label)
            if value is MISSING:
                raise MissingFact(field_label(label, field))
            return bound(value)

        return judge_field

    def compile_select(self, field: str | None, arg: Any) -> ListJudge | None:
        # The field's values from the frame, then the test against the literal or the
        # parameter's value, bound once for the list.
        if field is None:
            return None
        name = arg["param"] if is_param(arg) else None
        flags = self.flags

        op = self.name

        def run(frame: Frame, positions: list[int], ctx: Context) -> list[int]:
            expected = arg if name is None else ctx.params[name]
            key = _memo_key(expected)
            return frame.judge(field, positions, None if key is None else (op, key),
                               lambda values, kinds: flags(values, expected, kinds))

        return ListJudge((field,), run)

    def flags(self, values: list[Any], expected: Any, kinds: Callable[[], set[type]]) -> Iterable[Any]:
        """The verdict on each value, truthy or not, given a function that gives a superset of
        the values' types (operators judge whole lists faster where they can)."""
        return map(self.literal_test(expected), values)

    def literal_test(self, expected: Any) -> Callable[[Any], bool]:
        """:meth:`test` against one literal, for compiled conditions (operators specialise it)."""
        test = self.test

        def bound(subject: Any) -> bool:
            return test(subject, expected)

        return bound

    def param_test(self) -> Callable[[Any, Any], bool]:
        """:meth:`test` for a parameter's value, for compiled conditions (operators may memoise)."""
        return self.test

    def describe(self, arg: Any, ctx: Context) -> str:
        return f"{self.symbol} {show(resolve(arg, ctx))}"

    def explain(self, arg: Any, w: Any, scope: Any, negated: bool) -> Any:
        return _explain_binary(self.name, arg, w, scope, negated)


_SCALARS = (str, bool, int, float, type(None))


def _memo_key(expected: Any) -> Any:
    """``expected`` as part of a memo key, its type kept (True equals 1); None if it cannot be one."""
    if type(expected) in _SCALARS:
        return type(expected), expected
    if type(expected) is list and all(type(m) in _SCALARS for m in expected):
        return tuple((type(m), m) for m in expected)
    return None


def _eq(a: Any, b: Any) -> bool:
    # True == 1 in Python; a policy asking for `true` must not accept the number 1.
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def _eq_literal(expected: Any) -> Callable[[Any], bool]:
    """``_eq(subject, expected)`` with ``expected`` fixed, as cheap as the literal's type allows."""
    if type(expected) is bool:
        return partial(operator.is_, expected)  # only the same boolean is equal to a boolean
    if expected is None or type(expected) is str:
        return partial(operator.eq, expected)  # no boolean equals text or null
    return partial(_eq, b=expected)


@register
class Eq(_Binary):
    name, symbol, fn = "eq", "==", staticmethod(_eq)

    def test(self, subject: Any, expected: Any) -> bool:
        return _eq(subject, expected)

    def literal_test(self, expected: Any) -> Callable[[Any], bool]:
        return _eq_literal(expected)


@register
class Ne(_Binary):
    name, symbol, fn = "ne", "!=", staticmethod(lambda a, b: not _eq(a, b))

    def test(self, subject: Any, expected: Any) -> bool:
        return not _eq(subject, expected)

    def literal_test(self, expected: Any) -> Callable[[Any], bool]:
        equal = _eq_literal(expected)

        def differs(subject: Any) -> bool:
            return not equal(subject)

        return differs


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

    inside: bool  # the verdict for a value that is one of the members

    def flags(self, values: list[Any], expected: Any, kinds: Callable[[], set[type]]) -> Iterable[Any]:
        # Text among text members is a set lookup: _eq of text is ==, and no other value equals text.
        members = self._members(expected)
        if not members:
            return repeat(not self.inside, len(values))
        if {type(m) for m in members} == {str} and kinds() == {str}:
            found = map(frozenset(members).__contains__, values)
            return found if self.inside else map(operator.not_, found)
        return super().flags(values, expected, kinds)


@register
class In(_Membership):
    name, symbol, inside = "in", "one of", True

    def test(self, subject: Any, expected: Any) -> bool:
        return self._contains(subject, expected)


@register
class NotIn(_Membership):
    name, symbol, inside = "not_in", "none of", False

    def test(self, subject: Any, expected: Any) -> bool:
        return not self._contains(subject, expected)


@register
class Intersects(_Membership):
    """A list shares at least one element with the given list (text compared case-insensitively,
    as directory group names are)."""

    name, symbol = "intersects", "shares an element with"

    def test(self, subject: Any, expected: Any) -> bool:
        return _a_list(subject) and not self._wanted(expected).isdisjoint(map(_fold, subject))

    def _wanted(self, expected: Any) -> set[Any]:
        return {_fold(m) for m in self._members(expected)}

    def literal_test(self, expected: Any) -> Callable[[Any], bool]:
        try:
            wanted = self._wanted(expected)
        except (EvaluationError, TypeError):
            return super().literal_test(expected)  # raises only when a list is judged, as test does

        def test(subject: Any) -> bool:
            return _a_list(subject) and not wanted.isdisjoint(map(_fold, subject))

        return test

    def flags(self, values: list[Any], expected: Any, kinds: Callable[[], set[type]]) -> Iterable[Any]:
        # Group names are few: the distinct elements that fold into a wanted one are found once,
        # then each list is checked against them in C (null has no elements).
        if not kinds() <= {list, type(None)}:
            return super().flags(values, expected, kinds)
        wanted = self._wanted(expected)
        if type(None) in kinds():
            values = [() if v is None else v for v in values]
        hits = {e for e in set(chain.from_iterable(values)) if _fold(e) in wanted}
        return map(operator.not_, map(hits.isdisjoint, values))

    def param_test(self) -> Callable[[Any, Any], bool]:
        # The parameter's list is folded once, not once per account: profile parameters are
        # not changed during a run, so the same list object has the same members.
        memo: list[Any] = [_UNSET, set()]  # [the parameter's list, its folded members]
        wanted_of = self._wanted

        def test(subject: Any, expected: Any) -> bool:
            if not _a_list(subject):
                return False
            if memo[0] is not expected:
                memo[1] = wanted_of(expected)
                memo[0] = expected
            return not memo[1].isdisjoint(map(_fold, subject))

        return test


def _a_list(subject: Any) -> bool:
    """Whether ``intersects`` has a list to judge: null has no elements, anything else is an error."""
    if subject is None:
        return False
    if not isinstance(subject, list):
        raise EvaluationError(f"intersects needs a list, got {show(subject)!r}")
    return True


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


MAX_REMEMBERED_TEXTS = 20_000  # regex answers kept per condition (see Regex.param_test)


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
        return self.param_test()(subject, expected)

    def param_test(self) -> Callable[[Any, Any], bool]:
        # re.search would look the pattern up in re's cache on every call; it is compiled once here.
        # The answers are kept per text too: a fleet's endpoints name the same packages, services
        # and accounts over and over, and a denylist of twenty names costs microseconds a text.
        memo: list[Any] = [_UNSET, None, {}]  # [the pattern's text, the compiled pattern, answers by text]

        def test(subject: Any, expected: Any) -> bool:
            if subject is None:
                return False
            if not isinstance(subject, str):
                raise EvaluationError(f"regex needs text, got {show(subject)!r}")
            if memo[0] is not expected:
                try:
                    memo[1] = re.compile(expected)
                except (re.error, TypeError) as exc:
                    raise EvaluationError(f"invalid regular expression {expected!r}: {exc}") from None
                memo[0], memo[2] = expected, {}
            answers = memo[2]
            found = answers.get(subject)
            if found is None:
                found = memo[1].search(subject) is not None
                if len(answers) < MAX_REMEMBERED_TEXTS:
                    answers[subject] = found
            return found

        return test

    def literal_test(self, expected: Any) -> Callable[[Any], bool]:
        return partial(self.param_test(), expected=expected)

    def flags(self, values: list[Any], expected: Any, kinds: Callable[[], set[type]]) -> Iterable[Any]:
        if type(expected) is not str or not kinds() <= {str, type(None)}:
            return super().flags(values, expected, kinds)
        search = re.compile(expected).search
        if type(None) in kinds():
            return [v is not None and search(v) is not None for v in values]
        return map(operator.is_not, map(search, values), repeat(None))  # no match object kept

    def describe(self, arg: Any, ctx: Context) -> str:
        return f"matches /{resolve(arg, ctx)}/"


class _Flag(Operator):
    """An operator whose argument is true or false: `exists: true`, `empty: false`."""

    local = True

    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        if not isinstance(arg, bool):
            yield path, "expected true or false"


@register
class Exists(_Flag):
    """Whether the key is present at all (null counts as present)."""

    name = "exists"

    def compile_select(self, field: str | None, arg: Any) -> ListJudge | None:
        # A plain key's presence in each record: its column holds MISSING where it is absent. (A
        # dotted one is judged record by record: a missing record on the way is a missing fact.)
        if field is None or "." in field or not isinstance(arg, bool):
            return None
        test = operator.is_not if arg else operator.is_

        def run(frame: Frame, positions: list[int], ctx: Context) -> list[int]:
            if field in frame.present:  # every record has it
                return list(positions) if arg else []
            return list(compress(positions, map(test, take(frame.column(field), positions), repeat(MISSING))))

        return ListJudge((field,), run)

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        present = subject is not MISSING
        if present == arg:
            return Outcome(True)
        actual = "absent" if not present else subject
        return Outcome(False, [Finding(label, actual, self.describe(arg, ctx))])

    def describe(self, arg: Any, ctx: Context) -> str:
        return "present" if arg else "absent"

    def explain(self, arg: Any, w: Any, scope: Any, negated: bool) -> Any:
        from auditor.conditions import wording

        present = arg != negated
        return wording.leaf(scope.subject, "記録されている" if present else "記録されていない",
                            "is recorded" if present else "is not recorded")


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

    def explain(self, arg: Any, w: Any, scope: Any, negated: bool) -> Any:
        from auditor.conditions import wording

        empty = arg != negated
        return wording.leaf(scope.subject, "空である" if empty else "空でない", "is empty" if empty else "is not empty")


# --- in words (see auditor.conditions.wording) -------------------------------------------------

Said = tuple[Callable[[str], str], Callable[[str], str]]  # (ja, en) predicates of the value shown

_SAID: dict[str, Said] = {
    "eq": (lambda v: f"{v}である", lambda v: f"is {v}"),
    "ne": (lambda v: f"{v}でない", lambda v: f"is not {v}"),
    "lt": (lambda v: f"{v}未満である", lambda v: f"is less than {v}"),
    "le": (lambda v: f"{v}以下である", lambda v: f"is at most {v}"),
    "gt": (lambda v: f"{v}を超える", lambda v: f"is more than {v}"),
    "ge": (lambda v: f"{v}以上である", lambda v: f"is at least {v}"),
    "in": (lambda v: f"{v}のいずれかである", lambda v: f"is one of {v}"),
    "not_in": (lambda v: f"{v}のいずれでもない", lambda v: f"is none of {v}"),
    "intersects": (lambda v: f"{v}のいずれかを含む", lambda v: f"includes one of {v}"),
    "not_intersects": (lambda v: f"{v}のいずれも含まない", lambda v: f"includes none of {v}"),
    "regex": (lambda v: f"{v}に合う", lambda v: f"matches {v}"),
    "not_regex": (lambda v: f"{v}に合わない", lambda v: f"does not match {v}"),
}
_OPPOSITE = {"eq": "ne", "ne": "eq", "lt": "ge", "ge": "lt", "le": "gt", "gt": "le", "in": "not_in",
             "not_in": "in", "intersects": "not_intersects", "regex": "not_regex"}


def _explain_binary(name: str, arg: Any, w: Any, scope: Any, negated: bool) -> Any:
    """A comparison in words about ``scope``'s subject: 8 文字以上である, is at least 8 characters."""
    from auditor.conditions import wording

    said = _OPPOSITE[name] if negated else name
    value, _, known = w.value(arg)
    if known and said in ("eq", "ne"):
        found = wording.flag(scope, value, said == "ne")
        if found is not None:
            return found
        if value is None:
            ja, en = ("未設定である", "is not set") if said == "eq" else ("設定されている", "is set")
            return wording.leaf(scope.subject, ja, en)
        if isinstance(value, bool):
            on = value == (said == "eq")
            return wording.leaf(scope.subject, "オンである" if on else "オフである", "is on" if on else "is off")
    if known and said in ("in", "not_in") and value == []:
        if said == "not_in":
            return wording.ALWAYS
        return wording.leaf(scope.subject, "許される値がない", "can have no allowed value")
    if name == "regex":  # a pattern shown as written, named by its parameter's title where it has one
        titled = w.title(_param(arg), "ja") is not None

        def show(v: Any, lang: str) -> str:
            pattern = wording.cut(str(v)) or ("空のパターン" if lang == "ja" else "an empty pattern")
            if titled:
                return pattern
            return f"パターン「{pattern}」" if lang == "ja" else f'the pattern "{pattern}"'

        ja_v, en_v = (wording.named_value(w, arg, lang, scope, show) for lang in wording.LANGS)
    else:
        ja_v, en_v = (wording.named_value(w, arg, lang, scope) for lang in wording.LANGS)
    ja, en = _SAID[said]
    return wording.leaf(scope.subject, ja(ja_v), en(en_v))


def _param(arg: Any) -> str | None:
    return arg["param"] if is_param(arg) and isinstance(arg["param"], str) else None

