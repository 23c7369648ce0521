"""The exceptions ledger (例外措置台帳): which departures from the policy were approved, why, until when.

The 情報政策課 keeps it in Excel, so it is read as Excel writes it: "CSV (コンマ区切り)" (CP932),
"CSV UTF-8" (with a BOM), CRLF line ends, or the XLSX workbook itself, with 和暦 or ISO dates.
Known headers, Japanese or English (case-insensitive)::

    申請番号 / number       承認番号 / approval_number   対象 / scope     理由 / reason
    承認者 / approver       承認日 / approved_on         開始日 / starts_on
    終了日, 期限 / ends_on   状態 / status                管理策 / controls

A ledger needs a 申請番号 or a 承認番号 column (what names an entry; ``number`` is the
approval number where there is no application number); every other column may
be missing, and then its key is absent from every record, so that the completeness check
reports each entry instead of guessing. ``starts_on`` is the start column where the ledger has
one, else the approval date: an exception runs from its approval. The status marks (有効,
終了, 取消 ...) are read as ``active``, ``closed`` or ``other`` (kept with the label);
``--mapping`` (``auditor-exceptions-mapping/1``) names other columns and marks::

    format: auditor-exceptions-mapping/1
    columns: {number: 受付番号, ends_on: 有効期限}
    status_values: {active: [承認済], closed: [期間満了]}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from auditor.evidence.importers import register
from auditor.evidence.importers.csvrows import (
    TableFile,
    column_names,
    date_column,
    records,
    text_column,
    value_map,
)
from auditor.evidence.importers.registers import categories, mapping_schema
from auditor.evidence.importers.tabular import SpreadsheetImporter

AREA = "exceptions_register"
FORMAT = "auditor-exceptions-mapping/1"
COLUMNS: dict[str, tuple[str, ...]] = {  # fact → header names tried in order (case-insensitive)
    "number": ("申請番号", "受付番号", "管理番号", "例外番号", "number", "id"),
    "approval_number": ("承認番号", "決裁番号", "approval_number"),
    "scope": ("対象", "対象範囲", "適用範囲", "対象システム", "scope"),
    "reason": ("理由", "例外理由", "申請理由", "reason"),
    "approver": ("承認者", "決裁者", "approver"),
    "approved_on": ("承認日", "承認年月日", "決裁日", "approved_on", "granted"),
    "starts_on": ("開始日", "適用開始日", "期間開始", "starts_on"),
    "ends_on": ("終了日", "期限", "有効期限", "適用終了日", "期間終了", "ends_on", "expires"),
    "status": ("状態", "状況", "ステータス", "status"),
    "controls": ("管理策", "対策基準", "controls"),
}
TEXTS = ("scope", "reason", "approver", "controls")
DATES = ("approved_on", "starts_on", "ends_on")
STATUS_VALUES: dict[str, tuple[str, ...]] = {
    "active": ("有効", "適用中", "承認", "承認済", "承認済み", "継続", "active"),
    "closed": ("終了", "廃止", "取消", "取消し", "取下げ", "失効", "解除", "完了", "closed", "expired", "revoked"),
}
CATEGORIES = ("active", "closed", "other")

MAPPING_SCHEMA = mapping_schema(FORMAT, COLUMNS, CATEGORIES)
HINT = " (name it with --mapping, format auditor-exceptions-mapping/1)"


def exception_batches(file: BinaryIO, table_name: str, mapping: dict[str, Any] | None,
                      sheet: str | None = None) -> tuple[Iterator[list[dict[str, Any]]], TableFile]:
    """The ``exceptions_register`` records of an open ledger batch by batch, and the file (its header
    read and checked now)."""
    columns = column_names(COLUMNS, mapping)
    statuses = value_map(STATUS_VALUES, (mapping or {}).get("status_values"))
    opened = TableFile(file, table_name, sheet, (*columns["number"], *columns["approval_number"]), HINT)
    header = opened.header
    index = {key: header.column(*names, exclusive=True) for key, names in columns.items()}
    if index["number"] is None and index["approval_number"] is None:
        header.require("entry-number", *columns["number"], *columns["approval_number"], hint=HINT)

    def batches() -> Iterator[list[dict[str, Any]]]:
        shared: dict[str, dict[Any, Any]] = {key: {} for key in COLUMNS}
        category: dict[str | None, str] = {None: "other"}
        for table in opened.rows:
            facts: dict[str, list[Any]] = {}
            for key in ("number", "approval_number", *TEXTS):
                if (values := text_column(table, index[key], shared[key])) is not None:
                    facts[key] = values
            for key in DATES:
                if (days := date_column(table, index[key], shared[key])) is not None:
                    facts[key] = days
            if "number" not in facts and "approval_number" in facts:  # a ledger numbered by approval alone
                facts["number"] = facts["approval_number"]
            if "starts_on" not in facts and "approved_on" in facts:
                facts["starts_on"] = facts["approved_on"]
            if index["status"] is not None:
                facts["status"], facts["status_label"] = categories(table, index["status"], statuses,
                                                                    shared["status"], category)
            yield records(table, facts)

    return batches(), opened


class ExceptionsRegisterImporter(SpreadsheetImporter):
    name = "exceptions-register"
    target_kind = "organization"
    description = "exceptions ledger 例外措置台帳 (CSV or XLSX; --sheet, --mapping)"
    area = AREA
    mapping_schema = MAPPING_SCHEMA
    values_key = "status_values"
    batches_of = staticmethod(exception_batches)


@register("exceptions-register")
def exceptions_register_importer() -> ExceptionsRegisterImporter:
    return ExceptionsRegisterImporter()
