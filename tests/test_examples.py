"""The example fleet in examples/: the numbers its README promises."""

import json
from pathlib import Path

import pytest

from auditor.cli import main

FLEET = Path(__file__).resolve().parents[1] / "examples" / "fleet"

EXPECTED_TARGETS = {  # pass, fail, error, notapplicable, score, grade (examples/README.md)
    "ad-kakuu-local": (10, 14, 0, 133, 38.5, "D"),
    "in-kikaku-02": (22, 23, 4, 108, 56.5, "C"),
    "in-kouhou-01": (50, 0, 0, 107, 100.0, "A"),
    "kakuu-city": (8, 7, 0, 109, 53.3, "C"),
    "kakuu-fw01": (9, 4, 0, 144, 67.1, "C"),
    "lg-fs-01": (63, 2, 0, 92, 97.1, "A"),
    "lg-jousei-04": (46, 6, 0, 105, 79.8, "B"),
    "lg-shimin-03": (32, 8, 0, 117, 80.3, "B"),
    "lg-shimin-05": (0, 0, 75, 82, 0.0, "D"),
    "lg-soumu-02": (34, 5, 0, 118, 89.8, "B"),
    "mn-jyuki-01": (49, 2, 0, 106, 96.9, "A"),
    "mn-zeimu-01": (50, 1, 0, 106, 98.5, "A"),
}


@pytest.fixture(scope="module")
def fleet_json():
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(["audit", str(FLEET), "--format", "json", "--lang", "en"])
    return code, json.loads(buf.getvalue())


def test_fleet_exit_code_and_gate(fleet_json):
    code, doc = fleet_json
    assert code == 1
    assert doc["gate"]["passed"] is False
    failed = [(b["check"], b["target"], b["status"]) for b in doc["gate"]["failed_critical"]]
    # GL-A13: lg-jousei-04 forwards IP and its maintenance NIC (192.168.100.10, in no zone) is `external`;
    # GL-A02-A04: the boundary firewall lets the My Number segment out beyond its declared flows
    # (policy 11 on service ALL to chukan, policy 10 on tcp/8443 to jlis)
    assert sorted(f for f in failed if f[2] == "fail") == [
        ("mn-outbound-specified-only", "kakuu-fw01", "fail"),
        ("no-ip-forwarding", "lg-jousei-04", "fail"),
        ("single-segment", "lg-jousei-04", "fail")]
    # only the broken bundle leaves critical checks unproven; every other endpoint has its segments
    # (collected with --zones) and the My Number hosts their removable_media
    assert sorted(f for f in failed if f[2] == "error") == [
        ("no-ip-forwarding", "lg-shimin-05", "error"), ("single-segment", "lg-shimin-05", "error")]


def test_fleet_firewall_findings_cite_the_documented_policies(fleet_json):
    _, doc = fleet_json
    found = {r["check"]: [f["item"] if r["check"].startswith("rule-") else f["actual"] for f in r["findings"]]
             for r in doc["results"] if r["target"] == "kakuu-fw01" and r["status"] == "fail"}
    cited = {check: sorted(a.split('"')[0].strip() for a in actuals) for check, actuals in found.items()}
    assert cited == {"mn-outbound-specified-only": ["policy 10", "policy 11"],
                     "internet-egress-via-security-cloud": ["policy 31"],
                     "lgwan-to-internet-limited": ["policy 60"],
                     "rule-disabled": ["policy 50"]}  # kept disabled: GL-D17's hygiene, never a flow
    separation = [r for r in doc["results"] if r["target"] == "kakuu-fw01" and r["check"] != "rule-disabled"]
    assert "policy 50" not in str(separation)  # a disabled rule decides no flow


def test_fleet_endpoint_protection_problems_are_the_documented_ones(fleet_json):
    _, doc = fleet_json
    protection_checks = {"removable-media-restricted", "mn-removable-storage-blocked", "antimalware-installed",
                 "antimalware-realtime", "antimalware-signatures-fresh", "antimalware-signatures-fresh-mynumber",
                 "disk-encryption-system", "disk-encryption-all-fixed", "screen-lock-timeout", "screen-lock-password",
                 "shell-idle-timeout", "local-admin-count", "linux-audit-daemon", "os-supported", "single-segment",
                 "mn-no-wireless", "sshd-root-login", "sshd-password-authentication", "sshd-max-auth-tries",
                 "sshd-no-empty-passwords", "removable-devices-registered"}
    problems = sorted((r["target"], r["check"], r["status"]) for r in doc["results"]
                      if r["check"] in protection_checks and r["status"] in ("fail", "error")
                      and r["target"] != "lg-shimin-05")  # the broken bundle: everything is error
    assert problems == [
        ("in-kikaku-02", "antimalware-realtime", "fail"),
        ("in-kikaku-02", "antimalware-signatures-fresh", "fail"),  # ClamAV signatures 9 days old
        ("in-kikaku-02", "disk-encryption-all-fixed", "fail"),
        ("in-kikaku-02", "disk-encryption-system", "fail"),
        ("in-kikaku-02", "linux-audit-daemon", "fail"),
        ("in-kikaku-02", "os-supported", "error"),  # Devuan is not in the end-of-life table
        ("in-kikaku-02", "removable-media-restricted", "fail"),
        ("in-kikaku-02", "sshd-max-auth-tries", "fail"),
        ("in-kikaku-02", "sshd-password-authentication", "fail"),
        ("lg-jousei-04", "single-segment", "fail"),
        ("lg-soumu-02", "removable-media-restricted", "fail"),  # USB storage allowed
        ("mn-jyuki-01", "os-supported", "fail"),  # Debian 12: regular security support ended 2026-06-10
    ]
    by_check = {(r["target"], r["check"]): r["status"] for r in doc["results"]}
    for host in ("mn-jyuki-01", "mn-zeimu-01"):  # compliant on removable media, Wi-Fi and offline signatures
        assert by_check[(host, "mn-removable-storage-blocked")] == "pass"
        assert by_check[(host, "mn-no-wireless")] == "pass"
        assert by_check[(host, "antimalware-signatures-fresh-mynumber")] == "pass"


def test_fleet_totals_and_targets(fleet_json):
    _, doc = fleet_json
    assert doc["summary"] == {"pass": 373, "fail": 72, "error": 79, "notapplicable": 1327, "waived": 0, "manual": 33}
    assert (doc["score"], doc["grade"]) == (72.8, "B")
    got = {t["id"]: (t["summary"]["pass"], t["summary"]["fail"], t["summary"]["error"],
                     t["summary"]["notapplicable"], t["score"], t["grade"]) for t in doc["targets"]}
    assert got == EXPECTED_TARGETS
    assert len({r["check"] for r in doc["results"]}) == 157 and len(doc["results"]) == 12 * 157
    assert {s["segment"]: s["score"] for s in doc["segments"]} == {
        None: 61.7, "internet": 78.3, "lgwan": 62.6, "mynumber": 97.7}


def test_broken_bundle_target_is_error_and_names_the_field(fleet_json):
    _, doc = fleet_json
    broken = [r for r in doc["results"] if r["target"] == "lg-shimin-05"]
    assert broken and {r["status"] for r in broken} == {"error", "notapplicable"}
    assert {r["check"].split("-")[0] for r in broken if r["status"] == "notapplicable"} >= {"leaver"}
    assert all("broken-lg-shimin-05.json: facts: expected dict" in r["message"] for r in broken
               if r["status"] == "error")


def test_target_in_two_bundles_is_merged(fleet_json):
    _, doc = fleet_json
    files = [e["file"] for e in doc["run"]["evidence"] if e["target"] == "lg-soumu-02"]
    assert sorted(Path(f).name for f in files) == ["lg-soumu-02-accounts.json", "lg-soumu-02.json"]
    by_check = {r["check"]: r for r in doc["results"] if r["target"] == "lg-soumu-02"}
    assert by_check["password-min-length"]["status"] in ("pass", "fail")  # from the accounts bundle
    assert by_check["host-firewall-enabled"]["status"] in ("pass", "fail")  # from the main bundle


def test_japanese_table_for_the_fleet(capsys):
    assert main(["audit", str(FLEET)]) == 1
    out = capsys.readouterr().out
    assert "スコア: 72.8" in out and "B 一部達成" in out and "不通過" in out
    assert "マイナンバー利用事務系" in out and "評価不能" in out


def test_exports_imported_into_the_fleet_give_the_documented_findings(fleet_json):
    _, doc = fleet_json
    found = {(r["target"], r["check"]): sorted(f["item"].split(" ")[0] for f in r["findings"])
             for r in doc["results"] if r["status"] == "fail"}
    assert found[("ad-kakuu-local", "leaver-accounts-disabled")] == ["t.ishioka"]
    assert found[("ad-kakuu-local", "leaver-accounts-by-name")] == ["y.kasama"]
    assert found[("ad-kakuu-local", "dormant-directory-accounts")] == ["a.koga", "j.ryugasaki", "n.ushiku"]
    assert found[("ad-kakuu-local", "shared-directory-accounts")] == ["kyoyo-madoguchi"]
    assert found[("ad-kakuu-local", "admin-separate-account")] == ["r.hitachi"]
    assert found[("ad-kakuu-local", "password-never-expires")] == ["kyoyo-madoguchi", "svc-scan"]
    # the built-in Administrator (RID 500) is judged as what it is, not as one of the staff's admin IDs
    assert found[("ad-kakuu-local", "builtin-administrator-controlled")] == ["Administrator"]
    assert found[("ad-kakuu-local", "fine-grained-password-policies")] == ["PSO-ServiceAccounts"]
    assert found[("kakuu-city", "staff-annual-training")] == ["00131", "00135", "00137", "00138"]
    leaver = next(r for r in doc["results"] if r["check"] == "leaver-accounts-disabled")
    assert leaver["findings"][0]["item"] == "t.ishioka (exports/ad-users.csv:3)"


def test_fleet_exports_are_in_windows_and_excel_encodings():
    exports = FLEET.parent / "exports"
    assert (exports / "ad-users.csv").read_bytes().startswith(b"#TYPE ")  # PowerShell 5.1, CP932
    assert "窓口共用".encode("cp932") in (exports / "ad-users.csv").read_bytes()
    assert (exports / "training.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # Excel "CSV UTF-8"
    assert b"\r\n" in (exports / "hr-roster.csv").read_bytes()
