"""Combinators: all_of, any_of, not."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from auditor.conditions import (
    Context,
    Finding,
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
    validate,
)


class _Many(Operator):
    joiner: str

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


@register
class AllOf(_Many):
    name, joiner = "all_of", " and "

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        # A missing fact leaves a branch unknown; one failing branch still decides the whole.
        findings: list[Finding] = []
        unknown: MissingFact | None = None
        for cond in arg:
            try:
                findings.extend(evaluate(cond, subject, ctx, label).findings)
            except MissingFact as exc:
                unknown = unknown or exc
        if unknown is not None and not findings:
            raise unknown
        return Outcome(not findings, findings)


    def holds(self, subject: Any, arg: Any, ctx: Context, label: str) -> bool:
        return self.compile(arg)(subject, ctx, label)

    def compile(self, arg: Any) -> Callable[[Any, Context, str], bool]:
        judges = [compiled(cond) for cond in arg]

        def judge(subject: Any, ctx: Context, label: str) -> bool:
            unknown: MissingFact | None = None
            for part in judges:
                try:
                    if not part(subject, ctx, label):
                        return False
                except MissingFact as exc:
                    unknown = unknown or exc
            if unknown is not None:
                raise unknown
            return True

        return judge


@register
class AnyOf(_Many):
    name, joiner = "any_of", " or "

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        # One passing branch decides the whole even when another branch's fact is missing.
        failed: list[Outcome] = []
        unknown: MissingFact | None = None
        for cond in arg:
            try:
                outcome = evaluate(cond, subject, ctx, label)
            except MissingFact as exc:
                unknown = unknown or exc
                continue
            if outcome.passed:
                return Outcome(True)
            failed.append(outcome)
        if unknown is not None:
            raise unknown
        first = next((f for o in failed for f in o.findings), None)
        actual = first.actual if first else None
        return Outcome(False, [Finding(first.item if first else label, actual, self.describe(arg, ctx))])


    def holds(self, subject: Any, arg: Any, ctx: Context, label: str) -> bool:
        return self.compile(arg)(subject, ctx, label)

    def compile(self, arg: Any) -> Callable[[Any, Context, str], bool]:
        judges = [compiled(cond) for cond in arg]

        def judge(subject: Any, ctx: Context, label: str) -> bool:
            unknown: MissingFact | None = None
            for part in judges:
                try:
                    if part(subject, ctx, label):
                        return True
                except MissingFact as exc:
                    unknown = unknown or exc
            if unknown is not None:
                raise unknown
            return False

        return judge


@register
class Not(Operator):
    name = "not"

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

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        if self.holds(subject, arg, ctx, label):
            return Outcome(True)
        return Outcome(False, [Finding(label, subject, self.describe(arg, ctx))])

    def describe(self, arg: Any, ctx: Context) -> str:
        return f"not ({describe(arg, ctx)})"
