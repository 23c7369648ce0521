"""The vendor contract list (委託先・契約一覧): which vendor staff hold which directory IDs, until when.

GL-F03 asks that vendor staff use individual IDs that end with the contract: the directory's
accountExpires is set, is not after the contract's end, and spans no more than
``vendor_account_max_days``. The list is kept in Excel with one row per contract and the staff
IDs in one cell (``v-sato01, v-suzuki02`` — separated by commas, 、, semicolons, slashes, spaces
or line breaks). The import writes one ``vendor_accounts`` record per ID, each citing its
contract's row, so that the directory check can look an account up; a contract with no IDs
listed is kept as one record without an account (it is in the register, and has nothing to
compare). Known headers: 委託先 / 契約名 / アカウント / 契約開始日 / 契約終了日 and Vendor /
Contract / Accounts / Start / End; ``--mapping`` (``auditor-vendor-mapping/1``) names others.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from auditor.evidence.importers import register
from auditor.evidence.importers.csvrows import TableFile, column_names, date_column, records, text_column
from auditor.evidence.importers.registers import mapping_schema, required_text
from auditor.evidence.importers.tabular import SpreadsheetImporter

AREA = "vendor_accounts"
FORMAT = "auditor-vendor-mapping/1"
COLUMNS: dict[str, tuple[str, ...]] = {
    "vendor": ("委託先", "委託先名", "事業者名", "vendor"),
    "contract": ("契約名", "契約件名", "contract"),
    "accounts": ("アカウント", "作業員ID", "作業員アカウント", "accounts", "account", "staff accounts"),
    "contract_start": ("契約開始日", "契約期間開始", "start", "contract_start", "contract start"),
    "contract_end": ("契約終了日", "契約期間終了", "end", "contract_end", "contract end"),
}
HINT = " (name it with --mapping, format auditor-vendor-mapping/1)"
MAPPING_SCHEMA = mapping_schema(FORMAT, COLUMNS)
_SEPARATORS = re.compile(r"[,、;；/／\s]+")


def account_ids(cell: str | None) -> list[str | None]:
    """The IDs written in one cell, in order, each once; ``[None]`` for an empty cell."""
    found = list(dict.fromkeys(part for part in _SEPARATORS.split(cell or "") if part))
    return found or [None]


def vendor_batches(file: BinaryIO, table_name: str, mapping: dict[str, Any] | None,
                   sheet: str | None = None) -> tuple[Iterator[list[dict[str, Any]]], TableFile]:
    """The ``vendor_accounts`` records of an open file batch by batch, and the file (header read now)."""
    columns = column_names(COLUMNS, mapping)
    opened = TableFile(file, table_name, sheet, columns["vendor"], HINT)
    header = opened.header
    vendor_index = header.require("vendor", *columns["vendor"], hint=HINT, exclusive=True)
    accounts_index = header.require("staff-accounts", *columns["accounts"], hint=HINT, exclusive=True)
    end_index = header.require("contract-end", *columns["contract_end"], hint=HINT, exclusive=True)
    contract_index = header.column(*columns["contract"], exclusive=True)
    start_index = header.column(*columns["contract_start"], exclusive=True)

    def batches() -> Iterator[list[dict[str, Any]]]:
        shared: dict[Any, Any] = {}
        memo: dict[str, dict[Any, str | None]] = {"contract_start": {}, "contract_end": {}}
        for table in opened.rows:
            facts: dict[str, list[Any]] = {}
            required_text(table, vendor_index, "vendor", facts, "vendor", shared)
            if (names := text_column(table, contract_index)) is not None:
                facts["contract"] = names
            for key, index in (("contract_start", start_index), ("contract_end", end_index)):
                if (dates := date_column(table, index, memo[key])) is not None:
                    facts[key] = dates
            cells = text_column(table, accounts_index) or []
            yield [{"account": account, **row} for row, cell in zip(records(table, facts), cells, strict=True)
                   for account in account_ids(cell)]

    return batches(), opened


class VendorContractsImporter(SpreadsheetImporter):
    name = "vendor-contracts"
    target_kind = "organization"
    description = "vendor contracts and their staff IDs (CSV or XLSX; --sheet, --mapping)"
    area = AREA
    mapping_schema = MAPPING_SCHEMA
    values_key = "status_values"
    batches_of = staticmethod(vendor_batches)


@register("vendor-contracts")
def vendor_contracts_importer() -> VendorContractsImporter:
    return VendorContractsImporter()
