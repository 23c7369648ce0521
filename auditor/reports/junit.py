"""``--format junit``: JUnit XML, so that Jenkins, GitLab and other CI dashboards show an audit as tests.

The shape those tools read: ``<testsuites>`` holding one ``<testsuite>`` per target (its id as
the name, its kind, segment and department as properties), and in it one ``<testcase>`` per
check, ``classname`` the target and ``name`` the check id. A ``fail`` is a ``<failure>`` (its
message, the severity as its type, and the findings, expected values, sources and fix as its
text); an ``error`` is an ``<error>`` with its cause; ``notapplicable``, ``manual`` and
``waived`` are ``<skipped>`` with the reason (a waiver's id and approval number). The counts of
every element equal the run's summary.

Text from evidence is escaped by the XML writer; characters XML 1.0 cannot hold at all (control
characters, lone surrogates) are replaced by U+FFFD rather than making a file no parser reads.

Views: one layout for every view; the trainer view replaces personal names with labels (see
:mod:`auditor.reports.anonymise`).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from auditor.i18n import t
from auditor.reports import ReportOptions, register
from auditor.reports.anonymise import for_view
from auditor.reports.csv_report import cause_text, expected_text, plain, source_text
from auditor.reports.dates import show_date

NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
MAX_FINDINGS = 50
SKIPPED = ("notapplicable", "manual", "waived")


def xml_text(value: Any) -> str:
    """``value`` as text XML 1.0 can hold."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return NOT_XML.sub("\ufffd", text)


def _element(parent: ET.Element, tag: str, text: str | None = None, **attributes: Any) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attributes.items() if v is not None})
    if text:
        element.text = xml_text(text)
    return element


def _details(r: dict[str, Any], lang: str) -> str:
    """The body of a failure or error: message, cause, findings with expected values and sources, fix."""
    lines = [f"{r.get('title', '')} ({t('severity_' + r['severity'], lang)}; {', '.join(r['controls'])})",
             r.get("message", "")]
    if r.get("cause"):
        lines.append(cause_text(r["cause"], lang))
    findings = r.get("findings") or []
    for f in findings[:MAX_FINDINGS]:
        source = source_text(f.get("source"))
        lines.append(f"- {plain(f.get('item'))}: {t('actual', lang)} {plain(f.get('actual'))}; "
                     f"{t('expected', lang)} {expected_text(f, lang)}" + (f" [{source}]" if source else ""))
    if len(findings) > MAX_FINDINGS:
        lines.append(t("more_findings", lang, count=len(findings) - MAX_FINDINGS))
    if r.get("evidence"):
        lines.append(", ".join(r["evidence"]))
    if r.get("remediation"):
        lines.append(f"{t('remediation', lang)}: {r['remediation']}")
    return "\n".join(lines)


def _skip_reason(r: dict[str, Any], options: ReportOptions) -> str:
    waiver = r.get("waiver")
    if r["status"] == "waived" and waiver:
        return t("waived_under", options.lang, id=waiver["id"], approval_number=waiver.get("approval_number", ""),
                 expires=show_date(waiver.get("expires"), options.date_style, options.lang),
                 status=t(r.get("waived_status") or "fail", options.lang))
    return r.get("message") or t(r["status"], options.lang)


def _counts(summary: dict[str, int]) -> dict[str, str]:
    return {"tests": str(sum(summary.values())), "failures": str(summary.get("fail", 0)),
            "errors": str(summary.get("error", 0)), "skipped": str(sum(summary.get(s, 0) for s in SKIPPED))}


@register("junit")
def render(doc: dict[str, Any], options: ReportOptions) -> bytes:
    doc = for_view(doc, options.view, options.lang)
    lang = options.lang
    run = doc["run"]
    policy = run["policy"]
    root = ET.Element("testsuites", {"name": xml_text(f"{t('report_title', lang)}: {policy['id']} "
                                                      f"{policy['version']} / {policy['profile']}"),
                                     **_counts(doc["summary"]), "time": "0"})
    by_target: dict[str, list[dict[str, Any]]] = {}
    for r in doc["results"]:
        by_target.setdefault(r["target"], []).append(r)
    targets = {tg["id"]: tg for tg in doc["targets"]}
    for target_id, results in by_target.items():
        target = targets.get(target_id, {})
        summary = {s: 0 for s in ("pass", "fail", "error", *SKIPPED)}
        for r in results:
            summary[r["status"]] = summary.get(r["status"], 0) + 1
        suite = _element(root, "testsuite", name=target_id, **_counts(summary), time="0",
                         timestamp=run.get("finished_at"), hostname=target_id)
        properties = _element(suite, "properties")
        for key in ("kind", "segment", "department", "score", "grade"):
            if target.get(key) is not None:
                _element(properties, "property", name=key, value=target[key])
        for r in results:
            case = _element(suite, "testcase", classname=target_id, name=r["check"], time="0")
            if r["status"] == "fail":
                _element(case, "failure", _details(r, lang), message=r.get("message", ""), type=r["severity"])
            elif r["status"] == "error":
                _element(case, "error", _details(r, lang), message=r.get("message", ""),
                         type=(r.get("cause") or {}).get("kind", "error"))
            elif r["status"] in SKIPPED:
                _element(case, "skipped", message=_skip_reason(r, options))
    unread = run.get("unread") or []
    if unread:  # files of the fleet that could not be read: errors a dashboard shows, not silence
        suite = _element(root, "testsuite", name="unread-evidence", tests=len(unread), failures=0, errors=len(unread),
                         skipped=0, time="0", timestamp=run.get("finished_at"))
        for u in unread:
            case = _element(suite, "testcase", classname="unread-evidence", name=u.get("path", ""), time="0")
            _element(case, "error", f"{t('unread_heading', lang)}: {u.get('path')}", message=u.get("problem", ""),
                     type="unread")
        root.set("tests", str(int(root.get("tests", "0")) + len(unread)))
        root.set("errors", str(int(root.get("errors", "0")) + len(unread)))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
