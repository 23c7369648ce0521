"""``--format table``: the terminal report an administrator reads first.

Headline (score, grade, gate, summary), one line per target, then every failed or
unevaluated check with its findings (actual against expected) and the fix.
"""

from __future__ import annotations

import json
from typing import Any

from auditor.i18n import t
from auditor.reports import ReportOptions, register
from auditor.reports.csv_report import broken_place
from auditor.reports.dates import show_date

MAX_FINDINGS = 20
MAX_CELL = 400  # characters; longer values end in "…" (the JSON report has them whole)
COLUMN_WIDTHS = [28, 56, 48]  # item, actual, expected: long cells wrap within these widths


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _grade(grade: str | None, lang: str) -> str:
    return t(f"grade_{grade}" if grade else "grade_none", lang)


def _score(score: float | None) -> str:
    return "-" if score is None else f"{score:.1f}"


def _summary(summary: dict[str, int], lang: str) -> str:
    return " / ".join(f"{t(k, lang)} {v}" for k, v in summary.items())


def _segment(segment: str | None, lang: str) -> str:
    return t(f"segment_{segment}" if segment else "segment_none", lang)


def _waiver_state(waiver: dict[str, Any], lang: str) -> str:
    words = [t(f"waiver_state_{waiver['state']}", lang)]
    if waiver["unused"]:
        words.append(t("waiver_unused", lang))
    if waiver["expiring_soon"]:
        words.append(t("waiver_expiring", lang, days=waiver["days_left"]))
    return ", ".join(words)


def _cause(cause: dict[str, Any], lang: str) -> str:
    if cause["kind"] == "not-supplied":
        return t("cause_not_supplied", lang, area=cause["area"], suppliers=" / ".join(cause["supplied_by"]) or "-")
    return t("cause_broken", lang, file=broken_place(cause), field=cause.get("field") or "")


def gate_reasons(doc: dict[str, Any], lang: str) -> list[str]:
    """The gate's verdict as sentences: passed, or each reason it failed."""
    gate = doc["gate"]
    if gate["passed"]:
        return [t("gate_passed", lang)]
    reasons = []
    if gate["failed_critical"]:
        reasons.append(t("gate_failed", lang, count=len(gate["failed_critical"])))
    incomplete = gate.get("incomplete", [])
    if "unread" in incomplete:
        reasons.append(t("gate_unread", lang, count=len(doc["run"].get("unread", []))))
    if "nothing-evaluated" in incomplete:
        reasons.append(t("gate_nothing_evaluated", lang))
    return reasons


@register("table", streams=True)
def render(doc: dict[str, Any], options: ReportOptions) -> str:
    """The terminal report; one layout for every view (the trainer and inspector views are HTML and Markdown)."""
    from tabulate import tabulate  # imported by the one format that uses it (with wcwidth, a slow import)

    lang = options.lang

    run = doc["run"]
    policy = run["policy"]
    lines = [
        t("report_title", lang),
        f"{t('policy', lang)}: {policy['id']} {policy['version']}   {t('profile', lang)}: {policy['profile']}"
        + (f" + {policy['tailoring']['id']}" if policy["tailoring"] else ""),
    ]
    if run["as_of"]:
        lines.append(f"{t('as_of', lang)}: {show_date(run['as_of'], options.date_style, lang)}")
    gate_text = "; ".join(gate_reasons(doc, lang))
    lines += [
        f"{t('score', lang)}: {_score(doc['score'])}   {t('grade', lang)}: {_grade(doc['grade'], lang)}   "
        f"{t('gate', lang)}: {gate_text}",
        f"{t('summary', lang)}: {_summary(doc['summary'], lang)}",
    ]
    if doc.get("coverage") and doc["coverage"]["share"] is not None:
        lines.append(f"{t('coverage', lang)}: {t('coverage_line', lang, **doc['coverage'])}")
    lines.append("")
    rows = [
        [tg["id"], tg["kind"], _segment(tg["segment"], lang), tg["department"] or "-", _score(tg["score"]),
         _grade(tg["grade"], lang), tg["summary"]["pass"], tg["summary"]["fail"], tg["summary"]["error"]]
        for tg in doc["targets"]
    ]
    headers = [t("target", lang), t("kind", lang), t("segment", lang), t("department", lang), t("score", lang),
               t("grade", lang), t("pass", lang), t("fail", lang), t("error", lang)]
    lines += [tabulate(rows, headers=headers, disable_numparse=True), ""]
    unread = run.get("unread") or []
    if unread:
        lines += [f"{t('unread_heading', lang)} ({len(unread)})",
                  tabulate([[_cell(u["path"]), _cell(u["problem"])] for u in unread],
                           headers=[t("path", lang), t("problem", lang)], disable_numparse=True,
                           maxcolwidths=[None, 70]), ""]  # a path is not wrapped: it is copied

    waivers = doc.get("waivers") or []
    if waivers:
        rows = [[w["id"], _waiver_state(w, lang), w["approval_number"],
                 show_date(w["expires"], options.date_style, lang), w["waived"], _cell(w["reason"])] for w in waivers]
        lines += [f"{t('waivers_heading', lang)} ({len(waivers)})",
                  tabulate(rows, headers=["ID", t("status", lang), "No.", t("expires", lang), t("waived", lang),
                                          t("reason", lang)], disable_numparse=True, maxcolwidths=[None] * 5 + [50]),
                  ""]

    bad = [r for r in doc["results"] if r["status"] in ("fail", "error")]
    lines.append(f"{t('findings_heading', lang)} ({len(bad)})")
    if not bad:
        lines.append(t("no_findings", lang))
    for r in bad:
        lines += ["", f"[{t(r['status'], lang)}] {r['target']} / {r['check']}  "
                      f"({t('severity_' + r['severity'], lang)}; {', '.join(r['controls'])})",
                  f"  {r['title']}", f"  {r['message']}"]
        if r.get("cause"):
            lines.append(f"  {_cause(r['cause'], lang)}")
        if r["findings"]:
            rows = [[_cell(f["item"]), _cell(f["actual"]), _cell(f["expected"])] for f in r["findings"][:MAX_FINDINGS]]
            table = tabulate(rows, headers=[t("item", lang), t("actual", lang), t("expected", lang)],
                             disable_numparse=True, maxcolwidths=COLUMN_WIDTHS)
            lines += ["    " + line for line in table.splitlines()]
            if len(r["findings"]) > MAX_FINDINGS:
                lines.append("    " + t("more_findings", lang, count=len(r["findings"]) - MAX_FINDINGS))
        if "remediation" in r:
            lines.append(f"  {t('remediation', lang)}: {r['remediation']}")
    return "\n".join(lines) + "\n"
