"""The roster's transfer and hiring facts (event, previous_department, hired_on), where the export has them."""

import codecs
import io
from datetime import datetime

import openpyxl
from auditor.evidence.importers.csvrows import load_mapping
from auditor.evidence.importers.hr_roster import MAPPING_SCHEMA, roster_from


def cp932(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("cp932")


def test_event_column_gives_events_and_the_hiring_date_of_hires():
    data = cp932(["職員番号,氏名,所属,旧所属,在職区分,異動区分,発令日",
                  "00201,筑波 花子,市民課,税務課,在職,異動,令和8年10月1日",
                  "00202,水戸 健,総務課,,在職,新規採用,R8.4.1",
                  "00203,結城 翔,福祉課,,退職,定年退職,2026/3/31",
                  "00204,土浦 誠,福祉課,,在職,兼務,2026/4/1"])
    records, reader = roster_from("r.csv", data, None)
    assert reader == "cp932"
    assert [(r["event"], r["event_label"], r["previous_department"], r["hired_on"]) for r in records] == [
        ("transfer", "異動", "税務課", None), ("hire", "新規採用", None, "2026-04-01"),
        ("left", "定年退職", None, None), ("other", "兼務", None, None)]


def test_previous_department_alone_makes_a_transfer_where_it_differs():
    text = "職員番号,所属,異動前所属,在職区分\r\n1,市民課,税務課,在職\r\n2,市民課,市民課,在職\r\n3,市民課,,在職\r\n"
    records, reader = roster_from("r.csv", codecs.BOM_UTF8 + text.encode(), None)
    assert reader == "utf-8-sig"
    assert [r.get("event") for r in records] == ["transfer", None, None]
    assert all("hired_on" not in r for r in records)  # nothing in this export says who was hired


def test_hiring_date_column_wins_and_old_exports_are_unchanged():
    data = cp932(["職員番号,在職区分,採用日", "1,在職,平成31年4月1日", "2,在職,"])
    records, _ = roster_from("r.csv", data, None)
    assert [r["hired_on"] for r in records] == ["2019-04-01", None]
    old, _ = roster_from("r.csv", cp932(["職員番号,所属,在職区分,発令日", "1,総務課,在職,2026/4/1"]), None)
    assert set(old[0]) == {"employee_id", "department", "status", "status_label", "effective_date", "source"}


def test_mapping_event_values_and_an_xlsx_roster(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("format: auditor-hr-mapping/1\ncolumns: {event: 発令種別}\nevent_values: {transfer: [配置替]}\n",
                    encoding="utf-8")
    book = openpyxl.Workbook()
    for row in (["職員番号", "所属", "在職区分", "発令種別", "発令日"],
                [301, "市民課", "在職", "配置替", datetime(2026, 10, 1)], [302, "市民課", "在職", "異動", 46296]):
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    records, reader = roster_from("r.xlsx", out.getvalue(), load_mapping(str(path), MAPPING_SCHEMA, "status_values"))
    assert reader == "xlsx"
    # the mapping's transfer list replaces the defaults: 異動 is no longer known
    assert [(r["employee_id"], r["event"], r["effective_date"]) for r in records] == [
        ("301", "transfer", "2026-10-01"), ("302", "other", "2026-10-01")]
