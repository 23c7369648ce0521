"""What the table-reading importers share: their options and how their records are added.

Two families: exports whose times are local clock readings without an offset (AD users,
hot fixes), which take ``--utc-offset`` and refuse ``--mapping``/``--sheet``; and the
organisation's spreadsheets (HR roster, training), which take a column mapping and an
XLSX sheet and add their records to one list area.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import timezone
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from auditor.evidence.bundle import BundleBuilder
from auditor.evidence.importers import ImportOptions, add_source
from auditor.evidence.importers.csvrows import TableFile, load_mapping, parse_offset

from auditor.errors import InputError
from auditor.memory import paused_gc


class LocalTimeImporter:
    """A CSV export in a product's own column names, with local times (``--utc-offset``)."""

    name: ClassVar[str]
    columns_owner: ClassVar[str]  # whose column names the export uses, for the --mapping refusal

    def __init__(self) -> None:
        self.zone: timezone = parse_offset("+09:00")

    def configure(self, options: ImportOptions) -> None:
        """Take the time zone of the export's local times; refuse options this kind cannot use."""
        try:
            self.zone = parse_offset(options.utc_offset)
        except ValueError as exc:
            raise InputError("--utc-offset", str(exc)) from None
        if options.mapping is not None:
            raise InputError(options.mapping, f"--mapping is for hr-roster and training: the {self.name} import "
                             f"reads {self.columns_owner}'s own column names")
        if options.sheet is not None:
            raise InputError("--sheet", f"the {self.name} import reads CSV, which has no sheets")


# (open file, its name, the mapping, the sheet) → the records batch by batch (read as they are asked
# for), and the TableFile they are read from (its header read already)
BatchesParser = Callable[[BinaryIO, str, "dict[str, Any] | None", "str | None"],
                         "tuple[Iterator[list[dict[str, Any]]], TableFile]"]


class SpreadsheetImporter:
    """A CSV or XLSX table kept by the organisation, with ``--mapping`` for its own column names."""

    name: ClassVar[str]
    area: ClassVar[str]
    mapping_schema: ClassVar[dict[str, Any]]
    values_key: ClassVar[str | tuple[str, ...]]  # the mapping's sections that relabel values (statuses, marks)
    batches_of: ClassVar[BatchesParser]

    def __init__(self) -> None:
        self.mapping: dict[str, Any] | None = None
        self.sheet: str | None = None

    def configure(self, options: ImportOptions) -> None:
        """Load the column mapping first, so that a mistake in it is reported before any export is read."""
        if options.mapping is not None:
            self.mapping = load_mapping(options.mapping, self.mapping_schema, self.values_key)
        self.sheet = options.sheet

    def read(self, path: Path, data: bytes, builder: BundleBuilder) -> None:
        self.read_stream(path, io.BytesIO(data), builder)

    def read_stream(self, path: Path, file: BinaryIO, builder: BundleBuilder) -> None:
        """Read the table batch by batch as the file is read (see csvrows), hashing its bytes on the way;
        each batch of records goes to the builder before the next is read."""
        name = str(path)
        with paused_gc():
            batches, opened = type(self).batches_of(file, name, self.mapping, self.sheet)
            builder.add_records(self.area, [])  # the area is there for a table without rows too
            for found in batches:
                builder.add_records(self.area, found)
        reader, digest = opened.finish()
        add_source(builder, name, f"{self.name} ({reader})", digest, self.area)
