"""``auditpol /get /category:* /r``: the effective system audit policy, one CSV row per subcategory.

The report format is ``Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion
Setting,Exclusion Setting`` (some builds add ``Setting Value``), unquoted, with an empty line
after the header. On a localised Windows the header, the subcategory names and the settings
are translated, and a redirected file is in the console's code page (CP932 on Japanese
Windows; UTF-16 LE when PowerShell 5.1's ``>`` wrote it). The column order is fixed, so an
English header is read by name and any other by position; the GUID column, the same in every
language, is checked on every row so that another six-column CSV is not taken for a report.

Inclusion settings are read in English and Japanese (``成功``, ``失敗``, ``成功および失敗``,
``監査なし`` as Windows' ja-JP resources write them); anything else is refused with its line.
``/backup`` files share the layout: their ``Option:...`` rows (global options with no GUID)
are passed over.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from auditor.evidence.bundle import BundleBuilder
from auditor.evidence.importers import add_source, register
from auditor.evidence.importers.csvrows import Table, TableFile, shown

from auditor.errors import InputError

AREA = "audit_policy"
HEADER = ("Machine Name", "Policy Target", "Subcategory", "Subcategory GUID", "Inclusion Setting",
          "Exclusion Setting")
SUBCATEGORY, GUID, INCLUSION = 2, 3, 4  # positions in the report's fixed column order
GUID_FORM = re.compile(r"(\{)?([0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12})(?(1)\})")
SETTINGS = {  # inclusion setting → (success, failure)
    "success and failure": (True, True), "success": (True, False), "failure": (False, True),
    "no auditing": (False, False),
    "成功および失敗": (True, True), "成功": (True, False), "失敗": (False, True), "監査なし": (False, False),
}


def fold(text: str) -> str:
    """How settings and header names are compared: width-normalised, case-folded, single-spaced."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def columns(table: Table) -> tuple[int, int, int]:
    """Positions of the subcategory name, GUID and inclusion setting: by name in English, else by place."""
    names = [fold(h) for h in table.header]
    if {fold(h) for h in HEADER} <= set(names):
        return (table.require("subcategory", "Subcategory"), table.require("GUID", "Subcategory GUID"),
                table.require("inclusion setting", "Inclusion Setting"))
    if len(names) not in (len(HEADER), len(HEADER) + 1):
        raise table.error(f"not auditpol /r output: expected the header {','.join(HEADER)} (or its translation, "
                          f"{len(HEADER)} columns), found {len(names)} columns", table.header_line)
    return SUBCATEGORY, GUID, INCLUSION


def subcategories_from(table: Table, batches: Iterable[Table] | None = None) -> list[dict[str, Any]]:
    """One record per subcategory row: GUID (upper-case, braced), name, success, failure, source row.

    ``table`` is the whole report, or its header when ``batches`` gives the rows batch by batch.
    """
    name_at, guid_at, inclusion_at = columns(table)
    found: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    rows = ((fields, line) for batch in batches for fields, line in zip(batch.rows, batch.lines, strict=True)) \
        if batches is not None else zip(table.rows, table.lines, strict=True)
    for fields, line in rows:
        name, raw_guid = fields[name_at].strip(), fields[guid_at].strip()
        if not raw_guid and name.startswith("Option:"):
            continue
        match = GUID_FORM.fullmatch(raw_guid.upper())
        if match is None:
            raise table.error(f"expected a subcategory GUID such as {{0CCE9215-69AE-11D9-BED3-505054503030}}, "
                              f"found {shown(raw_guid)}", line, guid_at)
        guid = "{" + match[2] + "}"
        if guid in seen:
            raise table.error(f"subcategory {guid} appears twice (first on line {seen[guid]})", line, guid_at)
        seen[guid] = line
        setting = SETTINGS.get(fold(fields[inclusion_at]))
        if setting is None:
            raise table.error("expected Success, Failure, Success and Failure or No Auditing (成功, 失敗, "
                              f"成功および失敗, 監査なし), found {shown(fields[inclusion_at])}", line, inclusion_at)
        found.append({"guid": guid, "name": name, "success": setting[0], "failure": setting[1],
                      "source": {"file": table.name, "line": line}})
    if not found:
        raise table.error("no subcategory rows below the header: not the output of "
                          "auditpol /get /category:* /r", table.header_line)
    return found


class AuditPolImporter:
    name = "auditpol"
    target_kind = "endpoint"
    description = "auditpol /get /category:* /r > FILE (Windows audit policy, any language)"

    def read(self, path: Path, data: bytes, builder: BundleBuilder) -> None:
        self.read_stream(path, io.BytesIO(data), builder)

    def read_stream(self, path: Path, file: BinaryIO, builder: BundleBuilder) -> None:
        name = str(path)
        if AREA in builder.facts:
            raise InputError(name, "a second auditpol report for the same target: import each file as its own "
                             "bundle")
        opened = TableFile(file, name, workbooks=False)
        found = subcategories_from(opened.header, opened.rows)
        encoding, digest = opened.finish()
        for area in ("os", AREA):
            add_source(builder, name, f"auditpol ({encoding})", digest, area)
        builder.set_fact("os", {"family": "windows"})
        builder.set_fact(AREA, {"subcategories": found})


@register("auditpol")
def auditpol_importer() -> AuditPolImporter:
    return AuditPolImporter()
