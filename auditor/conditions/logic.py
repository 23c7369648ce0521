"""Combinators: all_of, any_of, not."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from auditor.conditions import (
    Context,
    Finding,
    Operator,
    Outcome,
    Path,
    Problem,
    describe,
    evaluate,
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
        findings: list[Finding] = []
        for cond in arg:
            findings.extend(evaluate(cond, subject, ctx, label).findings)
        return Outcome(not findings, findings)


@register
class AnyOf(_Many):
    name, joiner = "any_of", " or "

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        failed: list[Outcome] = []
        for cond in arg:
            outcome = evaluate(cond, subject, ctx, label)
            if outcome.passed:
                return Outcome(True)
            failed.append(outcome)
        first = next((f for o in failed for f in o.findings), None)
        actual = first.actual if first else None
        return Outcome(False, [Finding(first.item if first else label, actual, self.describe(arg, ctx))])


@register
class Not(Operator):
    name = "not"

    def validate(self, arg: Any, path: Path) -> Iterator[Problem]:
        yield from validate(arg, path)

    def params(self, arg: Any) -> Iterator[str]:
        yield from params_of(arg)

    def evaluate(self, subject: Any, arg: Any, ctx: Context, label: str) -> Outcome:
        if not evaluate(arg, subject, ctx, label).passed:
            return Outcome(True)
        return Outcome(False, [Finding(label, subject, self.describe(arg, ctx))])

    def describe(self, arg: Any, ctx: Context) -> str:
        return f"not ({describe(arg, ctx)})"
