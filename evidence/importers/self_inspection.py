"""Self-inspection records (自己点検の実施記録): who inspected, when, whether it was reported, what was found.

GL-F11 asks every department and system owner to self-inspect within
``self_inspection_interval_days`` and report the result; GL-F12 that findings are tracked to
closure. The 情報政策課 collects the results in one Excel list, one row per inspection, or per
finding when an inspection found several (the department and date repeated). Known headers:
所属 / システム / 実施日 / 報告 / 指摘事項 / 対応状況 / 期限 / 完了日 and Department / System /
Performed On / Reported / Finding / Status / Due Date / Closed On; ``--mapping``
(``auditor-inspection-mapping/1``) names other columns and labels::

    format: auditor-inspection-mapping/1
    columns: {department: 課名, finding_status: 是正}
    status_values: {open: [検討中], closed: [解消]}
    reported_values: {reported: [提出済], not_reported: [未提出]}

A report mark or finding status that is none of the known labels is refused with its row
rather than read as one or the other: an unknown status must not pass as closed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from auditor.evidence.importers import register
from auditor.evidence.importers.csvrows import (
    Table,
    TableFile,
    column_names,
    date_column,
    fold_label,
    records,
    shown,
    text_column,
    value_map,
)
from auditor.evidence.importers.registers import mapping_schema
from auditor.evidence.importers.tabular import SpreadsheetImporter

AREA = "self_inspections"
FORMAT = "auditor-inspection-mapping/1"
COLUMNS: dict[str, tuple[str, ...]] = {
    "department": ("所属", "課名", "部署", "department"),
    "system": ("システム", "対象システム", "system"),
    "performed_on": ("実施日", "点検日", "performed on", "performed_on", "date"),
    "reported": ("報告", "結果報告", "報告済", "reported"),
    "finding": ("指摘事項", "指摘", "finding"),
    "finding_status": ("対応状況", "是正状況", "status", "finding_status"),
    "due_date": ("期限", "是正期限", "対応期限", "due date", "due_date"),
    "closed_on": ("完了日", "是正完了日", "closed on", "closed_on"),
}
STATUS_VALUES: dict[str, tuple[str, ...]] = {
    "open": ("未対応", "対応中", "未完了", "未是正", "継続", "open", "in progress"),
    "closed": ("完了", "対応済", "対応済み", "是正済", "是正済み", "closed", "done"),
}
REPORTED_VALUES: dict[str, tuple[str, ...]] = {
    "reported": ("済", "済み", "報告済", "報告済み", "○", "〇", "有", "true", "yes", "1"),
    "not_reported": ("未", "未報告", "×", "無", "false", "no", "0", ""),
}
HINT = " (name it with --mapping, format auditor-inspection-mapping/1)"
_LABELS = {"type": "list", "schema": {"type": ["string", "integer"]}}
MAPPING_SCHEMA: dict[str, Any] = {
    **mapping_schema(FORMAT, COLUMNS, tuple(STATUS_VALUES)),
    "reported_values": {"type": "dict", "schema": {key: _LABELS for key in REPORTED_VALUES}},
}


def _labelled(table: Table, index: int, labels: dict[str, str], what: str, memo: dict[Any, str | None],
              empty: str | None) -> list[str | None]:
    """Each row's category of a labelled column (``empty`` for an empty cell); an unknown label is refused."""
    out: list[str | None] = []
    for row, value in enumerate(table.values(index)):
        key = (type(value), value)
        if key not in memo:
            if isinstance(value, bool):
                label = "true" if value else "false"
            else:
                label = "" if value is None else str(int(value) if isinstance(value, float) and value.is_integer()
                                                      else value).strip()
            category = labels.get(fold_label(label)) if label else empty
            if label and category is None:
                known = ", ".join(sorted({k for k in labels if k}))
                raise table.error(f"expected a {what} ({known}, or empty), found {shown(value)}{HINT}",
                                  table.lines[row], index)
            memo[key] = category
        out.append(memo[key])
    return out


def inspection_batches(file: BinaryIO, table_name: str, mapping: dict[str, Any] | None,
                       sheet: str | None = None) -> tuple[Iterator[list[dict[str, Any]]], TableFile]:
    """The ``self_inspections`` records of an open file batch by batch, and the file (header read now)."""
    columns = column_names(COLUMNS, mapping)
    statuses = value_map(STATUS_VALUES, (mapping or {}).get("status_values"))
    marks = value_map(REPORTED_VALUES, (mapping or {}).get("reported_values"))
    opened = TableFile(file, table_name, sheet, columns["department"], HINT)
    header = opened.header
    department_index = header.require("department", *columns["department"], hint=HINT, exclusive=True)
    performed_index = header.require("date-performed", *columns["performed_on"], hint=HINT, exclusive=True)
    texts = {key: header.column(*columns[key], exclusive=True) for key in ("system", "finding")}
    dates = {key: header.column(*columns[key], exclusive=True) for key in ("due_date", "closed_on")}
    reported_index = header.column(*columns["reported"], exclusive=True)
    status_index = header.column(*columns["finding_status"], exclusive=True)

    def batches() -> Iterator[list[dict[str, Any]]]:
        shared: dict[Any, Any] = {}
        memos: dict[str, dict[Any, Any]] = {key: {} for key in ("performed_on", *dates, "reported", "status")}
        for table in opened.rows:
            departments = text_column(table, department_index, shared) or []
            systems = text_column(table, texts["system"], shared)
            for row, department in enumerate(departments):
                if department is None and (systems is None or systems[row] is None):
                    raise table.error("empty department and system: every inspection row names one",
                                      table.lines[row], department_index)
            facts: dict[str, list[Any]] = {"department": departments}
            if systems is not None:
                facts["system"] = systems
            facts["performed_on"] = date_column(table, performed_index, memos["performed_on"]) or []
            if reported_index is not None:
                reported = _labelled(table, reported_index, marks, "report mark", memos["reported"], "not_reported")
                facts["reported"] = [category == "reported" for category in reported]
            if (found := text_column(table, texts["finding"])) is not None:
                facts["finding"] = found
            if status_index is not None:
                facts["finding_status"] = _labelled(table, status_index, statuses, "finding status",
                                                    memos["status"], None)
            for key, index in dates.items():
                if (values := date_column(table, index, memos[key])) is not None:
                    facts[key] = values
            yield records(table, facts)

    return batches(), opened


class SelfInspectionImporter(SpreadsheetImporter):
    name = "self-inspection"
    target_kind = "organization"
    description = "self-inspection records and their findings (CSV or XLSX; --sheet, --mapping)"
    area = AREA
    mapping_schema = MAPPING_SCHEMA
    values_key = "status_values"
    batches_of = staticmethod(inspection_batches)


@register("self-inspection")
def self_inspection_importer() -> SelfInspectionImporter:
    return SelfInspectionImporter()
