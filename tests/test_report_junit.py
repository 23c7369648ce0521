"""--format junit: the counts CI dashboards show are the run's, and hostile text never makes unreadable XML."""

import xml.etree.ElementTree as ET

import pytest
from report_docs import decided_doc, fleet_doc, with_result_changed

from auditor.reports import ReportOptions
from auditor.reports.junit import render, xml_text


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    return fleet_doc(tmp_path_factory.mktemp("fleet"))


def parse(data: bytes) -> ET.Element:
    assert data.startswith(b"<?xml")
    return ET.fromstring(data)  # noqa: S314 (the report under test, written by this program)


def test_counts_equal_the_summary(doc):
    root = parse(render(doc, ReportOptions()))
    summary = doc["summary"]
    skipped = summary["notapplicable"] + summary["manual"] + summary["waived"]
    assert root.tag == "testsuites"
    assert len(root.findall("./testsuite/testcase")) == len(doc["results"]) == int(root.get("tests"))
    assert len(root.findall(".//failure")) == summary["fail"] == int(root.get("failures"))
    assert len(root.findall(".//error")) == summary["error"] == int(root.get("errors"))
    assert len(root.findall(".//skipped")) == skipped == int(root.get("skipped"))


def test_one_suite_per_target_one_case_per_check(doc):
    root = parse(render(doc, ReportOptions()))
    suites = root.findall("testsuite")
    assert sorted(s.get("name") for s in suites) == sorted(tg["id"] for tg in doc["targets"])
    targets = {tg["id"]: tg for tg in doc["targets"]}
    for suite in suites:
        summary = targets[suite.get("name")]["summary"]
        assert int(suite.get("failures")) == summary["fail"] == len(suite.findall(".//failure"))
        assert int(suite.get("errors")) == summary["error"] == len(suite.findall(".//error"))
        assert int(suite.get("tests")) == sum(summary.values()) == len(suite.findall("testcase"))
        assert {c.get("classname") for c in suite.findall("testcase")} == {suite.get("name")}
    cases = [(c.get("classname"), c.get("name")) for c in root.iter("testcase")]
    assert sorted(cases) == sorted((r["target"], r["check"]) for r in doc["results"])


def test_failures_carry_severity_message_and_fix(doc):
    root = parse(render(doc, ReportOptions(lang="en")))
    results = {(r["target"], r["check"]): r for r in doc["results"]}
    for case in root.iter("testcase"):
        result = results[(case.get("classname"), case.get("name"))]
        failure, error = case.find("failure"), case.find("error")
        if result["status"] == "fail":
            assert failure.get("type") == result["severity"] and failure.get("message") == result["message"]
            assert result["remediation"] in failure.text
            for finding in result["findings"][:5]:
                sentence = (finding.get("expected_text") or {}).get("en") or str(finding["expected"])
                assert sentence in failure.text
        elif result["status"] == "error":
            assert error.get("type") == (result.get("cause") or {}).get("kind", "error")
        else:
            assert failure is None and error is None


def test_waived_results_are_skipped_with_the_waiver(tmp_path):
    doc = decided_doc(tmp_path)
    root = parse(render(doc, ReportOptions(lang="en")))
    waived = [r for r in doc["results"] if r["status"] == "waived"]
    assert waived
    for result in waived:
        case = next(c for c in root.iter("testcase")
                    if (c.get("classname"), c.get("name")) == (result["target"], result["check"]))
        assert result["waiver"]["id"] in case.find("skipped").get("message")


def test_characters_xml_cannot_hold_are_replaced_not_fatal(doc):
    hostile = 'a\x00b\x1b"<c>&\ud800d\x7f'
    changed, _ = with_result_changed(doc, "fail", message=hostile)
    root = parse(render(changed, ReportOptions()))
    messages = [f.get("message") for f in root.iter("failure")]
    assert xml_text(hostile) in messages
    assert xml_text(hostile) == 'a\ufffdb\ufffd"<c>&\ufffdd\x7f'


def test_the_trainer_view_names_no_one(doc):
    from auditor.reports.anonymise import Anonymiser

    people = [n for n in Anonymiser().learn(doc).people if not n.isascii()]
    text = render(doc, ReportOptions(view="trainer")).decode("utf-8")
    assert people and [n for n in people if n in text] == [] and "職員A" in text
