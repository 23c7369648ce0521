"""``--format md``: GitHub-flavoured Markdown, for a wiki page, an issue or a merge request.

Score, grade, gate and coverage first; then tables per target, segment, department and control
family, the controls that failed most, waivers and attestations; then every failed or unevaluated
result with its findings (what was found, what was expected as a sentence where the results have
one, the evidence source with file and row or line) and the fix.

Every text from the results is escaped before it is written: ``|`` cannot end a table cell, ``<``
and ``&`` are entities (no HTML reaches the page), and Markdown's own marks (``* _ ` [ ] ~ # $``)
are backslash-escaped, so that a hostile account name or rule comment shows as the text it is.
Line breaks inside a cell are ``<br>``; elsewhere a text stays on its line.

Views: one layout for every view (the controls that failed most come first for every reader);
the trainer view replaces personal names with labels (see :mod:`auditor.reports.anonymise`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from auditor.i18n import labeller, t
from auditor.reports import ReportOptions, register
from auditor.reports.anonymise import for_view
from auditor.reports.csv_report import attestation_text, cause_text, expected_text, segment_name, source_text
from auditor.reports.dates import show_date
from auditor.reports.table import gate_reasons

MAX_CELL = 400  # characters; longer cells end in "…" (the JSON report has them whole)
MAX_FINDINGS = 20
MOST_FAILED = 10
STATUSES = ("pass", "fail", "error", "notapplicable", "waived", "manual")
MARKS = re.compile(r"([\\`*_\[\]|~#$!])")
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

LABELS = {
    "families": {"ja": "管理策の分類", "en": "Control families"},
    "segments": {"ja": "系統", "en": "Segments"},
    "departments": {"ja": "所属", "en": "Departments"},
    "most_failed": {"ja": "不適合・評価不能の多い管理策", "en": "Controls failed most often"},
    "failed_count": {"ja": "不適合・評価不能", "en": "Failed or unevaluated"},
    "source": {"ja": "証跡", "en": "Source"},
    "cause": {"ja": "原因", "en": "Cause"},
    "critical_heading": {"ja": "ゲートを不通過にした重大項目", "en": "Critical results that failed the gate"},
    "waived_critical": {"ja": "例外承認された重大項目", "en": "Waived critical results"},
    "attestation": {"ja": "確認", "en": "Attestation"},
    "approver": {"ja": "承認者", "en": "Approver"},
    "state": {"ja": "状態", "en": "State"},
    "name": {"ja": "名称", "en": "Name"},
    "coverage_short": {"ja": "評価割合", "en": "Coverage"},
}


_l = labeller(LABELS)


def escape(value: Any, cell: bool = True) -> str:
    """Text that Markdown shows as it is: entities for ``& < >``, backslashes before its marks."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = CONTROL.sub("\ufffd", text)
    if len(text) > MAX_CELL:
        text = text[: MAX_CELL - 1] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = MARKS.sub(r"\\\1", text)
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return ("<br>" if cell else " ").join(line for line in lines if line)


def table(head: list[str], rows: list[list[Any]]) -> list[str]:
    """A GFM table; every cell escaped."""
    lines = ["| " + " | ".join(escape(h) for h in head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(escape(c) if c not in (None, "") else "-" for c in row) + " |" for row in rows]
    return lines + [""]


def _score(score: float | None) -> str:
    return "-" if score is None else f"{score:.1f}"


def _grade(grade: str | None, lang: str) -> str:
    return t(f"grade_{grade}" if grade else "grade_none", lang)


def _share(entry: dict[str, Any]) -> str:
    share = (entry.get("coverage") or {}).get("share")
    return "-" if share is None else f"{share}%"


def _group_table(name: str, entries: list[tuple[str, dict[str, Any]]], lang: str) -> list[str]:
    head = [name, t("score", lang), t("grade", lang), _l("coverage_short", lang), *(t(s, lang) for s in STATUSES)]
    rows = [[label, _score(e.get("score")), _grade(e.get("grade"), lang), _share(e),
             *(str(e["summary"].get(s, 0)) for s in STATUSES)] for label, e in entries]
    return table(head, rows)


def _headline(doc: dict[str, Any], options: ReportOptions) -> list[str]:
    lang = options.lang
    run, policy = doc["run"], doc["run"]["policy"]
    coverage = doc.get("coverage") or {}
    coverage_text = t("coverage_line", lang, **coverage) if coverage.get("share") is not None else "-"
    lines = [f"# {escape(t('report_title', lang), cell=False)}", ""]
    lines += table([t("score", lang), t("grade", lang), t("gate", lang), t("coverage", lang)],
                   [[_score(doc["score"]), _grade(doc["grade"], lang), "; ".join(gate_reasons(doc, lang)),
                     coverage_text]])
    tailoring = policy.get("tailoring")
    facts = [(t("policy", lang), f"{policy['id']} {policy['version']}"),
             (t("profile", lang), policy["profile"] + (f" + {tailoring['id']}" if isinstance(tailoring, dict)
                                                       and tailoring.get("id") else "")),
             (t("as_of", lang), show_date(run.get("as_of"), options.date_style, lang)),
             (t("summary", lang), " / ".join(f"{t(s, lang)} {doc['summary'].get(s, 0)}" for s in STATUSES))]
    lines += [_line(k, v) for k, v in facts] + [""]
    gate = doc["gate"]
    if gate.get("failed_critical"):
        lines += [f"### {escape(_l('critical_heading', lang), cell=False)}", ""]
        lines += table([t("target", lang), t("check", lang), t("status", lang), t("controls", lang)],
                       [[g["target"], g["check"], t(g["status"], lang), ", ".join(g["controls"])]
                        for g in gate["failed_critical"]])
    if gate.get("waived_critical"):
        lines += [f"### {escape(_l('waived_critical', lang), cell=False)}", ""]
        lines += table([t("target", lang), t("check", lang), t("status", lang), t("waived", lang)],
                       [[g["target"], g["check"], t(g["status"], lang), g.get("waiver", "")]
                        for g in gate["waived_critical"]])
    return lines


def _most_failed(doc: dict[str, Any], lang: str) -> list[str]:
    failing = [c for c in doc["controls"] if c["summary"].get("fail", 0) + c["summary"].get("error", 0)]
    failing.sort(key=lambda c: (-(c["summary"]["fail"] + c["summary"]["error"]), c["id"]))
    if not failing:
        return []
    rows = [[c["id"], c.get("title", ""), t(f"severity_{c['severity']}", lang),
             str(c["summary"]["fail"] + c["summary"]["error"]), _score(c.get("score")), c.get("rationale", "")]
            for c in failing[:MOST_FAILED]]
    return [f"## {escape(_l('most_failed', lang), cell=False)}", ""] + table(
        ["ID", t("title", lang), t("severity", lang), _l("failed_count", lang), t("score", lang),
         t("reason", lang)], rows)


def _decisions(doc: dict[str, Any], options: ReportOptions) -> list[str]:
    lang, style = options.lang, options.date_style
    lines: list[str] = []
    waivers = doc.get("waivers") or []
    if waivers:
        lines += [f"## {escape(t('waivers_heading', lang), cell=False)}", ""]
        lines += table(["ID", _l("state", lang), "No.", _l("approver", lang), t("expires", lang), t("waived", lang),
                        t("reason", lang)],
                       [[w["id"], t(f"waiver_state_{w['state']}", lang), w.get("approval_number", ""),
                         w.get("approver", ""), show_date(w.get("expires"), style, lang), str(w.get("waived", 0)),
                         w.get("reason", "")] for w in waivers])
    attestations = doc.get("attestations") or []
    if attestations:
        lines += [f"## {escape(t('attestations_heading', lang), cell=False)}", ""]
        lines += table([t("controls", lang), t("check", lang), t("target", lang), _l("attestation", lang),
                        _l("state", lang)],
                       [[a.get("control") or "", a.get("check") or "", ", ".join(a.get("targets") or []),
                         attestation_text(a, options), a.get("state", "")] for a in attestations])
    return lines


def _line(name: str, value: Any) -> str:
    """A list line ``- name: value``, both escaped (a text never starts a line of its own)."""
    return f"- {escape(name, cell=False)}: {escape(value, cell=False)}"


def _result(r: dict[str, Any], options: ReportOptions) -> list[str]:
    lang, style = options.lang, options.date_style
    lines = [f"### [{escape(t(r['status'], lang), cell=False)}] {escape(r['target'], cell=False)} / "
             f"{escape(r['check'], cell=False)}", "",
             _line(t("title", lang), f"{r.get('title', '')} ({t('severity_' + r['severity'], lang)}; "
                                     f"{', '.join(r['controls'])})"),
             _line(t("message", lang), r.get("message", ""))]
    if r.get("cause"):
        lines.append(_line(_l("cause", lang), cause_text(r["cause"], lang)))
    if r.get("waiver"):
        waiver = r["waiver"]
        lines.append(_line(t("waived", lang), t("waived_under", lang, id=waiver["id"],
                                                approval_number=waiver.get("approval_number", ""),
                                                expires=show_date(waiver.get("expires"), style, lang),
                                                status=t(r.get("waived_status") or "fail", lang))))
    if r.get("remediation"):
        lines.append(_line(t("remediation", lang), r["remediation"]))
    findings = r.get("findings") or []
    sourced = any(source_text(f.get("source")) for f in findings)
    if r.get("evidence") and not sourced:
        lines.append(_line(_l("source", lang), ", ".join(r["evidence"])))
    if findings:
        lines.append("")
        head = [t("item", lang), t("actual", lang), t("expected", lang)] + ([_l("source", lang)] if sourced else [])
        rows = [[f.get("item"), f.get("actual"), expected_text(f, lang)]
                + ([source_text(f.get("source"))] if sourced else []) for f in findings[:MAX_FINDINGS]]
        lines += table(head, rows)
        if len(findings) > MAX_FINDINGS:
            lines += [escape(t("more_findings", lang, count=len(findings) - MAX_FINDINGS), cell=False), ""]
    return lines + [""]


@register("md")
def render(doc: dict[str, Any], options: ReportOptions) -> str:
    doc = for_view(doc, options.view, options.lang)
    lang = options.lang
    lines = _headline(doc, options)
    lines += [f"## {escape(t('targets', lang), cell=False)}", ""]
    head = [t("target", lang), t("kind", lang), t("segment", lang), t("department", lang), t("score", lang),
            t("grade", lang), _l("coverage_short", lang), *(t(s, lang) for s in STATUSES)]
    lines += table(head, [[tg["id"], tg["kind"], segment_name(tg["segment"], lang), tg["department"] or "",
                           _score(tg["score"]), _grade(tg["grade"], lang), _share(tg),
                           *(str(tg["summary"].get(s, 0)) for s in STATUSES)] for tg in doc["targets"]])
    lines += [f"## {escape(_l('segments', lang), cell=False)}", ""]
    lines += _group_table(t("segment", lang), [(segment_name(s["segment"], lang), s)
                                               for s in doc.get("segments") or []], lang)
    lines += [f"## {escape(_l('departments', lang), cell=False)}", ""]
    lines += _group_table(t("department", lang), [(d["department"] or t("segment_none", lang), d)
                                                  for d in doc.get("departments") or []], lang)
    lines += [f"## {escape(_l('families', lang), cell=False)}", ""]
    lines += _group_table(_l("name", lang), [(f"{f['id']} {f.get('title', '')}", f)
                                             for f in doc.get("families") or []], lang)
    lines += _most_failed(doc, lang)
    lines += _decisions(doc, options)
    unread = doc["run"].get("unread") or []
    if unread:
        lines += [f"## {escape(t('unread_heading', lang), cell=False)}", ""]
        lines += table([t("path", lang), t("problem", lang)], [[u["path"], u["problem"]] for u in unread])
    bad = [r for r in doc["results"] if r["status"] in ("fail", "error")]
    lines += [f"## {escape(t('findings_heading', lang), cell=False)} ({len(bad)})", ""]
    if not bad:
        lines += [escape(t("no_findings", lang), cell=False), ""]
    for r in bad:
        lines += _result(r, options)
    return "\n".join(lines).rstrip("\n") + "\n"
