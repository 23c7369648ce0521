"""``--format xlsx``: the workbook an inspector or a department head filters and annotates.

Sheets: 概要 / Summary (score, grade, gate, coverage, the counts of each status), 対象 / Targets,
結果 / Results (one row per result, the columns of the CSV report), 管理策 / Controls, 例外措置 /
Waivers, and 担当者確認 / Attestations when the run had any. Sheet names and headers are in the
report's language. Every table has an autofilter and a frozen header row; column widths fit the
text, a Japanese (East Asian wide) character counting twice, capped so that long messages wrap.
Scores, shares and counts are numbers, so that they sum and sort; the rest is text.

Text from evidence never becomes a formula: openpyxl would store a string starting with ``=`` as
one, so every cell that a spreadsheet could run (the CSV report's list) is stored as a string
with Excel's quote-prefix flag: the cell shows the text as it is, and stays text if edited.
Characters XML 1.0 cannot hold (control characters, lone surrogates) are replaced by U+FFFD.

The same document gives the same bytes: the workbook's created and modified times are the run's
``finished_at`` and every member of the zip carries that time, not the clock's.

Memory and time: openpyxl holds the whole workbook while it is written, and writes its XML in
pure Python. Measured: 73,000 results (the example fleet 40 times) took about 370 MB (5 KB a row)
and 25 s on a shared two-core machine. For larger runs the CSV and JSON reports are the cheaper
choice.

Views: one layout for every view; the trainer view replaces personal names with labels (see
:mod:`auditor.reports.anonymise`).
"""

from __future__ import annotations

import functools
import io
import re
import unicodedata
import zipfile
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from auditor.i18n import labeller, t
from auditor.reports import ReportOptions, register
from auditor.reports.anonymise import for_view
from auditor.reports.csv_report import (
    FORMULA_STARTS,
    cut,
    header,
    result_rows,
    segment_name,
)
from auditor.reports.dates import show_date
from auditor.reports.table import gate_reasons

if TYPE_CHECKING:  # openpyxl (80 ms to import) loads when a workbook is made, not with every command's parser
    from openpyxl.worksheet.worksheet import Worksheet

MIN_WIDTH, MAX_WIDTH = 6, 60  # column widths, in Excel's units (about one ASCII character)
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
STATUSES = ("pass", "fail", "error", "notapplicable", "waived", "manual")

SHEETS = {
    "summary": {"ja": "概要", "en": "Summary"},
    "targets": {"ja": "対象", "en": "Targets"},
    "results": {"ja": "結果", "en": "Results"},
    "controls": {"ja": "管理策", "en": "Controls"},
    "waivers": {"ja": "例外措置", "en": "Waivers"},
    "attestations": {"ja": "担当者確認", "en": "Attestations"},
}
LABELS = {
    "field": {"ja": "項目", "en": "Field"},
    "value": {"ja": "値", "en": "Value"},
    "coverage_share": {"ja": "評価できた割合（%）", "en": "Coverage (%)"},
    "applicable": {"ja": "対象の結果数", "en": "Applicable results"},
    "evaluated": {"ja": "評価できた結果数", "en": "Evaluated results"},
    "not_supplied": {"ja": "証跡なし", "en": "Evidence not supplied"},
    "broken": {"ja": "証跡不備", "en": "Evidence broken"},
    "tailoring": {"ja": "テーラリング", "en": "Tailoring"},
    "finished_at": {"ja": "監査日時", "en": "Audited at"},
    "run_id": {"ja": "実行ID", "en": "Run id"},
    "reference": {"ja": "根拠", "en": "Reference"},
    "family": {"ja": "分類", "en": "Family"},
    "mode": {"ja": "確認方法", "en": "Mode"},
    "rationale": {"ja": "理由", "en": "Rationale"},
    "approver": {"ja": "承認者", "en": "Approver"},
    "approval_number": {"ja": "承認番号", "en": "Approval No."},
    "granted": {"ja": "承認日", "en": "Granted"},
    "days_left": {"ja": "残り日数", "en": "Days left"},
    "matched": {"ja": "該当した結果", "en": "Results matched"},
    "state": {"ja": "状態", "en": "State"},
    "checks": {"ja": "チェック", "en": "Checks"},
    "file": {"ja": "ファイル", "en": "File"},
    "attested_by": {"ja": "確認者", "en": "Attested by"},
    "attested_on": {"ja": "確認日", "en": "Attested on"},
    "valid_until": {"ja": "有効期限", "en": "Valid until"},
    "document": {"ja": "証跡文書", "en": "Document"},
    "used": {"ja": "適用した結果", "en": "Results decided"},
    "state_valid": {"ja": "有効", "en": "valid"},
    "state_expired": {"ja": "期限切れ", "en": "expired"},
    "state_pending": {"ja": "開始前", "en": "not yet valid"},
}


_l = labeller(LABELS)


def display_width(text: str) -> int:
    """Columns the longest line of ``text`` takes: wide and full-width characters count 2."""
    return max((sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in line)
                for line in text.split("\n")), default=0)


def _cell_value(value: Any) -> Any:
    if isinstance(value, str):
        return cut(NOT_XML.sub("\ufffd", value))
    return value


@functools.cache
def _styles() -> tuple[Any, Any, Any]:
    """The header's font and fill, and the alignment of long text."""
    from openpyxl.styles import Alignment, Font, PatternFill

    return Font(bold=True), PatternFill("solid", fgColor="DDEBF7"), Alignment(wrap_text=True, vertical="top")


def _table(ws: Worksheet, head: list[str], rows: Any, wrap: bool = False) -> None:
    """A table with a styled, frozen header, an autofilter and widths that fit its text."""
    from openpyxl.utils import get_column_letter

    header_font, header_fill, wrapped = _styles()
    ws.append(head)
    for cell in ws[1]:
        cell.font, cell.fill = header_font, header_fill
    widths = [display_width(h) for h in head]
    for number, values in enumerate(rows, start=2):  # (ws.max_row scans every cell: not per row)
        values = [_cell_value(v) for v in values]
        ws.append(values)
        for index, value in enumerate(values):
            if isinstance(value, str):
                long = wrap and ("\n" in value or len(value) > MAX_WIDTH // 2)
                if long or value.startswith(FORMULA_STARTS):
                    cell = ws.cell(row=number, column=index + 1)
                    if long:  # styles only where needed: each one costs time and memory per cell
                        cell.alignment = wrapped
                    if value.startswith(FORMULA_STARTS):
                        cell.data_type, cell.quotePrefix = "s", True
                if widths[index] < MAX_WIDTH and 2 * len(value) > widths[index]:
                    widths[index] = max(widths[index], min(display_width(value), MAX_WIDTH))
            elif value is not None:
                widths[index] = max(widths[index], len(str(value)))
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = min(max(width + 2, MIN_WIDTH), MAX_WIDTH + 2)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions


def _counts(entry: dict[str, Any]) -> list[Any]:
    coverage = entry.get("coverage") or {}
    return [entry.get("score"), entry.get("grade") or "", coverage.get("share"),
            *(entry["summary"].get(s, 0) for s in STATUSES)]


def _count_heads(lang: str) -> list[str]:
    return [t("score", lang), t("grade", lang), _l("coverage_share", lang), *(t(s, lang) for s in STATUSES)]


def _summary(doc: dict[str, Any], options: ReportOptions) -> list[list[Any]]:
    lang, style = options.lang, options.date_style
    run, policy = doc["run"], doc["run"]["policy"]
    coverage = doc.get("coverage") or {}
    tailoring = policy.get("tailoring") or {}
    rows: list[list[Any]] = [
        [t("report_title", lang), ""],
        [t("policy", lang), f"{policy['id']} {policy['version']}"],
        [t("profile", lang), policy["profile"]],
        [_l("tailoring", lang), tailoring.get("id", "") if isinstance(tailoring, dict) else str(tailoring)],
        [t("as_of", lang), show_date(run.get("as_of"), style, lang)],
        [_l("finished_at", lang), show_date(run.get("finished_at"), style, lang)],
        [_l("run_id", lang), run.get("id", "")],
        [t("score", lang), doc["score"]],
        [t("grade", lang), t(f"grade_{doc['grade']}" if doc["grade"] else "grade_none", lang)],
        [t("gate", lang), "; ".join(gate_reasons(doc, lang))],
        [_l("coverage_share", lang), coverage.get("share")],
    ]
    rows += [[_l(key, lang), coverage.get(key)] for key in ("applicable", "evaluated", "not_supplied", "broken")]
    rows += [[t(status, lang), doc["summary"].get(status, 0)] for status in STATUSES]
    rows += [[t("unread_heading", lang), f"{u.get('path')}: {u.get('problem')}"] for u in run.get("unread") or []]
    return rows


def _targets(doc: dict[str, Any], lang: str) -> tuple[list[str], list[list[Any]]]:
    head = [t("target", lang), t("kind", lang), t("segment", lang), t("department", lang), *_count_heads(lang)]
    rows = [[tg["id"], tg["kind"], segment_name(tg["segment"], lang), tg["department"] or "", *_counts(tg)]
            for tg in doc["targets"]]
    return head, rows


def _controls(doc: dict[str, Any], lang: str) -> tuple[list[str], list[list[Any]]]:
    head = ["ID", _l("reference", lang), _l("family", lang), t("title", lang), t("severity", lang),
            _l("mode", lang), *_count_heads(lang), _l("rationale", lang), t("remediation", lang)]
    rows = [[c["id"], c.get("reference", ""), c.get("family", ""), c.get("title", ""),
             t(f"severity_{c['severity']}", lang), c.get("mode", ""), *_counts(c), c.get("rationale", ""),
             c.get("remediation", "")] for c in doc["controls"]]
    return head, rows


def _waivers(doc: dict[str, Any], options: ReportOptions) -> tuple[list[str], list[list[Any]]]:
    lang, style = options.lang, options.date_style
    head = ["ID", _l("state", lang), _l("approval_number", lang), _l("approver", lang), _l("granted", lang),
            t("expires", lang), _l("days_left", lang), _l("checks", lang), t("controls", lang), t("target", lang),
            t("waived", lang), _l("matched", lang), t("reason", lang), _l("file", lang)]
    rows = [[w["id"], t(f"waiver_state_{w['state']}", lang), w.get("approval_number", ""), w.get("approver", ""),
             show_date(w.get("granted"), style, lang), show_date(w.get("expires"), style, lang), w.get("days_left"),
             ", ".join(w.get("checks") or []), ", ".join(w.get("controls") or []), ", ".join(w.get("targets") or []),
             w.get("waived", 0), w.get("matched", 0), w.get("reason", ""), _place(w)]
            for w in doc.get("waivers") or []]
    return head, rows


def _attestations(doc: dict[str, Any], options: ReportOptions) -> tuple[list[str], list[list[Any]]]:
    lang, style = options.lang, options.date_style
    head = [t("controls", lang), _l("checks", lang), t("target", lang), _l("attested_by", lang),
            _l("attested_on", lang), _l("valid_until", lang), _l("state", lang), _l("document", lang), "SHA-256",
            _l("used", lang), _l("file", lang)]
    rows = [[a.get("control") or "", a.get("check") or "", ", ".join(a.get("targets") or []),
             a.get("attested_by", ""), show_date(a.get("attested_on"), style, lang),
             show_date(a.get("valid_until"), style, lang), _state(a.get("state"), lang), a.get("document", ""),
             a.get("sha256") or "", a.get("used", 0), _place(a)] for a in doc.get("attestations") or []]
    return head, rows


def _state(state: Any, lang: str) -> str:
    return _l(f"state_{state}", lang) if f"state_{state}" in LABELS else str(state or "")


def _place(entry: dict[str, Any]) -> str:
    file, line = entry.get("file") or "", entry.get("line")
    return f"{file}:{line}" if file and line else file


def _moment(doc: dict[str, Any]) -> datetime:
    """The run's finish in UTC (what the workbook's properties and zip members record); 2000-01-01 without one."""
    try:
        moment = datetime.fromisoformat(str(doc["run"].get("finished_at")).replace("Z", "+00:00"))
    except ValueError:
        return datetime(2000, 1, 1)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose members all carry one time, so that the same workbook is the same bytes."""

    def __init__(self, file: io.BytesIO, moment: datetime) -> None:
        super().__init__(file, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        year = min(max(moment.year, 1980), 2107)  # the range a zip's date field holds
        self.moment = (year, moment.month, moment.day, moment.hour, moment.minute, moment.second)

    def writestr(self, zinfo_or_arcname: Any, data: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(zinfo_or_arcname, str):
            zinfo_or_arcname = zipfile.ZipInfo(zinfo_or_arcname, date_time=self.moment)
            zinfo_or_arcname.compress_type = zipfile.ZIP_DEFLATED
            zinfo_or_arcname.external_attr = 0o100644 << 16  # a regular file
        super().writestr(zinfo_or_arcname, data, *args, **kwargs)

    def write(self, filename: Any, arcname: Any = None, *args: Any, **kwargs: Any) -> None:
        """openpyxl writes each sheet from a temporary file: its content, with the fixed time."""
        with open(filename, "rb") as part:
            self.writestr(str(arcname or filename), part.read())


@register("xlsx")
def render(doc: dict[str, Any], options: ReportOptions) -> bytes:
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    doc = for_view(doc, options.view, options.lang)
    lang = options.lang
    wb = Workbook()
    summary = wb.active
    summary.title = SHEETS["summary"][lang]
    _table(summary, [_l("field", lang), _l("value", lang)], _summary(doc, options))
    _table(wb.create_sheet(SHEETS["targets"][lang]), *_targets(doc, lang))
    _table(wb.create_sheet(SHEETS["results"][lang]), header(lang), result_rows(doc, options), wrap=True)
    _table(wb.create_sheet(SHEETS["controls"][lang]), *_controls(doc, lang))
    _table(wb.create_sheet(SHEETS["waivers"][lang]), *_waivers(doc, options))
    if doc.get("attestations"):
        _table(wb.create_sheet(SHEETS["attestations"][lang]), *_attestations(doc, options))
    moment = _moment(doc)
    wb.properties.created = wb.properties.modified = moment
    wb.properties.creator = wb.properties.lastModifiedBy = "auditor"
    wb.properties.title = t("report_title", lang)
    buffer = io.BytesIO()
    ExcelWriter(wb, _FixedTimeZip(buffer, moment)).save()
    return buffer.getvalue()

