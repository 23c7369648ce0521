import codecs
from pathlib import Path

import pytest
from auditor.evidence.importers import ImportOptions, import_files
from auditor.evidence.importers.auditpol import subcategories_from
from auditor.evidence.importers.csvrows import csv_table

from auditor import bundles
from auditor.cli import main
from auditor.errors import InputError
from auditor.schemas import problems
from auditor.schemas.facts import FACT_SCHEMAS

WINDOWS = Path(__file__).resolve().parents[1] / "fixtures" / "windows"
EN = WINDOWS / "auditpol-en.csv"  # English Windows: `auditpol /get /category:* /r > FILE`, ASCII
JA = WINDOWS / "auditpol-ja.csv"  # Japanese Windows: the same, localised, CP932
HEADER = "Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,Exclusion Setting"

POLICY = [  # (GUID, English name, Japanese name, success, failure); rows start on line 3, after the empty line
    ("{0CCE9210-69AE-11D9-BED3-505054503030}", "Security State Change", "セキュリティ状態の変更", True, False),
    ("{0CCE9211-69AE-11D9-BED3-505054503030}", "Security System Extension", "セキュリティ システムの拡張",
     False, False),
    ("{0CCE9212-69AE-11D9-BED3-505054503030}", "System Integrity", "システムの整合性", True, True),
    ("{0CCE9215-69AE-11D9-BED3-505054503030}", "Logon", "ログオン", True, True),
    ("{0CCE9216-69AE-11D9-BED3-505054503030}", "Logoff", "ログオフ", True, False),
    ("{0CCE9217-69AE-11D9-BED3-505054503030}", "Account Lockout", "アカウント ロックアウト", False, True),
    ("{0CCE921C-69AE-11D9-BED3-505054503030}", "Other Logon/Logoff Events", "その他のログオン/ログオフ イベント",
     False, False),
    ("{0CCE922B-69AE-11D9-BED3-505054503030}", "Process Creation", "プロセス作成", False, False),
    ("{0CCE923F-69AE-11D9-BED3-505054503030}", "Credential Validation", "資格情報の確認", True, False),
]


def expected(file: str, japanese: bool = False) -> list[dict]:
    return [{"guid": guid, "name": ja if japanese else en, "success": success, "failure": failure,
             "source": {"file": file, "line": line}}
            for line, (guid, en, ja, success, failure) in enumerate(POLICY, start=3)]


def read(text: str, name: str = "ap.csv") -> list[dict]:
    return subcategories_from(csv_table(text.replace("\r\n", "\n"), name))


def test_fixtures_are_written_as_auditpol_writes_them():
    raw = EN.read_bytes()
    assert raw.isascii() and raw.startswith(HEADER.encode() + b"\r\n\r\nPC-101,System,")
    assert raw.count(b"\n") == raw.count(b"\r\n") and b'"' not in raw  # the report quotes nothing
    ja = JA.read_bytes()
    assert ja.startswith("コンピューター名,".encode("cp932")) and "成功および失敗".encode("cp932") in ja
    assert ja.count(b"\n") == ja.count(b"\r\n")
    with pytest.raises(UnicodeDecodeError):
        ja.decode("utf-8")


def test_english_report_is_read_by_column_name():
    assert read(EN.read_text(encoding="ascii"), "en.csv") == expected("en.csv")


def test_japanese_report_is_read_by_position_with_its_settings():
    assert read(JA.read_bytes().decode("cp932"), "ja.csv") == expected("ja.csv", japanese=True)


def test_english_columns_are_found_by_name_in_any_order():
    text = ("Inclusion Setting,Subcategory GUID,Subcategory,Machine Name,Policy Target,Exclusion Setting\n"
            "Failure,{0CCE9217-69AE-11D9-BED3-505054503030},Account Lockout,PC-101,System,\n")
    assert read(text) == [{"guid": "{0CCE9217-69AE-11D9-BED3-505054503030}", "name": "Account Lockout",
                           "success": False, "failure": True, "source": {"file": "ap.csv", "line": 2}}]


def test_backup_layout_lower_case_guids_and_option_rows():
    text = (HEADER + ",Setting Value\n"
            "PC-101,System,Logon,{0cce9215-69ae-11d9-bed3-505054503030},Success and Failure,,3\n"
            "PC-101,,Option:CrashOnAuditFail,,Disabled,,0\n"
            "PC-101,System,Logoff,0cce9216-69ae-11d9-bed3-505054503030,Success,,1\n")
    found = read(text)
    assert [(s["guid"], s["success"], s["failure"], s["source"]["line"]) for s in found] == [
        ("{0CCE9215-69AE-11D9-BED3-505054503030}", True, True, 2),
        ("{0CCE9216-69AE-11D9-BED3-505054503030}", True, False, 4)]


@pytest.mark.parametrize(
    ("encode", "encoding"),
    [
        (lambda t: t.encode("cp932"), "cp932"),  # cmd.exe: auditpol ... > FILE
        (lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"), "utf-16-le"),  # PowerShell 5.1's > (Out-File)
        (lambda t: codecs.BOM_UTF8 + t.encode("utf-8"), "utf-8-sig"),  # PowerShell 7's Out-File -Encoding utf8BOM
    ],
)
def test_every_encoding_a_japanese_redirect_produces_gives_the_same_facts(tmp_path, encode, encoding):
    path = tmp_path / "ap.csv"
    path.write_bytes(encode(JA.read_bytes().decode("cp932")))
    bundle = import_files("auditpol", [str(path)], ImportOptions(target_id="pc-1"))
    assert bundle["facts"]["audit_policy"] == {"subcategories": expected(str(path), japanese=True)}
    assert bundle["facts"]["os"] == {"family": "windows"} and bundle["target"]["kind"] == "endpoint"
    assert [(s["area"], s["parser"]) for s in bundle["sources"]] == [("os", f"auditpol ({encoding})"),
                                                                     ("audit_policy", f"auditpol ({encoding})")]


@pytest.mark.parametrize(
    ("text", "line", "where", "problem"),
    [
        (HEADER + "\n\nPC-101,System,Logon,{0CCE9215-69AE-11D9-BED3-505054503030},Not Configured,\n", 3,
         "column 'Inclusion Setting'", "expected Success, Failure, Success and Failure or No Auditing"),
        ("コンピューター名,ポリシー ターゲット,サブカテゴリ,サブカテゴリ GUID,包含設定,除外設定\n"
         "PC-101,システム,ログオン,{0CCE9215-69AE-11D9-BED3-505054503030},成功と失敗,\n", 2,
         "column '包含設定'", "found '成功と失敗'"),
        (HEADER + "\nPC-101,System,Logon,Logon,Success,\n", 2, "column 'Subcategory GUID'",
         "expected a subcategory GUID"),
        (HEADER + "\nPC-101,System,Logon,{0CCE9215-69AE-11D9-BED3-505054503030,Success,\n", 2,
         "column 'Subcategory GUID'", "found '{0CCE9215-69AE-11D9-BED3-505054503030'"),
        (HEADER + "\nPC-101,System,Logon,{0CCE9215-69AE-11D9-BED3-505054503030},Success,\n"
                  "PC-101,System,Logon,{0cce9215-69ae-11d9-bed3-505054503030},Failure,\n", 3,
         "column 'Subcategory GUID'", "appears twice (first on line 2)"),
        ("Name,Setting\nLogon,Success\n", 1, None, "not auditpol /r output: expected the header Machine Name,"),
        (HEADER + "\n\n", 1, None, "no subcategory rows below the header"),
        (HEADER + "\nPC-101,System,Logon\n", 2, None, "expected 6 fields"),
        ("", 1, None, "no header row: the export is empty"),
    ],
)
def test_malformed_reports_name_file_line_and_column(text, line, where, problem):
    with pytest.raises(InputError) as err:
        read(text)
    assert (err.value.file, err.value.line, err.value.where) == ("ap.csv", line, where)
    assert problem in err.value.problem


def test_a_second_report_for_the_same_target_is_refused():
    with pytest.raises(InputError) as err:
        import_files("auditpol", [str(EN), str(JA)], ImportOptions(target_id="pc-1"))
    assert err.value.file == str(JA) and "a second auditpol report" in err.value.problem


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ({"guid": "{0cce9215-69ae-11d9-bed3-505054503030}", "source": {"file": "a.csv", "line": 3}},
         "does not match the pattern"),
        ({"guid": "0CCE9215-69AE-11D9-BED3-505054503030", "source": {"file": "a.csv", "line": 3}},
         "does not match the pattern"),
        ({"name": "Logon", "source": {"file": "a.csv", "line": 3}}, "required field"),
        ({"guid": "{0CCE9215-69AE-11D9-BED3-505054503030}", "success": "Success",
          "source": {"file": "a.csv", "line": 3}}, "expected boolean, got str"),
        ({"guid": "{0CCE9215-69AE-11D9-BED3-505054503030}"}, "required field"),
    ],
)
def test_the_audit_policy_schema_refuses_records_the_contract_does_not_allow(record, problem):
    found = problems({"audit_policy": {"subcategories": [record]}}, {"audit_policy": FACT_SCHEMAS["audit_policy"]})
    assert found and problem in found[0][1]


def test_import_validates_against_the_fact_schemas_end_to_end(tmp_path):
    out = tmp_path / "pc-1.json"
    assert main(["import", "auditpol", str(JA), "--target", "pc-1",
                 "--collected-at", "2026-11-02T08:41:07+09:00", "--out", str(out)]) == 0
    target = bundles.load_target("pc-1", bundles.index([out])["pc-1"])
    assert target.problem is None and target.area_problems == {} and target.os_family == "windows"
    assert target.facts["audit_policy"] == {"subcategories": expected(str(JA), japanese=True)}
    assert {s["parser"] for s in target.sources} == {"auditpol (cp932)"} and target.collector_errors == []


def test_a_non_report_exits_2_naming_file_and_line(tmp_path, capsys):
    bad = tmp_path / "ap.csv"
    bad.write_bytes("エラー 0x00000005 が発生しました:\r\nアクセスが拒否されました。\r\n".encode("cp932"))
    assert main(["import", "auditpol", str(bad)]) == 2
    assert f"{bad}:1: not auditpol /r output" in capsys.readouterr().err
