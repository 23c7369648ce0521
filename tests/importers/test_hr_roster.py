import codecs
import io
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from auditor.evidence.importers import ImportOptions, import_files
from auditor.evidence.importers.csvrows import load_mapping
from auditor.evidence.importers.hr_roster import MAPPING_SCHEMA, roster_from

from auditor import bundles
from auditor.cli import main
from auditor.errors import InputError

EXPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "exports"
EXCEL_CP932 = EXPORTS / "roster-excel-cp932.csv"  # Excel: 名前を付けて保存 → CSV (コンマ区切り)
CUSTOM = EXPORTS / "roster-custom-utf8bom.csv"  # Excel: CSV UTF-8 (コンマ区切り), the city's own headers
MAPPING = EXPORTS / "roster-mapping.yaml"


def mapping() -> dict:
    return load_mapping(str(MAPPING), MAPPING_SCHEMA, "status_values")


def test_fixtures_are_written_as_excel_writes_them():
    raw = EXCEL_CP932.read_bytes()
    assert raw.startswith("職員番号,氏名".encode("cp932")) and raw.count(b"\n") == raw.count(b"\r\n")
    assert b'"' in raw and not raw.startswith(b'"')  # quoted only where a value needs it
    custom = CUSTOM.read_bytes()
    assert custom.startswith(codecs.BOM_UTF8 + "職員コード".encode()) and custom.endswith(b"\r\n")


def test_default_headers_and_status_values():
    records, reader = roster_from("r.csv", EXCEL_CP932.read_bytes(), None)
    assert reader == "cp932"
    assert records == [
        {"employee_id": "00123", "name": "石岡\u3000太郎", "department": "総務課", "status": "left",
         "status_label": "退職", "effective_date": "2026-09-30", "source": {"file": "r.csv", "line": 2}},
        {"employee_id": "00124", "name": "筑波 花子", "department": "市民課", "status": "active",
         "status_label": "在職", "effective_date": "2026-04-01", "source": {"file": "r.csv", "line": 3}},
        {"employee_id": "00125", "name": "水戸 健", "department": "税務課,収納係", "status": "left",
         "status_label": "転出", "effective_date": "2026-03-31", "source": {"file": "r.csv", "line": 4}},
        {"employee_id": "00126", "name": "結城 翔", "department": "福祉課", "status": "leave",
         "status_label": "育児休業", "effective_date": "2026-04-01",  # Excel serial 46113
         "source": {"file": "r.csv", "line": 5}},
        {"employee_id": "00127", "name": "土浦 誠", "department": "情報政策課", "status": "active",  # a fiscal-
         "status_label": "会計年度任用", "effective_date": None, "source": {"file": "r.csv", "line": 6}},  # year hire
        {"employee_id": "00128", "name": None, "department": None, "status": "leave",
         "status_label": "休職", "effective_date": "2019-04-30", "source": {"file": "r.csv", "line": 7}},
    ]  # line 8 (",,,,": a formatted but empty Excel row) holds no data


def test_mapping_names_the_citys_columns_and_labels():
    records, reader = roster_from("c.csv", CUSTOM.read_bytes(), mapping())
    assert reader == "utf-8-sig"
    assert [(r["employee_id"], r["department"], r["status"], r["status_label"], r["effective_date"])
            for r in records] == [("000301", "市民課", "active", "現職", "2025-04-01"),
                                  ("000302", "税務課", "left", "任期満了", "2026-03-31"),
                                  ("000303", "総務課", "active", "在職", "2024-04-01")]
    assert records[0]["name"] == "日立 涼"  # 氏名 is not in the mapping: the default header still applies


def test_a_mapping_category_replaces_only_its_own_defaults(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("format: auditor-hr-mapping/1\nstatus_values:\n  active: [在職, 転出]\n", encoding="utf-8")
    text = "職員番号,在職区分\n1,転出\n2,退職\n3,休職\n4,在職\n"
    records, _ = roster_from("r.csv", text.encode(), load_mapping(str(path), MAPPING_SCHEMA, "status_values"))
    assert [r["status"] for r in records] == ["active", "left", "leave", "active"]


def test_status_labels_are_compared_without_width_or_spacing_differences():
    text = "職員番号,在職区分\n1, 在職 \n2,退職\u3000\n3,\n"
    records, _ = roster_from("r.csv", text.encode(), None)
    assert [(r["status"], r["status_label"]) for r in records] == [("active", "在職"), ("left", "退職"),
                                                                    ("other", None)]


def test_roster_below_a_title_in_an_xlsx_workbook():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "職員名簿"
    for row in (["令和8年4月1日現在 職員名簿"], [], ["職員番号", "氏名", "所属", "在職区分", "発令日"],
                ["00123", "石岡 太郎", "総務課", "退職", datetime(2026, 9, 30)],
                [124, "筑波 花子", "市民課", "在職", 46113]):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    records, reader = roster_from("r.xlsx", out.getvalue(), None)
    assert reader == "xlsx"
    assert [(r["employee_id"], r["effective_date"], r["source"]) for r in records] == [
        ("00123", "2026-09-30", {"file": "r.xlsx", "line": 4, "sheet": "職員名簿"}),
        ("124", "2026-04-01", {"file": "r.xlsx", "line": 5, "sheet": "職員名簿"})]


@pytest.mark.parametrize(
    ("text", "line", "where", "problem"),
    [
        ("氏名,在職区分\na,在職\n", 1, None, "no header row naming '職員番号' or 'employee_id' in the first 10 "
         "lines (line 1 has: 氏名, 在職区分) (name it with --mapping, format auditor-hr-mapping/1)"),
        ("職員番号,氏名\n1,a\n", 1, None, "no employment-status column (expected '在職区分' or 'status'"),
        ("職員番号,在職区分\n1,在職\n,在職\n", 3, "column '職員番号'", "empty employee number"),
        ("職員番号,在職区分,発令日\n1,在職,令和8年13月1日\n", 2, "column '発令日'", "expected a date such as"),
        ("職員番号,在職区分\n1,在職\n2\n", 3, None, "expected 2 fields"),
        ("職員番号,在職区分,発令日\n1,在職,令和1年4月1日\n", 2, "column '発令日'",
         "found '令和1年4月1日' (令和 began on 2019-05-01)"),
        ("職員番号;在職区分\n1;在職\n", 1, None, "looks semicolon-separated"),
    ],
)
def test_malformed_rosters_name_file_line_and_column(text, line, where, problem):
    with pytest.raises(InputError) as err:
        roster_from("r.csv", text.encode("cp932"), None)
    assert (err.value.file, err.value.line, err.value.where) == ("r.csv", line, where)
    assert problem in err.value.problem


@pytest.mark.parametrize(
    ("text", "line", "where", "problem"),
    [
        ("format: auditor-hr-mapping/2\n", 1, "format", "unallowed value"),
        ("format: auditor-hr-mapping/1\ncolumns:\n  employee_id: 職員コード\n  staff: 氏名\n", 4, "columns.staff",
         "unknown key"),
        ("format: auditor-hr-mapping/1\nstatus_values:\n  active: [在職]\n  left: [退職, 在職]\n", 4,
         "status_values.left[1]", "'在職' is also listed under active"),
        ("format: auditor-hr-mapping/1\ncolumns: [職員番号]\n", 2, "columns", "expected dict"),
        ("columns: {employee_id: x}\n", 1, "format", "required field"),
        ("format: auditor-hr-mapping/1\ncolumns: {employee_id: x\n", 3, None, "invalid YAML"),
    ],
)
def test_mapping_errors_name_file_key_and_line(tmp_path, text, line, where, problem):
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_mapping(str(path), MAPPING_SCHEMA, "status_values")
    assert (err.value.file, err.value.line, err.value.where) == (str(path), line, where)
    assert problem in err.value.problem


def test_numeric_status_codes_in_a_mapping_are_labels(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("format: auditor-hr-mapping/1\nstatus_values: {active: [1], left: [9]}\n", encoding="utf-8")
    records, _ = roster_from("r.csv", "職員番号,在職区分\n1,1\n2,9\n".encode(),
                             load_mapping(str(path), MAPPING_SCHEMA, "status_values"))
    assert [r["status"] for r in records] == ["active", "left"]


def test_import_validates_against_the_fact_schemas_end_to_end(tmp_path):
    out = tmp_path / "org.json"
    assert main(["import", "hr-roster", str(CUSTOM), "--mapping", str(MAPPING), "--target", "kakuu-org",
                 "--out", str(out)]) == 0
    target = bundles.load_target("kakuu-org", bundles.index([out])["kakuu-org"])
    assert target.problem is None and target.area_problems == {} and target.kind == "organization"
    assert [r["employee_id"] for r in target.facts["hr_roster"]] == ["000301", "000302", "000303"]
    assert [s["parser"] for s in target.sources] == ["hr-roster (utf-8-sig)"]
    assert target.sources[0]["area"] == "hr_roster"


def test_bad_mapping_fails_before_any_export_is_read(tmp_path, capsys):
    bad = tmp_path / "m.yaml"
    bad.write_text("format: auditor-hr-mapping/1\nstatus_values: {retired: [退職]}\n", encoding="utf-8")
    assert main(["import", "hr-roster", str(tmp_path / "missing.csv"), "--mapping", str(bad)]) == 2
    assert f"{bad}:2: status_values.retired: unknown key" in capsys.readouterr().err


def test_sheet_option_with_a_csv_roster_is_refused():
    with pytest.raises(InputError, match="--sheet 'S' was given but the file is CSV"):
        import_files("hr-roster", [str(EXCEL_CP932)], ImportOptions(sheet="S"))
