"""Hostile tables are refused with an InputError naming the file, line and column, before they cost much:
duplicated columns, files beyond the size limits, zip bombs and absurd sheets, impossible dates, huge integers."""

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from auditor.evidence.importers import ImportOptions, import_files
from auditor.evidence.importers import csvrows as csvrows_module

from auditor import limits
from auditor.errors import InputError

OPTIONS = ImportOptions(target_id="t", collected_at="2026-11-02T09:00:00+09:00")


def imported(tmp_path: Path, kind: str, content: str | bytes, name: str = "export.csv", **options):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    opts = ImportOptions(**{**OPTIONS.__dict__, **options})
    return import_files(kind, [str(path)], opts)


def refused(tmp_path: Path, kind: str, content: str | bytes, name: str = "export.csv", **options) -> InputError:
    with pytest.raises(InputError) as err:
        imported(tmp_path, kind, content, name, **options)
    return err.value


# ---------------------------------------------------------------- duplicated columns

def test_two_logon_name_columns_are_refused_naming_both_positions(tmp_path):
    err = refused(tmp_path, "ad-users", '"SamAccountName","Name","samaccountname"\n"a","b","c"\n')
    assert err.line == 1 and err.where == "header columns 1 and 3"
    assert "duplicate column 'SamAccountName'" in err.problem


@pytest.mark.parametrize(("kind", "header", "row"), [
    ("hr-roster", "職員番号,employee_id,在職区分", "1,2,在職"),
    ("training", "職員番号,研修名,staff_id", "1,情報セキュリティ,2"),
])
def test_two_spellings_of_one_field_are_refused(tmp_path, kind, header, row):
    err = refused(tmp_path, kind, f"{header}\n{row}\n")
    assert err.line == 1 and err.where is not None and err.where.startswith("header columns ")
    assert "which one holds the data cannot be told" in err.problem


def test_a_mapped_column_given_twice_is_refused(tmp_path):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("format: auditor-hr-mapping/1\ncolumns: {employee_id: 職員コード}\n", encoding="utf-8")
    err = refused(tmp_path, "hr-roster", "職員コード,在職区分,職員コード\n1,在職,2\n", mapping=str(mapping))
    assert (err.line, err.where) == (1, "header columns 1 and 3") and "duplicate column '職員コード'" in err.problem


def test_a_duplicated_column_no_field_reads_is_not_an_error(tmp_path):
    bundle = imported(tmp_path, "hr-roster", "職員番号,在職区分,備考,備考\n1,在職,a,b\n")
    assert [r["employee_id"] for r in bundle["facts"]["hr_roster"]] == ["1"]


# ---------------------------------------------------------------- size limits

@pytest.mark.parametrize(("kind", "limit"), [("ad-users", "table"), ("hr-roster", "table"), ("hotfix", "table"),
                                             ("auditpol", "table"), ("training", "workbook")])
def test_a_file_beyond_its_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch, kind, limit):
    monkeypatch.setitem(limits.MAX_FILE_BYTES, limit, 100)
    content = workbook([["職員番号", "研修名"], ["1", "x"]]) if limit == "workbook" else "a,b\n" + "1,2\n" * 40
    err = refused(tmp_path, kind, content, name="big.xlsx" if limit == "workbook" else "big.csv")
    assert f"allowed for a {limit} input" in err.problem


def workbook(rows: list[list], sheet_xml=None) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    if sheet_xml is None:
        return out.getvalue()
    patched = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as source, zipfile.ZipFile(patched, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, sheet_xml(data) if item.filename == "xl/worksheets/sheet1.xml" else data)
    return patched.getvalue()


def test_a_zip_bomb_is_refused_before_openpyxl_opens_it(tmp_path, monkeypatch):
    monkeypatch.setattr(csvrows_module, "MAX_WORKBOOK_MEMBER", 50_000)
    padding = b"<!--" + b" " * 100_000 + b"-->"  # compresses to almost nothing: unpacked it is twice the limit
    data = workbook([["職員番号", "在職区分"], ["1", "在職"]],
                    lambda xml: xml.replace(b"<sheetData>", padding + b"<sheetData>"))
    assert len(data) < 20_000
    err = refused(tmp_path, "hr-roster", data, name="r.xlsx")
    assert "xl/worksheets/sheet1.xml in the workbook unpacks to" in err.problem and "zip bomb" in err.problem


def test_a_sheet_claiming_absurd_dimensions_is_refused(tmp_path):
    data = workbook([["職員番号", "在職区分"], ["1", "在職"]],
                    lambda xml: xml.replace(b'<dimension ref="A1:B2"', b'<dimension ref="A1:B99999999"'))
    err = refused(tmp_path, "hr-roster", data, name="r.xlsx")
    assert "99,999,999 rows" in err.problem and err.where == "sheet 'Sheet'"


def test_a_sheet_of_too_many_rows_is_refused_while_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(csvrows_module, "MAX_SHEET_ROWS", 1000)
    # one row numbered 5000: openpyxl makes the 4,997 empty rows before it
    data = workbook([["職員番号", "在職区分"], ["1", "在職"]],
                    lambda xml: xml.replace(b'<dimension ref="A1:B2" />', b"").replace(b'r="2"', b'r="5000"')
                    .replace(b'r="A2"', b'r="A5000"').replace(b'r="B2"', b'r="B5000"'))
    err = refused(tmp_path, "hr-roster", data, name="r.xlsx")
    assert err.line == 1001 and "more than 1,000 rows" in err.problem


def test_a_cell_outside_excels_dates_is_refused_naming_its_row(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["職員番号", "在職区分", "発令日"])
    book.active.append(["1", "在職", 1e10])
    book.active["C2"].number_format = "yyyy-mm-dd"
    out = io.BytesIO()
    book.save(out)
    with pytest.warns(UserWarning):  # openpyxl's own word on it; the import then refuses the cell
        err = refused(tmp_path, "hr-roster", out.getvalue(), name="r.xlsx")
    assert err.line == 2 and err.where == "sheet 'Sheet', column '発令日'"


# ---------------------------------------------------------------- dates and instants

@pytest.mark.parametrize(("value", "why"), [
    ("2026-02-30 00:00:00", "found '2026-02-30 00:00:00'"),
    ("0001-01-01 00:00:00", "outside the years 1 to 9999 in UTC"),  # +09:00 puts it before year 1 in UTC
    ("9999-12-31T23:59:59-05:00", "outside the years 1 to 9999 in UTC"),
    ("0001-01-01", "outside the years 1 to 9999 in UTC"),
])
def test_an_instant_that_does_not_exist_is_refused_naming_row_and_column(tmp_path, value, why):
    err = refused(tmp_path, "ad-users", f'"SamAccountName","LastLogonDate"\n"a","2026/11/02 8:41:07"\n"b","{value}"\n')
    assert (err.line, err.where) == (3, "column 'LastLogonDate'") and why in err.problem


def test_the_first_and_last_instants_are_kept_when_they_exist(tmp_path):
    text = '"SamAccountName","LastLogonDate"\n"a","0001-01-01 09:00:00"\n"b","9999-12-31 23:59:59"\n'
    found = imported(tmp_path, "ad-users", text)["facts"]["directory_accounts"]
    assert [r["last_logon_at"] for r in found] == ["0001-01-01T09:00:00+09:00", "9999-12-31T23:59:59+09:00"]


def test_a_filetime_beyond_year_9999_in_the_zone_is_refused(tmp_path):
    text = '"SamAccountName","lastLogonTimestamp"\n"a","2650467743999999999"\n'
    err = refused(tmp_path, "ad-users", text, utc_offset="+09:00")
    assert (err.line, err.where) == (2, "column 'lastLogonTimestamp'")


@pytest.mark.parametrize("value", ["0001-01-01 00:00:00", "9999-12-31T23:59:59-05:00", "2026/02/30 0:00:00"])
def test_an_update_date_that_does_not_exist_is_refused(tmp_path, value):
    text = f"HotFixID,Description,InstalledOn\nKB1,Update,2026/10/15 0:00:00\nKB2,Security Update,{value}\n"
    err = refused(tmp_path, "hotfix", text)
    assert (err.line, err.where) == (3, "column 'InstalledOn'")


@pytest.mark.parametrize("value", ["2026-02-30", "令和9999年1月1日", "20261301"])
def test_a_roster_date_that_does_not_exist_is_refused(tmp_path, value):
    err = refused(tmp_path, "hr-roster", f"職員番号,在職区分,発令日\n1,在職,{value}\n")
    assert (err.line, err.where) == (2, "column '発令日'")


# ---------------------------------------------------------------- integers

def test_flags_of_thousands_of_digits_are_refused_not_a_traceback(tmp_path):
    err = refused(tmp_path, "ad-users", '"SamAccountName","userAccountControl"\n"a","512"\n"b","' + "1" * 5000 + '"\n')
    assert (err.line, err.where) == (3, "column 'userAccountControl'") and "5,000 digits" in err.problem


def test_a_filetime_of_thousands_of_digits_is_refused_briefly(tmp_path):
    err = refused(tmp_path, "ad-users", '"SamAccountName","pwdLastSet"\n"a","' + "9" * 5000 + '"\n')
    assert (err.line, err.where) == (2, "column 'pwdLastSet'") and len(err.problem) < 300


@pytest.mark.parametrize("kind", ["hr-roster", "training"])
def test_an_employee_number_of_thousands_of_digits_is_kept_as_written(tmp_path, kind):
    header = "職員番号,在職区分" if kind == "hr-roster" else "職員番号,研修名"
    bundle = imported(tmp_path, kind, f"{header}\n{'1' * 5000},在職\n")
    area = "hr_roster" if kind == "hr-roster" else "training_records"
    assert bundle["facts"][area][0]["employee_id"] == "1" * 5000
