import gc
import io
from datetime import UTC, date, datetime, timedelta, timezone

import openpyxl
import pytest
from auditor.evidence.importers.csvrows import (
    BadCell,
    Instants,
    csv_table,
    excel_serial,
    fold_label,
    is_xlsx,
    parse_date,
    parse_offset,
    value_map,
    xlsx_table,
)
from hypothesis import given
from hypothesis import strategies as st

from auditor.errors import InputError
from auditor.memory import paused_gc

JST = timezone(timedelta(hours=9))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-04-01", date(2026, 4, 1)),
        ("2026/4/1", date(2026, 4, 1)),
        ("2026/04/01", date(2026, 4, 1)),
        ("2026/4/1 0:00", date(2026, 4, 1)),  # Excel's CSV of a date-time cell
        ("2026-04-01T09:00:00+09:00", date(2026, 4, 1)),
        ("2026年4月1日", date(2026, 4, 1)),
        ("令和7年4月1日", date(2025, 4, 1)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("R7.4.1", date(2025, 4, 1)),
        ("R07.04.01", date(2025, 4, 1)),
        ("r7/4/1", date(2025, 4, 1)),
        ("令7.4.1", date(2025, 4, 1)),
        ("H31.4.30", date(2019, 4, 30)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("平成32年1月1日", date(2020, 1, 1)),  # printed before the era changed: still valid
        ("昭和64年1月7日", date(1989, 1, 7)),
        ("令和７年４月１日", date(2025, 4, 1)),  # full-width digits as typed in Excel
        ("㋿7年4月1日", date(2025, 4, 1)),  # the one-character era sign
        ("令和 7年 4月 1日", date(2025, 4, 1)),
        ("45748", date(2025, 4, 1)),  # an Excel serial number
        ("20260401", date(2026, 4, 1)),
        (" 2026/4/1 ", date(2026, 4, 1)),
    ],
)
def test_dates_as_japanese_offices_write_them(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "abc", "2026/13/01", "2026/2/30", "R7.2.30", "4/1/2026", "26/4/1", "令和1年4月30日", "平成0年1月1日",
     "明治元年1月1日", "123456", "2026/4", "令和7年4月", "X7.4.1", "2026/４/1x"],
)
def test_what_is_not_a_date_is_refused(text):
    with pytest.raises(ValueError):
        parse_date(text)


def test_excel_serial_numbers_use_the_1900_system_with_its_leap_year_bug():
    assert excel_serial(61) == date(1900, 3, 1)
    assert excel_serial(45748) == date(2025, 4, 1)
    assert excel_serial(45748.75) == date(2025, 4, 1)  # a date-time cell: the day
    with pytest.raises(ValueError):
        excel_serial(60)  # Excel's 1900-02-29, which never was


@pytest.mark.parametrize(
    ("text", "expected"),
    [("+09:00", timedelta(hours=9)), ("+0900", timedelta(hours=9)), ("-05:30", -timedelta(hours=5, minutes=30)),
     ("Z", timedelta(0)), ("+00:00", timedelta(0))],
)
def test_utc_offsets(text, expected):
    assert parse_offset(text).utcoffset(None) == expected


@pytest.mark.parametrize("text", ["9", "+9", "+25:00", "+09:60", "JST", "", "+09:00:00"])
def test_bad_utc_offsets_are_refused(text):
    with pytest.raises(ValueError, match="UTC offset such as"):
        parse_offset(text)


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("2026/11/02 8:41:07", JST, "2026-11-02T08:41:07+09:00"),
        ("2026/11/2 18:41:07", JST, "2026-11-02T18:41:07+09:00"),
        ("2026/11/02 8:41", JST, "2026-11-02T08:41:00+09:00"),
        ("2026/11/02 8:41:07", UTC, "2026-11-02T08:41:07+00:00"),
        ("2026-11-02 08:41:07", JST, "2026-11-02T08:41:07+09:00"),
        ("2026-11-02T08:41:07Z", JST, "2026-11-02T08:41:07+00:00"),  # its own offset is kept
        ("2026-11-02T08:41:07", JST, "2026-11-02T08:41:07+09:00"),
        ("2026/11/02", JST, "2026-11-02T00:00:00+09:00"),
    ],
)
def test_instants_get_the_import_offset_unless_they_carry_one(text, zone, expected):
    assert Instants(zone).parse(text) == expected


@pytest.mark.parametrize("text", ["2026/11/02 24:00:00", "2026/2/30 8:00:00", "11/2/2026 8:41:07 AM",
                                  "2026/11/02 8:41:07 午前", "2026/11/02 8:61:00", "yesterday"])
def test_bad_instants_are_refused(text):
    with pytest.raises(ValueError):
        Instants(JST).parse(text)


def test_filetime_is_utc_100ns_since_1601_shown_in_the_import_offset():
    instants = Instants(JST)
    expected = (datetime(1601, 1, 1, tzinfo=UTC) + timedelta(seconds=13375000000)).astimezone(JST)
    assert instants.filetime(133750000000000000) == expected.isoformat() == "2024-11-02T14:46:40+09:00"
    assert instants.filetime(133750000001234567) == "2024-11-02T14:46:40+09:00"  # cut to the second
    assert Instants(UTC).filetime(133750000000000000) == "2024-11-02T05:46:40+00:00"
    assert instants.filetime(0) is None and instants.filetime(9223372036854775807) is None
    for bad in (-1, 2650467744000000000):
        with pytest.raises(ValueError):
            instants.filetime(bad)


def test_a_column_of_instants_names_the_row_that_fails():
    instants = Instants(JST)
    assert instants.column(["2026/11/02 8:41:07", "", "133750000000000000", "2026/11/02 8:41:07"]) == [
        "2026-11-02T08:41:07+09:00", None, "2024-11-02T14:46:40+09:00", "2026-11-02T08:41:07+09:00"]
    with pytest.raises(BadCell) as bad:
        instants.column(["2026/11/02 8:41:07", "2026/11/31 8:41:07"])
    assert (bad.value.index, bad.value.value) == (1, "2026/11/31 8:41:07")


def test_rows_carry_the_line_they_start_on_after_a_multi_line_field():
    text = 'a,b\n1,"two\nlines"\n\n3,x\n"4",""\n'
    table = csv_table(text, "t.csv")
    assert table.header == ["a", "b"] and table.header_line == 1
    assert table.rows == [["1", "two\nlines"], ["3", "x"], ["4", ""]]
    assert table.lines == [2, 5, 6]  # the blank line 4 is skipped, and counted


def test_rows_of_only_delimiters_are_skipped_but_counted():
    table = csv_table("a,b,c\n1,2,3\n,,\n4,5,6\n,,\n", "t.csv")
    assert table.rows == [["1", "2", "3"], ["4", "5", "6"]] and table.lines == [2, 4]


def test_type_line_moves_the_header_to_line_2():
    table = csv_table('#TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser\n"A","B"\n"1","2"\n', "ad.csv")
    assert (table.header, table.header_line, table.lines) == (["A", "B"], 2, [3])


def test_header_is_found_below_title_lines_when_asked_for():
    text = "令和7年度 職員名簿,,\n,,\n職員番号,氏名,所属\n001,a,b\n"
    table = csv_table(text, "r.csv", locate=("職員番号",))
    assert (table.header_line, table.lines, table.rows) == (3, [4], [["001", "a", "b"]])
    with pytest.raises(InputError) as err:
        csv_table("題名\n氏名,所属\n", "r.csv", locate=("職員番号",))
    assert err.value.line == 1 and "no header row naming '職員番号'" in err.value.problem


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("a,b\n1,2\n3\n", 3, "expected 2 fields as in the header on line 1, found 1"),
        ("a,b\n1,2\n   \n", 3, "found 1"),  # not truly empty: spaces are data
        ("a,b\n1,2,3\n", 2, "found 3"),
        ('a,b\n1,2\n3,"open\nnever closed\n', 3, "never closed"),
        ('a,b\n1,"x"y\n', 2, "malformed CSV"),
        ("a;b;c\n1;2;3\n", 1, "looks semicolon-separated"),
        ("a\tb\n1\t2\n", 1, "looks tab-separated"),
        ("", 1, "the export is empty"),
        ("\n\n", 1, "the export is empty"),
        ("a,A\n1,2\n", None, None),
    ],
)
def test_unreadable_rows_name_their_line(text, line, problem):
    if problem is None:  # a duplicated header is only an error when that column is used
        assert csv_table(text, "t.csv").lines == [2]
        with pytest.raises(InputError) as err:
            csv_table(text, "t.csv").column("a")
        assert err.value.line == 1 and err.value.where == "header columns 1 and 2"
        assert "duplicate column 'a'" in err.value.problem
        return
    with pytest.raises(InputError) as err:
        csv_table(text, "t.csv")
    assert err.value.file == "t.csv" and err.value.line == line and problem in err.value.problem


def test_columns_are_found_case_insensitively_and_required_ones_are_named():
    table = csv_table("SamAccountName,LastLogonDate\nx,y\n", "ad.csv")
    assert table.column("samaccountname") == 0 and table.column("LASTLOGONDATE") == 1
    assert table.column("Enabled") is None
    with pytest.raises(InputError) as err:
        table.require("logon name", "MemberOf")
    assert err.value.line == 1 and "the header has: SamAccountName, LastLogonDate" in err.value.problem


def xlsx(sheets: dict[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for number, row in enumerate(rows, start=1):
            for column, value in enumerate(row, start=1):
                if value is not None:
                    sheet.cell(number, column, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_rows_are_sheet_rows_and_cells_keep_their_types():
    data = xlsx({"表紙": [["表紙"]],
                 "受講記録": [["受講記録"], [], ["職員番号", "受講日"], ["001", datetime(2026, 6, 1)], [], [2, 45748]]})
    assert is_xlsx(data)
    table = xlsx_table(data, "t.xlsx", "受講記録", ("職員番号",))
    assert (table.sheet, table.header_line, table.lines) == ("受講記録", 3, [4, 6])
    assert table.rows == [["001", datetime(2026, 6, 1)], [2, 45748]]
    assert xlsx_table(data, "t.xlsx", None, ()).sheet == "表紙"


def test_xlsx_errors_name_the_sheet():
    data = xlsx({"S": [["氏名"], ["a"]]})
    with pytest.raises(InputError) as err:
        xlsx_table(data, "t.xlsx", "Missing", ())
    assert "no sheet 'Missing' (the workbook has: S)" in err.value.problem
    with pytest.raises(InputError) as err:
        xlsx_table(data, "t.xlsx", None, ("職員番号",))
    assert err.value.where == "sheet 'S'" and err.value.line == 1
    with pytest.raises(InputError, match="not a readable XLSX workbook"):
        xlsx_table(b"PK\x03\x04 broken", "t.xlsx", None, ())


def test_paused_gc_restores_the_collector():
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_value_map_the_mapping_wins_over_the_defaults():
    defaults = {"active": ("在職",), "left": ("退職", "転出")}
    labels = value_map(defaults, {"active": ["在職", "転出"]})
    assert labels == {"在職": "active", "転出": "active", "退職": "left"}
    assert value_map(defaults, None) == {"在職": "active", "退職": "left", "転出": "left"}


def test_labels_are_compared_width_and_case_folded():
    labels = value_map({"completed": ("true", "済")}, {"not_completed": ["Ｎｏ"]})
    assert labels == {"true": "completed", "済": "completed", "no": "not_completed"}
    assert fold_label("ＴＲＵＥ") == fold_label(" True ") == "true"


INSTANT_TEXTS = st.sampled_from(["", " ", "2026/11/02 8:41:07", "2026/11/2 8:41", "2026-11-02 08:41:07",
                                 "2026-11-02T08:41:07+09:00", "2026-11-02T08:41:07", "2026-11-02",
                                 "133750000000000000", "0", "9223372036854775807", "2026/11/31 8:41:07",
                                 "2026/11/02 25:00:00", "令和7年4月1日", " 2026/11/02 8:41:07 ", "-1", "x"])


@pytest.mark.fuzz
@given(values=st.lists(INSTANT_TEXTS, max_size=12))
def test_a_column_of_instants_is_converted_as_value_by_value(values):
    # Each distinct value is converted once; the result and the row named on failure are those
    # of converting every value in turn.
    expected, failure = [], None
    one_by_one = Instants(JST)
    for index, value in enumerate(values):
        try:
            text = value.strip()
            if not value:
                expected.append(None)
            elif text.isascii() and text.isdigit():
                expected.append(one_by_one.filetime(int(text)))
            else:
                expected.append(one_by_one.parse(text) if text else None)
        except (ValueError, OverflowError):
            failure = (index, value)
            break
    if failure is None:
        assert Instants(JST).column(values) == expected
    else:
        with pytest.raises(BadCell) as bad:
            Instants(JST).column(values)
        assert (bad.value.index, bad.value.value) == failure


def _cells_one_by_one(table, index):
    """date_column as it was written first: cell by cell, no memo."""
    from auditor.evidence.importers.csvrows import _cell_date

    return [_cell_date(v) if v not in ("", None) else None for v in table.values(index)]


DATE_CELLS = st.sampled_from(["", " ", "2026/4/1", "令和7年4月1日", "R7.4.1", "2026-04-01", " 2026/4/1 ", "x",
                              "令和1年4月30日", None, 1, 1.0, True, 45748, 45748.0, datetime(2026, 6, 1),
                              date(2025, 3, 31)])


@pytest.mark.fuzz
@given(cells=st.lists(DATE_CELLS, min_size=1, max_size=12), sheet=st.booleans())
def test_date_and_text_columns_match_cell_by_cell_reading(cells, sheet):
    from auditor.evidence.importers.csvrows import Table, date_column, text_column

    if not sheet:  # a CSV table holds text only
        cells = ["" if c is None else c if isinstance(c, str) else str(c) for c in cells]
    table = Table(name="t", header=["発令日"], rows=[[c] for c in cells], lines=list(range(2, len(cells) + 2)),
                  sheet="S" if sheet else None)
    try:
        expected = _cells_one_by_one(table, 0)
    except ValueError:
        with pytest.raises(InputError) as err:
            date_column(table, 0)
        first_bad = next(i for i, c in enumerate(cells) if c not in ("", None) and _fails(c))
        assert err.value.line == first_bad + 2
    else:
        assert date_column(table, 0) == expected
    texts = text_column(table, 0)
    assert texts == [(c.strip() or None) if isinstance(c, str) else None if c is None else texts[i]
                     for i, c in enumerate(cells)]


def _fails(cell):
    from auditor.evidence.importers.csvrows import _cell_date

    try:
        _cell_date(cell)
    except ValueError:
        return True
    return False
