"""The domain's password policies: Get-ADDefaultDomainPasswordPolicy, Get-ADFineGrainedPasswordPolicy and
net accounts /domain, as Windows PowerShell 5.1 and net.exe write them (issue #17)."""

import codecs
import json
from pathlib import Path

import pytest
from auditor.evidence.importers import ImportOptions, import_files
from auditor.evidence.importers.ad_password_policy import ADPasswordPolicyImporter
from hypothesis import given
from hypothesis import strategies as st
from test_windows_fuzz import import_a_mutated_fixture

from auditor import bundles
from auditor.cli import main
from auditor.errors import InputError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EXPORTS = FIXTURES / "exports"
DEFAULT_LIST = EXPORTS / "ad-default-password-policy-ps51.txt"  # Get-ADDefaultDomainPasswordPolicy > FILE
DEFAULT_JSON = EXPORTS / "ad-default-password-policy-ps51.json"  # ... | ConvertTo-Json | Out-File -Encoding utf8
FGPP_LIST = EXPORTS / "ad-fgpp-ps51.txt"  # Get-ADFineGrainedPasswordPolicy -Filter * > FILE
FGPP_JSON = EXPORTS / "ad-fgpp-ps51.json"  # ... | ConvertTo-Json | Out-File -Encoding utf8
FGPP_CSV = EXPORTS / "ad-fgpp-ps51.csv"  # ... | Select-Object ...,@{n='AppliesTo';e={...}} | Export-Csv -Encoding UTF8
NET_DOMAIN = FIXTURES / "windows" / "net-accounts-domain-en.txt"  # net accounts /domain > FILE
NET_LOCAL = FIXTURES / "windows" / "net-accounts-ja.txt"  # net accounts > FILE (Japanese Windows)
DC = "DC=kakuu,DC=local"


def imported(*paths, target="ad-kakuu") -> dict:
    return import_files("ad-password-policy", [str(p) for p in paths], ImportOptions(target_id=target))


def policies(*paths) -> dict[str, dict]:
    return {p["name"]: p for p in imported(*paths)["facts"]["fine_grained_password_policies"]}


def test_fixtures_are_written_as_windows_powershell_writes_them():
    for path in (DEFAULT_LIST, FGPP_LIST):
        raw = path.read_bytes()
        assert raw.startswith(codecs.BOM_UTF16_LE)
        text = raw[2:].decode("utf-16-le")
        assert text.count("\n") == text.count("\r\n") and text.startswith("\r\n")
    fgpp = FGPP_LIST.read_bytes()[2:].decode("utf-16-le").split("\r\n")
    assert fgpp[2].startswith(" " * 30) and not fgpp[1].endswith("}")  # the AppliesTo value wrapped at 120 columns
    for path in (DEFAULT_JSON, FGPP_JSON, FGPP_CSV):
        assert path.read_bytes().startswith(codecs.BOM_UTF8) and path.read_bytes().count(b"\n") == \
            path.read_bytes().count(b"\r\n")
    assert '"Ticks":  18000000000,' in FGPP_JSON.read_text(encoding="utf-8-sig")  # TimeSpans as objects
    assert FGPP_CSV.read_text(encoding="utf-8-sig").startswith("#TYPE Selected.Microsoft.ActiveDirectory")


def test_fine_grained_policies_and_who_each_is_in_force_for():
    found = policies(FGPP_LIST)
    assert found["PSO-Admins"] == {
        "name": "PSO-Admins", "precedence": 10,
        "applies_to": ["Domain Admins", "Enterprise Admins", "情報政策課システム管理者"],
        "applies_to_dn": [f"CN=Domain Admins,CN=Users,{DC}", f"CN=Enterprise Admins,CN=Users,{DC}",
                          f"CN=情報政策課システム管理者,OU=管理グループ,{DC}"],  # rejoined across the wrapped line
        "effective_for": ["Domain Admins", "Enterprise Admins", "情報政策課システム管理者"],
        "min_length": 15, "complexity": True, "min_char_classes": 3, "max_age_days": 90, "min_age_days": 1,
        "history": 24, "reversible_encryption": False,
        "lockout_threshold": 5, "lockout_duration_minutes": 30, "lockout_window_minutes": 30,
        "source": {"file": str(FGPP_LIST), "line": 2}}
    # never-expiring and never-locking: MaxPasswordAge 00:00:00 is no expiry, threshold 0 leaves nothing to time
    service = found["PSO-ServiceAccounts"]
    assert (service["max_age_days"], service["min_age_days"], service["lockout_threshold"]) == (None, 0, 0)
    assert "lockout_duration_minutes" not in service and service["effective_for"] == ["SG-ServiceAccounts"]
    # linked to Domain Admins too, but PSO-Admins has the lower precedence: AD applies PSO-Admins there
    legacy = found["PSO-Legacy-Admins"]
    assert (legacy["applies_to"], legacy["effective_for"], legacy["min_length"]) == (["Domain Admins"], [], 8)


@pytest.mark.parametrize("path", [FGPP_JSON, FGPP_CSV])
def test_json_and_csv_give_the_records_the_list_gives(path):
    def without_source(found):
        return {name: {k: v for k, v in record.items() if k != "source"} for name, record in found.items()}

    assert without_source(policies(path)) == without_source(policies(FGPP_LIST))
    lines = {name: record["source"]["line"] for name, record in policies(path).items()}
    assert lines == ({"PSO-Admins": 2, "PSO-ServiceAccounts": 98, "PSO-Legacy-Admins": 192} if path == FGPP_JSON
                     else {"PSO-Admins": 3, "PSO-ServiceAccounts": 4, "PSO-Legacy-Admins": 5})


def test_the_default_domain_policy_as_list_and_json():
    bundle = imported(DEFAULT_LIST)
    assert bundle["target"]["kind"] == "directory"
    assert bundle["facts"]["password_policy"] == {
        "min_length": 12, "complexity": True, "min_char_classes": 3, "max_age_days": 180, "min_age_days": 1,
        "history": 24, "reversible_encryption": False,
        "sources": [f"{DEFAULT_LIST} (Get-ADDefaultDomainPasswordPolicy: MinPasswordLength, ComplexityEnabled, "
                    "MaxPasswordAge, MinPasswordAge, PasswordHistoryCount, ReversibleEncryptionEnabled)"]}
    assert bundle["facts"]["lockout_policy"] == {"enabled": True, "threshold": 10, "duration_minutes": 30,
                                                 "window_minutes": 30}
    assert [s["parser"] for s in bundle["sources"]] == ["ad-password-policy (Format-List, utf-16-le)"] * 2
    facts = imported(DEFAULT_JSON)["facts"]
    assert {k: v for k, v in facts["password_policy"].items() if k != "sources"} == \
        {k: v for k, v in bundle["facts"]["password_policy"].items() if k != "sources"}
    assert facts["lockout_policy"] == bundle["facts"]["lockout_policy"]
    assert "fine_grained_password_policies" not in facts  # a default policy says nothing about them


def test_net_accounts_domain_feeds_the_directory_target_and_the_local_output_is_refused():
    bundle = imported(NET_DOMAIN)
    assert bundle["target"]["kind"] == "directory" and "os" not in bundle["facts"]
    assert bundle["facts"]["password_policy"]["min_length"] == 12
    assert bundle["facts"]["lockout_policy"] == {"enabled": False, "threshold": 0}  # Lockout threshold: Never
    assert bundle["sources"][0]["parser"] == "ad-password-policy (net accounts /domain, utf-8)"
    with pytest.raises(InputError, match="net accounts without /domain: this is the policy of the computer"):
        imported(NET_LOCAL)


def test_one_import_takes_the_default_policy_and_the_fine_grained_ones(tmp_path):
    out = tmp_path / "ad.json"
    assert main(["import", "ad-password-policy", str(DEFAULT_LIST), str(FGPP_LIST), "--target", "ad-kakuu",
                 "--collected-at", "2026-11-02T08:30:00+09:00", "--out", str(out)]) == 0
    target = bundles.load_target("ad-kakuu", bundles.index([out])["ad-kakuu"])
    assert target.problem is None and target.area_problems == {} and target.kind == "directory"
    assert {s["area"] for s in target.sources} == {"password_policy", "lockout_policy",
                                                    "fine_grained_password_policies"}
    assert len(target.facts["fine_grained_password_policies"]) == 3


def list_file(tmp_path, blocks: list[list[tuple[str, str]]], name="fgpp.txt") -> Path:
    """Format-List output as `> FILE` writes it (UTF-16 LE with a BOM, CRLF), one block per object."""
    lines = [""]
    for block in blocks:
        width = max(len(k) for k, _ in block)
        lines += [f"{k.ljust(width)} : {v}" for k, v in block] + [""]
    path = tmp_path / name
    path.write_bytes(codecs.BOM_UTF16_LE + "\r\n".join(lines + ["", ""]).encode("utf-16-le"))
    return path


def pso(name="PSO-A", precedence="10", applies=f"{{CN=Domain Admins,CN=Users,{DC}}}", guid=None, **changes):
    block = {"AppliesTo": applies, "ComplexityEnabled": "True", "LockoutDuration": "00:30:00",
             "LockoutObservationWindow": "00:30:00", "LockoutThreshold": "5", "MaxPasswordAge": "90.00:00:00",
             "MinPasswordAge": "1.00:00:00", "MinPasswordLength": "14", "Name": name, "PasswordHistoryCount": "24",
             "Precedence": precedence, "ReversibleEncryptionEnabled": "False"}
    if guid:
        block["ObjectGUID"] = guid
    block.update(changes)
    return [(k, v) for k, v in block.items() if v is not None]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"MaxPasswordAge": "10675199.02:48:05.4775807"}, {"max_age_days": None}),  # TimeSpan.MaxValue: never
        ({"MaxPasswordAge": "-10675199.02:48:05.4775808"}, {"max_age_days": None}),  # MinValue: never too
        ({"MaxPasswordAge": "90.12:00:00", "MinPasswordAge": "0.12:00:00"},
         {"max_age_days": 91, "min_age_days": 0}),  # half a day more is over 90 days; less than a day is 0
        ({"LockoutDuration": "00:00:00"}, {"lockout_duration_minutes": 0}),  # until an administrator unlocks
        ({"LockoutDuration": "10675199.02:48:05.4775807"}, {"lockout_duration_minutes": 0}),
        ({"LockoutDuration": "00:00:30"}, {"lockout_duration_minutes": 1}),  # a short lock is never "until unlocked"
        ({"LockoutDuration": "01:00:00.5000000", "LockoutObservationWindow": "00:14:59"},
         {"lockout_duration_minutes": 60, "lockout_window_minutes": 14}),
        ({"ComplexityEnabled": "false", "ReversibleEncryptionEnabled": "TRUE"},
         {"complexity": False, "min_char_classes": 0, "reversible_encryption": True}),
    ],
)
def test_timespans_and_flags(tmp_path, changes, expected):
    (record,) = policies(list_file(tmp_path, [pso(**changes)])).values()
    assert {key: record[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("applies", "names"),
    [
        # the console wrapped the line just after ", ": the continuation lost the space
        (f"{{CN=Domain Admins,CN=Users,{DC},CN=GG-Soumu,OU=Groups,{DC}}}", ["Domain Admins", "GG-Soumu"]),
        (f"{{CN=Smith\\, John,OU=Staff,{DC}, CN=GG-Soumu,OU=Groups,{DC}}}", ["Smith, John", "GG-Soumu"]),
        (f"CN=GG-Soumu,OU=Groups,{DC};CN=GG-Zeimu,OU=Groups,{DC}", ["GG-Soumu", "GG-Zeimu"]),  # joined with ';'
        ("{}", []),
    ],
)
def test_applies_to_as_the_forms_write_it(tmp_path, applies, names):
    (record,) = policies(list_file(tmp_path, [pso(applies=applies)])).values()
    assert record["applies_to"] == names and record["effective_for"] == names


def test_a_value_wrapped_onto_several_lines_is_read_whole(tmp_path):
    value = f"{{CN=Domain Admins,CN=Users,{DC}, CN=情報政策課システム管理者,OU=管理グループ,{DC}}}"
    label = "AppliesTo                   : "
    lines = ["", label + value[:40]] + [" " * len(label) + value[i:i + 40] for i in range(40, len(value), 40)]
    lines += [f"{k.ljust(27)} : {v}" for k, v in pso()[1:]] + ["", "", ""]
    path = tmp_path / "wrapped.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + "\r\n".join(lines).encode("utf-16-le"))
    (record,) = policies(path).values()
    assert record["applies_to"] == ["Domain Admins", "情報政策課システム管理者"]


def test_equal_precedence_is_settled_by_the_smaller_guid_as_ad_stores_it(tmp_path):
    # bytes_le: 01000000-... starts 00 00 00 01 once stored, 00000002-... starts 02 00 00 00: the first is smaller
    found = policies(list_file(tmp_path, [pso("PSO-B", guid="00000002-0000-0000-0000-000000000000"),
                                          pso("PSO-A", guid="01000000-0000-0000-0000-000000000000")]))
    assert found["PSO-A"]["effective_for"] == ["Domain Admins"] and found["PSO-B"]["effective_for"] == []


def test_fine_grained_policies_from_several_files_are_resolved_together(tmp_path):
    weak = list_file(tmp_path, [pso("PSO-Weak", precedence="50", MinPasswordLength="6")], "a.txt")
    strong = list_file(tmp_path, [pso("PSO-Strong", precedence="5")], "b.txt")
    found = policies(weak, strong)
    assert (found["PSO-Weak"]["effective_for"], found["PSO-Strong"]["effective_for"]) == ([], ["Domain Admins"])


def test_an_empty_export_is_a_domain_without_fine_grained_policies(tmp_path):
    path = tmp_path / "fgpp.txt"
    path.write_bytes(codecs.BOM_UTF16_LE)  # Out-File of no objects
    bundle = imported(path)
    assert bundle["facts"] == {"fine_grained_password_policies": []}
    assert bundle["sources"][0]["parser"] == "ad-password-policy (empty: no fine-grained password policies)"


@pytest.mark.parametrize(
    ("blocks", "line", "problem"),
    [
        ([pso(applies=f"{{CN=A,{DC}, CN=B,{DC}, CN=C,{DC}, CN=D,{DC}...}}")], 2,
         "Format-List cut the list of subjects short"),
        ([pso(MaxPasswordAge="90 days")], 7, "expected a TimeSpan such as 42.00:00:00"),
        ([pso(LockoutDuration="25:00:00")], 4, "hours 0-23"),
        ([pso(MaxPasswordAge="-42.00:00:00")], 7, "a negative TimeSpan"),
        ([pso(MinPasswordLength="fourteen")], 9, "expected a whole number, found 'fourteen'"),
        ([pso(ComplexityEnabled="Yes")], 3, "expected True or False"),
        ([pso(Precedence="0")], 12, "expected a whole number of at least 1"),
        ([pso(LockoutThreshold=None)], 2, "lacks lockoutthreshold"),
        ([pso(AppliesTo=None)], 2, "without AppliesTo: it cannot be judged"),
        ([pso(applies="{Domain Admins}")], 2, "expected distinguished names"),
        ([pso(), pso()], 15, "the fine-grained password policy 'PSO-A' is given twice"),
        ([pso("PSO-A"), pso("PSO-B")], 15, "both apply to CN=Domain Admins,CN=Users,DC=kakuu,DC=local with "
                                           "precedence 10: AD applies the one with the smaller objectGUID"),
    ],
)
def test_what_cannot_be_judged_is_refused_naming_the_line(tmp_path, blocks, line, problem):
    path = list_file(tmp_path, blocks)
    with pytest.raises(InputError) as err:
        imported(path)
    assert (err.value.file, err.value.line) == (str(path), line)
    assert problem in err.value.problem


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("\nMinPasswordLength : 7\nminpasswordlength : 14\n", 3, "duplicate property 'minpasswordlength' "
                                                               "(first on line 2)"),
        ("\nName  Precedence MinPasswordLength\n----  ---------- -----------------\nPSO-A         10            "
         "    14\n", 3, "a table (Format-Table)"),
        ("PS C:\\> Get-ADDefaultDomainPasswordPolicy\nMinPasswordLength : 7\n", 1, "not Format-List output"),
        ("\nComplexityEnabled : True\nDistinguishedName : DC=kakuu,DC=local\n\nMinPasswordLength : 7\n", 5,
         "two default domain policies in one file"),
        ("\nDistinguishedName : DC=kakuu,DC=local\nobjectClass : {domainDNS}\n", 2, "not a password policy"),
        ("\nMinPasswordLength : \n", 2, "no value given"),
    ],
)
def test_malformed_list_output_is_refused_naming_the_line(tmp_path, text, line, problem):
    path = tmp_path / "policy.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + text.replace("\n", "\r\n").encode("utf-16-le"))
    with pytest.raises(InputError) as err:
        imported(path)
    assert (err.value.file, err.value.line) == (str(path), line)
    assert problem in err.value.problem


def test_json_timespans_are_read_from_their_ticks_and_a_changed_part_is_refused(tmp_path):
    doc = json.loads(FGPP_JSON.read_text(encoding="utf-8-sig"))
    doc[0]["MinPasswordLength"] = 16
    doc[0]["LockoutDuration"] = {"Ticks": 9000000000, "Days": 0, "Hours": 0, "Minutes": 15, "Seconds": 0}
    path = tmp_path / "fgpp.json"
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=4), encoding="utf-8")
    found = policies(path)
    assert (found["PSO-Admins"]["min_length"], found["PSO-Admins"]["lockout_duration_minutes"]) == (16, 15)
    doc[0]["LockoutDuration"]["Minutes"] = 45  # edited by hand: the parts no longer agree with the ticks
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=4), encoding="utf-8")
    with pytest.raises(InputError, match=r"the TimeSpan's Minutes \(45\) does not agree with its Ticks"):
        imported(path)
    doc[0]["LockoutDuration"] = "00:45:00"  # PowerShell 7 and Select-Object write the text
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert policies(path)["PSO-Admins"]["lockout_duration_minutes"] == 45


def test_json_duplicate_keys_differing_in_case_and_truncated_files_are_refused(tmp_path):
    path = tmp_path / "fgpp.json"
    path.write_text('{"Name": "PSO-A", "name": "PSO-B", "Precedence": 10}', encoding="utf-8")
    with pytest.raises(InputError, match="is the same property to PowerShell"):
        imported(path)
    path.write_bytes(FGPP_JSON.read_bytes()[:2000])  # cut short while copying
    with pytest.raises(InputError, match="not JSON as ConvertTo-Json writes it"):
        imported(path)


def test_csv_with_the_collection_type_name_or_ascii_question_marks_is_refused(tmp_path):
    text = FGPP_CSV.read_text(encoding="utf-8-sig")
    typed = text.replace(f"CN=SG-ServiceAccounts,OU=管理グループ,{DC}",
                         "Microsoft.ActiveDirectory.Management.ADPropertyValueCollection")
    path = tmp_path / "fgpp.csv"
    path.write_bytes(codecs.BOM_UTF8 + typed.encode())
    with pytest.raises(InputError) as err:
        imported(path)
    assert err.value.line == 4 and "-join ';'" in err.value.problem
    # Export-Csv without -Encoding in Windows PowerShell 5.1: ASCII, '?' for every other character
    path.write_bytes(text.encode("ascii", "replace"))
    with pytest.raises(InputError) as err:
        imported(path)
    assert err.value.line == 3 and "export again with -Encoding UTF8" in err.value.problem


def test_a_second_default_policy_is_refused(tmp_path):
    with pytest.raises(InputError, match="a second default domain policy"):
        imported(DEFAULT_LIST, DEFAULT_JSON)
    with pytest.raises(InputError, match="a second default domain policy"):
        imported(NET_DOMAIN, DEFAULT_LIST)


def test_garbage_exits_2_naming_the_file(tmp_path, capsys):
    bad = tmp_path / "policy.txt"
    bad.write_bytes(b"\x81\xff\xfe garbage")
    assert main(["import", "ad-password-policy", str(bad), "--out", str(tmp_path / "o.json")]) == 2
    assert str(bad) in capsys.readouterr().err and not (tmp_path / "o.json").exists()


@pytest.mark.fuzz
@given(data=st.data())
def test_mutated_policy_exports_import_or_raise_input_error(data):
    """The real fixtures mutated as text in their encoding, as bytes, or any bytes: imported (into a bundle that
    meets the schemas, see tests/conftest.py) or refused with an InputError, never another exception."""
    import_a_mutated_fixture(data, [DEFAULT_LIST, DEFAULT_JSON, FGPP_LIST, FGPP_JSON, FGPP_CSV, NET_DOMAIN],
                             ADPasswordPolicyImporter(), "policy.txt")


def test_options_of_the_spreadsheet_importers_are_refused(tmp_path, capsys):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("format: auditor-hr-mapping/1\n", encoding="utf-8")
    assert main(["import", "ad-password-policy", str(DEFAULT_LIST), "--mapping", str(mapping)]) == 2
    assert "--mapping is for hr-roster and training" in capsys.readouterr().err
    assert main(["import", "ad-password-policy", str(DEFAULT_LIST), "--sheet", "S"]) == 2
    assert "no sheets" in capsys.readouterr().err


def test_audit_import_judges_the_domain_without_writing_a_bundle(capsys):
    main(["audit", "--import", "ad-password-policy", str(DEFAULT_LIST), "--import", "ad-password-policy",
          str(FGPP_LIST), "--format", "json", "--lang", "en", "--no-history"])
    doc = json.loads(capsys.readouterr().out)
    statuses = {r["check"]: r["status"] for r in doc["results"]}
    assert statuses["lockout-threshold"] == "fail" and statuses["privileged-password-policy"] == "pass"
    assert statuses["fine-grained-password-policies"] == "fail"  # PSO-ServiceAccounts never locks
    assert {t["kind"] for t in doc["targets"]} == {"directory"} and len(doc["targets"]) == 1
