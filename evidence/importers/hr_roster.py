"""The personnel roster (職員名簿) as Excel saves it: the organisation's list of who works here.

Checks compare directory accounts with it (an enabled account of someone who left), so it
is read as HR keeps it: Excel's "CSV (コンマ区切り)" (CP932) or "CSV UTF-8" (with a BOM), or
the XLSX workbook itself. Column names and status labels differ between municipalities; the
common ones (職員番号, 氏名, 所属, 在職区分, 発令日) are known, and a small mapping file
(``--mapping``, ``auditor-hr-mapping/1``) names the others::

    format: auditor-hr-mapping/1
    columns: {employee_id: 職員コード, status: 異動区分}
    status_values: {active: [在職, 会計年度任用], left: [退職, 転出, 任期満了]}
    add_status_values: {leave: [長期研修], left: [割愛退職]}

The statuses cities write are placed by default (:data:`STATUS_VALUES`): a transfer or promotion
(異動, 転任, 昇任 ...) or a planned retirement (退職予定: still at work until its date) is
``active``; leave of any kind (休職, 育児休業, 病気休暇, 産前産後休暇, 介護休業, 停職) and work at
another body while still on the city's staff (出向, 派遣) is ``leave``; retirement, resignation,
dismissal and death (定年退職, 辞職, 懲戒免職, 死亡 ...) are ``left``.

Where the export has them, the transfer and hiring facts are read too: ``previous_department``
(旧所属, 異動前所属), ``event`` (異動区分: hire, transfer, left, leave or other; ``event_values``
in the mapping relabels them; without the column, a previous department other than the current
one is a transfer) and ``hired_on`` (採用日, else the effective date of a hire). An export
without these columns gives the records it always gave.

A category ``status_values`` lists replaces that category's defaults; the others keep theirs.
``add_status_values`` (and ``add_event_values``) only add: its labels join their category and the
defaults stay, which is what a city extending the list wants. A label listed under two categories
is refused, naming the file, key and line. Any label not placed is ``other``, kept with the label
as written, so nothing is guessed (the check ``roster-statuses-recognised`` lists such rows with
their file and line). Employee numbers are kept as written (``000123``); ``match`` compares numbers
of digits only as numbers, so a roster whose leading zeros Excel dropped still matches the directory.
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
    text_column,
    value_map,
)
from auditor.evidence.importers.tabular import SpreadsheetImporter

from auditor.memory import paused_gc

AREA = "hr_roster"
FORMAT = "auditor-hr-mapping/1"
COLUMNS: dict[str, tuple[str, ...]] = {  # fact → header names tried in order (case-insensitive)
    "employee_id": ("職員番号", "employee_id"),
    "name": ("氏名", "name"),
    "department": ("所属", "department"),
    "status": ("在職区分", "status"),
    "effective_date": ("発令日", "effective_date"),
    "previous_department": ("旧所属", "異動前所属", "前所属", "previous_department"),
    "event": ("異動区分", "発令区分", "異動事由", "event"),
    "hired_on": ("採用日", "採用年月日", "hired_on"),
}
STATUS_VALUES: dict[str, tuple[str, ...]] = {
    # at work: the post may have changed (a status column that holds the 発令, as 異動区分 often does)
    "active": ("在職", "現職", "会計年度任用", "任期付", "再任用", "採用", "新規採用", "中途採用",
               "異動", "転任", "配置換", "配置換え", "所属変更", "昇任", "昇格", "復職", "出向受入",
               "退職予定"),  # still at work until the date; the leaver checks count from 退職
    "left": ("退職", "転出", "死亡退職", "定年退職", "任期満了", "辞職", "普通退職", "勧奨退職",
             "早期退職", "自己都合退職", "割愛", "免職", "懲戒免職", "分限免職", "失職", "死亡"),
    # on the staff but away: no sign-in expected, not a leaver
    "leave": ("休職", "育児休業", "育休", "病気休暇", "病休", "産前産後休暇", "産休", "介護休業",
              "介護休暇", "停職", "休業", "自己啓発等休業", "配偶者同行休業", "出向", "派遣"),
}
CATEGORIES = ("active", "left", "leave", "other")
EVENT_VALUES: dict[str, tuple[str, ...]] = {  # what the row's 発令 was: the transfer and new-staff checks read it
    "hire": ("採用", "新規採用", "中途採用", "再任用"),
    "transfer": ("異動", "転任", "配置換", "配置換え", "所属変更", "出向"),
    "left": ("退職", "転出", "死亡退職", "任期満了", "定年退職"),
    "leave": ("休職", "育児休業", "復職"),
}
EVENTS = (*EVENT_VALUES, "other")

_LABELS = {"type": "list", "schema": {"type": ["string", "integer"], "empty": False}}
MAPPING_SCHEMA: dict[str, Any] = {
    "format": {"type": "string", "required": True, "allowed": [FORMAT]},
    "columns": {"type": "dict", "schema": {key: {"type": "string", "empty": False} for key in COLUMNS}},
    "status_values": {"type": "dict", "schema": {category: _LABELS for category in CATEGORIES}},
    "add_status_values": {"type": "dict", "schema": {category: _LABELS for category in CATEGORIES}},
    "event_values": {"type": "dict", "schema": {event: _LABELS for event in EVENTS}},
    "add_event_values": {"type": "dict", "schema": {event: _LABELS for event in EVENTS}},
}
VALUES_SECTIONS = ("status_values", "add_status_values")


def roster_from(table_name: str, data: bytes, mapping: dict[str, Any] | None,
                sheet: str | None = None) -> tuple[list[dict[str, Any]], str]:
    """The ``hr_roster`` records of one roster file, and what read it (encoding or ``xlsx``)."""
    found, opened = roster_rows(io.BytesIO(data), table_name, mapping, sheet)
    return found, opened.finish()[0]


def roster_rows(file: BinaryIO, table_name: str, mapping: dict[str, Any] | None,
                sheet: str | None = None) -> tuple[list[dict[str, Any]], TableFile]:
    """The ``hr_roster`` records of an open roster file, read batch by batch, and the file read."""
    with paused_gc():
        batches, opened = roster_batches(file, table_name, mapping, sheet)
        return [record for found in batches for record in found], opened


def roster_batches(file: BinaryIO, table_name: str, mapping: dict[str, Any] | None,
                   sheet: str | None = None) -> tuple[Iterator[list[dict[str, Any]]], TableFile]:
    """The ``hr_roster`` records of an open roster file batch by batch, each batch read as it is asked
    for, and the file (its header read and checked now)."""
    columns = column_names(COLUMNS, mapping)
    given = mapping or {}
    statuses = value_map(STATUS_VALUES, given.get("status_values"), given.get("add_status_values"))
    events = value_map(EVENT_VALUES, given.get("event_values"), given.get("add_event_values"))
    hint = " (name it with --mapping, format auditor-hr-mapping/1)"
    opened = TableFile(file, table_name, sheet, columns["employee_id"], hint)
    header = opened.header
    # a field named by two header columns (職員番号 and employee_id) is refused: which one is meant?
    ids_index = header.require("employee-number", *columns["employee_id"], hint=hint, exclusive=True)
    status_index = header.require("employment-status", *columns["status"], hint=hint, exclusive=True)
    optional = {key: header.column(*columns[key], exclusive=True) for key in ("name", "department")}
    dates_index = header.column(*columns["effective_date"], exclusive=True)
    previous_index = header.column(*columns["previous_department"], exclusive=True)
    event_index = header.column(*columns["event"], exclusive=True)
    hired_index = header.column(*columns["hired_on"], exclusive=True)

    def batches() -> Iterator[list[dict[str, Any]]]:
        category: dict[str | None, str] = {None: "other"}  # per distinct label: a roster has a handful
        shared: dict[str, dict[Any, Any]] = {"department": {}, "status_label": {}, "dates": {}, "hired": {}}
        kinds: dict[str | None, str | None] = {None: None}  # event label → event
        for table in opened.rows:
            ids = text_column(table, ids_index) or []
            if None in ids:
                row = ids.index(None)
                raise table.error("empty employee number: every roster row needs one", table.lines[row], ids_index)
            facts: dict[str, list[Any]] = {"employee_id": ids}
            for key, index in optional.items():
                if (values := text_column(table, index, shared.get(key))) is not None:
                    facts[key] = values
            labels = text_column(table, status_index, shared["status_label"]) or []
            for label in set(labels) - category.keys():
                category[label] = statuses.get(fold_label(label or ""), "other")
            facts["status"] = [category[label] for label in labels]
            facts["status_label"] = labels
            if (dates := date_column(table, dates_index, shared["dates"])) is not None:
                facts["effective_date"] = dates
            _events(table, facts, (previous_index, event_index, hired_index), events, kinds, shared)
            yield records(table, facts)

    return batches(), opened


def _events(table: Table, facts: dict[str, list[Any]], indexes: tuple[int | None, int | None, int | None],
            events: dict[str, str], kinds: dict[str | None, str | None], shared: dict[str, dict[Any, Any]]) -> None:
    """The transfer and hiring facts of a batch, where the export has them (nothing added otherwise).

    ``event`` comes from an event column (異動区分); without one, a row whose previous department
    (旧所属) differs from its department is a transfer. ``hired_on`` comes from a hiring-date
    column (採用日), else from the effective date of a row whose event is a hire.
    """
    previous_index, event_index, hired_index = indexes
    if (previous := text_column(table, previous_index, shared["department"])) is not None:
        facts["previous_department"] = previous
    if event_index is not None:
        labels = text_column(table, event_index, shared["status_label"]) or []
        for label in set(labels) - kinds.keys():
            kinds[label] = events.get(fold_label(label or ""), "other")
        facts["event"] = [kinds[label] for label in labels]
        facts["event_label"] = labels
    elif previous is not None and "department" in facts:
        facts["event"] = [None if before is None or now is None or fold_label(before) == fold_label(now)
                          else "transfer" for before, now in zip(previous, facts["department"], strict=True)]
    if (hired := date_column(table, hired_index, shared["hired"])) is not None:
        facts["hired_on"] = hired
    elif event_index is not None:
        dates = facts.get("effective_date") or [None] * len(facts["event"])
        facts["hired_on"] = [day if event == "hire" else None for event, day in zip(facts["event"], dates, strict=True)]


class HRRosterImporter(SpreadsheetImporter):
    name = "hr-roster"
    target_kind = "organization"
    description = "personnel roster from Excel (CSV or XLSX; --mapping for other column names)"
    area = AREA
    mapping_schema = MAPPING_SCHEMA
    values_key = VALUES_SECTIONS
    batches_of = staticmethod(roster_batches)


@register("hr-roster")
def hr_roster_importer() -> HRRosterImporter:
    return HRRosterImporter()

