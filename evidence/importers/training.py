"""Training attendance records (研修受講記録): who completed which course, and when.

Trainers keep these in Excel, so the import reads the workbook itself (the first sheet, or
``--sheet``) as well as Excel's CSV in any of Windows' encodings. Known headers are
職員番号 / 研修名 / 受講日 / 修了 and staff_id / course / date / completed; a mapping file
(``--mapping``, ``auditor-training-mapping/1``) names others and the marks used::

    format: auditor-training-mapping/1
    columns: {employee_id: 職員コード, course: 講座名, completed_on: 実施日, completed: 結果}
    completed_values: {completed: [合格], not_completed: [不合格, 欠席]}

A mark that is neither a completed nor a not-completed value is refused with its row, rather
than read as one or the other. Without a completion column, ``completed`` is absent: the
export does not say, and an attendance list is not proof of completion.
"""

from __future__ import annotations

import io
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
from auditor.evidence.importers.tabular import SpreadsheetImporter

from auditor.memory import paused_gc

AREA = "training_records"
FORMAT = "auditor-training-mapping/1"
COLUMNS: dict[str, tuple[str, ...]] = {
    "employee_id": ("職員番号", "staff_id", "employee_id"),
    "course": ("研修名", "course"),
    "completed_on": ("受講日", "date", "completed_on"),
    "completed": ("修了", "completed"),
}
COMPLETED_VALUES: dict[str, tuple[str, ...]] = {
    "completed": ("修了", "済", "○", "〇", "true", "yes", "1"),
    "not_completed": ("未修了", "未", "×", "false", "no", "0", ""),
}

_LABELS = {"type": "list", "schema": {"type": ["string", "integer"]}}
MAPPING_SCHEMA: dict[str, Any] = {
    "format": {"type": "string", "required": True, "allowed": [FORMAT]},
    "columns": {"type": "dict", "schema": {key: {"type": "string", "empty": False} for key in COLUMNS}},
    "completed_values": {"type": "dict", "schema": {key: _LABELS for key in COMPLETED_VALUES}},
}


def _completed(table: Table, index: int, marks: dict[str, str], memo: dict[Any, bool] | None = None) -> list[bool]:
    """Each row's mark as a boolean; XLSX booleans and 1/0 numbers are read as such (``memo``: kept
    across batches)."""
    out: list[bool] = []
    memo = {} if memo is None else memo
    for row, value in enumerate(table.values(index)):
        key = (type(value), value)
        found = memo.get(key)
        if found is None:
            if isinstance(value, bool):
                found = value
            else:
                label = "" if value is None else str(int(value) if isinstance(value, float) and value.is_integer()
                                                      else value).strip()
                category = marks.get(fold_label(label))
                if category is None:
                    known = ", ".join(sorted({k for k in marks if k}))
                    raise table.error(f"expected a completion mark ({known}, or empty), found {shown(value)}",
                                      table.lines[row], index)
                found = category == "completed"
            memo[key] = found
        out.append(found)
    return out


def records_from(table_name: str, data: bytes, mapping: dict[str, Any] | None,
                 sheet: str | None = None) -> tuple[list[dict[str, Any]], str]:
    """The ``training_records`` of one file, and what read it (encoding or ``xlsx``)."""
    found, opened = training_rows(io.BytesIO(data), table_name, mapping, sheet)
    return found, opened.finish()[0]


def training_rows(file: BinaryIO, table_name: str, mapping: dict[str, Any] | None,
                  sheet: str | None = None) -> tuple[list[dict[str, Any]], TableFile]:
    """The ``training_records`` of an open file, read batch by batch, and the file read."""
    with paused_gc():
        batches, opened = training_batches(file, table_name, mapping, sheet)
        return [record for found in batches for record in found], opened


def training_batches(file: BinaryIO, table_name: str, mapping: dict[str, Any] | None,
                     sheet: str | None = None) -> tuple[Iterator[list[dict[str, Any]]], TableFile]:
    """The ``training_records`` of an open file batch by batch, each batch read as it is asked for, and
    the file (its header read and checked now)."""
    columns = column_names(COLUMNS, mapping)
    marks = value_map(COMPLETED_VALUES, (mapping or {}).get("completed_values"))
    hint = " (name it with --mapping, format auditor-training-mapping/1)"
    opened = TableFile(file, table_name, sheet, columns["employee_id"], hint)
    header = opened.header
    # a field named by two header columns (職員番号 and staff_id) is refused: which one is meant?
    ids_index = header.require("employee-number", *columns["employee_id"], hint=hint, exclusive=True)
    course_index = header.require("course", *columns["course"], hint=hint, exclusive=True)
    dates_index = header.column(*columns["completed_on"], exclusive=True)
    completed_index = header.column(*columns["completed"], exclusive=True)

    def batches() -> Iterator[list[dict[str, Any]]]:
        courses: dict[Any, Any] = {}  # one string per course name for the whole file
        completed_memo: dict[Any, bool] = {}
        dates_memo: dict[Any, str | None] = {}
        for table in opened.rows:
            facts: dict[str, list[Any]] = {}
            for key, index in (("employee_id", ids_index), ("course", course_index)):
                values = text_column(table, index, courses if key == "course" else None) or []
                if None in values:
                    raise table.error(f"empty {key.replace('_', ' ')}: every attendance row needs one",
                                      table.lines[values.index(None)], index)
                facts[key] = values
            if (dates := date_column(table, dates_index, dates_memo)) is not None:
                facts["completed_on"] = dates
            if completed_index is not None:
                facts["completed"] = _completed(table, completed_index, marks, completed_memo)
            yield records(table, facts)

    return batches(), opened


class TrainingImporter(SpreadsheetImporter):
    name = "training"
    target_kind = "organization"
    description = "training attendance records (XLSX or CSV; --sheet, --mapping)"
    area = AREA
    mapping_schema = MAPPING_SCHEMA
    values_key = "completed_values"
    batches_of = staticmethod(training_batches)


@register("training")
def training_importer() -> TrainingImporter:
    return TrainingImporter()
