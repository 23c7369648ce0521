"""The exceptions ledger (例外措置台帳) as Excel writes it, into the exceptions_register area."""

import codecs
import io
from datetime import datetime

import openpyxl
import pytest
from auditor.evidence.importers import ImportOptions, import_files

from auditor.cli import main
from auditor.errors import InputError

HEADER = "申請番号,対象,理由,承認者,承認日,終了日,状態"
ROWS = ["R8-001,LG-FS-01 の USB 利用,\"納入業者の移行作業（業者名: 架空, 株式会社）\","
        "CISO 石岡 太郎,令和8年4月1日,R9.3.31,有効",
        "R7-014,税務課 端末,OS 更新の保留,CISO 石岡 太郎,2025/4/1,2026-03-31,終了",
        "R8-009,総務課 共有フォルダ,,,平成31年4月30日,,取消し"]


def excel_cp932(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("cp932")


def imported(tmp_path, name: str, data: bytes, mapping: str | None = None) -> dict:
    path = tmp_path / name
    path.write_bytes(data)
    bundle = import_files("exceptions-register", [str(path)],
                          ImportOptions(target_id="kakuu-city", collected_at="2026-11-02T08:30:00+09:00",
                                        mapping=mapping))
    assert bundle["target"]["kind"] == "organization"
    return bundle


def test_excel_cp932_with_crlf_japanese_headers_and_wareki_dates(tmp_path):
    data = excel_cp932([HEADER, *ROWS])
    assert data.count(b"\r\n") == 4 and not data.startswith(codecs.BOM_UTF8)
    bundle = imported(tmp_path, "ledger.csv", data)
    records = bundle["facts"]["exceptions_register"]
    assert [(r["number"], r["approved_on"], r["starts_on"], r["ends_on"], r["status"]) for r in records] == [
        ("R8-001", "2026-04-01", "2026-04-01", "2027-03-31", "active"),
        ("R7-014", "2025-04-01", "2025-04-01", "2026-03-31", "closed"),
        ("R8-009", "2019-04-30", "2019-04-30", None, "closed")]
    assert records[0]["reason"] == "納入業者の移行作業（業者名: 架空, 株式会社）"  # a quoted comma stays in its cell
    assert records[2]["reason"] is None and records[2]["approver"] is None
    assert records[1]["source"] == {"file": str(tmp_path / "ledger.csv"), "line": 3}
    assert bundle["sources"][0]["parser"] == "exceptions-register (cp932)"
    assert bundle["sources"][0]["area"] == "exceptions_register"


def test_utf8_bom_english_headers_start_column_and_approval_numbers_only(tmp_path):
    text = ("approval_number,scope,reason,approver,granted,starts_on,expires,status\r\n"
            "A-17,pc-101,vendor work,CISO,2026-03-20,2026-04-01,2026-06-30,Active\r\n"
            "A-18,pc-102,test,CISO,2026-03-20,,2026-06-30,unheard-of\r\n")
    records = imported(tmp_path, "l.csv", codecs.BOM_UTF8 + text.encode())["facts"]["exceptions_register"]
    assert [(r["number"], r["approval_number"], r["starts_on"], r["status"], r["status_label"]) for r in records] == [
        ("A-17", "A-17", "2026-04-01", "active", "Active"),  # the approval number names an unnumbered entry
        ("A-18", "A-18", None, "other", "unheard-of")]  # a start column left empty is not filled from the approval


def test_absent_columns_are_absent_keys_not_guesses(tmp_path):
    data = excel_cp932(["申請番号,対象", "R8-1,住基端末"])
    records = imported(tmp_path, "l.csv", data)["facts"]["exceptions_register"]
    assert records == [{"number": "R8-1", "scope": "住基端末", "source": {"file": str(tmp_path / "l.csv"), "line": 2}}]


def test_xlsx_workbook_with_a_title_row_and_date_cells(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "例外措置台帳"
    for row in (["令和8年度 例外措置台帳"], [], ["承認番号", "対象", "理由", "承認者", "承認日", "期限", "状態"],
                [2026001, "市民課 窓口端末", "機器更新まで", "CISO", datetime(2026, 4, 1), 46477, "有効"]):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    [record] = imported(tmp_path, "l.xlsx", out.getvalue())["facts"]["exceptions_register"]
    assert (record["number"], record["approved_on"], record["ends_on"], record["source"]) == (
        "2026001", "2026-04-01", "2027-03-31", {"file": str(tmp_path / "l.xlsx"), "line": 4, "sheet": "例外措置台帳"})


def test_mapping_names_the_citys_columns_and_marks(tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("format: auditor-exceptions-mapping/1\ncolumns: {number: 受付番号, ends_on: 満了日}\n"
                       "status_values: {closed: [期間満了]}\n", encoding="utf-8")
    data = excel_cp932(["受付番号,満了日,状態", "1,令和8年12月31日,期間満了", "2,令和8年12月31日,終了"])
    records = imported(tmp_path, "l.csv", data, str(mapping))["facts"]["exceptions_register"]
    assert [(r["number"], r["ends_on"], r["status"]) for r in records] == [
        ("1", "2026-12-31", "closed"), ("2", "2026-12-31", "other")]  # the mapping's closed list replaces the defaults


@pytest.mark.parametrize(("lines", "line", "problem"), [
    (["対象,理由", "a,b"], 1, "申請番号"),  # nothing names the entries
    ([HEADER, "R8-1,a,b,c,令和1年4月30日,2026/1/1,有効"], 2, "令和 began on 2019-05-01"),
    ([HEADER, "R8-1,a,b,c,2026/2/30,2026/1/1,有効"], 2, "expected a date"),
    ([HEADER, "R8-1,a,b,c,2026/4/1,=HYPERLINK(\"x\"),有効"], 2, "expected a date"),
    ([HEADER, "R8-1,a,b"], 2, "field"),  # a short row
    (["申請番号,承認番号,受付番号", "1,2,3"], 1, "both give"),  # two spellings of the entry number
])
def test_hostile_ledgers_are_refused_naming_the_line(tmp_path, lines, line, problem):
    with pytest.raises(InputError) as err:
        imported(tmp_path, "l.csv", excel_cp932(lines))
    assert err.value.line == line and problem in str(err.value)


def test_cli_import_then_audit_reports_the_ledger(tmp_path, capsys):
    ledger = tmp_path / "ledger.csv"
    entry = "R8-005,福祉課 複合機,保守の切替まで,CISO,令和8年4月1日,令和8年9月30日,有効"
    ledger.write_bytes(excel_cp932([HEADER, entry]))
    out = tmp_path / "org.json"
    assert main(["import", "exceptions-register", str(ledger), "--target", "kakuu-city",
                 "--collected-at", "2026-11-02T08:30:00+09:00", "--out", str(out)]) == 0
    main(["audit", str(out), "--format", "json", "--lang", "en"])
    import json

    results = {r["check"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert results["expired-exceptions-closed"]["status"] == "fail"
    assert "R8-005" in results["expired-exceptions-closed"]["message"]
    assert results["exception-term-limited"]["status"] == "pass"
    assert main(["import", "exceptions-register", str(tmp_path / "none.csv"), "--out", str(tmp_path / "x.json")]) == 2
