"""The asset register (資産台帳 / 情報資産台帳): every device and information asset the city keeps.

Two controls read it: GL-C15 compares it with the run's collected endpoints (each collected
endpoint registered, each registered one with fresh evidence), and GL-E04 asks that every
asset carries its three classes (機密性・完全性・可用性). The register is kept in Excel by the
情報政策課, so the import reads the workbook or Excel's CSV as the roster import does, with
Japanese or English headers (資産番号 / asset_id, ホスト名 / host_name, 機密性 / confidentiality,
状態 / status ...) and ``--mapping`` (``auditor-asset-mapping/1``) for others::

    format: auditor-asset-mapping/1
    columns: {asset_id: 管理番号, host_name: 端末名}
    status_values: {active: [利用中], disposed: [返却済]}

A class is read as its level (``機密性2``, ``2``, ``2B`` → 2) beside the label as written; a
label that is not a level (``高``) keeps level null, so GL-E04 lists it instead of guessing.
A status that is none of the known labels is ``other``, kept with its label.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from auditor.evidence.importers import register
from auditor.evidence.importers.csvrows import (
    TableFile,
    column_names,
    records,
    text_column,
    value_map,
)
from auditor.evidence.importers.registers import categories, class_columns, mapping_schema, required_text
from auditor.evidence.importers.tabular import SpreadsheetImporter

AREA = "asset_register"
FORMAT = "auditor-asset-mapping/1"
COLUMNS: dict[str, tuple[str, ...]] = {
    "asset_id": ("資産番号", "管理番号", "asset_id", "asset id"),
    "host_name": ("ホスト名", "コンピュータ名", "host_name", "hostname", "host name"),
    "kind": ("種別", "機器種別", "kind", "type"),
    "department": ("所属", "管理部署", "department"),
    "owner": ("管理者", "管理責任者", "owner"),
    "confidentiality": ("機密性", "confidentiality"),
    "integrity": ("完全性", "integrity"),
    "availability": ("可用性", "availability"),
    "location": ("設置場所", "保管場所", "location"),
    "status": ("状態", "稼働状況", "status"),
}
STATUS_VALUES: dict[str, tuple[str, ...]] = {
    "active": ("稼働", "稼動", "稼働中", "使用中", "運用中", "active", "in use"),
    "disposed": ("廃棄", "廃棄済", "廃棄済み", "廃止", "除却", "disposed", "retired"),
    "stored": ("保管", "予備", "休止", "未使用", "stored", "spare"),
}
CATEGORIES = ("active", "disposed", "stored", "other")
CLASSES = ("confidentiality", "integrity", "availability")
HINT = " (name it with --mapping, format auditor-asset-mapping/1)"

MAPPING_SCHEMA = mapping_schema(FORMAT, COLUMNS, CATEGORIES)


def asset_batches(file: BinaryIO, table_name: str, mapping: dict[str, Any] | None,
                  sheet: str | None = None) -> tuple[Iterator[list[dict[str, Any]]], TableFile]:
    """The ``asset_register`` records of an open file batch by batch, and the file (header read now)."""
    columns = column_names(COLUMNS, mapping)
    statuses = value_map(STATUS_VALUES, (mapping or {}).get("status_values"))
    opened = TableFile(file, table_name, sheet, columns["asset_id"], HINT)
    header = opened.header
    id_index = header.require("asset-id", *columns["asset_id"], hint=HINT, exclusive=True)
    plain = {key: header.column(*columns[key], exclusive=True)
             for key in ("host_name", "kind", "department", "owner", "location")}
    classes = {key: header.column(*columns[key], exclusive=True) for key in CLASSES}
    status_index = header.column(*columns["status"], exclusive=True)

    def batches() -> Iterator[list[dict[str, Any]]]:
        shared: dict[str, dict[Any, Any]] = {key: {} for key in (*plain, *CLASSES, "status")}
        known: dict[str | None, str] = {None: "other"}
        for table in opened.rows:
            facts: dict[str, list[Any]] = {}
            required_text(table, id_index, "asset id", facts, "asset_id")
            for key, index in plain.items():
                if (values := text_column(table, index, shared[key] if key != "host_name" else None)) is not None:
                    facts[key] = values
            for key, index in classes.items():
                class_columns(table, index, facts, key, shared[key])
            if status_index is not None:
                facts["status"], facts["status_label"] = categories(table, status_index, statuses,
                                                                    shared["status"], known)
            yield records(table, facts)

    return batches(), opened


class AssetRegisterImporter(SpreadsheetImporter):
    name = "asset-register"
    target_kind = "organization"
    description = "asset register 資産台帳 (CSV or XLSX; --sheet, --mapping)"
    area = AREA
    mapping_schema = MAPPING_SCHEMA
    values_key = "status_values"
    batches_of = staticmethod(asset_batches)


@register("asset-register")
def asset_register_importer() -> AssetRegisterImporter:
    return AssetRegisterImporter()
