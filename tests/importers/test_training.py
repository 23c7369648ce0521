import codecs
import io
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from auditor.evidence.importers import ImportOptions, import_files
from auditor.evidence.importers.csvrows import load_mapping
from auditor.evidence.importers.training import MAPPING_SCHEMA, records_from

from auditor import bundles
from auditor.cli import main
from auditor.errors import InputError

EXPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "exports"
CSV_UTF8 = EXPORTS / "training-utf8bom.csv"  # Excel: CSV UTF-8 (コンマ区切り)
ROSTER = EXPORTS / "roster-excel-cp932.csv"


def workbook(sheets: dict[str, list[list]]) -> bytes:
    """An XLSX as a trainer keeps it: a title above the table, a blank row, typed cells."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ATTENDANCE = [
    ["令和8年度 情報セキュリティ研修 受講記録"],
    [],
    ["職員番号", "氏名", "研修名", "受講日", "修了"],
    ["00124", "筑波 花子", "情報セキュリティ研修", datetime(2026, 6, 10), "修了"],
    [126, "結城 翔", "情報セキュリティ研修", 46185, True],  # a number id, a serial date, a boolean cell
    [],
    ["00127", "土浦 誠", "標的型メール訓練", "令和8年7月1日", None],
]


def test_fixture_is_written_as_excel_writes_it():
    raw = CSV_UTF8.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8 + "職員番号".encode()) and raw.count(b"\n") == raw.count(b"\r\n")


def test_xlsx_rows_are_sheet_rows_with_the_sheet_named():
    data = workbook({"受講記録": ATTENDANCE})
    records, reader = records_from("t.xlsx", data, None)
    assert reader == "xlsx"
    assert records == [
        {"employee_id": "00124", "course": "情報セキュリティ研修", "completed_on": "2026-06-10", "completed": True,
         "source": {"file": "t.xlsx", "line": 4, "sheet": "受講記録"}},
        {"employee_id": "126", "course": "情報セキュリティ研修", "completed_on": "2026-06-12", "completed": True,
         "source": {"file": "t.xlsx", "line": 5, "sheet": "受講記録"}},
        {"employee_id": "00127", "course": "標的型メール訓練", "completed_on": "2026-07-01", "completed": False,
         "source": {"file": "t.xlsx", "line": 7, "sheet": "受講記録"}},
    ]


def test_sheet_option_chooses_the_sheet():
    data = workbook({"集計": [["所属", "人数"], ["総務課", 3]], "受講記録": ATTENDANCE})
    with pytest.raises(InputError) as err:
        records_from("t.xlsx", data, None)  # the first sheet is a summary
    assert err.value.where == "sheet '集計'" and "no header row naming '職員番号'" in err.value.problem
    records, _ = records_from("t.xlsx", data, None, sheet="受講記録")
    assert [r["source"]["line"] for r in records] == [4, 5, 7]
    with pytest.raises(InputError, match=r"no sheet '研修' \(the workbook has: 集計, 受講記録\)"):
        records_from("t.xlsx", data, None, sheet="研修")


def test_excel_csv_with_japanese_headers():
    records, reader = records_from("t.csv", CSV_UTF8.read_bytes(), None)
    assert reader == "utf-8-sig"
    assert [(r["employee_id"], r["completed_on"], r["completed"], r["source"]["line"]) for r in records] == [
        ("00124", "2026-06-10", True, 2), ("00126", "2026-06-12", False, 3), ("00127", "2026-07-01", True, 4),
        ("00128", "2025-06-03", False, 5)]
    assert records[0]["course"] == "情報セキュリティ研修（令和8年度）"


def test_english_headers():
    text = "staff_id,course,date,completed\r\n0042,Security basics,2026-06-01,yes\r\n"
    records, _ = records_from("t.csv", text.encode(), None)
    assert records == [{"employee_id": "0042", "course": "Security basics", "completed_on": "2026-06-01",
                        "completed": True, "source": {"file": "t.csv", "line": 2}}]


@pytest.mark.parametrize(
    ("mark", "completed"),
    [("修了", True), ("済", True), ("○", True), ("〇", True), ("true", True), ("TRUE", True), ("yes", True),
     ("1", True), ("１", True), ("未修了", False), ("未", False), ("×", False), ("false", False), ("no", False),
     ("0", False), ("", False)],
)
def test_completion_marks(mark, completed):
    text = f"職員番号,研修名,修了\n1,研修,{mark}\n"
    assert records_from("t.csv", text.encode("cp932"), None)[0][0]["completed"] is completed


def test_without_a_completion_column_completed_is_absent():
    records, _ = records_from("t.csv", "職員番号,研修名,受講日\n1,研修,2026/6/1\n".encode(), None)
    assert records == [{"employee_id": "1", "course": "研修", "completed_on": "2026-06-01",
                        "source": {"file": "t.csv", "line": 2}}]


@pytest.mark.parametrize(
    ("text", "line", "where", "problem"),
    [
        ("職員番号,研修名,修了\n1,研修,欠席\n", 2, "column '修了'", "expected a completion mark"),
        ("職員番号,研修名,受講日\n1,研修,6月1日\n", 2, "column '受講日'", "expected a date such as"),
        ("職員番号,研修名\n1,研修\n2,\n", 3, "column '研修名'", "empty course"),
        ("職員番号,修了\n1,修了\n", 1, None, "no course column (expected '研修名' or 'course'"),
        ("職員番号\t研修名\n1\t研修\n", 1, None, "looks tab-separated"),
    ],
)
def test_malformed_records_name_file_line_and_column(text, line, where, problem):
    with pytest.raises(InputError) as err:
        records_from("t.csv", text.encode("cp932"), None)
    assert (err.value.file, err.value.line, err.value.where) == ("t.csv", line, where)
    assert problem in err.value.problem


def test_mapping_names_columns_and_marks(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("format: auditor-training-mapping/1\n"
                    "columns: {employee_id: 職員コード, course: 講座名, completed_on: 実施日, completed: 結果}\n"
                    "completed_values: {completed: [合格], not_completed: [不合格, 欠席, '']}\n", encoding="utf-8")
    text = "職員コード,講座名,実施日,結果\n7,eラーニング,2026/5/1,合格\n8,eラーニング,2026/5/1,欠席\n9,eラーニング,,\n"
    mapping = load_mapping(str(path), MAPPING_SCHEMA, "completed_values")
    records, _ = records_from("t.csv", text.encode(), mapping)
    assert [(r["employee_id"], r["completed"], r["completed_on"]) for r in records] == [
        ("7", True, "2026-05-01"), ("8", False, "2026-05-01"), ("9", False, None)]
    with pytest.raises(InputError) as err:  # 修了 is no longer a completed mark under this mapping
        records_from("t.csv", "職員コード,講座名,結果\n7,x,修了\n".encode(), mapping)
    assert err.value.line == 2 and "合格" in err.value.problem


def test_a_roster_mapping_is_not_a_training_mapping(tmp_path, capsys):
    path = tmp_path / "m.yaml"
    path.write_text("format: auditor-hr-mapping/1\n", encoding="utf-8")
    assert main(["import", "training", str(CSV_UTF8), "--mapping", str(path)]) == 2
    assert f"{path}:1: format: unallowed value 'auditor-hr-mapping/1'" in capsys.readouterr().err


def test_roster_and_training_make_one_organisation_target(tmp_path):
    book = tmp_path / "training.xlsx"
    book.write_bytes(workbook({"受講記録": ATTENDANCE}))
    roster_out, training_out = tmp_path / "roster.json", tmp_path / "training.json"
    assert main(["import", "hr-roster", str(ROSTER), "--target", "kakuu-org", "--out", str(roster_out)]) == 0
    assert main(["import", "training", str(book), "--target", "kakuu-org", "--out", str(training_out)]) == 0
    target = bundles.load_target("kakuu-org", bundles.index([roster_out, training_out])["kakuu-org"])
    assert target.problem is None and target.area_problems == {} and target.kind == "organization"
    assert len(target.facts["hr_roster"]) == 6 and len(target.facts["training_records"]) == 3
    assert {s["parser"] for s in target.sources} == {"hr-roster (cp932)", "training (xlsx)"}
    assert target.facts["training_records"][0]["source"] == {"file": str(book), "line": 4, "sheet": "受講記録"}


def test_records_of_several_files_are_kept_together():
    bundle = import_files("training", [str(CSV_UTF8), str(CSV_UTF8)], ImportOptions(target_id="org"))
    assert [r["source"]["line"] for r in bundle["facts"]["training_records"]] == [2, 3, 4, 5] * 2
    assert len(bundle["sources"]) == 2
