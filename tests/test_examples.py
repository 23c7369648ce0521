"""The example fleet in examples/: the numbers its README promises."""

import json
from pathlib import Path

import pytest

from auditor.cli import main

FLEET = Path(__file__).resolve().parents[1] / "examples" / "fleet"

EXPECTED_TARGETS = {  # pass, fail, error, notapplicable, score, grade (examples/README.md)
    "ad-kakuu-local": (8, 8, 0, 52, 44.4, "C"),
    "in-kikaku-02": (11, 15, 17, 25, 30.9, "D"),
    "in-kouhou-01": (30, 0, 14, 24, 62.0, "C"),
    "kakuu-city": (0, 1, 0, 67, 0.0, "D"),
    "lg-fs-01": (29, 2, 14, 23, 58.8, "C"),
    "lg-jousei-04": (27, 4, 14, 23, 48.4, "C"),
    "lg-shimin-03": (15, 8, 13, 32, 35.4, "D"),
    "lg-shimin-05": (0, 0, 55, 13, 0.0, "D"),
    "lg-soumu-02": (19, 3, 13, 33, 49.6, "C"),
    "mn-jyuki-01": (30, 1, 14, 23, 61.1, "C"),
    "mn-zeimu-01": (30, 1, 14, 23, 59.9, "C"),
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
    assert [f for f in failed if f[2] == "fail"] == [("no-ip-forwarding", "lg-jousei-04", "fail")]
    # the bundles predate the segments and removable_media areas: those critical checks cannot be proven
    endpoints = ["in-kikaku-02", "in-kouhou-01", "lg-fs-01", "lg-jousei-04", "lg-shimin-03", "lg-shimin-05",
                 "lg-soumu-02", "mn-jyuki-01", "mn-zeimu-01"]
    assert sorted(f for f in failed if f[2] == "error") == sorted(
        [("no-ip-forwarding", "lg-shimin-05", "error")]
        + [("single-segment", t, "error") for t in endpoints]
        + [("mn-removable-storage-blocked", t, "error") for t in ("mn-jyuki-01", "mn-zeimu-01")])


def test_fleet_totals_and_targets(fleet_json):
    _, doc = fleet_json
    assert doc["summary"] == {"pass": 199, "fail": 43, "error": 168, "notapplicable": 338, "waived": 0, "manual": 0}
    assert (doc["score"], doc["grade"]) == (44.2, "C")
    got = {t["id"]: (t["summary"]["pass"], t["summary"]["fail"], t["summary"]["error"],
                     t["summary"]["notapplicable"], t["score"], t["grade"]) for t in doc["targets"]}
    assert got == EXPECTED_TARGETS
    assert {s["segment"]: s["score"] for s in doc["segments"]} == {
        None: 0.0, "internet": 46.5, "lgwan": 36.8, "mynumber": 60.5}


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
    assert "スコア: 44.2" in out and "C 着手" in out and "不通過" in out
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
    assert found[("kakuu-city", "staff-annual-training")] == ["00131", "00135", "00137", "00138"]
    leaver = next(r for r in doc["results"] if r["check"] == "leaver-accounts-disabled")
    assert leaver["findings"][0]["item"] == "t.ishioka (exports/ad-users.csv:3)"


def test_fleet_exports_are_in_windows_and_excel_encodings():
    exports = FLEET.parent / "exports"
    assert (exports / "ad-users.csv").read_bytes().startswith(b"#TYPE ")  # PowerShell 5.1, CP932
    assert "窓口共用".encode("cp932") in (exports / "ad-users.csv").read_bytes()
    assert (exports / "training.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # Excel "CSV UTF-8"
    assert b"\r\n" in (exports / "hr-roster.csv").read_bytes()
