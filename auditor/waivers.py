"""Exceptions (例外措置, guideline §7.4): approved, dated waivers of failing checks.

A waiver names what it excepts (checks or controls, by id or pattern), on which targets
(patterns of target ids), why, who approved it under which approval number, and from when
until when (calendar dates, as the city writes them in JST). Each result is judged as of its
own evaluation date:

- a ``fail`` or ``error`` result within a waiver's scope and dates becomes ``waived``; its real
  status stays underneath (``waived_status``) with the waiver beside it. Waived results are
  not passes: they are reported beside the score, which they do not move;
- past its expiry a waiver waives nothing, and the result names it as expired;
- the run lists every waiver with its state: active, expired or not yet in force, how many
  results it waived, whether it is unused (it waived nothing: it matched no check or target
  of the run, or only passing results) and whether it expires within
  :data:`EXPIRING_DAYS` of the run's date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.errors import InputError
from auditor.schemas import documents as S
from auditor.schemas import validated
from auditor.yamldoc import load_yaml

if TYPE_CHECKING:
    from auditor.engine import Result
    from auditor.policy import Policy

EXPIRING_DAYS = 30


def as_date(value: Any, source: str, where: str, line: int | None) -> date:
    """A calendar date from YAML (a date, or text such as 2026-04-01); InputError naming it otherwise."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(source, f"expected a date such as 2026-04-01, got {value!r}", where=where, line=line) from None


@dataclass
class Waiver:
    id: str
    checks: list[str]
    controls: list[str]
    targets: list[str]
    reason: str
    approver: str
    approval_number: str
    granted: date
    expires: date
    notes: str | None
    line: int | None
    matched: int = 0  # results of its checks on its targets, whatever their status
    waived: int = 0
    expired_matches: int = 0  # failing results it would have waived, had it not expired

    def covers(self, check_id: str, controls: list[str], target_id: str) -> bool:
        return self.in_scope(check_id, controls) and self.covers_target(target_id)

    def in_scope(self, check_id: str, controls: list[str]) -> bool:
        return any(fnmatchcase(check_id, p) for p in self.checks) or \
            any(fnmatchcase(c, p) for c in controls for p in self.controls)

    def covers_target(self, target_id: str) -> bool:
        return any(fnmatchcase(target_id, p) for p in self.targets)

    def brief(self) -> dict[str, Any]:
        return {"id": self.id, "reason": self.reason, "approver": self.approver,
                "approval_number": self.approval_number, "granted": self.granted.isoformat(),
                "expires": self.expires.isoformat()}

    def state(self, day: date) -> str:
        if day < self.granted:
            return "pending"
        return "expired" if day > self.expires else "active"


@dataclass
class Waivers:
    """The waivers of one file, applied to results one by one as the engine makes them."""

    source: str
    items: list[Waiver]
    latest: date | None = None  # the newest evaluation date seen: the run's date for the summary
    _by_check: dict[str, list[Waiver]] = field(default_factory=dict)  # check id -> the waivers naming it

    def _in_scope(self, check: Any) -> list[Waiver]:
        in_scope = self._by_check.get(check.id)
        if in_scope is None:  # per check, not per result: a fleet's results are millions
            in_scope = self._by_check[check.id] = [w for w in self.items if w.in_scope(check.id, check.controls)]
        return in_scope

    def passes_over(self, check: Any) -> bool:
        """Whether applying to an unjudged result of the check (not applicable, no day) changes nothing:
        no waiver names it, so none counts a match."""
        return not self._in_scope(check)

    def apply(self, result: Result) -> Result:
        """The result, waived where a waiver in force covers it (see the module)."""
        day = result.as_of
        if day is not None and (self.latest is None or day > self.latest):
            self.latest = day
        in_scope = self._in_scope(result.check)
        if not in_scope:
            return result
        covering = [w for w in in_scope if w.covers_target(result.target.id)]
        if not covering:
            return result
        for waiver in covering:
            waiver.matched += 1
        if result.status not in ("fail", "error") or day is None:
            return result
        active = [w for w in covering if w.state(day) == "active"]
        if active:
            waiver = max(active, key=lambda w: (w.expires, w.id))
            waiver.waived += 1
            result.waived_status, result.status, result.waiver = result.status, "waived", waiver.brief()
            return result
        expired = [w for w in covering if w.state(day) == "expired"]
        for waiver in expired:
            waiver.expired_matches += 1
        if expired:
            latest = max(expired, key=lambda w: w.expires)
            result.notes.append({"waiver_expired": latest.brief()})
        return result

    def counters(self) -> tuple[date | None, list[tuple[int, int, int]]]:
        """What applying has counted, to be added to another copy's (:meth:`absorb`): a worker process
        applies the waivers to its slice of the fleet, the main process sums the slices."""
        return self.latest, [(w.matched, w.waived, w.expired_matches) for w in self.items]

    def absorb(self, counted: tuple[date | None, list[tuple[int, int, int]]]) -> None:
        latest, counts = counted
        if latest is not None and (self.latest is None or latest > self.latest):
            self.latest = latest
        for w, (matched, waived, expired) in zip(self.items, counts, strict=True):
            w.matched, w.waived, w.expired_matches = w.matched + matched, w.waived + waived, w.expired_matches + expired

    def summary(self, run_date: date | None, max_days: int | None = None) -> list[dict[str, Any]]:
        """Every waiver with its state as of the run's date (``--as-of``, else the newest evaluation date),
        and whether its term exceeds the profile's ``exception_max_days`` (GL-E11), where set."""
        day = run_date or self.latest or date.today()
        out = []
        for w in self.items:
            state = w.state(day)
            out.append({
                **w.brief(), "checks": w.checks, "controls": w.controls, "targets": w.targets, "notes": w.notes,
                "file": self.source, "line": w.line, "state": state, "as_of": day.isoformat(),
                "matched": w.matched, "waived": w.waived, "expired_matches": w.expired_matches,
                "unused": w.waived == 0,
                "expiring_soon": state == "active" and (w.expires - day).days <= EXPIRING_DAYS,
                "days_left": (w.expires - day).days,
                "term_days": (w.expires - w.granted).days,
                "exceeds_max_days": max_days is not None and (w.expires - w.granted).days > max_days,
            })
        return out


def load_waivers(path: str | Path, policy: Policy) -> Waivers:
    """A waivers file (``auditor-waivers/1``), checked against the policy: every check and control it names
    exists, ids are unique, and each waiver ends on or after the day it was granted."""
    doc = load_yaml(path)
    data = validated(doc.data, S.WAIVERS, doc.path, doc.line_of)
    items: list[Waiver] = []
    seen: dict[str, int | None] = {}
    for n, entry in enumerate(data["waivers"]):
        def here(key: str, n: int = n) -> tuple[str, int | None]:
            return f"waivers[{n}].{key}", doc.line_of(("waivers", n, key))

        line = doc.line_of(("waivers", n))
        if "checks" not in entry and "controls" not in entry:
            raise InputError(doc.path, "a waiver names the checks or the controls it excepts", where=f"waivers[{n}]",
                             line=line)
        for key, known in (("checks", policy.checks), ("controls", policy.controls)):
            for i, pattern in enumerate(entry.get(key, [])):
                if not any(fnmatchcase(k, pattern) for k in known):
                    kind = key[:-1]
                    raise InputError(doc.path, f"{pattern!r} matches no {kind} of policy {policy.id}",
                                     where=f"waivers[{n}].{key}[{i}]", line=doc.line_of(("waivers", n, key, i)))
        if entry["id"] in seen:
            raise InputError(doc.path, f"waiver id {entry['id']!r} is given twice (first on line {seen[entry['id']]})",
                             where=f"waivers[{n}].id", line=doc.line_of(("waivers", n, "id")))
        seen[entry["id"]] = line
        granted = as_date(entry["granted"], doc.path, *here("granted"))
        expires = as_date(entry["expires"], doc.path, *here("expires"))
        if expires < granted:
            raise InputError(doc.path, f"expires {expires.isoformat()} before it was granted ({granted.isoformat()})",
                             *here("expires"))
        items.append(Waiver(id=entry["id"], checks=entry.get("checks", []), controls=entry.get("controls", []),
                            targets=entry.get("targets", ["*"]), reason=entry["reason"], approver=entry["approver"],
                            approval_number=entry["approval_number"], granted=granted, expires=expires,
                            notes=entry.get("notes"), line=line))
    return Waivers(source=doc.path, items=items)
