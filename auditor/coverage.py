"""Policy coverage: for each requirement, the checks that prove it and the evidence they read.

An administrator shows an inspector, requirement by requirement, what the tool verifies from
evidence, what rests on a person's attestation, and what nothing checks (with the reason). A
requirement (a guideline control, GL-A01..) is

- ``automated`` when a check that reads evidence cites it;
- ``attested`` when only manual checks cite it (proved by a document, see --attestations);
- ``uncovered`` otherwise, with the control's ``not_automated`` reason where it gives one.

The guideline's own marks are kept beside: ``A`` (automatic), ``A/M`` (mixed), ``M`` (manual).
The share that matters is of the automatable requirements (A and A/M) that are automated.
"""

from __future__ import annotations

from typing import Any

from auditor.policy import Check, Policy
from auditor.selection import resolve
from auditor.suppliers import suppliers_of

MARKS = {"automatic": "A", "mixed": "A/M", "manual": "M"}
STATES = ("automated", "attested", "uncovered")

_NO_CHECK = {"ja": "証拠を読むチェックがまだない", "en": "no check reads evidence for it yet"}
_ATTEST = {"ja": "文書で証明する要件: 証明記録（--attestations）で確認する",
           "en": "proved by a document: confirmed by an attestation (--attestations)"}


def _areas(check: Check) -> list[dict[str, Any]]:
    """The fact areas a check reads, each with the collectors and importers that write it."""
    areas = sorted({path.split(".", 1)[0] for path in check.reads})
    return [{"area": a, "suppliers": suppliers_of(a)} for a in areas]


def coverage(policy: Policy, profile: str | None = None, lang: str = "ja") -> dict[str, Any]:
    """The coverage document of ``policy`` (all controls and checks, or those ``profile`` selects)."""
    if profile is None:
        controls = [c for c in policy.controls.values() if not c.withdrawn]
        checks = list(policy.checks.values())
    else:
        selection = resolve(policy, profile)
        controls = [policy.controls[c] for c in selection.controls]
        checks = selection.checks
    citing: dict[str, list[Check]] = {}
    for check in checks:
        for control_id in check.controls:
            citing.setdefault(control_id, []).append(check)
    requirements = []
    for control in sorted(controls, key=lambda c: c.id):
        mine = sorted(citing.get(control.id, []), key=lambda k: k.id)
        state = ("automated" if any(not k.manual for k in mine) else "attested" if mine else "uncovered")
        reason = None
        if state == "attested":
            reason = (control.not_automated or _ATTEST)[lang]
        elif state == "uncovered":
            reason = (control.not_automated or _NO_CHECK)[lang]
        requirements.append({
            "id": control.id, "reference": control.reference, "mark": MARKS[control.mode], "title": control.title[lang],
            "state": state, "reason": reason,
            "checks": [{"id": k.id, "manual": k.manual, "evidence": _areas(k)} for k in mine],
        })
    automatable = [r for r in requirements if r["mark"] != "M"]
    covered = sum(r["state"] == "automated" for r in automatable)
    return {
        "format": "auditor-coverage/1", "policy": {"id": policy.id, "version": policy.version}, "profile": profile,
        "lang": lang,
        "automatable": {"total": len(automatable), "automated": covered,
                        "share": round(100 * covered / len(automatable), 1) if automatable else None},
        "counts": {s: sum(r["state"] == s for r in requirements) for s in STATES},
        "requirements": requirements,
        "not_automated": [{"id": r["id"], "mark": r["mark"], "state": r["state"], "reason": r["reason"]}
                          for r in automatable if r["state"] != "automated"],
    }


_LABELS = {
    "ja": {"requirement": "要件", "mark": "区分", "state": "状態", "checks": "チェック", "evidence": "証拠（供給元）",
           "reason": "理由", "automated": "自動", "attested": "証明", "uncovered": "未対応",
           "summary": "自動化可能な要件 {total} 件のうち {automated} 件（{share}%）をチェックで確認",
           "gaps": "チェックで確認しない自動化可能な要件"},
    "en": {"requirement": "requirement", "mark": "mark", "state": "state", "checks": "checks",
           "evidence": "evidence (supplied by)", "reason": "reason", "automated": "automated", "attested": "attested",
           "uncovered": "uncovered",
           "summary": "{automated} of {total} automatable requirements ({share}%) are checked from evidence",
           "gaps": "Automatable requirements not checked from evidence"},
}


def _evidence_cell(req: dict[str, Any]) -> str:
    areas: dict[str, list[str]] = {}
    for check in req["checks"]:
        for e in check["evidence"]:
            areas.setdefault(e["area"], e["suppliers"])
    return "; ".join(f"{a} ({', '.join(s) or '-'})" for a, s in sorted(areas.items()))


def _rows(doc: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    lab = _LABELS[doc["lang"]]
    head = [lab[k] for k in ("requirement", "mark", "state", "checks", "evidence", "reason")]
    rows = [[f"{r['id']} {r['title']}", r["mark"], lab[r["state"]], ", ".join(c["id"] for c in r["checks"]) or "-",
             _evidence_cell(r) or "-", r["reason"] or ""] for r in doc["requirements"]]
    return head, rows


def render(doc: dict[str, Any], fmt: str) -> str:
    """The coverage document as ``table``, ``json`` or ``md`` text."""
    import json

    from tabulate import tabulate

    if fmt == "json":
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    lab = _LABELS[doc["lang"]]
    summary = lab["summary"].format(**doc["automatable"])
    head, rows = _rows(doc)
    gaps = [f"{g['id']} ({g['mark']}, {lab[g['state']]}): {g['reason']}" for g in doc["not_automated"]]
    if fmt == "md":
        def cell(text: str) -> str:
            return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")

        lines = [f"# {doc['policy']['id']} {doc['policy']['version']}" + (f" / {doc['profile']}" if doc["profile"]
                                                                           else ""), "", summary, "",
                 "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
        lines += ["", f"## {lab['gaps']}", ""] + [f"- {cell(g)}" for g in gaps]
        return "\n".join(lines) + "\n"
    return "\n".join([summary, "", tabulate(rows, headers=head, maxcolwidths=[36, None, None, 36, 44, 28]), "",
                      lab["gaps"] + ":"]
                     + [f"  {g}" for g in gaps]) + "\n"
