"""A directory target judged on its own password policies (issue #17): the default domain policy, the
fine-grained policy in force for Domain Admins, and the built-in Administrator as what it is."""

import codecs
import json
from pathlib import Path

import pytest

from auditor.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
DEFAULT_LIST = FIXTURES / "exports" / "ad-default-password-policy-ps51.txt"
NET_DOMAIN = FIXTURES / "windows" / "net-accounts-domain-en.txt"
DC = "DC=kakuu,DC=local"
DOMAIN_ADMINS = f"CN=Domain Admins,CN=Users,{DC}"
EIGHT = ("password-min-length", "password-complexity", "password-history", "password-max-age",
         "password-not-reversible", "lockout-enabled", "lockout-threshold", "lockout-duration")


def audit(tmp_path, capsys, *imports: tuple[str, list[Path]]) -> dict[str, dict]:
    """The directory target's results, each import a bundle of the target ad-kakuu (as of 2026-11-02)."""
    outs = []
    for i, (kind, files) in enumerate(imports):
        out = tmp_path / f"b{i}.json"
        assert main(["import", kind, *map(str, files), "--target", "ad-kakuu", "--segment", "lgwan",
                     "--collected-at", "2026-11-02T08:30:00+09:00", "--out", str(out)]) == 0
        outs.append(str(out))
    capsys.readouterr()
    main(["audit", *outs, "--format", "json", "--lang", "en"])
    doc = json.loads(capsys.readouterr().out)
    return {r["check"]: r for r in doc["results"] if r["target"] == "ad-kakuu"}


def fgpp(tmp_path, *policies: dict[str, str], name="fgpp.txt") -> Path:
    """`Get-ADFineGrainedPasswordPolicy -Filter * > FILE` in Windows PowerShell 5.1 (UTF-16 LE, BOM, CRLF)."""
    lines = [""]
    for policy in policies:
        lines += [f"{key.ljust(27)} : {value}" for key, value in sorted(policy.items(), key=lambda kv: kv[0].lower())]
        lines.append("")
    path = tmp_path / name
    path.write_bytes(codecs.BOM_UTF16_LE + "\r\n".join(lines + ["", ""]).encode("utf-16-le"))
    return path


def pso(name: str, precedence: int, applies_to: list[str], **settings: str) -> dict[str, str]:
    policy = {"AppliesTo": "{" + ", ".join(applies_to) + "}", "ComplexityEnabled": "True",
              "DistinguishedName": f"CN={name},CN=Password Settings Container,CN=System,{DC}",
              "LockoutDuration": "00:30:00", "LockoutObservationWindow": "00:30:00", "LockoutThreshold": "5",
              "MaxPasswordAge": "90.00:00:00", "MinPasswordAge": "1.00:00:00", "MinPasswordLength": "15",
              "Name": name, "ObjectClass": "msDS-PasswordSettings", "PasswordHistoryCount": "24",
              "Precedence": str(precedence), "ReversibleEncryptionEnabled": "False"}
    policy.update(settings)
    return policy


def test_the_eight_password_and_lockout_checks_evaluate_on_a_directory_target(tmp_path, capsys):
    results = audit(tmp_path, capsys, ("ad-password-policy", [DEFAULT_LIST]))
    assert {check: results[check]["status"] for check in EIGHT} == {
        "password-min-length": "pass", "password-complexity": "pass", "password-history": "pass",
        "password-max-age": "pass", "password-not-reversible": "pass", "lockout-enabled": "pass",
        "lockout-threshold": "fail", "lockout-duration": "pass"}  # the domain locks after 10 failures (profile: 5)
    assert [f["actual"] for f in results["lockout-threshold"]["findings"]] == [10]
    assert results["lockout-threshold"]["evidence"] == [f"{tmp_path / 'b0.json'}: {DEFAULT_LIST}"]


def test_net_accounts_domain_says_nothing_of_complexity_or_reversible_encryption(tmp_path, capsys):
    results = audit(tmp_path, capsys, ("ad-password-policy", [NET_DOMAIN]))
    statuses = {check: results[check]["status"] for check in EIGHT}
    assert statuses["password-min-length"] == "pass" and statuses["lockout-enabled"] == "fail"  # Never
    assert statuses["lockout-duration"] == "notapplicable"  # nothing locks, nothing to time
    for check in ("password-complexity", "password-not-reversible"):  # never a pass on what was not read
        assert statuses[check] == "error" and "password_policy." in results[check]["message"]


def test_a_fine_grained_policy_judges_domain_admins(tmp_path, capsys):
    weak = pso("PSO-Admins-2015", 30, [DOMAIN_ADMINS], MinPasswordLength="6", LockoutThreshold="0")
    results = audit(tmp_path, capsys, ("ad-password-policy", [DEFAULT_LIST, fgpp(tmp_path, weak)]))
    result = results["privileged-password-policy"]
    assert result["status"] == "fail" and result["severity"] == "high"
    (finding,) = result["findings"]  # one per policy, showing the settings it was judged on
    assert (finding["actual"]["min_length"], finding["actual"]["lockout_threshold"]) == (6, 0)
    assert finding["item"] == f"PSO-Admins-2015 (precedence 30, in force for Domain Admins; {tmp_path / 'fgpp.txt'}:2)"
    assert "at least 8 characters" in result["message"] and "Domain Admins" in result["message"]
    assert results["fine-grained-password-policies"]["status"] == "pass"  # no other group has a policy
    assert results["password-min-length"]["status"] == "pass"  # the default policy (12) is another matter


def test_the_lowest_precedence_linked_to_domain_admins_is_the_one_judged(tmp_path, capsys):
    weak = pso("PSO-Admins-2015", 30, [DOMAIN_ADMINS], MinPasswordLength="6", LockoutThreshold="0")
    strong = pso("PSO-Admins", 10, [DOMAIN_ADMINS, f"CN=Enterprise Admins,CN=Users,{DC}"])
    results = audit(tmp_path, capsys, ("ad-password-policy", [DEFAULT_LIST, fgpp(tmp_path, weak, strong)]))
    assert results["privileged-password-policy"]["status"] == "pass"
    # still linked, but in force for no one: judged by neither check
    assert results["fine-grained-password-policies"]["status"] == "pass"
    # the weak one is in force again once it has the lower precedence
    weak["Precedence"] = "5"
    results = audit(tmp_path, capsys, ("ad-password-policy", [DEFAULT_LIST, fgpp(tmp_path, weak, strong)]))
    assert [f["item"].split(" (")[0] for f in results["privileged-password-policy"]["findings"]] == [
        "PSO-Admins-2015"]


def test_other_groups_policies_and_their_lifetime(tmp_path, capsys):
    service = pso("PSO-ServiceAccounts", 20, [f"CN=SG-ServiceAccounts,OU=管理グループ,{DC}"], LockoutThreshold="0",
                  MaxPasswordAge="00:00:00", MinPasswordLength="20")
    results = audit(tmp_path, capsys, ("ad-password-policy", [fgpp(tmp_path, service)]))
    assert results["privileged-password-policy"]["status"] == "pass"  # none in force for a privileged group
    other = results["fine-grained-password-policies"]
    assert other["status"] == "fail" and other["severity"] == "medium"
    assert [f["actual"]["lockout_threshold"] for f in other["findings"]] == [0]  # never locks
    age = results["fine-grained-password-max-age"]
    assert age["status"] == "fail" and [f["actual"] for f in age["findings"]] == [None]  # never expires
    # without the default policy's export the eight checks say what is missing, and never pass
    assert {results[check]["status"] for check in EIGHT} == {"error"}
    assert results["password-min-length"]["cause"]["supplied_by"][-1] == "auditor import ad-password-policy"


def users_export(tmp_path, rows: list[tuple[str, ...]], sid: bool = True) -> Path:
    """`Get-ADUser -Filter * -Properties ... | Select-Object ... | Export-Csv -Encoding UTF8` (PowerShell 5.1)."""
    header = ["SamAccountName", "DisplayName", "EmployeeID", "Enabled", "whenCreated", "LastLogonDate",
              "PasswordLastSet", "PasswordNeverExpires", "MemberOf"] + (["SID"] if sid else [])
    lines = ["#TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser", ",".join(f'"{h}"' for h in header)]
    lines += [",".join(f'"{v}"' for v in (row if sid else row[:-1])) for row in rows]
    path = tmp_path / "ad-users.csv"
    path.write_bytes(codecs.BOM_UTF8 + ("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


SID = "S-1-5-21-3623811015-3361044348-30300820"
ADMINS = f"{DOMAIN_ADMINS};CN=Enterprise Admins,CN=Users,{DC}"


def account(name: str, last_logon: str, enabled: str = "True", rid: int = 1107, groups: str = ADMINS) -> tuple:
    return (name, "", "", enabled, "2012/03/30 10:12:00", last_logon, "2026/03/03 9:00:00", "True", groups,
            f"{SID}-{rid}")


STAFF = [account(f"adm-staff{i}", "2026/11/01 17:02:44", rid=1200 + i) for i in range(5)]  # five: the limit


@pytest.mark.parametrize(
    ("builtin", "status"),
    [
        (account("kk-rescue", "2026/03/02 22:41:09", rid=500), "pass"),  # renamed, last used in a recovery
        (account("kk-rescue", "", rid=500), "pass"),  # renamed and never logged on to
        (account("Administrator", "2026/10/30 8:50:31", enabled="False", rid=500), "pass"),  # disabled
        (account("Administrator", "2025/01/10 8:50:31", rid=500), "fail"),  # enabled under its known name
        (account("kk-rescue", "2026/10/30 8:50:31", rid=500), "fail"),  # renamed, but in everyday use
    ],
)
def test_the_built_in_administrator_is_judged_as_what_it_is(tmp_path, capsys, builtin, status):
    results = audit(tmp_path, capsys, ("ad-users", [users_export(tmp_path, [builtin, *STAFF])]))
    assert results["builtin-administrator-controlled"]["status"] == status
    if status == "fail":
        (finding,) = results["builtin-administrator-controlled"]["findings"]
        assert finding["item"] == f"{builtin[0]} (RID 500; {tmp_path / 'ad-users.csv'}:3)"
    # not staff holding admin rights: outside the naming rule, the count of privileged members and dormancy
    assert results["admin-separate-account"]["status"] == "pass"
    assert results["privileged-group-members"]["status"] == "pass"  # five staff plus RID 500 (limit 5)
    assert results["dormant-directory-accounts"]["status"] == "pass"


def test_without_sids_the_built_in_administrator_cannot_be_told(tmp_path, capsys):
    rows = [account("kk-rescue", "2026/03/02 22:41:09", rid=500), *STAFF]
    results = audit(tmp_path, capsys, ("ad-users", [users_export(tmp_path, rows, sid=False)]))
    assert results["builtin-administrator-controlled"]["status"] == "error"
    assert "rid" in results["builtin-administrator-controlled"]["message"]
    # the other checks judge every account as staff, as before
    assert results["privileged-group-members"]["status"] == "fail"  # six enabled members
    assert [f["item"].split(" ")[0] for f in results["admin-separate-account"]["findings"]] == ["kk-rescue"]
    assert [f["item"].split(" ")[0] for f in results["dormant-directory-accounts"]["findings"]] == ["kk-rescue"]
