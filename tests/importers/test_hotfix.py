import codecs
import json
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from auditor.evidence.importers import ImportOptions, import_files
from auditor.evidence.importers.csvrows import csv_table
from auditor.evidence.importers.hotfix import hotfixes_from, patches_from

from auditor import bundles
from auditor.cli import main
from auditor.errors import InputError
from auditor.schemas import problems
from auditor.schemas.facts import FACT_SCHEMAS

WINDOWS = Path(__file__).resolve().parents[1] / "fixtures" / "windows"
PS51 = WINDOWS / "hotfix-ps51.csv"  # Windows PowerShell 5.1: Export-Csv -Encoding Default (CP932), #TYPE line
TYPE_LINE = "#TYPE System.Management.ManagementObject#root\\cimv2\\Win32_QuickFixEngineering\r\n"
JST = timezone(timedelta(hours=9))

UPDATES = [  # (id, description, installed_on, line)
    ("KB5031356", "Security Update", "2026-10-15T00:00:00+09:00", 3),
    ("KB5030841", "Update", "2026-10-20T00:00:00+09:00", 4),
    ("KB5029244", "Security Update", "2026-09-13T00:00:00+09:00", 5),
    ("KB5028951", "Update", None, 6),  # Windows gave no InstalledOn
    ("KB4577586", "Update", "2026-03-10T00:00:00+09:00", 7),
]


def expected(file: str, shift: int = 0) -> list[dict]:
    return [{"id": i, "description": d, "installed_on": on, "source": {"file": file, "line": line + shift}}
            for i, d, on, line in UPDATES]


def ps51_text() -> str:
    return PS51.read_bytes().decode("cp932")


def test_fixture_is_written_as_powershell_51_writes_it():
    raw = PS51.read_bytes()
    assert raw.startswith(TYPE_LINE.encode("ascii")) and raw.count(b"\n") == raw.count(b"\r\n")
    header = raw.split(b"\r\n")[1]
    assert header.startswith(b'"PSComputerName","InstalledOn","__PATH"') and b'"HotFixID"' in header
    assert len(header.split(b",")) == 31
    assert "管理者".encode("cp932") in raw and b'"KB5028951"' in raw and b'"PC-101","","' in raw
    assert b'HotFixID=""KB5031356"",ServicePackInEffect=""""' in raw  # quotes doubled inside quoted fields


def test_updates_keep_their_rows_and_an_empty_date_is_null():
    table = csv_table(ps51_text().replace("\r\n", "\n"), "hf.csv")
    assert hotfixes_from(table, JST) == expected("hf.csv")


def test_patches_facts_count_every_update_but_date_only_the_dated_ones():
    patches = patches_from(expected("hf.csv"))
    assert patches == {"installed_count": 5,
                       "last_installed_at": "2026-10-20T00:00:00+09:00",  # KB5030841, an Update
                       "last_security_installed_at": "2026-10-15T00:00:00+09:00",  # newest Security Update
                       "hotfixes": expected("hf.csv")}


def test_newest_is_compared_as_a_moment_not_as_text():
    hotfixes = [{"id": "KB1", "description": "Security Update", "installed_on": "2026-10-15T08:00:00+09:00"},
                {"id": "KB2", "description": "Security Update", "installed_on": "2026-10-15T00:00:00+00:00"}]
    assert patches_from(hotfixes)["last_security_installed_at"] == "2026-10-15T00:00:00+00:00"  # 09:00 JST


def test_no_dated_update_leaves_the_dates_absent():
    patches = patches_from([{"id": "KB1", "description": "Security Update", "installed_on": None}])
    assert patches == {"installed_count": 1, "hotfixes": [{"id": "KB1", "description": "Security Update",
                                                            "installed_on": None}]}


def test_import_records_how_many_updates_had_no_date():
    bundle = import_files("hotfix", [str(PS51)], ImportOptions(target_id="pc-1"))
    assert bundle["errors"] == [{"area": "patches", "source": str(PS51),
                                 "message": f"{PS51}: 1 of 5 updates have no InstalledOn date (KB5028951); they "
                                            "are counted as installed but not used for the install dates"}]
    assert bundle["facts"]["os"] == {"family": "windows"} and bundle["target"]["kind"] == "endpoint"
    assert [(s["area"], s["parser"]) for s in bundle["sources"]] == [("os", "hotfix (cp932)"),
                                                                     ("patches", "hotfix (cp932)")]


@pytest.mark.parametrize(
    ("encode", "encoding", "shift"),
    [
        (lambda t: t.split("\r\n", 1)[1].encode("utf-8"), "utf-8", -1),  # PowerShell 7: UTF-8, no #TYPE line
        (lambda t: t.split("\r\n", 1)[1].encode("cp932"), "cp932", -1),  # 5.1 with -NoTypeInformation
        (lambda t: codecs.BOM_UTF8 + t.encode("utf-8"), "utf-8-sig", 0),  # 5.1 -Encoding UTF8
        (lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"), "utf-16-le", 0),  # 5.1 -Encoding Unicode
    ],
)
def test_every_way_powershell_writes_it_gives_the_same_updates(tmp_path, encode, encoding, shift):
    path = tmp_path / "hf.csv"
    path.write_bytes(encode(ps51_text()))
    bundle = import_files("hotfix", [str(path)], ImportOptions(target_id="pc-1"))
    assert bundle["facts"]["patches"]["hotfixes"] == expected(str(path), shift)
    assert {s["parser"] for s in bundle["sources"]} == {f"hotfix ({encoding})"}


def test_the_import_offset_applies_to_installed_on():
    bundle = import_files("hotfix", [str(PS51)], ImportOptions(utc_offset="+00:00"))
    assert bundle["facts"]["patches"]["last_installed_at"] == "2026-10-20T00:00:00+00:00"


def test_two_exports_of_one_host_are_merged(tmp_path):
    later = tmp_path / "later.csv"
    later.write_bytes(b'"HotFixID","Description","InstalledOn"\r\n'
                      b'"KB5040000","Security Update","2026/11/01 0:00:00"\r\n')
    patches = import_files("hotfix", [str(PS51), str(later)], ImportOptions())["facts"]["patches"]
    assert patches["installed_count"] == 6 and patches["last_security_installed_at"] == "2026-11-01T00:00:00+09:00"
    assert patches["hotfixes"][-1]["source"] == {"file": str(later), "line": 2}


def test_without_a_description_column_security_dates_are_unknown(tmp_path):
    path = tmp_path / "hf.csv"
    path.write_bytes(b'"HotFixID","InstalledOn"\r\n"KB5031356","2026/10/15 0:00:00"\r\n')
    bundle = import_files("hotfix", [str(path)], ImportOptions())
    assert bundle["facts"]["patches"] == {
        "installed_count": 1, "last_installed_at": "2026-10-15T00:00:00+09:00",
        "hotfixes": [{"id": "KB5031356", "installed_on": "2026-10-15T00:00:00+09:00",
                      "source": {"file": str(path), "line": 2}}]}
    assert [e["message"] for e in bundle["errors"]] == [
        f"{path}: no Description column, so which updates are security updates is unknown"]


@pytest.mark.parametrize(
    ("text", "line", "where", "problem"),
    [
        (TYPE_LINE + '"PSComputerName","Description","InstalledOn"\r\n"PC-101","Update","2026/10/15 0:00:00"\r\n',
         2, None, "no update id column (expected 'HotFixID'; the header has: PSComputerName, Description, "
                  "InstalledOn); export with Get-HotFix"),
        ('"HotFixID","Description"\r\n"KB1","Update"\r\n', 1, None, "no install date column"),
        ('"HotFixID","InstalledOn"\r\n"KB1","2026/10/15 0:00:00"\r\n"KB2","10/15/2026 12:00:00 AM"\r\n', 3,
         "column 'InstalledOn'", "a US-locale date (10/15/2026 12:00:00 AM) cannot be told from a day-first one"),
        ('"HotFixID","InstalledOn"\r\n"KB1","2026/02/30 0:00:00"\r\n', 2, "column 'InstalledOn'",
         "found '2026/02/30 0:00:00'"),
        ('"HotFixID","InstalledOn"\r\n"KB1","2026/10/15 0:00:00"\r\n" ","2026/10/15 0:00:00"\r\n', 3,
         "column 'HotFixID'", "empty HotFixID"),
        ('"HotFixID","InstalledOn"\r\n"KB1","2026/10/15 0:00:00","x"\r\n', 2, None, "expected 2 fields"),
    ],
)
def test_malformed_exports_name_file_line_and_column(tmp_path, text, line, where, problem):
    path = tmp_path / "hf.csv"
    path.write_bytes(text.encode("cp932"))
    with pytest.raises(InputError) as err:
        import_files("hotfix", [str(path)], ImportOptions())
    assert (err.value.file, err.value.line, err.value.where) == (str(path), line, where)
    assert problem in err.value.problem


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ({"id": "", "installed_on": None, "source": {"file": "hf.csv", "line": 3}}, "empty values not allowed"),
        ({"id": "KB1", "installed_on": "2026/10/15 0:00:00", "source": {"file": "hf.csv", "line": 3}},
         "does not match the pattern"),
        ({"id": "KB1", "installed_on": None}, "required field"),
    ],
)
def test_the_patches_schema_refuses_hotfixes_the_contract_does_not_allow(record, problem):
    found = problems({"patches": {"hotfixes": [record]}}, {"patches": FACT_SCHEMAS["patches"]})
    assert found and problem in found[0][1]


def test_import_validates_against_the_fact_schemas_end_to_end(tmp_path, capsys):
    out = tmp_path / "pc-1.json"
    assert main(["import", "hotfix", str(PS51), "--target", "pc-1",
                 "--collected-at", "2026-11-02T08:41:07+09:00", "--out", str(out)]) == 0
    target = bundles.load_target("pc-1", bundles.index([out])["pc-1"])
    assert target.problem is None and target.area_problems == {} and target.os_family == "windows"
    assert target.facts["patches"] == patches_from(expected(str(PS51)))
    assert [e["area"] for e in target.collector_errors] == ["patches"]
    capsys.readouterr()
    main(["audit", str(out), "--format", "json"])
    results = {r["check"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert results["updates-applied-recently"]["status"] == "pass"  # 2026-10-20, 13 days before collection


def test_cli_refuses_options_this_kind_cannot_use(tmp_path, capsys):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("format: auditor-hr-mapping/1\n", encoding="utf-8")
    assert main(["import", "hotfix", str(PS51), "--mapping", str(mapping)]) == 2
    assert f"{mapping}: --mapping is for hr-roster and training" in capsys.readouterr().err
    assert main(["import", "hotfix", str(PS51), "--sheet", "Sheet1"]) == 2
    assert "--sheet: the hotfix import reads CSV" in capsys.readouterr().err


def test_wmic_and_cim_exports_give_wmi_s_own_month_first_dates(tmp_path):
    # cmd.exe's `wmic qfe list full /format:csv > qfe.csv`: UTF-16 LE with a BOM, a blank first line,
    # unquoted fields, a Node column; InstalledOn is WMI's own string, month first on any locale.
    wmic = tmp_path / "qfe.csv"
    wmic.write_bytes(codecs.BOM_UTF16_LE + (
        "\r\nNode,Caption,CSName,Description,FixComments,HotFixID,InstallDate,InstalledBy,InstalledOn,Name,"
        "ServicePackInEffect,Status\r\n"
        "PC-101,http://support.microsoft.com/?kbid=5031356,PC-101,Security Update,,KB5031356,,"
        "NT AUTHORITY\\SYSTEM,10/15/2026,,,\r\n"
        "PC-101,,PC-101,Update,,KB5028951,,,,,,\r\n"
        "PC-101,https://support.microsoft.com/help/4577586,PC-101,Update,,KB4577586,,PC-101\\管理者,3/10/2026,,,\r\n"
    ).encode("utf-16-le"))
    # Windows PowerShell 5.1's `Get-CimInstance Win32_QuickFixEngineering | Export-Csv -Encoding Default`
    cim = tmp_path / "cim.csv"
    cim.write_bytes(("#TYPE Microsoft.Management.Infrastructure.CimInstance#root/cimv2/Win32_QuickFixEngineering\r\n"
                     '"Caption","Description","HotFixID","InstalledBy","InstalledOn","PSComputerName"\r\n'
                     '"","Security Update","KB5031356","NT AUTHORITY\\SYSTEM","10/15/2026","PC-101"\r\n'
                     '"","Update","KB4577586","PC-101\\管理者","3/10/2026","PC-101"\r\n').encode("cp932"))
    for path, lines in ((wmic, (3, 4, 5)), (cim, (3, None, 4))):
        patches = import_files("hotfix", [str(path)], ImportOptions())["facts"]["patches"]
        found = {h["id"]: (h["installed_on"], h["source"]["line"]) for h in patches["hotfixes"]}
        assert found["KB5031356"] == ("2026-10-15T00:00:00+09:00", lines[0])
        assert found["KB4577586"] == ("2026-03-10T00:00:00+09:00", lines[2])
        assert patches["last_security_installed_at"] == "2026-10-15T00:00:00+09:00"
    assert import_files("hotfix", [str(wmic)], ImportOptions())["facts"]["patches"]["installed_count"] == 3


def test_an_impossible_wmi_date_is_refused_naming_its_row(tmp_path):
    path = tmp_path / "qfe.csv"
    path.write_bytes(b"Node,HotFixID,InstalledOn\r\nPC-101,KB1,10/15/2026\r\nPC-101,KB2,13/15/2026\r\n")
    with pytest.raises(InputError) as err:
        import_files("hotfix", [str(path)], ImportOptions())
    assert (err.value.line, err.value.where) == (3, "column 'InstalledOn'") and "found '13/15/2026'" in str(err.value)
