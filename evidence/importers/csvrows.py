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

Speed: a 100,000-row export must import in well under two seconds, so the work is done on
whole lists in C where possible (``list(csv.reader)``, ``itemgetter`` columns, memos for
dates) and Python-level loops are kept for the rare cases (multi-line fields, bad rows).
The cyclic garbage collector is paused while the records are built (``auditor.memory.paused_gc``):
hundreds of thousands of new, acyclic containers otherwise trigger full collections that
cost more than the parsing.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from itertools import repeat
from operator import itemgetter
from typing import Any

from auditor.evidence.importers.textio import decode

from auditor.errors import InputError

TYPE_LINE = "#TYPE"  # PowerShell 5.1 Export-Csv without -NoTypeInformation
HEADER_SEARCH = 10  # records searched for a header row below a title (Excel sheets often have one)


def _key(label: Any) -> str:
    return str(label).strip().casefold() if label is not None else ""


@dataclass
class Table:
    """A header row and the data rows below it, each row with its line (or sheet row) number."""

    name: str
    header: list[str] = field(default_factory=list)
    header_line: int = 1
    rows: list[list[Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    sheet: str | None = None

    def error(self, problem: str, line: int, column: int | None = None) -> InputError:
        """An error naming the file, the line (sheet row), and the sheet and column when known."""
        where = [f"sheet {self.sheet!r}"] if self.sheet is not None else []
        if column is not None:
            where.append(f"column {self.header[column]!r}")
        return InputError(self.name, problem, where=", ".join(where) or None, line=line)

    def column(self, *names: str) -> int | None:
        """Index of the first of ``names`` present in the header (case-insensitive), else None."""
        keys = [_key(h) for h in self.header]
        for wanted in names:
            key = _key(wanted)
            if key in keys:
                if keys.count(key) > 1:
                    raise self.error(f"column {wanted!r} appears more than once in the header; "
                                     "which one holds the data is ambiguous", self.header_line)
                return keys.index(key)
        return None

    def require(self, role: str, *names: str, hint: str = "") -> int:
        """Index of a column the import cannot do without, else an error naming the header line."""
        index = self.column(*names)
        if index is None:
            shown = ", ".join(h for h in self.header if _key(h))
            raise self.error(f"no {role} column (expected {' or '.join(map(repr, names))}; "
                             f"the header has: {shown}){hint}", self.header_line)
        return index

    def values(self, index: int) -> list[Any]:
        """One column's values, row by row."""
        return list(map(itemgetter(index), self.rows))


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


def csv_records(text: str, name: str) -> tuple[list[list[str]], list[int]]:
    """Every non-empty record of comma-separated text, and the line each starts on.

    ``text`` has ``\\n`` newlines (as :func:`textio.decode` returns it). Quoting is strict, so
    that a stray quote is reported instead of silently merging rows. When every record is
    one line (the usual case) the whole file is parsed in one C call; otherwise each
    record's first line is followed through the reader.
    """
    try:
        records = list(csv.reader(io.StringIO(text), strict=True))
    except csv.Error:
        records = None
    physical = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
    if records is not None and len(records) == physical:
        lines = list(range(1, physical + 1))
    else:
        records, lines = _tracked(text, name)
    if not all(records):
        keep = [i for i, fields in enumerate(records) if fields]
        records, lines = [records[i] for i in keep], [lines[i] for i in keep]
    return records, lines


def _tracked(text: str, name: str) -> tuple[list[list[str]], list[int]]:
    reader = csv.reader(io.StringIO(text), strict=True)
    records: list[list[str]] = []
    lines: list[int] = []
    previous = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return records, lines
        except csv.Error as exc:
            start = previous + 1
            if "end of data" in str(exc):
                raise InputError(name, "a quoted field starting on this line is never closed "
                                 "(an unmatched '\"')", line=start) from None
            if reader.line_num > start:
                raise InputError(name, f"malformed CSV: a quoted field starting on this line runs on to line "
                                 f"{reader.line_num}, where {exc} (is a closing '\"' missing?)", line=start) from None
            raise InputError(name, f"malformed CSV: {exc}", line=start) from None
        records.append(fields)
        lines.append(previous + 1)
        previous = reader.line_num


def csv_table(text: str, name: str, locate: Iterable[str] = (), hint: str = "") -> Table:
    """The header and rows of a CSV export, every row checked to have the header's field count.

    A record with nothing but delimiters (Excel writes ``,,,`` for formatted empty rows)
    holds no data and is skipped like an empty line; any other record with a different
    number of fields than the header is an error on its line.
    """
    _check_delimiter(text, name)
    records, lines = csv_records(text, name)
    table = Table(name=name)
    position = _find_header(records, lines, table, locate, hint)
    rows, row_lines = records[position + 1:], lines[position + 1:]
    width = len(table.header)
    if set(map(len, rows)) <= {width} and all(map(itemgetter(0), rows)):
        table.rows, table.lines = rows, row_lines  # the usual case, checked in C
        return table
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
    table.rows, table.lines = rows, row_lines
    return table


def xlsx_table(data: bytes, name: str, sheet: str | None, locate: Iterable[str], hint: str = "") -> Table:
    """The header and rows of one sheet of an XLSX workbook (the first sheet unless named).

    Read-only mode streams the sheet instead of loading it whole; cells keep their types
    (numbers, dates, booleans), and a row's number is the sheet's row number. The stored
    sheet dimension is not trusted (some writers get it wrong), so every row is read.
    Cells right of the header's last column are not read as data.
    """
    try:
        import openpyxl
    except ImportError:
        raise InputError(name, "reading XLSX needs the openpyxl package (pip install openpyxl), "
                         "or save the sheet as CSV UTF-8") from None
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and XML errors alike for broken files
        raise InputError(name, f"not a readable XLSX workbook: {exc}") from None
    try:
        if sheet is None:
            ws = book.worksheets[0]
        elif sheet in book.sheetnames:
            ws = book[sheet]
        else:
            raise InputError(name, f"no sheet {sheet!r} (the workbook has: {', '.join(book.sheetnames)})")
        ws.reset_dimensions()
        records: list[list[Any]] = []
        lines: list[int] = []
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = list(values)
            while cells and (cells[-1] is None or (isinstance(cells[-1], str) and not cells[-1].strip())):
                cells.pop()
            if cells:
                records.append(cells)
                lines.append(number)
        table = Table(name=name, sheet=ws.title)
    finally:
        book.close()
    position = _find_header(records, lines, table, locate, hint)
    width = len(table.header)
    table.rows = [(cells + [None] * (width - len(cells)))[:width] for cells in records[position + 1:]]
    table.lines = lines[position + 1:]
    return table


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
    if not (text.isascii() and text.isdigit()):
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

    def __init__(self, index: int, value: Any) -> None:
        super().__init__(value)
        self.index = index
        self.value = value


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
                iso_day = self._days[day] = _ymd(day).isoformat()
            iso_clock = self._clocks.get(clock)
            if iso_clock is None:
                iso_clock = self._clocks[clock] = _clock(clock)
            return f"{iso_day}T{iso_clock}{self.suffix}"
        if len(day) < 10 or not day[:4].isdigit():
            raise ValueError(value)
        if "T" not in day:
            return f"{_ymd(day).isoformat()}T00:00:00{self.suffix}"
        moment = datetime.fromisoformat(day)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        return moment.isoformat()

    def column(self, values: Iterable[Any]) -> list[str | None]:
        """A whole column at once: empty → None, digits → FileTime, text → :meth:`parse`.

        Each distinct value is converted once (most of a directory's dates repeat: creation days,
        password changes, expiry at the end of the fiscal year) and the column is then mapped in C;
        the common ``2026/11/02 8:41:07`` is served from the day and time memos. A value that
        does not parse raises :class:`BadCell` with the row of its first appearance, which is the
        first row that does not parse.
        """
        values = values if isinstance(values, list) else list(values)
        days, clocks, suffix = self._days, self._clocks, self.suffix
        memo: dict[Any, str | None] = {}
        for value in dict.fromkeys(values):  # distinct values, in order of first appearance
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
                    memo[value] = self.filetime(int(text))
                else:
                    memo[value] = self.parse(text) if text else None
            except (ValueError, OverflowError):
                raise BadCell(values.index(value), value) from None
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

def load_table(name: str, data: bytes, sheet: str | None, locate: Iterable[str],
               hint: str = "") -> tuple[Table, str]:
    """A roster-like table from Excel's CSV (any of Windows' encodings) or an XLSX workbook.

    Returns the table and what read it (``xlsx`` or the text encoding), for the source's parser.
    """
    if is_xlsx(data):
        return xlsx_table(data, name, sheet, locate, hint), "xlsx"
    if sheet is not None:
        raise InputError(name, f"--sheet {sheet!r} was given but the file is CSV, not an XLSX workbook")
    text, encoding = decode(data, name)
    return csv_table(text, name, locate, hint), encoding


def _cell_text(value: Any) -> str | None:
    """A cell as text: XLSX numbers without a spurious ``.0`` (an id typed as a number)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip() or None


def text_column(table: Table, index: int | None) -> list[str | None] | None:
    """A column's stripped text (None where empty); None when the column is not in the table."""
    if index is None:
        return None
    values = table.values(index)
    if table.sheet is None:  # CSV: every cell is text; stripped in C, and empties made None only if any
        stripped = list(map(str.strip, values))
        return [v or None for v in stripped] if "" in stripped else stripped
    return [v.strip() or None if type(v) is str else _cell_text(v) for v in values]


def date_column(table: Table, index: int | None) -> list[str | None] | None:
    """A column's dates as ISO text (None where empty); XLSX dates, serial numbers and text alike."""
    if index is None:
        return None
    values = table.values(index)
    # Each distinct cell is parsed once, in order of first appearance (so the first bad row is the
    # one named). Sheet cells are told apart by type too (True and 1 are equal dict keys).
    keys = values if table.sheet is None else list(zip(map(type, values), values, strict=True))
    memo: dict[Any, str | None] = {}
    for key in dict.fromkeys(keys):
        value = key if table.sheet is None else key[1]
        try:
            memo[key] = None if value is None or value == "" else _cell_date(value)
        except (ValueError, OverflowError) as exc:
            why = f" ({exc})" if isinstance(exc, BeforeEra) else ""
            raise table.error(f"expected a date such as {DATE_FORMS}, found {value!r}{why}",
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


def load_mapping(path: str, schema: dict[str, Any], values_key: str) -> dict[str, Any]:
    """A column-mapping YAML file, validated so that an error names the file, key and line.

    A label listed under two categories of ``values_key`` is refused: which one is meant
    cannot be told.
    """
    from auditor.schemas import validated  # Cerberus and YAML: only an import with --mapping needs them
    from auditor.yamldoc import load_yaml

    doc = load_yaml(path)
    data = validated(doc.data, schema, path, line_of=doc.line_of)
    seen: dict[str, str] = {}
    for category, labels in (data.get(values_key) or {}).items():
        for i, label in enumerate(labels):
            key = fold_label(str(label))
            if key in seen and seen[key] != category:
                raise doc.error((values_key, category, i), f"{label!r} is also listed under {seen[key]}")
            seen[key] = category
    return data


def column_names(defaults: dict[str, tuple[str, ...]], mapping: dict[str, Any] | None) -> dict[str, tuple[str, ...]]:
    """The header names to look for, per field: the mapping's one name where it gives one, else the defaults."""
    named = (mapping or {}).get("columns", {})
    return {key: (named[key],) if key in named else names for key, names in defaults.items()}


def value_map(defaults: dict[str, tuple[str, ...]], given: dict[str, list[Any]] | None) -> dict[str, str]:
    """Label → category: the defaults, with each category the mapping names replaced by its list.

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
    return out


def fold_label(label: str) -> str:
    """How labels are compared: width-normalised (全角/半角), case-folded, without spaces."""
    return unicodedata.normalize("NFKC", label).casefold().replace(" ", "")
