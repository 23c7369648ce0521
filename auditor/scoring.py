"""Scores, grades and the critical gate.

The rules (also in the README, with a worked example):

- each result weighs by its check's severity: critical 10, high 5, medium 3, low 1;
- score = 100 × (weight of passes) / (weight of pass + fail + error), one decimal;
  errors count against the score, never for it; waived, notapplicable and manual
  results are reported beside it and do not move it; nothing evaluated → no score;
- grades on the city's four-step scale: A 達成 ≥ 90, B 一部達成 ≥ 70, C 着手 ≥ 40,
  D 未着手 below 40;
- the gate fails when any critical check failed or could not be evaluated, whatever
  the score: a separation that cannot be proven is not passed;
- every score states its coverage: the share of applicable results (all but notapplicable)
  that were evaluated (pass or fail, under a waiver too), so that 100 on a tenth of the checks
  reads as that; errors are split into evidence not supplied and evidence broken.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

WEIGHTS = {"critical": 10, "high": 5, "medium": 3, "low": 1}
GRADES = ((90.0, "A"), (70.0, "B"), (40.0, "C"), (0.0, "D"))
SCORED = ("pass", "fail", "error")
STATUSES = ("pass", "fail", "error", "notapplicable", "waived", "manual")


@dataclass
class Tally:
    """Counts and weights of a group of results (a run, target, control, family, ...)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    passed_weight: int = 0
    scored_weight: int = 0
    applicable: int = 0
    evaluated: int = 0
    causes: dict[str, int] = field(default_factory=lambda: {"not-supplied": 0, "broken": 0})

    def add(self, status: str, severity: str, underlying: str | None = None, cause: str | None = None,
            n: int = 1) -> None:
        """``n`` results alike; ``underlying``: the status under a waiver; ``cause``: an error's kind."""
        self.counts[status] += n
        if status in SCORED:
            self.scored_weight += WEIGHTS[severity] * n
            if status == "pass":
                self.passed_weight += WEIGHTS[severity] * n
        real = underlying or status
        if real != "notapplicable":
            self.applicable += n
        if real in ("pass", "fail"):
            self.evaluated += n
        elif real == "error" and cause in self.causes:
            self.causes[cause] += n

    @property
    def coverage(self) -> dict[str, Any]:
        share = None
        if self.applicable:
            exact = Decimal(100 * self.evaluated) / Decimal(self.applicable)
            share = float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
        return {"applicable": self.applicable, "evaluated": self.evaluated, "share": share,
                "not_supplied": self.causes["not-supplied"], "broken": self.causes["broken"]}

    @property
    def score(self) -> float | None:
        if self.scored_weight == 0:
            return None
        exact = Decimal(100 * self.passed_weight) / Decimal(self.scored_weight)
        return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))

    @property
    def grade(self) -> str | None:
        return grade(self.score)


def grade(score: float | None) -> str | None:
    if score is None:
        return None
    return next(letter for floor, letter in GRADES if score >= floor)


def tally(items: Iterable[tuple[str, str]]) -> Tally:
    """A tally of (status, severity) pairs."""
    t = Tally()
    for status, severity in items:
        t.add(status, severity)
    return t
