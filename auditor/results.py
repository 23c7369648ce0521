"""Assembling the `auditor-results/1` document from the engine's results.

This document is the single input of every report format: reports render it and
never re-evaluate. Order is fixed (targets by id, then checks by id), so the same
inputs give the same bytes apart from the run's id and times.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from auditor import __version__
from auditor.bundles import BundleFile, Unread
from auditor.clock import now_iso
from auditor.engine import Result
from auditor.scoring import Tally
from auditor.selection import Selection

FORMAT = "auditor-results/1"


def _tallied(t: Tally) -> dict[str, Any]:
    return {"score": t.score, "grade": t.grade, "coverage": t.coverage, "summary": dict(t.counts)}


@dataclass
class ResultsBuilder:
    """Consumes results one by one (the engine streams) and keeps only what the report needs."""

    selection: Selection
    lang: str
    as_of: date | None = None
    started_at: str = field(default_factory=now_iso)
    run_tally: Tally = field(default_factory=Tally)
    targets: dict[str, tuple[dict[str, Any], Tally]] = field(default_factory=dict)
    # one tally per segment, department, family and control, made when first needed
    segments: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    departments: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    families: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    controls: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    entries: list[dict[str, Any]] = field(default_factory=list)
    blockers: list[dict[str, Any]] = field(default_factory=list)
    waived_critical: list[dict[str, Any]] = field(default_factory=list)
    waivers: Any = None  # auditor.waivers.Waivers, summarised in the document
    attestations: Any = None  # auditor.attestations.Attestations
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)  # waivers/attestations files with their hash
    evidence: list[dict[str, Any]] = field(default_factory=list)
    unread: list[Unread] = field(default_factory=list)  # paths of the fleet that could not be read
    sentences: dict[str, dict[str, str]] = field(default_factory=dict)  # expected_text by check id

    def add_files(self, files: Iterable[BundleFile]) -> None:
        for f in files:
            entry = {"target": f.target["id"], "file": f.path, "sha256": f.sha256, "collected_at": f.collected_at}
            if f.imported is not None:
                entry["imported"] = f.imported
            self.evidence.append(entry)

    def add(self, result: Result) -> None:
        check, target, status, severity = result.check, result.target, result.status, result.check.severity
        tallied = (status, severity, result.waived_status, result.cause["kind"] if result.cause else None)
        self.run_tally.add(*tallied)
        if target.id not in self.targets:
            self.targets[target.id] = ({"id": target.id, "kind": target.kind, "segment": target.segment,
                                        "department": target.department}, Tally())
        self.targets[target.id][1].add(*tallied)
        self.segments[target.segment or ""].add(*tallied)
        self.departments[target.department or ""].add(*tallied)
        policy = self.selection.policy
        for family in sorted({policy.controls[c].family for c in check.controls}):
            self.families[family].add(*tallied)
        for control in check.controls:
            self.controls[control].add(*tallied)
        if severity == "critical" and status in ("fail", "error"):
            self.blockers.append({"check": check.id, "target": target.id, "status": status,
                                  "controls": list(check.controls)})
        elif severity == "critical" and status == "waived":
            self.waived_critical.append({"check": check.id, "target": target.id, "status": result.waived_status,
                                         "controls": list(check.controls), "waiver": result.waiver["id"]})
        entry: dict[str, Any] = {
            "check": check.id,
            "controls": list(check.controls),
            "target": target.id,
            "status": status,
            "severity": severity,
            "title": check.title[self.lang],
            "message": result.message[self.lang],
            "findings": self._findings(result),
            "evidence": result.evidence,
        }
        if result.cause is not None:
            entry["cause"] = result.cause
        if result.waiver is not None:
            entry["waived_status"] = result.waived_status
            entry["waiver"] = result.waiver
        if result.attestation is not None:
            entry["attestation"] = result.attestation
        if result.notes:
            entry["notes"] = result.notes
        if status in ("fail", "error") or result.waiver is not None:
            entry["remediation"] = check.remediation[self.lang]
        self.entries.append(entry)

    def _findings(self, result: Result) -> list[dict[str, Any]]:
        """The findings, each with what was expected as sentences (``expected_text``, ja and en) and
        where its item is written (``source``: file, and row or line where the evidence records it)."""
        if not result.findings:
            return []
        check = result.check
        said = self.sentences.get(check.id)
        if said is None:
            from auditor.conditions.wording import expected_text  # loaded only when there is a finding

            titles = {name: p.title for name, p in self.selection.policy.parameters.items()}
            said = self.sentences[check.id] = expected_text(check.condition, check.reads, self.selection.params,
                                                            titles)
        fallback = result.source
        if result.attestation is not None:
            fallback = {"file": result.attestation["file"], "line": result.attestation["line"]}
        return [{**f.as_dict(), "expected_text": dict(said), "source": dict(f.source or fallback or {})}
                for f in result.findings]

    def _gate(self) -> dict[str, Any]:
        """Failed by a critical check that failed or could not be evaluated, and by incomplete evidence:
        a path that could not be read (its targets are missing from the run), or nothing evaluated at all
        (an empty directory must not read as a pass)."""
        incomplete = []
        if self.unread:
            incomplete.append("unread")
        counts = self.run_tally.counts
        if not any(counts[status] for status in ("pass", "fail", "error")):
            incomplete.append("nothing-evaluated")
        return {"passed": not self.blockers and not incomplete, "failed_critical": self.blockers,
                "incomplete": incomplete, "waived_critical": self.waived_critical}

    def document(self) -> dict[str, Any]:
        import uuid  # a slow import (platform), for one call

        sel, lang = self.selection, self.lang
        policy = sel.policy
        tailoring = None
        if sel.tailoring is not None:
            tailoring = {"id": sel.tailoring.id, "file": sel.tailoring.source, "sha256": sel.tailoring.sha256,
                         "changes": sel.changes}
        return {
            "format": FORMAT,
            "run": {
                "id": str(uuid.uuid4()),
                "started_at": self.started_at,
                "finished_at": now_iso(),
                "tool_version": __version__,
                "lang": lang,
                "as_of": self.as_of.isoformat() if self.as_of else None,
                "policy": {"id": policy.id, "version": policy.version, "profile": sel.profile.id,
                           "sha256": policy.sha256, "root": None if policy.embedded else policy.root,
                           "embedded": policy.embedded, "tailoring": tailoring},
                "cwd": os.getcwd(),  # where the relative paths of this record are, for auditor export
                "evidence": self.evidence,
                "unread": [u.as_dict() for u in self.unread],
                **self.inputs,
            },
            "score": self.run_tally.score,
            "grade": self.run_tally.grade,
            "gate": self._gate(),
            "summary": dict(self.run_tally.counts),
            "coverage": self.run_tally.coverage,
            "targets": [{**head, **_tallied(t)} for head, t in self.targets.values()],
            "segments": [{"segment": k or None, **_tallied(t)} for k, t in sorted(self.segments.items())],
            "departments": [{"department": k or None, **_tallied(t)} for k, t in sorted(self.departments.items())],
            "families": [{"id": k, "title": policy.families[k][lang], **_tallied(t)}
                         for k, t in sorted(self.families.items())],
            "controls": [
                {"id": c, "reference": policy.controls[c].reference, "title": policy.controls[c].title[lang],
                 "severity": policy.controls[c].severity, "family": policy.controls[c].family,
                 "mode": policy.controls[c].mode, "rationale": policy.controls[c].rationale[lang],
                 "remediation": policy.controls[c].remediation[lang],
                 "audit_items": list(policy.controls[c].audit_items), **_tallied(self.controls.get(c, Tally()))}
                for c in sel.controls
            ],
            "waivers": self.waivers.summary(self.as_of, sel.params.get("exception_max_days"))
            if self.waivers is not None else [],
            "attestations": self.attestations.summary(self.as_of) if self.attestations is not None else [],
            "results": self.entries,
        }
