import codecs
import importlib.util
import json
from datetime import UTC, timedelta, timezone
from pathlib import Path

import pytest
from auditor.evidence.importers import ImportOptions, import_files
from auditor.evidence.importers.ad_users import accounts_from, group_names

from auditor import bundles
from auditor.cli import main
from auditor.errors import InputError
from auditor.schemas import problems
from auditor.schemas.facts import FACT_SCHEMAS

EXPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "exports"
PS51 = EXPORTS / "ad-users-ps51.csv"  # Windows PowerShell 5.1: Export-Csv -Encoding Default (CP932), #TYPE line
RAW = EXPORTS / "ad-users-raw-ps7.csv"  # PowerShell 7: UTF-8 without BOM, no #TYPE, raw LDAP attributes
ASCII = EXPORTS / "ad-users-ps51-ascii.csv"  # Windows PowerShell 5.1 without -Encoding: ASCII, '?' for the rest
BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_import.py"
JST = timezone(timedelta(hours=9))
TYPE_LINE = "#TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser\r\n"

FRIENDLY = [
    {"name": "t.ishioka", "display_name": "石岡 太郎", "employee_id": "00123", "department": "総務課",
     "enabled": True, "created_at": "2015-04-01T09:00:00+09:00", "last_logon_at": "2026-11-02T08:41:07+09:00",
     "password_last_set_at": "2026-06-01T08:30:00+09:00", "password_never_expires": False,
     "password_not_required": False, "reversible_encryption": False, "expires_at": None,
     "groups": ["Domain Users", "Domain Admins"], "source": {"file": "ad.csv", "line": 3}},
    {"name": "svc.backup", "display_name": "svc.backup", "employee_id": None, "department": None,
     "enabled": True, "created_at": "2019-10-01T13:05:00+09:00", "last_logon_at": None,
     "password_last_set_at": None, "password_never_expires": True, "password_not_required": False,
     "reversible_encryption": False, "expires_at": "2027-03-31T00:00:00+09:00",
     "groups": ["Backup Operators", "委託, 保守"], "source": {"file": "ad.csv", "line": 4}},
    {"name": "k.mito", "display_name": "水戸 健", "employee_id": "00125", "department": "税務課",
     "enabled": False, "created_at": "2012-04-01T09:00:00+09:00", "last_logon_at": "2026-03-30T18:02:11+09:00",
     "password_last_set_at": "2025-12-01T08:30:00+09:00", "password_never_expires": False,
     "password_not_required": True, "reversible_encryption": True, "expires_at": None,
     "groups": [], "source": {"file": "ad.csv", "line": 6}},  # line 6: svc.backup's Description spans 4-5
]


def ps51_text() -> str:
    return PS51.read_bytes().decode("cp932")


def test_fixtures_are_written_as_powershell_writes_them():
    raw = PS51.read_bytes()
    assert raw.startswith(TYPE_LINE.encode("ascii"))
    assert "石岡".encode("cp932") in raw and b"\r\n" in raw and raw.count(b"\n") == raw.count(b"\r\n")
    header = raw.split(b"\r\n")[1]
    assert header.startswith(b'"SamAccountName","Name",') and header.endswith(b'"MemberOf"')
    raw7 = RAW.read_bytes()
    assert not raw7.startswith(codecs.BOM_UTF8) and raw7.startswith(b'"SamAccountName"')
    assert "佐藤".encode() in raw7 and raw7.count(b"\n") == raw7.count(b"\r\n")


def test_friendly_properties_of_a_japanese_powershell_export():
    records = accounts_from(ps51_text().replace("\r\n", "\n"), "ad.csv", JST)
    assert records == FRIENDLY


@pytest.mark.parametrize(
    ("encode", "encoding"),
    [
        (lambda t: t.encode("cp932"), "cp932"),  # -Encoding Default on Japanese Windows
        (lambda t: t.encode("utf-8"), "utf-8"),  # PowerShell 7's default
        (lambda t: codecs.BOM_UTF8 + t.encode("utf-8"), "utf-8-sig"),  # -Encoding UTF8 in 5.1
        (lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"), "utf-16-le"),  # -Encoding Unicode
    ],
)
def test_every_encoding_powershell_writes_gives_the_same_facts(tmp_path, encode, encoding):
    path = tmp_path / "ad.csv"
    path.write_bytes(encode(ps51_text()))
    bundle = import_files("ad-users", [str(path)], ImportOptions(target_id="kakuu-ad"))
    records = bundle["facts"]["directory_accounts"]
    assert [r["source"] for r in records] == [{"file": str(path), "line": n} for n in (3, 4, 6)]
    assert [{**r, "source": None} for r in records] == [{**r, "source": None} for r in FRIENDLY]
    assert bundle["sources"] == [{"name": str(path), "parser": f"ad-users ({encoding})", "size": path.stat().st_size,
                                  "sha256": bundle["sources"][0]["sha256"], "area": "directory_accounts"}]
    assert bundle["target"]["kind"] == "directory"


def test_an_ascii_export_leaves_out_the_names_it_lost_and_says_so():
    raw = ASCII.read_bytes()
    assert raw.isascii() and b'"?? ??"' in raw and raw.count(b"\n") == raw.count(b"\r\n")
    bundle = import_files("ad-users", [str(ASCII)], ImportOptions(target_id="kakuu-ad"))
    records = bundle["facts"]["directory_accounts"]
    expected = [{k: v for k, v in r.items() if k != "source"} for r in FRIENDLY]
    for record in (expected[0], expected[2]):  # 石岡 太郎 / 総務課 and 水戸 健 / 税務課 became ?? ?? / ???
        del record["display_name"], record["department"]
    expected[1]["groups"] = ["Backup Operators", "??, ??"]  # kept: the privileged groups' names are ASCII
    assert [{k: v for k, v in r.items() if k != "source"} for r in records] == expected
    [error] = bundle["errors"]
    assert error["area"] == "directory_accounts" and error["source"] == str(ASCII)
    assert "4 display name(s) and department(s) (left out)" in error["message"]
    assert "the groups of 1 account(s)" in error["message"] and "-Encoding UTF8" in error["message"]


def test_a_question_mark_in_an_encoded_export_is_a_question_mark(tmp_path):
    path = tmp_path / "ad.csv"
    path.write_bytes(ps51_text().replace("石岡 太郎", "石岡 太郎?").encode("cp932"))
    bundle = import_files("ad-users", [str(path)], ImportOptions())
    assert bundle["facts"]["directory_accounts"][0]["display_name"] == "石岡 太郎?" and bundle["errors"] == []


def test_checks_that_need_the_lost_names_say_why(capsys):
    main(["audit", "--import", "ad-users", str(ASCII), "--as-of", "2026-11-02", "--format", "json", "--lang", "en"])
    results = {r["check"]: r for r in json.loads(capsys.readouterr().out)["results"] if r["target"] != "organization"}
    shared = results["shared-directory-accounts"]
    assert shared["status"] == "error"
    assert "directory_accounts[0].display_name is missing" in shared["message"]
    assert "-Encoding UTF8" in shared["message"]
    assert results["dormant-directory-accounts"]["status"] == "fail"  # judged on what the export still holds
    assert "svc.backup" in results["dormant-directory-accounts"]["message"]


def test_raw_attributes_filetime_and_user_account_control():
    records = accounts_from(RAW.read_bytes().decode("utf-8").replace("\r\n", "\n"), "raw.csv", JST)
    admin, old, weak = records
    assert admin == {"name": "adm.sato", "display_name": "佐藤 管理", "employee_id": "00200", "enabled": True,
                     "created_at": "2020-04-01T09:00:00+09:00",
                     "last_logon_at": "2024-11-02T14:46:40+09:00",  # FileTime 133750000000000000
                     "password_last_set_at": None,  # pwdLastSet 0: must change at next logon
                     "password_never_expires": True,  # 66048 = 0x10200: DONT_EXPIRE_PASSWORD
                     "password_not_required": False, "reversible_encryption": False,
                     "expires_at": None,  # accountExpires 0x7FFFFFFFFFFFFFFF: never
                     "groups": ["Domain Admins"], "source": {"file": "raw.csv", "line": 2}}
    assert old["enabled"] is False  # 514 = NORMAL_ACCOUNT | ACCOUNTDISABLE
    assert old["last_logon_at"] is None and old["expires_at"] is None  # 0: never logged on / never expires
    assert old["password_last_set_at"] == "2024-11-02T14:46:40+09:00"
    assert (weak["enabled"], weak["password_not_required"], weak["reversible_encryption"],
            weak["password_never_expires"]) == (True, True, True, False)  # 672 = 0x200 | 0x20 | 0x80
    assert weak["display_name"] is None and weak["last_logon_at"] is None
    assert weak["expires_at"] == "2025-08-18T23:13:20+09:00"
    assert weak["source"]["line"] == 4


def test_friendly_value_wins_and_an_empty_one_falls_back_to_the_raw_flags():
    text = '"SamAccountName","Enabled","userAccountControl"\n"a","True","514"\n"b","","514"\n"c","False","512"\n'
    assert [r["enabled"] for r in accounts_from(text, "ad.csv", JST)] == [True, False, False]


def test_facts_the_export_does_not_give_are_absent():
    records = accounts_from('"SamAccountName","Enabled"\n"a","True"\n"b",""\n', "ad.csv", JST)
    assert records == [{"name": "a", "enabled": True, "source": {"file": "ad.csv", "line": 2}},
                       {"name": "b", "source": {"file": "ad.csv", "line": 3}}]


def test_header_names_are_case_insensitive_and_values_too():
    text = '"samaccountname","ENABLED","lastlogondate","memberof"\n"a","true","2026/11/02 8:41:07","cn=G1,dc=x"\n'
    assert accounts_from(text, "ad.csv", JST) == [
        {"name": "a", "enabled": True, "last_logon_at": "2026-11-02T08:41:07+09:00", "groups": ["G1"],
         "source": {"file": "ad.csv", "line": 2}}]


def test_the_import_offset_applies_to_local_times_but_not_to_filetime():
    text = '"SamAccountName","LastLogonDate","pwdLastSet"\n"a","2026/11/02 8:41:07","133750000000000000"\n'
    record = accounts_from(text, "ad.csv", UTC)[0]
    assert record["last_logon_at"] == "2026-11-02T08:41:07+00:00"
    assert record["password_last_set_at"] == "2024-11-02T05:46:40+00:00"  # the same instant as 14:46:40+09:00


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("CN=Domain Admins,CN=Users,DC=kakuu,DC=local", ["Domain Admins"]),
        ("CN=Smith\\, John,OU=Groups,DC=kakuu,DC=local;CN=G2,DC=x", ["Smith, John", "G2"]),
        ("CN=a\\;b,DC=x; CN=c,DC=x", ["a;b", "c"]),  # an escaped ';' is not a separator
        ("CN=\\E6\\83\\85\\E5\\A0\\B1\\2C課,DC=x", ["情報,課"]),  # hex escapes of UTF-8 bytes
        ("CN=a\\\\b,DC=x", ["a\\b"]),
        ("", []),
        (";", []),
    ],
)
def test_group_names_are_the_cn_of_each_dn(value, names):
    assert group_names(value) == names


def with_type_line(body: str) -> str:
    return TYPE_LINE.replace("\r\n", "\n") + body


@pytest.mark.parametrize(
    ("text", "line", "where", "problem"),
    [
        ('"Name","Enabled"\n"a","True"\n', 1, None, "no logon name column (expected 'SamAccountName'"),
        (with_type_line('"Name","Enabled"\n"a","True"\n'), 2, None, "no logon name column"),
        ('"SamAccountName","Enabled"\n"a","True"\n"b","True","x"\n', 3, None,
         "expected 2 fields as in the header on line 1, found 3"),
        (with_type_line('"SamAccountName","LastLogonDate"\n"a","2026/11/02 8:41:07"\n"b","2026/13/02 8:41:07"\n'),
         4, "column 'LastLogonDate'", "expected a date and time such as"),
        ('"SamAccountName","LastLogonDate"\n"a","11/2/2026 8:41:07 AM"\n', 2, "column 'LastLogonDate'",
         "year last, as an English-locale Windows writes it, cannot be told from a day-first one: export it as "
         "@{n='LastLogonDate';e={$_.LastLogonDate.ToString('s')}}"),
        ('"SamAccountName","Enabled"\n"a","Yes"\n', 2, "column 'Enabled'", "expected True or False, found 'Yes'"),
        ('"SamAccountName","userAccountControl"\n"a","0x202"\n', 2, "column 'userAccountControl'",
         "expected a whole number"),
        ('"SamAccountName","pwdLastSet"\n"a","-5"\n', 2, "column 'pwdLastSet'", "or a FileTime integer"),
        ('"SamAccountName","MemberOf"\n"a","Microsoft.ActiveDirectory.Management.ADPropertyValueCollection"\n',
         2, "column 'MemberOf'", "exported as its type name"),
        ('"SamAccountName","MemberOf"\n"a","Domain Admins"\n', 2, "column 'MemberOf'", "distinguished names"),
        ('"SamAccountName","Enabled"\n"a","True"\n"","True"\n', 3, "column 'SamAccountName'", "empty logon name"),
        ('"SamAccountName";"Enabled"\n"a";"True"\n', 1, None, "looks semicolon-separated"),
        (with_type_line('"SamAccountName"\t"Enabled"\n"a"\t"True"\n'), 2, None, "looks tab-separated"),
        ('"SamAccountName","Description"\n"a","unclosed\n"b","x"\n', 2, None,
         "runs on to line 3, where ',' expected after '\"' (is a closing '\"' missing?)"),
        ('"SamAccountName","Description"\n"a","x"\n"b","unclosed\n', 3, None, "never closed"),
    ],
)
def test_malformed_exports_name_file_line_and_column(text, line, where, problem):
    with pytest.raises(InputError) as err:
        accounts_from(text, "ad.csv", JST)
    assert (err.value.file, err.value.line, err.value.where) == ("ad.csv", line, where)
    assert problem in err.value.problem


def test_import_validates_against_the_fact_schemas_end_to_end(tmp_path, capsys):
    out = tmp_path / "kakuu-ad.json"
    assert main(["import", "ad-users", str(PS51), str(RAW), "--target", "kakuu-ad", "--segment", "lgwan",
                 "--collected-at", "2026-11-02T09:00:00+09:00", "--out", str(out)]) == 0
    target = bundles.load_target("kakuu-ad", bundles.index([out])["kakuu-ad"])
    assert target.problem is None and target.area_problems == {} and target.kind == "directory"
    accounts = target.facts["directory_accounts"]
    assert [a["name"] for a in accounts] == ["t.ishioka", "svc.backup", "k.mito", "adm.sato", "old.user", "weak.pw"]
    assert accounts[3]["source"] == {"file": str(RAW), "line": 2}
    assert [s["parser"] for s in target.sources] == ["ad-users (cp932)", "ad-users (utf-8)"]
    text = out.read_text(encoding="utf-8")
    assert json.loads(text)["facts"]["directory_accounts"] == accounts
    assert text == json.dumps(json.loads(text), ensure_ascii=False, indent=2) + "\n"  # indented as documented
    assert '        "name": "t.ishioka",\n' in text  # each value on its own line: greppable


def test_cli_utc_offset_and_refused_options(tmp_path, capsys):
    out = tmp_path / "ad.json"
    assert main(["import", "ad-users", str(PS51), "--utc-offset", "+00:00", "--out", str(out)]) == 0
    first = json.loads(out.read_text(encoding="utf-8"))["facts"]["directory_accounts"][0]
    assert first["last_logon_at"] == "2026-11-02T08:41:07+00:00"
    mapping = tmp_path / "m.yaml"
    mapping.write_text("format: auditor-hr-mapping/1\n", encoding="utf-8")
    assert main(["import", "ad-users", str(PS51), "--mapping", str(mapping)]) == 2
    assert f"{mapping}: --mapping is for hr-roster and training" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main(["import", "ad-users", str(PS51), "--utc-offset", "JST"])
    assert stop.value.code == 2 and "expected a UTC offset such as +09:00, got 'JST'" in capsys.readouterr().err


def test_a_bad_row_exits_2_naming_file_line_and_column(tmp_path, capsys):
    bad = tmp_path / "ad.csv"
    bad.write_bytes(ps51_text().replace("2026/03/30 18:02:11", "2026/03/32 18:02:11").encode("cp932"))
    assert main(["import", "ad-users", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:6: column 'LastLogonDate': expected a date and time" in err and "'2026/03/32 18:02:11'" in err


def test_the_first_bad_row_is_the_one_named():
    text = '"SamAccountName","Enabled"\n"a","True"\n"b","No"\n"c","Yes"\n"d","No"\n'
    with pytest.raises(InputError) as err:
        accounts_from(text, "ad.csv", JST)
    assert err.value.line == 3 and "found 'No'" in err.value.problem


@pytest.mark.parametrize(
    ("area", "record", "problem"),
    [
        ("directory_accounts", {"name": "a"}, "required field"),
        ("directory_accounts", {"name": "a", "source": {"file": "ad.csv", "line": 0}}, "min value is 1"),
        ("directory_accounts", {"name": "a", "last_logon_at": "2026/11/02 8:41:07",
                                "source": {"file": "ad.csv", "line": 2}}, "does not match the pattern"),
        ("hr_roster", {"employee_id": "001", "status": "retired", "source": {"file": "r.csv", "line": 2}},
         "unallowed value 'retired'"),
        ("hr_roster", {"employee_id": 1, "source": {"file": "r.csv", "line": 2}}, "expected string"),
        ("training_records", {"employee_id": "001", "source": {"file": "t.xlsx", "line": 4, "sheet": "S"}},
         "required field"),  # no course
    ],
)
def test_fact_schemas_refuse_records_the_contract_does_not_allow(area, record, problem):
    found = problems({area: [record]}, {area: FACT_SCHEMAS[area]})
    assert found and problem in found[0][1]


def test_the_benchmark_writes_exports_the_importers_read(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_import", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    (tmp_path / "ad.csv").write_bytes(bench.ad_export(100))
    (tmp_path / "roster.csv").write_bytes(bench.roster_export(100))
    accounts = import_files("ad-users", [str(tmp_path / "ad.csv")], ImportOptions())["facts"]["directory_accounts"]
    roster = import_files("hr-roster", [str(tmp_path / "roster.csv")], ImportOptions())["facts"]["hr_roster"]
    assert len(accounts) == len(roster) == 100
    assert accounts[50]["groups"] == ["Domain Users", "Domain Admins"] and accounts[99]["source"]["line"] == 102
    assert {r["status"] for r in roster} == {"active", "left", "leave"}
