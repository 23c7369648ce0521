"""The cloud service register (クラウドサービス利用台帳): which external services hold which data.

GL-F05 asks that a service handling confidentiality-2 data or higher is approved before use,
entered in this register, and ISMAP-listed (or assessed equivalently) where the profile asks
(``require_ismap``). Known headers are サービス名 / 事業者 / 機密性 / 承認者 / 承認日 /
ISMAP登録番号 and Service / Provider / Confidentiality / Approved By / Approved On / ISMAP;
``--mapping`` (``auditor-cloud-mapping/1``) names others. The classification is read as the
asset register reads it (``機密性2`` → level 2, label kept); the ISMAP column is kept as written
(a registration number, or the name of the equivalent assessment), empty meaning none.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from auditor.evidence.importers import register
from auditor.evidence.importers.csvrows import TableFile, column_names, date_column, records, text_column
from auditor.evidence.importers.registers import class_columns, mapping_schema, required_text
from auditor.evidence.importers.tabular import SpreadsheetImporter

AREA = "cloud_services"
FORMAT = "auditor-cloud-mapping/1"
COLUMNS: dict[str, tuple[str, ...]] = {
    "service": ("サービス名", "service", "service name"),
    "provider": ("事業者", "提供事業者", "provider"),
    "confidentiality": ("機密性", "情報の機密性", "data classification", "classification", "confidentiality"),
    "approved_by": ("承認者", "approved by", "approved_by"),
    "approved_on": ("承認日", "approved on", "approved_on", "approval date"),
    "ismap_id": ("ISMAP登録番号", "ISMAP", "ismap_id", "ismap registration"),
}
HINT = " (name it with --mapping, format auditor-cloud-mapping/1)"
MAPPING_SCHEMA = mapping_schema(FORMAT, COLUMNS)


def cloud_batches(file: BinaryIO, table_name: str, mapping: dict[str, Any] | None,
                  sheet: str | None = None) -> tuple[Iterator[list[dict[str, Any]]], TableFile]:
    """The ``cloud_services`` records of an open file batch by batch, and the file (header read now)."""
    columns = column_names(COLUMNS, mapping)
    opened = TableFile(file, table_name, sheet, columns["service"], HINT)
    header = opened.header
    service_index = header.require("service-name", *columns["service"], hint=HINT, exclusive=True)
    class_index = header.require("data-classification", *columns["confidentiality"], hint=HINT, exclusive=True)
    texts = {key: header.column(*columns[key], exclusive=True) for key in ("provider", "approved_by", "ismap_id")}
    approved_index = header.column(*columns["approved_on"], exclusive=True)

    def batches() -> Iterator[list[dict[str, Any]]]:
        shared: dict[Any, Any] = {}
        dates: dict[Any, str | None] = {}
        for table in opened.rows:
            facts: dict[str, list[Any]] = {}
            required_text(table, service_index, "service name", facts, "service")
            for key, index in texts.items():
                if (values := text_column(table, index)) is not None:
                    facts[key] = values
            class_columns(table, class_index, facts, "confidentiality", shared)
            if (found := date_column(table, approved_index, dates)) is not None:
                facts["approved_on"] = found
            yield records(table, facts)

    return batches(), opened


class CloudRegisterImporter(SpreadsheetImporter):
    name = "cloud-register"
    target_kind = "organization"
    description = "cloud service register: classification, approval, ISMAP (CSV or XLSX; --sheet, --mapping)"
    area = AREA
    mapping_schema = MAPPING_SCHEMA
    values_key = "status_values"
    batches_of = staticmethod(cloud_batches)


@register("cloud-register")
def cloud_register_importer() -> CloudRegisterImporter:
    return CloudRegisterImporter()
