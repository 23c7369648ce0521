"""Backup job status (バックアップ実施記録) as backup software exports it, or as the city keeps it.

GL-D14 asks that important data is backed up within ``backup_max_age_days`` and that a restore
is tested within ``restore_test_interval_days``. Backup products export their job list as CSV
(job name, protected system, last successful run as ``2026/11/02 8:41:07``); the restore test
is usually a column the operator adds in Excel. Known headers are ジョブ名 / 対象システム /
最終成功日 / 最終リストアテスト日 and Job Name / System / Last Success / Last Restore Test;
``--mapping`` (``auditor-backup-mapping/1``) names others. A time after the date is dropped:
the checks count days. An empty date means never, which the checks report.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from auditor.evidence.importers import register
from auditor.evidence.importers.csvrows import TableFile, column_names, date_column, records, text_column
from auditor.evidence.importers.registers import mapping_schema, required_text
from auditor.evidence.importers.tabular import SpreadsheetImporter

AREA = "backup_jobs"
FORMAT = "auditor-backup-mapping/1"
COLUMNS: dict[str, tuple[str, ...]] = {
    "job": ("ジョブ名", "job", "job name", "job_name"),
    "system": ("対象システム", "システム名", "system"),
    "last_success": ("最終成功日", "最終成功日時", "last success", "last successful backup", "last_success"),
    "last_restore_test": ("最終リストアテスト日", "リストアテスト日", "復元テスト日", "last restore test",
                          "last_restore_test"),
}
HINT = " (name it with --mapping, format auditor-backup-mapping/1)"
MAPPING_SCHEMA = mapping_schema(FORMAT, COLUMNS)


def backup_batches(file: BinaryIO, table_name: str, mapping: dict[str, Any] | None,
                   sheet: str | None = None) -> tuple[Iterator[list[dict[str, Any]]], TableFile]:
    """The ``backup_jobs`` records of an open file batch by batch, and the file (header read now)."""
    columns = column_names(COLUMNS, mapping)
    opened = TableFile(file, table_name, sheet, columns["job"], HINT)
    header = opened.header
    job_index = header.require("job-name", *columns["job"], hint=HINT, exclusive=True)
    system_index = header.column(*columns["system"], exclusive=True)
    success_index = header.require("last-success", *columns["last_success"], hint=HINT, exclusive=True)
    restore_index = header.column(*columns["last_restore_test"], exclusive=True)

    def batches() -> Iterator[list[dict[str, Any]]]:
        systems: dict[Any, Any] = {}
        memo: dict[str, dict[Any, str | None]] = {"last_success": {}, "last_restore_test": {}}
        for table in opened.rows:
            facts: dict[str, list[Any]] = {}
            required_text(table, job_index, "job name", facts, "job")
            if (values := text_column(table, system_index, systems)) is not None:
                facts["system"] = values
            for key, index in (("last_success", success_index), ("last_restore_test", restore_index)):
                if (dates := date_column(table, index, memo[key])) is not None:
                    facts[key] = dates
            yield records(table, facts)

    return batches(), opened


class BackupLogImporter(SpreadsheetImporter):
    name = "backup-log"
    target_kind = "organization"
    description = "backup jobs: last success and last restore test (CSV or XLSX; --sheet, --mapping)"
    area = AREA
    mapping_schema = MAPPING_SCHEMA
    values_key = "status_values"
    batches_of = staticmethod(backup_batches)


@register("backup-log")
def backup_log_importer() -> BackupLogImporter:
    return BackupLogImporter()
