"""--format md: headline first, tables per segment, department and family, every failing result, nothing injected."""

import copy
import re

import pytest
from report_docs import decided_doc, fleet_doc, with_result_changed

from auditor.i18n import t
from auditor.reports import ReportOptions
from auditor.reports.markdown import escape, render
from auditor.reports.markdown import table as md_table

UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    return fleet_doc(tmp_path_factory.mktemp("fleet"))


def section(text: str, heading: str) -> list[str]:
    """The table rows (below the separator) of the first table after ``## heading``."""
    lines = text.splitlines()
    start = lines.index(f"## {heading}")
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("## "):
            break
        if line.startswith("| ") and not line.startswith("|---"):
            rows.append(line)
    return rows[1:]  # the header row is not data


def cells(row: str) -> list[str]:
    return [c.strip() for c in UNESCAPED_PIPE.split(row)[1:-1]]


def test_the_headline_comes_first(doc):
    text = render(doc, ReportOptions(lang="en"))
    head = text[: text.index("\n## ")]
    assert f"| {doc['score']:.1f} |" in head and t(f"grade_{doc['grade']}", "en") in head
    assert ("FAILED" in head) is (not doc["gate"]["passed"])
    assert f"{doc['coverage']['share']}%" in head
    assert all(g["check"] in head for g in doc["gate"]["failed_critical"])


def test_a_table_per_segment_department_and_family(doc):
    text = render(doc, ReportOptions(lang="en"))
    for heading, entries in (("Segments", doc["segments"]), ("Departments", doc["departments"]),
                             ("Control families", doc["families"]), ("Targets", doc["targets"])):
        rows = section(text, heading)
        assert len(rows) == len(entries), heading
        for row, entry in zip(rows, entries, strict=True):
            values = cells(row)
            assert values[-6:] == [str(entry["summary"][s]) for s in ("pass", "fail", "error", "notapplicable",
                                                                       "waived", "manual")]
    departments = [cells(r)[0] for r in section(text, "Departments")]
    assert [d["department"] for d in doc["departments"] if d["department"]] == [d for d in departments
                                                                                if d != "(not set)"]


def test_every_failing_result_with_expected_source_and_fix(doc):
    text = render(doc, ReportOptions())
    for status in ("fail", "error"):
        assert len(re.findall(rf"^### \[{t(status, 'ja')}\] ", text, re.M)) == doc["summary"][status]
    result = next(r for r in doc["results"] if r["status"] == "fail" and r["findings"]
                  and r["findings"][0].get("expected_text"))
    block = text[text.index(f"] {escape(result['target'], cell=False)} / {escape(result['check'], cell=False)}\n"):]
    block = block[: block.index("\n### ")]
    assert escape(result["findings"][0]["expected_text"]["ja"]) in block
    assert escape(result["remediation"], cell=False) in block
    source = result["findings"][0].get("source")
    if source:
        assert source["file"] in block


def test_a_hostile_name_cannot_break_the_table_or_inject_html(doc):
    hostile = 'evil|pc <script>alert(1)</script> *bold* [x](http://e.example) `code`\nnext'
    changed = copy.deepcopy(doc)
    changed["targets"][0]["department"] = hostile
    changed, index = with_result_changed(changed, "fail", message=hostile)
    changed["results"][index]["findings"][0]["item"] = hostile
    text = render(changed, ReportOptions(lang="en"))
    assert "<script" not in text and "&lt;script&gt;" in text
    assert "[x](" not in text and "*bold*" not in text
    assert len(cells(section(text, "Targets")[0])) == 13  # the column count of the targets table
    width = None  # every row of every table has its header's number of cells
    for line in text.splitlines():
        if not line.startswith("|"):
            width = None
        elif width is None:
            width = len(cells(line))
        elif not line.startswith("|---"):
            assert len(cells(line)) == width, line
    assert "<br>next" in text  # a line break inside a cell stays inside it


def test_escape_and_table_helpers():
    assert escape("a|b") == "a\\|b" and escape("<b>&") == "&lt;b&gt;&amp;"
    assert escape("x\ny", cell=False) == "x y" and escape("x\ny") == "x<br>y"
    assert escape("\x00") == "\ufffd"
    lines = md_table(["h1", "h2"], [["a|b", None]])
    assert cells(lines[2]) == ["a\\|b", "-"]


def test_waivers_and_attestations(tmp_path):
    doc = decided_doc(tmp_path)
    text = render(doc, ReportOptions(lang="en"))
    waivers = section(text, t("waivers_heading", "en"))
    assert [cells(r)[0] for r in waivers] == [w["id"] for w in doc["waivers"]]
    attested = section(text, t("attestations_heading", "en"))
    assert len(attested) == len(doc["attestations"])
    assert all(a["attested_by"] in row for a, row in zip(doc["attestations"], attested, strict=True))


def test_the_trainer_view_names_no_one(doc):
    from auditor.reports.anonymise import Anonymiser

    people = [n for n in Anonymiser().learn(doc).people if not n.isascii()]
    text = render(doc, ReportOptions(view="trainer"))
    assert people and [n for n in people if escape(n, cell=False) in text] == []
    assert "職員A" in text
