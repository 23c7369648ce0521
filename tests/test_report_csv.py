"""--format csv: Excel's UTF-8 with BOM and CRLF, one row per result, and no cell Excel would run."""

import csv
import io
import json
import re

import openpyxl
import pytest
from report_docs import decided_doc, fleet_doc, with_result_changed

from auditor.cli import main
from auditor.i18n import t
from auditor.reports import ReportOptions
from auditor.reports.anonymise import Anonymiser
from auditor.reports.csv_report import COLUMNS, FORMULA_STARTS, guard, header, render

BOM = b"\xef\xbb\xbf"
FORMULA = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    return fleet_doc(tmp_path_factory.mktemp("fleet"))


def rows_of(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(BOM)
    reader = csv.reader(io.StringIO(data[len(BOM):].decode("utf-8"), newline=""))
    head, *rows = list(reader)
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows] if head else []


def test_bom_crlf_and_a_header_in_the_report_s_language(doc):
    data = render(doc, ReportOptions())
    assert data.startswith(BOM) and data.endswith(b"\r\n")
    first = data[len(BOM):data.index(b"\r\n")].decode("utf-8")
    assert first.split(",") == header("ja") and "対象" in first
    english = render(doc, ReportOptions(lang="en"))
    assert english[len(BOM):english.index(b"\r\n")].decode().split(",") == header("en")
    # every record ends in CRLF: a bare LF is only ever inside a quoted cell
    records = list(csv.reader(io.StringIO(data[len(BOM):].decode("utf-8"), newline="")))
    assert data.count(b"\r\n") >= len(records)


def test_one_row_per_result_matching_the_document(doc):
    rows = rows_of(render(doc, ReportOptions()))
    assert len(rows) == len(doc["results"])
    targets = {tg["id"]: tg for tg in doc["targets"]}
    for row, result in zip(rows, doc["results"], strict=True):
        assert (row["target"], row["check"], row["status"]) == (result["target"], result["check"],
                                                               t(result["status"], "ja"))
        assert row["department"] == (targets[result["target"]]["department"] or "")
        assert row["controls"] == ", ".join(result["controls"])
        assert row["message"] == guard(result["message"])
        assert row["remediation"] == result.get("remediation", "")
    for status, count in doc["summary"].items():
        assert sum(row["status"] == t(status, "ja") for row in rows) == count


def test_causes_name_the_supplier_or_the_broken_file(doc):
    rows = rows_of(render(doc, ReportOptions(lang="en")))
    for row, result in zip(rows, doc["results"], strict=True):
        cause = result.get("cause")
        if cause is None:
            assert row["cause"] == ""
        elif cause["kind"] == "not-supplied":
            assert cause["area"] in row["cause"]
            assert all(supplier in row["cause"] for supplier in cause["supplied_by"])
        else:
            assert cause["file"] in row["cause"] and "broken" in row["cause"]
    assert {r["cause"]["kind"] for r in doc["results"] if r.get("cause")} == {"not-supplied", "broken"}


def test_expected_sentence_and_source_when_the_results_have_them(doc):
    changed, index = with_result_changed(doc, "fail")
    finding = changed["results"][index]["findings"][0]
    finding["expected_text"] = {"ja": "8 文字以上であること", "en": "at least 8 characters"}
    finding["source"] = {"file": "exports/ad-users.csv", "row": 11}
    row = rows_of(render(changed, ReportOptions(lang="en")))[index]
    assert row["expected"].split("\n")[0] == "at least 8 characters"
    assert row["source"].split("\n")[0] == "exports/ad-users.csv:11"
    plain = rows_of(render(doc, ReportOptions()))[index]  # without them: the condition's text, the bundles
    original = doc["results"][index]["findings"][0]
    sentence = (original.get("expected_text") or {}).get("ja") or str(original["expected"])
    assert plain["expected"].split("\n")[0] == guard(sentence)
    if "source" in original:  # the file and row of the record, else the bundles the result read
        assert plain["source"].split("\n")[0] == f"{original['source']['file']}:" \
            f"{original['source'].get('row', original['source'].get('line'))}"
    else:
        assert plain["source"].split("\n") == doc["results"][index]["evidence"]


def test_waivers_and_attestations(tmp_path):
    doc = decided_doc(tmp_path)
    rows = rows_of(render(doc, ReportOptions(lang="en")))
    waived = [(row, r) for row, r in zip(rows, doc["results"], strict=True) if r["status"] == "waived"]
    assert len(waived) == doc["summary"]["waived"] > 0
    for row, result in waived:
        assert row["waiver"] == result["waiver"]["id"] and row["waived_status"] == t(result["waived_status"], "en")
    attested = [(row, r) for row, r in zip(rows, doc["results"], strict=True) if r.get("attestation")]
    assert attested
    for row, result in attested:
        assert result["attestation"]["attested_by"] in row["attestation"]
        assert result["attestation"]["valid_until"] in row["attestation"]
    wareki = rows_of(render(doc, ReportOptions(lang="ja", date_style="wareki")))
    assert any("令和9年3月31日" in row["attestation"] for row in wareki)


@pytest.mark.parametrize("start", FORMULA)
def test_the_guard(start):
    assert guard(start + "1+2") == "'" + start + "1+2"
    assert guard("1" + start) == "1" + start
    assert set(FORMULA) <= set(FORMULA_STARTS)


def test_a_hostile_message_arrives_inert(doc):
    hostile = ['=HYPERLINK("http://evil.example/","x")', "+1+1", "-2+3", "@SUM(1)", "\t=1", "\r=1"]
    changed = json.loads(json.dumps(doc))
    for result, text in zip(changed["results"], hostile, strict=False):
        result["message"] = text
    rows = rows_of(render(changed, ReportOptions()))
    for row, text in zip(rows, hostile, strict=False):
        assert row["message"] == "'" + text


def _named(text: str, names: list[str]) -> list[str]:
    return [n for n in names if re.search(rf"(?<![\w.@-]){re.escape(n)}(?![\w@-]|\.\w)", text)]


def test_the_trainer_view_names_no_one(doc):
    people = [name for name in Anonymiser().learn(doc).people if len(name) >= 3]
    text = render(doc, ReportOptions(view="trainer")).decode("utf-8")
    assert _named(text, people) == [] and "職員A" in text
    admin = render(doc, ReportOptions()).decode("utf-8")
    assert len(_named(admin, people)) >= 5


def test_audit_format_csv_is_the_report_of_the_stored_run(doc, tmp_path):
    from report_docs import FLEET

    stored = tmp_path / "r.json"
    stored.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert main(["report", str(stored), "--format", "csv", "--out", str(tmp_path / "a.csv")]) == 1
    assert main(["audit", str(FLEET), "--as-of", "2026-11-02", "--format", "csv",
                 "--out", str(tmp_path / "b.csv")]) == 1
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes() == render(doc, ReportOptions())


# A PowerShell 5.1 Export-Csv of Get-ADUser (CP932, CRLF, the #TYPE line), with hostile account names.
AD_HEADER = ('"SamAccountName","Name","DisplayName","EmployeeID","Department","Description","Enabled",'
             '"whenCreated","LastLogonDate","PasswordLastSet","PasswordNeverExpires","PasswordNotRequired",'
             '"AllowReversiblePasswordEncryption","AccountExpirationDate","MemberOf"')
HYPERLINK = '=HYPERLINK("http://evil.example/","開く")'


def _ad_row(account: str, display: str, number: str) -> str:
    quoted = account.replace('"', '""')
    return (f'"{quoted}","{display}","{display}","{number}","総務課","","True","2020/04/01 9:00:00",'
            '"2026/11/01 8:41:07","2026/06/01 8:30:00","True","False","False","",'
            '"CN=Domain Users,CN=Users,DC=kakuu,DC=local"')


@pytest.fixture
def hostile_run(tmp_path):
    export = tmp_path / "ad.csv"
    lines = ["#TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser", AD_HEADER,
             _ad_row(HYPERLINK, "悪意 太郎", "00901"), _ad_row("@SUM(1)", "計算 花子", "00902")]
    export.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
    bundle = tmp_path / "ad.json"
    assert main(["import", "ad-users", str(export), "--department=-2+3", "--out", str(bundle)]) == 0
    results = tmp_path / "results.json"
    main(["audit", str(bundle), "--as-of", "2026-11-02", "--format", "json", "--out", str(results)])
    doc = json.loads(results.read_text(encoding="utf-8"))
    items = [f["item"] for r in doc["results"] for f in r["findings"]]
    assert any(item.startswith(HYPERLINK) for item in items) and any(i.startswith("@SUM(1)") for i in items)
    return tmp_path, bundle, doc


def test_hostile_account_names_from_an_ad_export_arrive_inert_in_csv(hostile_run, capsys):
    folder, bundle, doc = hostile_run
    out = folder / "report.csv"
    main(["audit", str(bundle), "--as-of", "2026-11-02", "--format", "csv", "--out", str(out)])
    records = list(csv.reader(io.StringIO(out.read_bytes()[len(BOM):].decode("utf-8"), newline="")))
    cells = [cell for record in records for cell in record]
    assert not [c for c in cells if c.startswith(FORMULA)]  # nothing Excel would run
    assert any(c.startswith("'" + HYPERLINK) for c in cells)
    assert any(c == "'-2+3" for c in cells)  # the department, on every row
    rows = [dict(zip(COLUMNS, r, strict=True)) for r in records[1:]]
    flagged = [r for r in rows if HYPERLINK in r["items"]]
    assert flagged and all("@SUM(1)" in r["items"] for r in flagged)
    capsys.readouterr()


def test_hostile_account_names_from_an_ad_export_arrive_inert_in_xlsx(hostile_run, capsys):
    folder, bundle, doc = hostile_run
    out = folder / "report.xlsx"
    main(["audit", str(bundle), "--as-of", "2026-11-02", "--format", "xlsx", "--out", str(out)])
    book = openpyxl.load_workbook(out)
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert not [c for c in cells if c.data_type == "f"]
    risky = [c for c in cells if c.value.startswith(FORMULA)]
    assert any(c.value.startswith(HYPERLINK) for c in risky) and any(c.value == "-2+3" for c in risky)
    assert all(c.data_type == "s" and c.quotePrefix for c in risky)
    capsys.readouterr()
