"""``--format csv``: one row per result, for Excel and for the 情報政策課's own filters and pivots.

Excel's own CSV: UTF-8 with a BOM (without it, Japanese Excel reads the file as CP932 and the
text is garbled), CRLF row ends, every field quoted where it needs to be. The header and the
status, severity and segment words are in the report's language.

A cell is text from evidence (an account name, a rule comment) that Excel would run as a formula
when it starts with ``=``, ``+``, ``-`` or ``@`` (``=HYPERLINK(...)`` sends whoever clicks it
elsewhere), or with a tab or a carriage return (OWASP's CSV-injection list); such a cell is
written with a leading ``'``, which Excel shows as text. Their full-width forms get the same, as
the guard costs nothing where they were harmless.

Views: one layout for every view; the trainer view replaces personal names with labels (see
:mod:`auditor.reports.anonymise`). The flat rows (:func:`result_rows`) are also the XLSX
report's Results sheet.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from auditor.i18n import labeller, t
from auditor.reports import ReportOptions, register
from auditor.reports.anonymise import for_view
from auditor.reports.dates import show_date

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
MAX_CELL = 32_000  # Excel keeps at most 32,767 characters in a cell; longer text ends in "…"
MAX_ITEMS = 50  # findings listed in one result's cells (the JSON report has them all)

# Labels this format needs beyond the common ones of auditor.i18n.
LABELS: dict[str, dict[str, str]] = {
    "waived_status": {"ja": "本来の結果", "en": "Status before waiver"},
    "waiver": {"ja": "例外措置", "en": "Waiver"},
    "attestation": {"ja": "担当者による確認", "en": "Attestation"},
    "cause": {"ja": "評価不能の原因", "en": "Cause"},
    "items": {"ja": "指摘対象", "en": "Items"},
    "source": {"ja": "証跡", "en": "Evidence source"},
    "more": {"ja": "…ほか {count} 件", "en": "… and {count} more"},
    "unread": {"ja": "読込不可（監査されていない）", "en": "not read (not audited)"},
    "attested": {"ja": "{by}（{on}、{document}、{until} まで有効）",
                 "en": "{by} ({on}; {document}; valid until {until})"},
}

# (key, label key) of the result columns, in order.
COLUMNS = ("target", "segment", "department", "check", "title", "controls", "severity", "status",
           "waived_status", "waiver", "attestation", "cause", "message", "items", "expected", "source",
           "remediation")


label = labeller(LABELS)  # a label of this module's or of auditor.i18n


def guard(value: str) -> str:
    """Text that a spreadsheet shows and never runs: a leading ``'`` where it would start a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def cut(value: str) -> str:
    return value if len(value) <= MAX_CELL else value[: MAX_CELL - 1] + "…"


def plain(value: Any) -> str:
    """A JSON value as a cell's text: strings as they are, the rest as compact JSON."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def expected_text(finding: dict[str, Any], lang: str) -> str:
    """What was expected, as a sentence where the results have one, else the condition's text."""
    sentences = finding.get("expected_text")
    if isinstance(sentences, dict) and isinstance(sentences.get(lang), str):
        return sentences[lang]
    return plain(finding.get("expected"))


def source_text(source: Any) -> str:
    """``file:row`` or ``file:line`` of a finding's evidence source; empty without one."""
    if not isinstance(source, dict) or not source.get("file"):
        return ""
    place = source.get("row", source.get("line"))
    return f"{source['file']}:{place}" if place is not None else str(source["file"])


def broken_place(cause: dict[str, Any]) -> str:
    """The file a ``broken`` cause names, with its line when it gives one (``fw.conf:42``)."""
    place = cause.get("file") or ""
    return f"{place}:{cause['line']}" if place and type(cause.get("line")) is int else place


def cause_text(cause: dict[str, Any] | None, lang: str) -> str:
    if not cause:
        return ""
    if cause.get("kind") == "not-supplied":
        return t("cause_not_supplied", lang, area=cause.get("area", ""),
                 suppliers=" / ".join(cause.get("supplied_by") or []) or "-")
    return t("cause_broken", lang, file=broken_place(cause), field=cause.get("field") or "")


def attestation_text(attestation: dict[str, Any] | None, options: ReportOptions) -> str:
    if not attestation:
        return ""
    return label("attested", options.lang, by=attestation.get("attested_by", ""),
                 on=show_date(attestation.get("attested_on"), options.date_style, options.lang),
                 document=attestation.get("document", ""),
                 until=show_date(attestation.get("valid_until"), options.date_style, options.lang))


def _listed(values: list[str], lang: str) -> str:
    """Distinct values one a line, at most :data:`MAX_ITEMS`."""
    distinct = [v for v in dict.fromkeys(values) if v]
    text = "\n".join(distinct[:MAX_ITEMS])
    if len(distinct) > MAX_ITEMS:
        text += "\n" + label("more", lang, count=len(distinct) - MAX_ITEMS)
    return text


def segment_name(segment: str | None, lang: str) -> str:
    return t(f"segment_{segment}" if segment else "segment_none", lang)


def header(lang: str) -> list[str]:
    return [label(key, lang) for key in COLUMNS]


def result_rows(doc: dict[str, Any], options: ReportOptions) -> Iterator[list[str]]:
    """One row of text cells per result, in the columns of :data:`COLUMNS` (not yet guarded)."""
    lang = options.lang
    targets = {tg["id"]: tg for tg in doc["targets"]}
    for r in doc["results"]:
        target = targets.get(r["target"], {})
        findings = r.get("findings") or []
        sources = [s for s in (source_text(f.get("source")) for f in findings) if s] or list(r.get("evidence") or [])
        waiver = r.get("waiver") or {}
        yield [
            r["target"], segment_name(target.get("segment"), lang), target.get("department") or "",
            r["check"], r.get("title", ""), ", ".join(r["controls"]), t(f"severity_{r['severity']}", lang),
            t(r["status"], lang), t(r["waived_status"], lang) if r.get("waived_status") else "",
            waiver.get("id", ""), attestation_text(r.get("attestation"), options), cause_text(r.get("cause"), lang),
            r.get("message", ""), _listed([plain(f.get("item")) for f in findings], lang),
            _listed([expected_text(f, lang) for f in findings], lang),
            _listed(sources, lang), r.get("remediation", ""),
        ]
    for u in doc["run"].get("unread") or []:  # the fleet's gap, one row each: never silently absent
        row = dict.fromkeys(COLUMNS, "")
        row.update(status=label("unread", lang), message=plain(u.get("problem")), source=plain(u.get("path")))
        yield [row[key] for key in COLUMNS]


@register("csv", streams=True)
def render(doc: dict[str, Any], options: ReportOptions) -> bytes:
    doc = for_view(doc, options.view, options.lang)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header(options.lang))
    for row in result_rows(doc, options):
        writer.writerow([guard(cut(cell)) for cell in row])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8", "replace")
