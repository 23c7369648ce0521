"""--format xlsx: the sheets, their tables and widths, the formula guard, and the same bytes for the same run."""

import copy
import io
import zipfile
from datetime import UTC, datetime

import openpyxl
import pytest
from report_docs import decided_doc, fleet_doc, with_result_changed

from auditor.i18n import t
from auditor.reports import ReportOptions
from auditor.reports.csv_report import COLUMNS, header
from auditor.reports.xlsx import MAX_WIDTH, SHEETS, display_width, render


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    return fleet_doc(tmp_path_factory.mktemp("fleet"))


@pytest.fixture(scope="module")
def book(doc):
    return openpyxl.load_workbook(io.BytesIO(render(doc, ReportOptions())))


def sheet(book, key, lang="ja"):
    return book[SHEETS[key][lang]]


def test_the_sheets_and_their_tables(book, doc):
    assert book.sheetnames == [SHEETS[k]["ja"] for k in ("summary", "targets", "results", "controls", "waivers")]
    assert not doc["attestations"]  # and so no attestations sheet
    for ws in book:
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:{ws.cell(ws.max_row, ws.max_column).coordinate}"
        assert all(cell.font.bold for cell in ws[1])


def test_english_sheet_names_and_headers(doc):
    book = openpyxl.load_workbook(io.BytesIO(render(doc, ReportOptions(lang="en"))))
    assert book.sheetnames[:3] == ["Summary", "Targets", "Results"]
    assert [c.value for c in book["Results"][1]] == header("en")


def test_summary_figures_are_the_document_s(book, doc):
    values = dict(sheet(book, "summary").iter_rows(min_row=2, values_only=True))
    assert values[t("score", "ja")] == doc["score"]
    assert values["評価できた割合（%）"] == doc["coverage"]["share"]
    assert values["証跡不備"] == doc["coverage"]["broken"]
    for status, count in doc["summary"].items():
        assert values[t(status, "ja")] == count
    assert "不通過" in values[t("gate", "ja")]


def test_results_rows_match_the_document(book, doc):
    ws = sheet(book, "results")
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(doc["results"])
    for row, result in zip(rows, doc["results"], strict=True):
        cells = dict(zip(COLUMNS, row, strict=True))
        assert (cells["target"], cells["check"], cells["status"]) == (result["target"], result["check"],
                                                                     t(result["status"], "ja"))
        assert cells["message"] == result["message"]


def test_targets_and_controls_are_numbers(book, doc):
    targets = list(sheet(book, "targets").iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[4]) for r in targets] == [(tg["id"], tg["score"]) for tg in doc["targets"]]
    assert [r[-6:] for r in targets] == [tuple(tg["summary"][s] for s in ("pass", "fail", "error", "notapplicable",
                                                                          "waived", "manual"))
                                         for tg in doc["targets"]]
    controls = list(sheet(book, "controls").iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in controls] == [c["id"] for c in doc["controls"]]


def test_columns_fit_japanese_text(book, doc):
    ws = sheet(book, "results")
    title_column = COLUMNS.index("title") + 1
    titles = [r["title"] for r in doc["results"]]
    letter = ws.cell(1, title_column).column_letter
    width = ws.column_dimensions[letter].width
    longest = max(titles, key=len)
    assert width > len(longest) or width >= MAX_WIDTH  # wide characters count twice
    assert width >= min(display_width(longest), MAX_WIDTH)
    assert display_width("管理策") == 6 and display_width("ab\nabcd") == 4
    target_letter = ws.cell(1, COLUMNS.index("target") + 1).column_letter
    assert ws.column_dimensions[target_letter].width < width  # ASCII ids: narrower


def test_formula_like_text_stays_text(doc):
    hostile = '=HYPERLINK("http://evil.example/","x")'
    changed, index = with_result_changed(doc, "fail", message=hostile, title="@SUM(1)")
    ws = sheet(openpyxl.load_workbook(io.BytesIO(render(changed, ReportOptions()))), "results")
    message = ws.cell(index + 2, COLUMNS.index("message") + 1)
    title = ws.cell(index + 2, COLUMNS.index("title") + 1)
    for cell, text in ((message, hostile), (title, "@SUM(1)")):
        assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True)
    plain = ws.cell(2, COLUMNS.index("check") + 1)
    assert not plain.quotePrefix


def test_characters_xml_cannot_hold_are_replaced(doc):
    changed, index = with_result_changed(doc, "fail", message="a\x00b\x1bc\ud800d")
    ws = sheet(openpyxl.load_workbook(io.BytesIO(render(changed, ReportOptions()))), "results")
    assert ws.cell(index + 2, COLUMNS.index("message") + 1).value == "a\ufffdb\ufffdc\ufffdd"


def test_the_same_run_gives_the_same_bytes(doc):
    doc = copy.deepcopy(doc)
    doc["run"]["finished_at"] = "2026-11-02T09:41:07+09:00"  # an odd second, as a zip cannot keep it
    first = render(doc, ReportOptions())
    assert render(copy.deepcopy(doc), ReportOptions()) == first
    finished = datetime.fromisoformat(doc["run"]["finished_at"]).astimezone(UTC).replace(tzinfo=None)
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        stamp = finished.replace(second=finished.second - finished.second % 2)  # a zip keeps even seconds
        assert {info.date_time for info in archive.infolist()} == {stamp.timetuple()[:6]}
    props = openpyxl.load_workbook(io.BytesIO(first)).properties
    assert props.created == props.modified == finished
    later = copy.deepcopy(doc)
    later["run"]["finished_at"] = "2027-01-05T09:00:00+09:00"
    assert render(later, ReportOptions()) != first


def test_waivers_and_attestations_sheets(tmp_path):
    doc = decided_doc(tmp_path)
    book = openpyxl.load_workbook(io.BytesIO(render(doc, ReportOptions(lang="en"))))
    assert book.sheetnames[-2:] == ["Waivers", "Attestations"]
    waivers = list(book["Waivers"].iter_rows(min_row=2, values_only=True))
    assert [(w[0], w[2], w[10]) for w in waivers] == [(w["id"], w["approval_number"], w["waived"])
                                                     for w in doc["waivers"]]
    attestations = list(book["Attestations"].iter_rows(min_row=2, values_only=True))
    assert [(a[0], a[3], a[9]) for a in attestations] == [(a["control"], a["attested_by"], a["used"])
                                                         for a in doc["attestations"]]
    results = list(book["Results"].iter_rows(min_row=2, values_only=True))
    waived = [dict(zip(COLUMNS, r, strict=True)) for r in results if r[COLUMNS.index("waiver")]]
    assert len(waived) == doc["summary"]["waived"]


def test_the_trainer_view_names_no_one(doc):
    from auditor.reports.anonymise import Anonymiser

    people = [n for n in Anonymiser().learn(doc).people if not n.isascii()]
    assert people
    book = openpyxl.load_workbook(io.BytesIO(render(doc, ReportOptions(view="trainer"))))
    text = "\n".join(str(v) for ws in book for row in ws.iter_rows(values_only=True) for v in row if v)
    assert [n for n in people if n in text] == [] and "職員A" in text
