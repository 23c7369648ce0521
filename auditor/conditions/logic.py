"""Combinators: all_of, any_of, not."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from itertools import compress
from typing import Any

from auditor.conditions import (
    Context,
    Finding,
    Frame,
    ListJudge,
    MissingFact,
    Operator,
    Outcome,
    Path,
    Problem,
    compiled,
    describe,
    evaluate,
    holds,
    params_of,
    register,
    selector,
    validate,
)


def _without(positions: list[int], chosen: list[int]) -> list[int]:
    """The positions not among ``chosen``, in order."""
    gone = set(chosen)
    return list(compress(positions, map(operator.not_, map(gone.__contains__, positions))))


def _fields(judges: list[ListJudge]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f for judge in judges for f in judge.fields))


class _Many(Operator):
    local = True  # of its parts: see Engine.decided, which looks at each
    joiner: str
    decisive: bool  # the part value that decides the whole: False for all_of, True for any_of

    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        if not isinstance(arg, list) or not arg:
            yield path, "expected a non-empty list of conditions"
            return
        for i, cond in enumerate(arg):
            yield from validate(cond, path + (i,))

    def params(self, arg: Any) -> Iterator[str]:
        for cond in arg:
            yield from params_of(cond)

    def describe(self, arg: Any, ctx: Context) -> str:
        return self.joiner.join(describe(c, ctx) for c in arg)

    def explain(self, arg: Any, w: Any, scope: Any, negated: bool) -> Any:
        """Parts joined with and (all_of) or or (any_of); negated, each part negated and the
        joining swapped (not all of A, B: A or B fails)."""
        from auditor.conditions import wording

        parts = [w.clause(c, scope, negated) for c in arg]
        conjunction = (not self.decisive) != negated
        return wording.both(parts) if conjunction else wording.either(parts)

    def holds(self, subject: Any, arg: Any, ctx: Context, label: str) -> bool:
        return self.compile(arg)(subject, ctx, label)

    def compile(self, arg: Any) -> Callable[[Any, Context, str], bool]:
        # Three-valued: a part whose fact is missing is unknown, yet one decisive part settles
        # the whole; only when none does is the missing fact reported.
        judges = [compiled(cond) for cond in arg]
        decisive = self.decisive

        def judge(subject: Any, ctx: Context, label: str) -> bool:
            # The first missing fact's label is kept, not the exception: its traceback holds this
            # frame, which would hold it back, a cycle keeping the target's evidence alive.
            unknown: str | None = None
            for part in judges:
                try:
                    if bool(part(subject, ctx, label)) is decisive:
                        return decisive
                except MissingFact as exc:
                    unknown = exc.label if unknown is None else unknown
            if unknown is not None:
                raise MissingFact(unknown)
            return not decisive

        return judge


@register
class AllOf(_Many):
    name, joiner, decisive = "all_of", " and ", False

    def compile_select(self, field: str | None, arg: Any) -> ListJudge | None:
        # Each part judges the survivors of the parts before it, as the per-item judge does.
        # A part whose fact is missing raises here; the per-item path then decides.
        if field is not None:
            return None
        parts = [selector(cond).run for cond in arg]

        def run(frame: Frame, positions: list[int], ctx: Context) -> list[int]:
            for part in parts:
                if not positions:
                    break
                positions = part(frame, positions, ctx)
            return positions

        return ListJudge(_fields([selector(cond) for cond in arg]), run)

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        # A missing fact leaves a branch unknown; one failing branch still decides the whole.
        findings: list[Finding] = []
        unknown: str | None = None  # the first missing fact
        for cond in arg:
            try:
                findings.extend(evaluate(cond, subject, ctx, label).findings)
            except MissingFact as exc:
                unknown = exc.label if unknown is None else unknown
        if unknown is not None and not findings:
            raise MissingFact(unknown)
        return Outcome(not findings, findings)



@register
class AnyOf(_Many):
    name, joiner, decisive = "any_of", " or ", True

    def compile_select(self, field: str | None, arg: Any) -> ListJudge | None:
        # Each part judges the items the parts before it rejected, as the per-item judge does.
        if field is not None:
            return None
        parts = [selector(cond).run for cond in arg]

        def run(frame: Frame, positions: list[int], ctx: Context) -> list[int]:
            rest = positions  # not chosen by any part yet
            for part in parts:
                if not rest:
                    break
                found = part(frame, rest, ctx)
                if found:
                    rest = _without(rest, found)
            return _without(positions, rest) if rest is not positions else []

        return ListJudge(_fields([selector(cond) for cond in arg]), run)

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        # One passing branch decides the whole even when another branch's fact is missing.
        failed: list[Outcome] = []
        unknown: str | None = None  # the first missing fact
        for cond in arg:
            try:
                outcome = evaluate(cond, subject, ctx, label)
            except MissingFact as exc:
                unknown = exc.label if unknown is None else unknown
                continue
            if outcome.passed:
                return Outcome(True)
            failed.append(outcome)
        if unknown is not None:
            raise MissingFact(unknown)
        first = next((f for o in failed for f in o.findings), None)
        actual = first.actual if first else None
        return Outcome(False, [Finding(first.item if first else label, actual, self.describe(arg, ctx))])



@register
class Not(Operator):
    name = "not"
    local = True  # of its part

    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        yield from validate(arg, path)

    def params(self, arg: Any) -> Iterator[str]:
        yield from params_of(arg)

    def holds(self, subject: Any, arg: Any, ctx: Context, label: str) -> bool:
        return not holds(arg, subject, ctx, label)

    def compile(self, arg: Any) -> Callable[[Any, Context, str], bool]:
        inner = compiled(arg)

        def judge(subject: Any, ctx: Context, label: str) -> bool:
            return not inner(subject, ctx, label)

        return judge

    def compile_select(self, field: str | None, arg: Any) -> ListJudge | None:
        if field is not None:
            return None
        inner = selector(arg).run

        def run(frame: Frame, positions: list[int], ctx: Context) -> list[int]:
            return _without(positions, inner(frame, positions, ctx))

        return ListJudge(selector(arg).fields, run)

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        if self.holds(subject, arg, ctx, label):
            return Outcome(True)
        return Outcome(False, [Finding(label, subject, self.describe(arg, ctx))])

    def describe(self, arg: Any, ctx: Context) -> str:
        return f"not ({describe(arg, ctx)})"

    def explain(self, arg: Any, w: Any, scope: Any, negated: bool) -> Any:
        return w.clause(arg, scope, not negated)
