"""Shared reading of tabular exports: CSV rows with their line numbers, XLSX sheets, dates.

Every record an importer emits points at its line in the export (``source: {file, line}``),
so the row reader counts lines as the file does: the header is line 1 (2 after PowerShell's
``#TYPE`` line), and a quoted field that spans lines counts from its first line. Every way a
row can be unreadable — a wrong delimiter, a wrong number of fields, an unclosed quote —
is an :class:`InputError` naming the file and line: a row is never dropped silently, and
only a line with nothing on it (not even a character between delimiters) is skipped.

Dates come as Japanese offices write them: ISO, ``2026/4/1``, ``2026/11/02 8:41:07`` (the
Japanese-locale form of PowerShell and Excel), 和暦 (``令和7年4月1日``, ``R7.4.1``,
``平成31年4月30日``), Excel serial numbers, and Windows FileTime integers in raw AD exports.

Memory: a table is read as a header and then batches of rows (:func:`read_csv`,
:func:`read_xlsx`), each batch a :class:`Table` of its own with the header's columns, so an
importer turns one batch into records before the next is parsed. A 1-million-row export is
never held whole as bytes, text and parsed rows at once (it was: 2.8 GB for a 200 MB file);
what stays is the records kept, and when the bundle is written to a file (``auditor import``)
not even those: each batch is encoded as it comes (see ``auditor.evidence.spool``).

Speed: a 100,000-row export must import in well under two seconds, so the work is done on
whole lists in C where possible (``list(csv.reader)`` of a piece of text, ``itemgetter``
columns, memos for dates) and Python-level loops are kept for the rare cases (multi-line
fields, bad rows); a batch is large enough (a 256 KiB piece of text, a few thousand rows) that
the per-batch work is noise, and small enough to stay in the processor's cache. The cyclic
garbage collector is paused while the records are built (``auditor.memory.paused_gc``):
hundreds of thousands of new, acyclic containers otherwise trigger full collections that cost
more than the parsing.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from itertools import chain, repeat
from operator import itemgetter
from typing import Any, BinaryIO

from auditor.evidence.importers.textio import BLOCK_SIZE, Digest, TextStream, digest_file

from auditor.errors import InputError, duplicate_key
from auditor.limits import MAX_INT_DIGITS, MIB, check_size

TYPE_LINE = "#TYPE"  # PowerShell 5.1 Export-Csv without -NoTypeInformation
HEADER_SEARCH = 10  # records searched for a header row below a title (Excel sheets often have one)
# What a workbook may make openpyxl do. Excel itself stops at 1,048,576 rows and 16,384 columns (XFD);
# a sheet's XML is some 250 bytes a row, so 1 GiB holds 4 million rows of a roster.
MAX_SHEET_ROWS = 2_000_000
MAX_SHEET_COLUMNS = 16_384
MAX_WORKBOOK_MEMBER = 1024 * MIB  # one member of the zip, uncompressed (a sheet's XML, the shared strings)
MAX_WORKBOOK_MEMBERS = 10_000
XLSX_BATCH = 20_000  # sheet rows per batch
DATE_MEMO = 100_000  # distinct dates remembered per column from batch to batch


def shown(value: Any, limit: int = 60) -> str:
    """A value as an error message quotes it: its repr, cut short when long (a 5,000-digit cell)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit - 10]}...{text[-6:]} ({len(str(value)):,} characters)"


def _key(label: Any) -> str:
    return str(label).strip().casefold() if label is not None else ""


@dataclass
class Table:
    """A header row and the data rows below it, each row with its line (or sheet row) number.

    Read in batches, each batch is a Table of its own with the same header (:meth:`batch`).
    """

    name: str
    header: list[str] = field(default_factory=list)
    header_line: int = 1
    rows: list[list[Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    sheet: str | None = None
    _positions: dict[str, list[int]] | None = field(default=None, repr=False, compare=False)

    def error(self, problem: str, line: int, column: int | None = None) -> InputError:
        """An error naming the file, the line (sheet row), and the sheet and column when known."""
        where = [f"sheet {self.sheet!r}"] if self.sheet is not None else []
        if column is not None:
            where.append(f"column {self.header[column]!r}")
        return InputError(self.name, problem, where=", ".join(where) or None, line=line)

    def positions(self, name: str) -> list[int]:
        """Every index of a header name (case-insensitive), in header order."""
        if self._positions is None:
            self._positions = {}
            for index, label in enumerate(self.header):
                self._positions.setdefault(_key(label), []).append(index)
        return self._positions.get(_key(name), [])

    def column(self, *names: str, exclusive: bool = False) -> int | None:
        """Index of the first of ``names`` present in the header (case-insensitive), else None.

        A name given by two header columns is refused: which one holds the data cannot be told,
        and taking either silently could read the wrong one. With ``exclusive`` the names are
        alternative spellings of one field (職員番号 or employee_id), and two of them present
        are refused the same way.
        """
        found: list[int] = []
        for wanted in names:
            at = self.positions(wanted)
            if len(at) > 1:
                raise duplicate_key(self.name, self.header[at[0]], None, self.header_line,
                                    where=self._where_columns(at[0], at[1]), what="column")
            if at:
                if not exclusive:
                    return at[0]
                found.append(at[0])
        if len(found) > 1:
            first, second = sorted(found)[:2]
            raise InputError(self.name, f"columns {self.header[first]!r} and {self.header[second]!r} both give "
                             f"{' or '.join(map(repr, names))}: which one holds the data cannot be told; keep one "
                             "(or name one with --mapping)", where=self._where_columns(first, second),
                             line=self.header_line)
        return found[0] if found else None

    def _where_columns(self, first: int, second: int) -> str:
        sheet = f"sheet {self.sheet!r}, " if self.sheet is not None else ""
        return f"{sheet}header columns {first + 1} and {second + 1}"

    def require(self, role: str, *names: str, hint: str = "", exclusive: bool = False) -> int:
        """Index of a column the import cannot do without, else an error naming the header line."""
        index = self.column(*names, exclusive=exclusive)
        if index is None:
            shown = ", ".join(h for h in self.header if _key(h))
            raise self.error(f"no {role} column (expected {' or '.join(map(repr, names))}; "
                             f"the header has: {shown}){hint}", self.header_line)
        return index

    def values(self, index: int) -> list[Any]:
        """One column's values, row by row."""
        return list(map(itemgetter(index), self.rows))

    def batch(self, rows: list[list[Any]], lines: list[int]) -> Table:
        """A table of some of the rows below this header."""
        return Table(name=self.name, header=self.header, header_line=self.header_line, rows=rows, lines=lines,
                     sheet=self.sheet, _positions=self._positions)

    def joined(self, batches: Iterable[Table]) -> Table:
        """This header with the rows of every batch (for small exports and tests)."""
        rows: list[list[Any]] = []
        lines: list[int] = []
        for part in batches:
            rows += part.rows
            lines += part.lines
        return self.batch(rows, lines)


def _check_delimiter(text: str, name: str) -> None:
    """Refuse a semicolon- or tab-separated file before parsing reads each line as one field.

    The first line (after a ``#TYPE`` line) is the header or a title: with no comma in it but
    a ``;`` or a tab, the export was made with another delimiter (``Export-Csv -Delimiter``,
    ``-UseCulture`` in a European locale, or Excel's "Text (tab-delimited)").
    """
    def line_from(start: int) -> str:
        end = text.find("\n", start)
        return text[start:] if end < 0 else text[start:end]

    number, line = 1, line_from(0)
    if line.startswith(TYPE_LINE):
        number, line = 2, line_from(len(line) + 1)
    if "," in line:
        return
    for char, label in ((";", "semicolon"), ("\t", "tab")):
        if char in line:
            raise InputError(name, f"the header has one field but contains {char!r}: the file looks "
                             f"{label}-separated; export it comma-separated (Export-Csv without -Delimiter, "
                             "or Excel's CSV)", line=number)


def _find_header(records: list[list[Any]], lines: list[int], table: Table, locate: Iterable[str],
                 hint: str = "") -> int:
    """Set the table's header and return its position among ``records``.

    The header is the first record (after a ``#TYPE`` line), or with ``locate`` the first of
    the first few records naming one of those columns, so that title lines above an Excel
    table are passed over.
    """
    shown_names = list(dict.fromkeys(locate))
    wanted = {_key(w) for w in shown_names}
    first = 0
    if records and len(records[0]) == 1 and str(records[0][0]).startswith(TYPE_LINE):
        first = 1
    if first >= len(records):
        raise table.error("no header row: the export is empty", lines[0] if lines else 1)
    for position in range(first, min(len(records), first + HEADER_SEARCH)):
        fields = records[position]
        if not wanted or wanted & {_key(f) for f in fields}:
            table.header = [("" if f is None else str(f)).strip() for f in fields]
            table.header_line = lines[position]
            return position
    shown = ", ".join(str(f) for f in records[first] if _key(f))
    raise table.error(f"no header row naming {' or '.join(map(repr, shown_names))} in the first "
                      f"{HEADER_SEARCH} lines (line {lines[first]} has: {shown}){hint}", lines[first])


Batch = tuple[list[list[Any]], list[int]]  # records and the line (sheet row) each starts on


def csv_batches(pieces: Iterable[str], name: str) -> Iterator[Batch]:
    """Every non-empty record of comma-separated text, and the line each starts on, piece by piece.

    ``pieces`` is the text with ``\\n`` newlines, each piece but the last ending at a line end (as
    :class:`textio.TextStream` gives it); the records are those of the whole text. Quoting is
    strict, so that a stray quote is reported instead of silently merging rows. When every
    record of a piece is one line (the usual case) the piece is parsed in one C call; otherwise
    each record's first line is followed through the reader, and a record still open at the
    end of a piece (a quoted field with a line break in it) is parsed again with the next.
    """
    source = iter(pieces)
    start = 1  # the line the next text starts on
    carry = ""  # the lines of a record left open by the previous piece
    piece = next(source, None)
    while piece is not None:
        if carry:  # read on until the new text is as long as the carried one: re-parsing stays linear
            more = [piece]
            size = len(piece)
            while size < len(carry) and (extra := next(source, None)) is not None:
                more.append(extra)
                size += len(extra)
            piece = "".join(more)
        following = next(source, None)
        text, carry = carry + piece, ""
        physical = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
        try:
            records = list(csv.reader(io.StringIO(text), strict=True))
        except csv.Error:
            records = None
        if records is not None and len(records) == physical:
            lines = list(range(start, start + physical))
            start += physical
        else:
            records, lines, open_line = _tracked(text, name, start, final=following is None)
            if open_line is not None:
                carry = text[_offset_of_line(text, open_line - start):]
                start = open_line
            else:
                start += physical
        if not all(records):
            keep = [i for i, fields in enumerate(records) if fields]
            records, lines = [records[i] for i in keep], [lines[i] for i in keep]
        if records:
            yield records, lines
        piece = following
    if carry:  # not reached: a record open at the very end is refused by _tracked
        raise InputError(name, "a quoted field starting on this line is never closed (an unmatched '\"')",
                         line=start)


def _offset_of_line(text: str, count: int) -> int:
    """Where the line ``count`` lines after the text's first begins."""
    offset = 0
    for _ in range(count):
        offset = text.index("\n", offset) + 1
    return offset


def _tracked(text: str, name: str, start: int = 1,
             final: bool = True) -> tuple[list[list[str]], list[int], int | None]:
    """Records with the line each starts on, and the line of a record left open at the end of a
    text that is not the file's last (else None)."""
    reader = csv.reader(io.StringIO(text), strict=True)
    records: list[list[str]] = []
    lines: list[int] = []
    previous = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return records, lines, None
        except csv.Error as exc:
            first = start + previous
            if "end of data" in str(exc):
                if not final:
                    return records, lines, first
                raise InputError(name, "a quoted field starting on this line is never closed "
                                 "(an unmatched '\"')", line=first) from None
            if reader.line_num > previous + 1:
                raise InputError(name, f"malformed CSV: a quoted field starting on this line runs on to line "
                                 f"{start + reader.line_num - 1}, where {exc} (is a closing '\"' missing?)",
                                 line=first) from None
            raise InputError(name, f"malformed CSV: {exc}", line=first) from None
        records.append(fields)
        lines.append(start + previous)
        previous = reader.line_num


def csv_records(text: str, name: str) -> tuple[list[list[str]], list[int]]:
    """Every non-empty record of a whole text, and the line each starts on (see :func:`csv_batches`)."""
    records: list[list[str]] = []
    lines: list[int] = []
    for more, at in csv_batches([text], name):
        records += more
        lines += at
    return records, lines


def _header_and_rest(batches: Iterator[Batch], table: Table, locate: Iterable[str],
                     hint: str) -> Batch:
    """Find the header among the first records; the records below it that were read with it."""
    records: list[list[Any]] = []
    lines: list[int] = []
    for more, at in batches:
        records += more
        lines += at
        if len(records) > HEADER_SEARCH + 1:
            break
    position = _find_header(records, lines, table, locate, hint)
    return records[position + 1:], lines[position + 1:]


def read_csv(pieces: Iterable[str], name: str, locate: Iterable[str] = (),
             hint: str = "") -> tuple[Table, Iterator[Table]]:
    """The header of a CSV export (read now) and its rows, batch by batch (read as they are asked for).

    Every row is checked to have the header's field count. A record with nothing but delimiters
    (Excel writes ``,,,`` for formatted empty rows) holds no data and is skipped like an empty
    line; any other record with a different number of fields than the header is an error on its line.
    """
    source = iter(pieces)
    head: list[str] = []
    while sum(p.count("\n") for p in head) < 2 and (piece := next(source, None)) is not None:
        head.append(piece)  # the first two lines, for the delimiter check
    first = "".join(head)
    _check_delimiter(first, name)
    batches = csv_batches(chain([first], source) if first else source, name)
    table = Table(name=name)
    rows, lines = _header_and_rest(batches, table, locate, hint)

    def all_rows() -> Iterator[Table]:
        if rows:
            yield _checked(table, rows, lines)
        for more, at in batches:
            yield _checked(table, more, at)

    return table, all_rows()


def _checked(table: Table, rows: list[list[str]], row_lines: list[int]) -> Table:
    """A batch of CSV rows, each with the header's field count; rows of only delimiters left out."""
    width = len(table.header)
    if set(map(len, rows)) <= {width} and all(map(itemgetter(0), rows)):
        return table.batch(rows, row_lines)  # the usual case, checked in C
    suspects = [i for i, fields in enumerate(rows) if len(fields) != width or not fields[0]]
    skip = set()
    for i in suspects:
        if not any(rows[i]):
            skip.add(i)
        elif len(rows[i]) != width:
            raise table.error(f"expected {width} fields as in the header on line {table.header_line}, "
                              f"found {len(rows[i])}", row_lines[i])
    if skip:
        rows = [r for i, r in enumerate(rows) if i not in skip]
        row_lines = [n for i, n in enumerate(row_lines) if i not in skip]
    return table.batch(rows, row_lines)


def csv_table(text: str, name: str, locate: Iterable[str] = (), hint: str = "") -> Table:
    """The header and every row of a whole CSV text (see :func:`read_csv`)."""
    header, batches = read_csv([text], name, locate, hint)
    return header.joined(batches)


def check_workbook(file: BinaryIO, name: str) -> None:
    """Refuse a workbook whose zip members would unpack beyond :data:`MAX_WORKBOOK_MEMBER` (a zip
    bomb), before openpyxl opens it. The sizes are the zip's own record of them, which the reader
    does not go past. The file is left at its start."""
    try:
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise InputError(name, f"not a readable XLSX workbook: {exc}") from None
    finally:
        file.seek(0)
    if len(members) > MAX_WORKBOOK_MEMBERS:
        raise InputError(name, f"not a workbook Excel writes: {len(members):,} files in the zip "
                         f"(at most {MAX_WORKBOOK_MEMBERS:,} are read)")
    for member in members:
        if member.file_size > MAX_WORKBOOK_MEMBER:
            raise InputError(name, f"{member.filename} in the workbook unpacks to {member.file_size / MIB:,.0f} MiB, "
                             f"more than the {MAX_WORKBOOK_MEMBER / MIB:,.0f} MiB read from one member "
                             "(a zip bomb, or save the sheet as CSV UTF-8)")


def _xlsx_batches(file: BinaryIO, name: str, sheet: str | None, table: Table) -> Iterator[Batch]:
    """The non-empty rows of one sheet, batch by batch, each with its sheet row number.

    Read-only mode streams the sheet instead of loading it whole. The stored sheet dimension
    is not trusted to be right (some writers get it wrong), so every row is read, but an absurd
    one, or a sheet of more than :data:`MAX_SHEET_ROWS` rows, is refused. Sets the table's sheet.
    """
    try:
        import openpyxl
    except ImportError:
        raise InputError(name, "reading XLSX needs the openpyxl package (pip install openpyxl), "
                         "or save the sheet as CSV UTF-8") from None
    check_workbook(file, name)
    try:
        book = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and XML errors alike for broken files
        raise InputError(name, f"not a readable XLSX workbook: {exc}") from None
    number = 0
    try:
        try:
            if sheet is None:
                if not book.sheetnames:
                    raise InputError(name, "the workbook has no sheets")
                ws = book.worksheets[0]
            elif sheet in book.sheetnames:
                ws = book[sheet]
            else:
                raise InputError(name, f"no sheet {sheet!r} (the workbook has: {', '.join(book.sheetnames)})")
        except InputError:
            raise
        except Exception as exc:
            raise InputError(name, f"not a readable XLSX workbook: {exc}") from None
        table.sheet = ws.title
        rows, columns = ws.max_row, ws.max_column  # the sheet's own <dimension>, when it has one
        if (rows or 0) > MAX_SHEET_ROWS or (columns or 0) > MAX_SHEET_COLUMNS:
            raise table.error(f"the sheet says it spans {rows:,} rows and {columns:,} columns; at most "
                              f"{MAX_SHEET_ROWS:,} rows and {MAX_SHEET_COLUMNS:,} columns are read", 1)
        ws.reset_dimensions()
        records: list[list[Any]] = []
        lines: list[int] = []
        cells_of = iter(ws.iter_rows(values_only=True))
        while True:
            try:
                values = next(cells_of, None)
            except Exception as exc:  # a cell openpyxl cannot convert (a date beyond year 9999), broken XML
                raise table.error(f"unreadable cell or row ({type(exc).__name__}: {exc})", number + 1) from None
            if values is None:
                break
            number += 1
            if number > MAX_SHEET_ROWS:
                raise table.error(f"more than {MAX_SHEET_ROWS:,} rows in the sheet (empty rows count: Excel "
                                  "writes the row numbers)", number)
            if len(values) > MAX_SHEET_COLUMNS:
                raise table.error(f"a row of {len(values):,} cells; at most {MAX_SHEET_COLUMNS:,} columns are "
                                  "read", number)
            cells = list(values)
            while cells and (cells[-1] is None or (isinstance(cells[-1], str) and not cells[-1].strip())):
                cells.pop()
            if cells:
                records.append(cells)
                lines.append(number)
                if len(records) >= XLSX_BATCH:
                    yield records, lines
                    records, lines = [], []
        if records:
            yield records, lines
    finally:
        book.close()


def read_xlsx(file: BinaryIO, name: str, sheet: str | None, locate: Iterable[str],
              hint: str = "") -> tuple[Table, Iterator[Table]]:
    """The header of one sheet of an XLSX workbook (the first sheet unless named), and its rows
    batch by batch. Cells keep their types (numbers, dates, booleans), a row's number is the
    sheet's row number, and cells right of the header's last column are not read as data."""
    table = Table(name=name)
    batches = _xlsx_batches(file, name, sheet, table)
    try:
        rows, lines = _header_and_rest(batches, table, locate, hint)
    except BaseException:
        batches.close()
        raise
    width = len(table.header)

    def padded(rows: list[list[Any]], lines: list[int]) -> Table:
        return table.batch([(cells + [None] * (width - len(cells)))[:width] for cells in rows], lines)

    def all_rows() -> Iterator[Table]:
        if rows:
            yield padded(rows, lines)
        for more, at in batches:
            yield padded(more, at)

    return table, all_rows()


def xlsx_table(data: bytes, name: str, sheet: str | None, locate: Iterable[str], hint: str = "") -> Table:
    """The header and every row of one sheet of a workbook's bytes (see :func:`read_xlsx`)."""
    header, batches = read_xlsx(io.BytesIO(data), name, sheet, locate, hint)
    return header.joined(batches)


def records(table: Table, facts: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """One record per row from the facts' columns, each ending with its ``source`` row.

    Building whole columns first and zipping them here is several times faster than
    filling a dict per row field by field.
    """
    if table.sheet is None:
        facts["source"] = [{"file": table.name, "line": line} for line in table.lines]
    else:
        facts["source"] = [{"file": table.name, "line": line, "sheet": table.sheet} for line in table.lines]
    keys = list(facts)
    return list(map(dict, map(zip, repeat(keys), zip(*facts.values(), strict=True))))


def is_xlsx(data: bytes) -> bool:
    """An XLSX workbook is a ZIP archive; no text export starts with its signature."""
    return data[:4] == b"PK\x03\x04"


# ---------------------------------------------------------------- dates and instants

_ERAS = (  # name, one-kanji, letter, first day
    ("令和", "令", "R", date(2019, 5, 1)),
    ("平成", "平", "H", date(1989, 1, 8)),
    ("昭和", "昭", "S", date(1926, 12, 25)),
    ("大正", "大", "T", date(1912, 7, 30)),
    ("明治", "明", "M", date(1868, 1, 25)),
)
_ERA_BY_PREFIX = {prefix: (full, start) for full, kanji, letter, start in _ERAS
                  for prefix in (full, kanji, letter, letter.lower())}
_JAPANESE_DATE = re.compile(
    r"(?P<era>令和|平成|昭和|大正|明治|[令平昭大明RHSTMrhstm])?\s*(?P<y>\d{1,4}|元)\s*[年./-]\s*"
    r"(?P<m>\d{1,2})\s*[月./-]\s*(?P<d>\d{1,2})\s*日?")
DATE_FORMS = "2026-04-01, 2026/4/1, 令和7年4月1日 or R7.4.1"
INSTANT_FORMS = "2026/11/02 8:41:07 or 2026-11-02T08:41:07+09:00"
_EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01 counting Excel's non-existent 1900-02-29
FILETIME_NEVER = 9223372036854775807  # 0x7FFFFFFFFFFFFFFF


class BeforeEra(ValueError):
    """An era date before the era began (令和1年4月30日): a typing error, not a date."""


def _digits(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_INT_DIGITS:
        raise ValueError(text)
    return int(text)


def _ymd(text: str) -> date:
    """``2026/4/1``, ``2026-04-01``, ``2026.4.1``: a four-digit year first."""
    for sep in "/-.":
        if sep in text:
            parts = text.split(sep)
            if len(parts) == 3 and len(parts[0]) == 4:
                return date(_digits(parts[0]), _digits(parts[1]), _digits(parts[2]))
            break
    raise ValueError(text)


def excel_serial(serial: float) -> date:
    """The date of an Excel (1900 date system) serial day number."""
    whole = int(serial)
    if whole < 61 or whole > 2958465:  # before 1900-03-01 the count includes Excel's 1900-02-29
        raise ValueError(serial)
    return _EXCEL_EPOCH + timedelta(days=whole)


def parse_date(value: str) -> date:
    """A calendar date as Japanese exports write it; ValueError for anything else.

    A time after the date (Excel's ``2026/4/1 0:00``) is dropped: the field is a date.
    Digits alone are an Excel serial number (up to five digits) or ``YYYYMMDD`` (eight).
    An era year past the era's end is accepted (平成32年 = 2020, still valid on forms
    printed before the change); a date before the era began is not a date.
    """
    text = value.strip()
    if text.isascii():
        if text.isdigit():
            if len(text) <= 5:
                return excel_serial(int(text))
            if len(text) == 8:
                return date(int(text[:4]), int(text[4:6]), int(text[6:]))
            raise ValueError(value)
        day = text.split(" ", 1)[0].split("T", 1)[0] if text[:4].isdigit() else text
        try:
            return _ymd(day)
        except ValueError:
            pass
    else:
        text = unicodedata.normalize("NFKC", text)  # full-width digits; ㋿ → 令和, ㍻ → 平成
    match = _JAPANESE_DATE.fullmatch(text)
    if match is None:
        raise ValueError(value)
    year_text, era = match["y"], match["era"]
    if era is None:
        if len(year_text) != 4:
            raise ValueError(value)
        return date(int(year_text), int(match["m"]), int(match["d"]))
    full, start = _ERA_BY_PREFIX[era]
    era_year = 1 if year_text == "元" else int(year_text)
    if era_year < 1:
        raise ValueError(value)
    found = date(start.year + era_year - 1, int(match["m"]), int(match["d"]))
    if found < start:
        raise BeforeEra(f"{full} began on {start.isoformat()}")
    return found


def parse_offset(text: str) -> timezone:
    """``+09:00``, ``+0900``, ``-05:00`` or ``Z``: the zone of instants written without one."""
    value = text.strip()
    if value in ("Z", "UTC"):
        return UTC
    sign = {"+": 1, "-": -1}.get(value[:1])
    digits = value[1:].replace(":", "")
    if sign is None or len(digits) != 4 or not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"expected a UTC offset such as +09:00, got {text!r}")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 14 or minutes > 59:
        raise ValueError(f"expected a UTC offset such as +09:00, got {text!r}")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


class BadCell(ValueError):
    """A value that does not parse, by its position in the column being converted."""

    def __init__(self, index: int, value: Any, reason: Exception | None = None) -> None:
        super().__init__(value)
        self.index = index
        self.value = value
        self.reason = reason

    def why(self) -> str:
        """`` (reason)`` when the value is written right but is not an instant (before year 1 in UTC), else ``""``."""
        return f" ({self.reason})" if self.reason is not None and "outside the years" in str(self.reason) else ""


class Instants:
    """Reads instants into ISO text with an offset, memoising the date and the time of day.

    A 100,000-row export holds a few thousand distinct days and at most 86,400 distinct
    times of day; building a ``datetime`` for every value costs more than the rest of the
    import, so each part is converted (and validated) once and the text is joined.
    """

    def __init__(self, zone: timezone) -> None:
        self.zone = zone
        offset = zone.utcoffset(None)
        self.suffix = "+00:00" if not offset else datetime(2000, 1, 1, tzinfo=zone).isoformat()[19:]
        self.offset_seconds = int(offset.total_seconds()) if offset else 0
        self._days: dict[str, str] = {}
        self._clocks: dict[str, str] = {}
        self._ordinal_days: dict[int, str] = {}
        self._seconds: dict[int, str] = {}

    def parse(self, value: str) -> str:
        """``2026/11/02 8:41:07`` or ``2026-11-02 08:41:07`` (read in the zone) or ISO text.

        An ISO value with its own offset keeps it; a date alone is its midnight.
        """
        day, sep, clock = value.strip().partition(" ")
        if sep:
            iso_day = self._days.get(day)
            if iso_day is None:
                iso_day = _ymd(day).isoformat()
                if iso_day not in _EDGE_DAYS:  # the first and last days are checked with their time, every time
                    self._days[day] = iso_day
            iso_clock = self._clocks.get(clock)
            if iso_clock is None:
                iso_clock = self._clocks[clock] = _clock(clock)
            return _in_range(f"{iso_day}T{iso_clock}{self.suffix}")
        if len(day) < 10 or not day[:4].isdigit():
            raise ValueError(value)
        if "T" not in day:
            return _in_range(f"{_ymd(day).isoformat()}T00:00:00{self.suffix}")
        moment = datetime.fromisoformat(day)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        return _in_range(moment.isoformat(), moment)

    def column(self, values: Iterable[Any], memo: dict[Any, str | None] | None = None) -> list[str | None]:
        """A whole column at once: empty → None, digits → FileTime, text → :meth:`parse`.

        Each distinct value is converted once (most of a directory's dates repeat: creation days,
        password changes, expiry at the end of the fiscal year) and the column is then mapped in C;
        the common ``2026/11/02 8:41:07`` is served from the day and time memos. A value that
        does not parse raises :class:`BadCell` with the row of its first appearance, which is the
        first row that does not parse. ``memo`` (value → result) may be kept by the caller from one
        batch of a column to the next, so that a value repeated across batches is one string.
        """
        values = values if isinstance(values, list) else list(values)
        days, clocks, suffix = self._days, self._clocks, self.suffix
        memo = {} if memo is None else memo
        for value in dict.fromkeys(values):  # distinct values, in order of first appearance
            if value in memo:
                continue
            if not value:
                memo[value] = None
                continue
            day, _, clock = value.partition(" ")
            iso_day, iso_clock = days.get(day), clocks.get(clock)
            if iso_day is not None and iso_clock is not None:
                memo[value] = f"{iso_day}T{iso_clock}{suffix}"
                continue
            try:
                text = value.strip()
                if text.isascii() and text.isdigit():
                    if len(text) > MAX_INT_DIGITS:  # int() refuses 4,300 digits, and is slow long before
                        raise ValueError(value)
                    memo[value] = self.filetime(int(text))
                else:
                    memo[value] = self.parse(text) if text else None
            except (ValueError, OverflowError) as exc:
                raise BadCell(values.index(value), value, exc) from None
        return list(map(memo.__getitem__, values))

    def filetime(self, value: int) -> str | None:
        """A Windows FileTime (100 ns since 1601-01-01 UTC) as an instant in the zone.

        0 and 0x7FFFFFFFFFFFFFFF are AD's "never / not set": None. The instant is cut to the
        second, as the friendly properties (LastLogonDate, ...) show it, so that a raw and a
        friendly export of the same directory give the same facts.
        """
        if value in (0, FILETIME_NEVER):
            return None
        if value < 0 or value > _FILETIME_MAX:
            raise ValueError(value)
        days, seconds = divmod(value // 10_000_000 - _FILETIME_UNIX + self.offset_seconds, 86400)
        iso_day = self._ordinal_days.get(days)
        if iso_day is None:
            iso_day = self._ordinal_days[days] = date.fromordinal(_UNIX_ORDINAL + days).isoformat()
        iso_clock = self._seconds.get(seconds)
        if iso_clock is None:
            iso_clock = self._seconds[seconds] = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        return f"{iso_day}T{iso_clock}{self.suffix}"


_EDGE_DAYS = (date.min.isoformat(), date.max.isoformat())


def _in_range(iso: str, moment: datetime | None = None) -> str:
    """``iso`` when the instant it writes exists in UTC too: 0001-01-01T00:00:00+09:00 is before
    the first instant a datetime holds, and comparing it with another overflows (ValueError)."""
    if moment is None and not iso.startswith(_EDGE_DAYS):
        return iso
    try:
        (moment or datetime.fromisoformat(iso)).astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{iso} is outside the years 1 to 9999 in UTC") from None
    return iso


def _clock(text: str) -> str:
    """``8:41:07`` or ``08:41`` → ``08:41:07`` / ``08:41:00`` (24-hour, as the Japanese locale writes)."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(len(p) <= 2 for p in parts):
        raise ValueError(text)
    hour, minute = _digits(parts[0]), _digits(parts[1])
    second = _digits(parts[2]) if len(parts) == 3 else 0
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(text)
    return f"{hour:02d}:{minute:02d}:{second:02d}"


_UNIX_ORDINAL = date(1970, 1, 1).toordinal()
_FILETIME_UNIX = 11644473600  # seconds from 1601-01-01 to 1970-01-01
_FILETIME_MAX = 2650467743999999999  # 9999-12-31T23:59:59Z


# ---------------------------------------------------------------- organisation tables (CSV or XLSX)

class TableFile:
    """One tabular export being read: its header now, its rows batch by batch, then what read it.

    The file's bytes are hashed as they are read, so that the source recorded is the file's
    exact bytes without keeping them; :meth:`finish` gives the reader's name and the digest
    once the rows are read.
    """

    def __init__(self, file: BinaryIO, name: str, sheet: str | None = None, locate: Iterable[str] = (),
                 hint: str = "", workbooks: bool = True, block_size: int | None = None) -> None:
        block_size = block_size or BLOCK_SIZE  # looked up now: tests read in small blocks to cut many batches
        self.name = name
        self.file = file
        size = file.seek(0, io.SEEK_END)
        file.seek(0)
        self.workbook = workbooks and is_xlsx(file.read(4))
        file.seek(0)
        check_size(name, "workbook" if self.workbook else "table", size=size)
        self.stream: TextStream | None = None
        self._digest: Digest | None = None
        if self.workbook:
            self._digest = digest_file(file, block_size)
            file.seek(0)
            self.header, self.rows = read_xlsx(file, name, sheet, locate, hint)
            return
        if sheet is not None:
            raise InputError(name, f"--sheet {sheet!r} was given but the file is CSV, not an XLSX workbook")
        self.stream = TextStream(file, name, block_size)
        self.header, self.rows = read_csv(self.stream.pieces(), name, locate, hint)

    @property
    def ascii(self) -> bool:
        """Whether every byte of a text file was ASCII (known once its rows are read)."""
        return self.stream is not None and self.stream.ascii

    def finish(self) -> tuple[str, Digest]:
        """What read the file (``xlsx`` or the text's encoding) and its digest; any rows left unread are
        read (and checked) first."""
        for _ in self.rows:
            pass
        if self.stream is not None:
            return self.stream.encoding, self.stream.finish()
        assert self._digest is not None  # noqa: S101 - set with the workbook
        return "xlsx", self._digest


def load_table(name: str, data: bytes, sheet: str | None, locate: Iterable[str],
               hint: str = "") -> tuple[Table, str]:
    """A roster-like table from Excel's CSV (any of Windows' encodings) or an XLSX workbook, whole.

    Returns the table and what read it (``xlsx`` or the text encoding), for the source's parser.
    """
    opened = TableFile(io.BytesIO(data), name, sheet, locate, hint)
    table = opened.header.joined(opened.rows)
    return table, opened.finish()[0]


def _cell_text(value: Any) -> str | None:
    """A cell as text: XLSX numbers without a spurious ``.0`` (an id typed as a number)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip() or None


def text_column(table: Table, index: int | None, shared: dict[Any, Any] | None = None) -> list[str | None] | None:
    """A column's stripped text (None where empty); None when the column is not in the table.

    With ``shared`` (a dict kept across batches), equal values are one string: for columns that
    repeat a few values (departments, statuses), a million rows keep a handful of strings.
    """
    if index is None:
        return None
    values = table.values(index)
    if table.sheet is None:  # CSV: every cell is text; stripped in C, and empties made None only if any
        found = list(map(str.strip, values))
        if "" in found:
            found = [v or None for v in found]
    else:
        found = [v.strip() or None if type(v) is str else _cell_text(v) for v in values]
    if shared is not None:
        found = list(map(shared.setdefault, found, found))
    return found


def date_column(table: Table, index: int | None, memo: dict[Any, str | None] | None = None,
                ) -> list[str | None] | None:
    """A column's dates as ISO text (None where empty); XLSX dates, serial numbers and text alike.

    ``memo`` may be kept from one batch of the column to the next: a date repeated across batches
    is then one string (a roster has a few thousand distinct days).
    """
    if index is None:
        return None
    values = table.values(index)
    # Each distinct cell is parsed once, in order of first appearance (so the first bad row is the
    # one named). Sheet cells are told apart by type too (True and 1 are equal dict keys).
    keys = values if table.sheet is None else list(zip(map(type, values), values, strict=True))
    if memo is None:
        memo = {}
    elif len(memo) > DATE_MEMO:
        memo.clear()
    for key in dict.fromkeys(keys):
        if key in memo:
            continue
        value = key if table.sheet is None else key[1]
        try:
            memo[key] = None if value is None or value == "" else _cell_date(value)
        except (ValueError, OverflowError) as exc:
            why = f" ({exc})" if isinstance(exc, BeforeEra) else ""
            raise table.error(f"expected a date such as {DATE_FORMS}, found {shown(value)}{why}",
                              table.lines[keys.index(key)], index) from None
    return list(map(memo.__getitem__, keys))


def _cell_date(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        return excel_serial(value).isoformat()
    text = str(value).strip()
    return parse_date(text).isoformat() if text else None


def load_mapping(path: str, schema: dict[str, Any], values_key: str | tuple[str, ...]) -> dict[str, Any]:
    """A column-mapping YAML file, validated so that an error names the file, key and line.

    A label listed under two categories of ``values_key`` is refused: which one is meant
    cannot be told. ``values_key`` may name several sections that place the same values (the
    roster's ``status_values`` and ``add_status_values``): a label is then compared across them.
    """
    from auditor.schemas import validated  # Cerberus and YAML: only an import with --mapping needs them
    from auditor.yamldoc import load_yaml

    doc = load_yaml(path)
    data = validated(doc.data, schema, path, line_of=doc.line_of)
    seen: dict[str, tuple[str, str]] = {}
    for section in (values_key,) if isinstance(values_key, str) else values_key:
        for category, labels in (data.get(section) or {}).items():
            for i, label in enumerate(labels):
                key = fold_label(str(label))
                if key in seen and seen[key][1] != category:
                    where = seen[key][1] if seen[key][0] == section else ".".join(seen[key])
                    raise doc.error((section, category, i), f"{label!r} is also listed under {where}")
                seen[key] = (section, category)
    return data


def column_names(defaults: dict[str, tuple[str, ...]], mapping: dict[str, Any] | None) -> dict[str, tuple[str, ...]]:
    """The header names to look for, per field: the mapping's one name where it gives one, else the defaults."""
    named = (mapping or {}).get("columns", {})
    return {key: (named[key],) if key in named else names for key, names in defaults.items()}


def value_map(defaults: dict[str, tuple[str, ...]], given: dict[str, list[Any]] | None,
              added: dict[str, list[Any]] | None = None) -> dict[str, str]:
    """Label → category: the defaults, with each category the mapping names replaced by its list,
    and then the ``added`` labels placed in their categories on top of that.

    A label the mapping places in one category is taken out of the defaults of the others,
    so what the mapping says always wins.
    """
    given = {category: [str(v).strip() for v in labels] for category, labels in (given or {}).items()}
    placed = {label for labels in given.values() for label in labels}
    out: dict[str, str] = {}
    for category, labels in defaults.items():
        if category not in given:
            out.update((fold_label(label), category) for label in labels if label not in placed)
    for category, labels in given.items():
        out.update((fold_label(label), category) for label in labels)
    for category, labels in (added or {}).items():
        out.update((fold_label(str(label).strip()), category) for label in labels)
    return out


def fold_label(label: str) -> str:
    """How labels are compared: width-normalised (全角/半角), case-folded, without spaces."""
    return unicodedata.normalize("NFKC", label).casefold().replace(" ", "")
