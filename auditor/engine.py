"""Evaluating the selected checks against each target's merged evidence.

The engine never reads a host or a raw export: only facts from bundles. A missing or
broken fact gives `error` (never `pass`); a check that does not apply gives
`notapplicable` (never a vacuous pass); every `fail` carries findings.

An `error` says why (``cause``): evidence *not supplied* (the fact area was never collected or
imported, or its collector reported that it could not collect it; the collectors and importers
that supply it are named) or evidence *broken* (a file or field that is invalid, or two files
that disagree; the file and field are named). The first is fixed by collecting more, the second
by repairing a file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from auditor import conditions
from auditor.bundles import Target
from auditor.conditions import MISSING, Context, EvaluationError, Finding, MissingFact
from auditor.conditions.compare import show
from auditor.i18n import text
from auditor.policy import PLACEHOLDER, Check
from auditor.selection import Selection
from auditor.suppliers import suppliers_of

MAX_LISTED = 10
MAX_SAID = 10_000  # pass messages kept per run (values shown), so that memory stays bounded
ORG = "org"  # fact paths under org. read the organisation's evidence (HR roster, training, registers)
NO_ORGANIZATION = ("fact {path} needs organisation evidence (a bundle whose target kind is organization, "
                   "e.g. from auditor import hr-roster), and this run has none")


@dataclass
class Result:
    check: Check
    target: Target
    status: str
    message: dict[str, str]
    findings: list[Finding] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    as_of: date | None = None  # the date it was judged as of (None: not judged, e.g. not applicable)
    cause: dict[str, Any] | None = None  # why an error: not-supplied or broken (see the module)
    waived_status: str | None = None  # the status under a waiver (see auditor.waivers)
    waiver: dict[str, Any] | None = None
    attestation: dict[str, Any] | None = None  # the attestation that decided a manual check
    notes: list[dict[str, Any]] = field(default_factory=list)  # e.g. an expired waiver that covered it
    source: dict[str, Any] | None = None  # where a finding without its own source was read (see _source)


def not_supplied(area: str, reported: list[str] | None = None) -> dict[str, Any]:
    cause: dict[str, Any] = {"kind": "not-supplied", "area": area, "supplied_by": suppliers_of(area)}
    if reported:
        cause["reported"] = reported
    return cause


def broken(file: str | None, field: str | None) -> dict[str, Any]:
    return {"kind": "broken", "file": file, "field": field}


def _applies(check: Check, target: Target) -> tuple[bool | None, str]:
    """(applies?, reason); None when it cannot be told from the evidence."""
    rule = check.applies_to
    if "kind" in rule and target.kind not in rule["kind"]:
        return False, f"target kind {target.kind}"
    if "segment" in rule and target.segment not in rule["segment"]:
        return False, f"segment {target.segment or 'not declared'}"
    for key, value in rule.get("labels", {}).items():
        if target.labels.get(key) != value:
            return False, f"label {key}={target.labels.get(key, '(none)')}"
    if "os" in rule and target.kind == "endpoint":  # directories, networks and organisations have no OS
        family = target.os_family
        if family is None:
            return None, "the target's operating system (facts.os.family) is not in the evidence"
        if family not in rule["os"]:
            return False, f"operating system {family}"
    return True, ""


def _why_missing(target: Target, label: str) -> tuple[str, dict[str, Any]]:
    """Name the missing fact and what the bundles said about its area; and the cause."""
    path = label.removeprefix("facts.")
    area = _area(path)
    if area in target.area_problems:
        return target.area_problems[area], broken(*target.area_problem_at.get(area, (None, None)))
    detail = f"fact {path} is missing from {', '.join(b.path for b in target.files)}"
    notes = [f"{e['file']}: {e['message']}" for e in target.collector_errors if e["area"] == area]
    return detail + ("; collector reported: " + "; ".join(notes) if notes else ""), not_supplied(area, notes)


def _area(path: str) -> str:
    """The fact area a path starts with: ``directory_accounts`` of ``directory_accounts[3].display_name``."""
    return path.split(".", 1)[0].split("[", 1)[0]


def _cited_index(target: Target) -> dict[str, list[str]]:
    """The raw inputs behind each fact area (as ``file: name``, in the order the bundles list them),
    for the areas whose sources are known: one pass over the target's sources."""
    index: dict[str, list[str]] = {}
    for s in target.sources:
        area = s.get("area")
        if isinstance(area, str):
            index.setdefault(area, []).append(f"{s['file']}: {s['name']}")
    return index


def _source(target: Target, reads: list[tuple[Target | None, str]]) -> dict[str, Any] | None:
    """The file a check's findings were read from when they name no row or line of their own: the
    first raw input of the first area read that is a file (an export, ``/etc/login.defs``; not a
    command or an API call), else the bundle file that holds the area."""
    for owner, path in reads:
        if owner is None:
            continue
        area = _area(path)
        for s in owner.sources:
            name = s.get("name")
            if s.get("area") == area and isinstance(name, str) and _is_file_name(name):
                return {"file": name}
        if area in owner.area_file:
            return {"file": owner.area_file[area]}
    return {"file": target.files[0].path} if target.files else None


def _fact_paths(condition: Any) -> list[str]:
    """Every fact path a condition may read (its strings under ``facts.``), without the prefix: a
    superset, for checking those areas before the condition runs."""
    found: list[str] = []
    pending = [condition]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, str) and node.startswith("facts."):
            found.append(node.removeprefix("facts."))
    return found


def _by_signature(condition: Any) -> bool:
    """Whether a condition reads only what a target's signature fixes (``target.kind``, ``.segment``,
    ``.labels``) and the parameters, with local operators: then it is the same for every target of
    the signature."""
    if not isinstance(condition, dict):
        return False
    fld, name, arg = conditions.split(condition)
    operator = conditions.REGISTRY.get(name)
    if operator is None or not operator.local:
        return False
    if name in ("all_of", "any_of"):
        return fld is None and isinstance(arg, list) and all(_by_signature(part) for part in arg)
    if name == "not":
        return fld is None and _by_signature(arg)
    if not isinstance(fld, str):
        return False
    head = fld.split(".", 2)
    return (head[0] == "params") or (head[0] == "target" and len(head) > 1
                                     and head[1] in ("kind", "segment", "labels"))


def _is_file_name(name: str) -> bool:
    """Whether a source's name is a file's (collectors also name commands and calls: ``os.uname()``)."""
    return bool(name) and "(" not in name and not name.startswith("command:") and " " not in name.strip()


@dataclass(frozen=True)
class _ReadPlan:
    """What a check reads: each path as (in the organisation's evidence?, path there, its area), and the
    areas its ``applies_if`` may read."""

    reads: tuple[tuple[bool, str, str], ...]
    condition_areas: tuple[tuple[bool, str], ...]
    evidence_key: tuple[str, tuple[tuple[bool, str], ...]]  # the areas read, each once: what evidence depends on
    checked: tuple[tuple[bool, str], ...]  # the areas read and those of applies_if: checked before judging
    source_key: tuple[str, tuple[tuple[bool, str], ...]]


class Engine:
    """Runs one :class:`Selection` over targets; ``as_of`` overrides every bundle's date."""

    def __init__(self, selection: Selection, as_of: date | None = None, org: Target | None = None) -> None:
        self.selection = selection
        self.as_of = as_of
        self.org = org
        self._cache: tuple[str, dict[Any, Any], dict[Any, Context]] = ("", {}, {})  # a target's memo and contexts
        # The organisation's lists are read by every target's checks (a directory's against the
        # roster) and by its own: what is worked out from them is kept for the run.
        self._lasting: dict[Any, Any] = {}
        self._plans: dict[Any, list[tuple[bool | None, str, dict[str, str] | None]]] = {}
        self._decided: dict[Any, list[tuple[bool | None, str, dict[str, str] | None]]] = {}  # see decided
        self._read_plans: dict[str, _ReadPlan] = {}  # what each check reads, worked out once
        self._said: dict[Any, dict[str, str]] = {}  # messages that are the same for many results
        self._cut: dict[str, list[tuple[str, list[tuple[str, str | None]]]]] = {}  # message templates, cut
        self._lasting_lists = frozenset(id(v) for v in (org.facts.values() if org else ()) if isinstance(v, list))

    def _read_plan(self, check: Check) -> _ReadPlan:
        reads = []
        for path in check.reads:
            in_org = path == ORG or path.startswith(ORG + ".")
            inner = path[len(ORG) + 1:] if in_org else path
            reads.append((in_org, inner, _area(inner)))
        condition_areas = []
        for path in _fact_paths(check.applies_if) if check.applies_if is not None else ():
            in_org = path == ORG or path.startswith(ORG + ".")
            condition_areas.append((in_org, _area(path[len(ORG) + 1:] if in_org else path)))
        areas = tuple(dict.fromkeys((in_org, area) for in_org, _, area in reads))
        return _ReadPlan(reads=tuple(reads), condition_areas=tuple(dict.fromkeys(condition_areas)),
                         evidence_key=("evidence", areas), source_key=("source", areas),
                         checked=tuple(dict.fromkeys((*areas, *condition_areas))))

    def _plan_of(self, check: Check) -> _ReadPlan:
        """What a check reads, worked out once for the run."""
        plan = self._read_plans.get(check.id)
        if plan is None:
            plan = self._read_plans[check.id] = self._read_plan(check)
        return plan

    def _locate(self, target: Target, path: str) -> tuple[Target | None, str]:
        """Which evidence a fact path reads: ``org.*`` the organisation's, anything else the target's."""
        if path == ORG or path.startswith(ORG + "."):
            return self.org, path[len(ORG) + 1:]
        return target, path

    def _cache_for(self, target: Target) -> tuple[dict[Any, Any], dict[Any, Context]]:
        """Lookup indexes (built by ``match``) and condition contexts live as long as one target's evaluation."""
        if self._cache[0] != target.id:
            self._cache = (target.id, {}, {})
        return self._cache[1:]

    def run(self, targets: Iterable[Target]) -> Iterator[Result]:
        for target in targets:
            yield from self.evaluate_target(target)

    def evaluate_target(self, target: Target) -> Iterator[Result]:
        for check, (applies, reason, message) in zip(self.selection.checks, self.plan(target), strict=True):
            if applies is False:
                yield Result(check, target, "notapplicable", message)
            else:
                yield self.evaluate(check, target, (applies, reason))

    def _signature(self, target: Target) -> tuple[Any, ...]:
        family = target.os_family if target.kind == "endpoint" else None
        return (target.kind, target.segment, tuple(sorted(target.labels.items())), family)

    def decided(self, target: Target) -> list[tuple[bool | None, str, dict[str, str] | None]]:
        """:meth:`plan`, and the checks whose ``applies_if`` reads only the target's kind, segment and
        labels and the run's parameters, with local operators (see Operator.local), and does not hold
        for this signature, also not applicable: decided once, as :meth:`evaluate` would for each such
        target (reason and message alike). For a target whose bundles are sound: :meth:`evaluate` tells
        a broken target's checks ``error`` before it looks at ``applies_if``."""
        signature = self._signature(target)
        found = self._decided.get(signature)
        if found is not None:
            return found
        found = self._decided[signature] = list(self.plan(target))
        scope = {"params": self.selection.params,
                 "target": {"kind": target.kind, "segment": target.segment, "department": None,
                            "labels": target.labels}}
        ctx = Context(params=self.selection.params, as_of=self.as_of or date.min)
        for n, (check, (applies, _, _)) in enumerate(zip(self.selection.checks, found, strict=True)):
            if applies is not True or check.manual or check.applies_if is None or not _by_signature(check.applies_if):
                continue
            try:
                holding = conditions.holds(check.applies_if, scope, ctx)
            except Exception:  # noqa: BLE001, S112 - left to evaluate, target by target, which reports it as it must
                continue
            if not holding:
                reason = conditions.describe(check.applies_if, ctx) + " does not hold"
                found[n] = (False, reason, text("status_notapplicable", reason=reason))
        return found

    def areas_read(self, check: Check) -> tuple[tuple[bool, str], ...]:
        """The areas a check reads, each as (in the organisation's evidence?, area), as :meth:`evaluate`
        checks them against their schemas before it looks at ``applies_if``."""
        return self._plan_of(check).evidence_key[1]

    def areas_checked(self, check: Check) -> tuple[tuple[bool, str], ...]:
        """The areas :meth:`evaluate` checks against their schemas when it judges the check: those it
        reads and those its ``applies_if`` may read."""
        return self._plan_of(check).checked

    def plan(self, target: Target) -> list[tuple[bool | None, str, dict[str, str] | None]]:
        """Which checks apply to a target, decided once per (kind, segment, labels, OS) signature: a
        fleet is a few kinds of machine, and each check's ``applies_to`` reads nothing else."""
        signature = self._signature(target)
        plan = self._plans.get(signature)
        if plan is None:
            plan = self._plans[signature] = []
            for check in self.selection.checks:
                applies, reason = _applies(check, target)
                plan.append((applies, reason,
                             text("status_notapplicable", reason=reason) if applies is False else None))
        return plan

    def _error(self, check: Check, target: Target, detail: str, cause: dict[str, Any],
               evidence: list[str] | None = None, as_of: date | None = None) -> Result:
        return Result(check, target, "error", text("status_error", detail=detail),
                      evidence=evidence or [b.path for b in target.files], as_of=as_of or self.as_of, cause=cause)

    def evaluate(self, check: Check, target: Target, decided: tuple[bool | None, str] | None = None) -> Result:
        """One check on one target; ``decided``: whether it applies, when already worked out."""
        applies, reason = decided if decided is not None else _applies(check, target)
        if applies is False:
            return Result(check, target, "notapplicable", text("status_notapplicable", reason=reason))
        if target.problem:
            return self._error(check, target, target.problem, broken(*target.problem_at))
        if applies is None:
            return self._error(check, target, reason, not_supplied("os"))
        if check.manual:
            return Result(check, target, "manual", text("status_manual"), as_of=self.as_of or target.collected_on)

        org = self.org
        plan = self._plan_of(check)
        if target.pending or (org is not None and org.pending):  # a lazily loaded area is checked when first read
            target.validate_read(plan.checked, org)
        memo, contexts = self._cache[1:] if self._cache[0] == target.id else self._cache_for(target)
        read = memo.get(plan.evidence_key)  # the checks that read the same areas cite the same evidence
        if read is None:
            read = memo[plan.evidence_key] = self._evidence(plan, target, memo)
        evidence, newest = read
        root = target.root
        if root is None:  # once per target; an area found invalid later is taken out of it (Target.validate)
            root = target.root = {**target.facts, ORG: org.facts if org is not None else {}}
        as_of = self.as_of or newest or target.collected_on  # collected_on parses every file's date
        # A context is never changed: one per target, date and item key (kept beside the target's memo,
        # not in it, which the context refers to: a cycle would outlive the target).
        ctx = contexts.get((as_of, check.item))
        if ctx is None:
            ctx = contexts[(as_of, check.item)] = Context(params=self.selection.params, as_of=as_of,
                                                          item_key=check.item, root=root, cache=memo,
                                                          lasting=self._lasting, lasting_lists=self._lasting_lists)
        try:
            if check.applies_if is not None:
                scope = memo.get("scope")
                if scope is None:
                    scope = memo["scope"] = {
                        "facts": root, "params": self.selection.params,
                        "target": {"kind": target.kind, "segment": target.segment,
                                   "department": target.department, "labels": target.labels}}
                if not conditions.holds(check.applies_if, scope, ctx):
                    return Result(check, target, "notapplicable", self._not_holding(check, ctx))
            subject: Any = root
            for (in_org, inner, area), full in zip(plan.reads, check.reads, strict=True):
                owner = org if in_org else target
                if owner is None:
                    return self._error(check, target, NO_ORGANIZATION.format(path=full), not_supplied(area),
                                       evidence, as_of)
                if area in owner.area_problems:
                    return self._error(check, target, owner.area_problems[area],
                                       broken(*owner.area_problem_at.get(area, (None, None))), evidence, as_of)
                subject = conditions.get_path(owner.facts, inner)
                if subject is MISSING:
                    raise MissingFact(full)
            single = len(check.reads) == 1
            if not single:
                subject = root
            outcome = conditions.evaluate(check.condition or {}, subject, ctx, check.reads[0] if single else "")
        except MissingFact as exc:
            label = exc.label.removeprefix("facts.")
            owner, path = self._locate(target, label)
            if owner is None:
                return self._error(check, target, NO_ORGANIZATION.format(path=label), not_supplied(_area(path)),
                                   evidence, as_of)
            detail, cause = _why_missing(owner, path)
            return self._error(check, target, detail, cause, evidence, as_of)
        except EvaluationError as exc:
            files = sorted({o.area_file[_area(p)] for o, p in self._reads(plan, target)
                            if o is not None and _area(p) in o.area_file})
            return self._error(check, target, str(exc),
                               exc.cause or broken(", ".join(files) or None, ", ".join(check.reads)), evidence, as_of)

        if outcome.passed:
            shown = subject if single and not isinstance(subject, dict | list) else None
            return Result(check, target, "pass", self._passed(shown), evidence=evidence, as_of=as_of)
        source = memo.get(plan.source_key)
        if source is None:  # the same for every failure of the target that reads these areas
            source = memo[plan.source_key] = _source(target, self._reads(plan, target)) or {}
        return Result(check, target, "fail", self._fail_message(check, outcome.findings, ctx), outcome.findings,
                      evidence, as_of=as_of, source=source or None)

    def _reads(self, plan: _ReadPlan, target: Target) -> list[tuple[Target | None, str]]:
        """Which evidence each path of a check reads, and the path there."""
        return [(self.org if in_org else target, inner) for in_org, inner, _ in plan.reads]

    def _evidence(self, plan: _ReadPlan, target: Target, memo: dict[Any, Any]) -> tuple[list[str], date | None]:
        """What a check that reads ``plan``'s areas cites (the raw inputs behind them, else the target's
        bundle files), and the newest collection date among them (None: none is dated)."""
        cited: list[str] = []
        dates = []
        for in_org, area in plan.evidence_key[1]:
            owner = self.org if in_org else target
            if owner is None:
                continue
            where = self._lasting if in_org else memo
            index = where.get("cited")
            if index is None:
                index = where["cited"] = _cited_index(owner)
            found = index.get(area)
            if found is None:
                found = [owner.area_file[area]] if area in owner.area_file else []
            cited.extend(found)
            if area in owner.area_date:
                dates.append(owner.area_date[area])
        return list(dict.fromkeys(cited)) or [b.path for b in target.files], max(dates) if dates else None

    def _not_holding(self, check: Check, ctx: Context) -> dict[str, str]:
        """The message of a check whose ``applies_if`` does not hold: the same words for every target
        (the condition described with the run's parameters and the day judged as of), so worked out
        once per check and day."""
        key = (check.id, ctx.as_of)
        found = self._said.get(key)
        if found is None:
            found = self._said[key] = text("status_notapplicable",
                                                reason=conditions.describe(check.applies_if, ctx) + " does not hold")
        return found

    def _passed(self, shown: Any) -> dict[str, str]:
        """A pass's message, kept per value shown (a fleet's passes show a few values over and over)."""
        key = (type(shown), shown) if shown is None or isinstance(shown, str | int | float | bool) else None
        found = self._said.get(key) if key is not None else None
        if found is None:
            found = text("status_pass_value", value=show(shown)) if shown is not None else text("status_pass")
            if key is not None and len(self._said) < MAX_SAID:
                self._said[key] = found
        return found

    def _fail_message(self, check: Check, findings: list[Finding], ctx: Context) -> dict[str, str]:
        """The check's message with its ``{name}`` placeholders filled (the findings' count, items, first
        actual and expected, the check's title, the run's parameters); unknown names stay as written.
        Deliberately not str.format, which would let a policy file reach attributes."""
        if not check.message:
            return text("status_fail", count=len(findings))
        items = [f.item for f in findings]
        listed = ", ".join(items[:MAX_LISTED]) + (" …" if len(items) > MAX_LISTED else "")
        values: dict[str, Any] = {"count": len(findings), "items": listed,
                                  "actual": findings[0].actual if findings else None,
                                  "expected": findings[0].expected if findings else None,
                                  "item": items[0] if items else None}
        params = self.selection.params
        said = {}
        for lang, pieces in self._templates(check):
            out = []
            for literal, name in pieces:
                out.append(literal)
                if name is None:
                    continue
                if name == "title":
                    out.append(show(check.title[lang]))
                elif name in values:
                    out.append(show(values[name]))
                elif name in params:
                    out.append(show(params[name]))
                else:  # unknown names stay as written
                    out.append("{" + name + "}")
            said[lang] = "".join(out)
        return said

    def _templates(self, check: Check) -> list[tuple[str, list[tuple[str, str | None]]]]:
        """The check's message templates cut into (text, placeholder) pieces, once per check."""
        found = self._cut.get(check.id)
        if found is None:
            found = self._cut[check.id] = []
            for lang, template in check.message.items():
                pieces: list[tuple[str, str | None]] = []
                at = 0
                for match in PLACEHOLDER.finditer(template):
                    pieces.append((template[at:match.start()], match.group(1)))
                    at = match.end()
                pieces.append((template[at:], None))
                found.append((lang, pieces))
        return found
