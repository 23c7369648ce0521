"""``Get-HotFix | Export-Csv``: the updates Windows reports as installed (Win32_QuickFixEngineering).

Windows PowerShell 5.1 writes ``-Encoding Default`` (CP932 on Japanese Windows) with a
``#TYPE System.Management.ManagementObject#root\\cimv2\\Win32_QuickFixEngineering`` line unless
given ``-NoTypeInformation``; PowerShell 7 writes UTF-8 without it. Every field is quoted and
the export carries some thirty WMI columns (``__PATH``, ``Caption``, ``CSName``, ...), of which
three are read by name: ``HotFixID``, ``Description`` and ``InstalledOn``.

``InstalledOn`` is PowerShell's DateTime written in the exporting session's locale, without an
offset: on Japanese Windows ``2026/10/15 0:00:00``, read in the import's ``--utc-offset``. The
US form ``10/15/2026 12:00:00 AM`` cannot be told from a day-first locale and is refused naming
the row. A date alone, ``10/15/2026``, is WMI's own ``InstalledOn`` string, which Windows writes
month first whatever the locale (Get-HotFix itself reads it so): it is what
``wmic qfe list full /format:csv`` and ``Get-CimInstance Win32_QuickFixEngineering | Export-Csv``
export, and it is read as month/day/year, at midnight.

Windows leaves ``InstalledOn`` empty for some updates: such an update is kept (it is installed)
with ``installed_on: null``, takes no part in the install dates, and the bundle's ``errors``
says how many had no date. ``Description`` is not localised (``Update``, ``Security
Update``, ``Hotfix``): ``Security Update`` marks the updates behind ``last_security_installed_at``.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

from auditor.evidence.bundle import BundleBuilder
from auditor.evidence.importers import add_source, register
from auditor.evidence.importers.csvrows import BadCell, Instants, Table, TableFile, shown, text_column
from auditor.evidence.importers.tabular import LocalTimeImporter

AREA = "patches"
SECURITY_UPDATE = "security update"
EXPORT_HINT = ("; export with Get-HotFix | Export-Csv FILE (all columns), or select at least HotFixID, "
               "Description and InstalledOn")
DATE_HINT = ("expected a date such as 2026/10/15 0:00:00 (Japanese locale) or 2026-10-15T00:00:00; a US-locale "
             "date (10/15/2026 12:00:00 AM) cannot be told from a day-first one: export InstalledOn with "
             "@{n='InstalledOn';e={$_.InstalledOn.ToString('s')}}")


def hotfixes_from(table: Table, zone: timezone | Instants) -> list[dict[str, Any]]:
    """One record per update row: id, description, installed_on (instant or None), source row.

    ``zone`` may be an :class:`Instants` reader kept across the batches of one export.
    """
    hotfix_id = table.require("update id", "HotFixID", hint=EXPORT_HINT)
    installed_on = table.require("install date", "InstalledOn", hint=EXPORT_HINT)
    ids = text_column(table, hotfix_id) or []
    if None in ids:
        raise table.error("empty HotFixID: every update Get-HotFix lists has one", table.lines[ids.index(None)],
                          hotfix_id)
    try:
        parser = zone if isinstance(zone, Instants) else Instants(zone)
        dates = parser.column(list(map(_wmi_date, table.values(installed_on))))
    except BadCell as bad:
        raise table.error(f"{DATE_HINT}; found {shown(bad.value)}{bad.why()}", table.lines[bad.index],
                          installed_on) from None
    descriptions = text_column(table, table.column("Description"))
    found = []
    for row, (update, date) in enumerate(zip(ids, dates, strict=True)):
        record: dict[str, Any] = {"id": update}
        if descriptions is not None:
            record["description"] = descriptions[row]
        record["installed_on"] = date
        record["source"] = {"file": table.name, "line": table.lines[row]}
        found.append(record)
    return found


WMI_DATE = re.compile(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*")  # WMI's InstalledOn string: month first, no time


def _wmi_date(value: str) -> str:
    """WMI's own ``10/15/2026`` as ``2026-10-15`` (an impossible date is left to be refused as written)."""
    found = WMI_DATE.fullmatch(value) if value and "/" in value and ":" not in value else None
    if found is None:
        return value
    month, day, year = map(int, found.groups())
    return f"{year:04d}-{month:02d}-{day:02d}" if 1 <= month <= 12 and 1 <= day <= 31 else value


def _newest(instants: list[str]) -> str | None:
    """The latest of ISO instants, compared as moments (their offsets may differ)."""
    return max(instants, key=datetime.fromisoformat) if instants else None


def patches_from(hotfixes: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``patches`` facts of a list of updates: count, newest install dates, and the list itself."""
    patches: dict[str, Any] = {"installed_count": len(hotfixes)}
    if (newest := _newest([h["installed_on"] for h in hotfixes if h["installed_on"]])) is not None:
        patches["last_installed_at"] = newest
    security = [h["installed_on"] for h in hotfixes
                if h["installed_on"] and (h.get("description") or "").casefold() == SECURITY_UPDATE]
    if (newest_security := _newest(security)) is not None:
        patches["last_security_installed_at"] = newest_security
    patches["hotfixes"] = hotfixes
    return patches


class HotFixImporter(LocalTimeImporter):
    name = "hotfix"
    target_kind = "endpoint"
    description = "Get-HotFix | Export-Csv, or wmic qfe list full /format:csv (Windows installed updates)"
    columns_owner = "Get-HotFix"

    def read(self, path: Path, data: bytes, builder: BundleBuilder) -> None:
        self.read_stream(path, io.BytesIO(data), builder)

    def read_stream(self, path: Path, file: BinaryIO, builder: BundleBuilder) -> None:
        name = str(path)
        opened = TableFile(file, name, workbooks=False)
        table = opened.header
        table.require("update id", "HotFixID", hint=EXPORT_HINT)  # before any row: a wrong file is said first
        table.require("install date", "InstalledOn", hint=EXPORT_HINT)
        parser = Instants(self.zone)
        found = [hotfix for batch in opened.rows for hotfix in hotfixes_from(batch, parser)]
        encoding, digest = opened.finish()
        if table.column("Description") is None:
            builder.add_error(AREA, f"{name}: no Description column, so which updates are security updates "
                              "is unknown", name)
        undated = [h["id"] for h in found if h["installed_on"] is None]
        if undated:
            builder.add_error(AREA, f"{name}: {len(undated)} of {len(found)} updates have no InstalledOn date "
                              f"({', '.join(undated)}); they are counted as installed but not used for the "
                              "install dates", name)
        earlier = builder.facts.get(AREA, {}).get("hotfixes", [])
        for area in ("os", AREA):
            add_source(builder, name, f"hotfix ({encoding})", digest, area)
        builder.set_fact("os", {"family": "windows"})
        builder.set_fact(AREA, patches_from(earlier + found))


@register("hotfix")
def hotfix_importer() -> HotFixImporter:
    return HotFixImporter()
