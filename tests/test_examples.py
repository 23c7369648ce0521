"""The example fleet in examples/: the numbers its README promises."""

import json
from pathlib import Path

import pytest

from auditor.cli import main

FLEET = Path(__file__).resolve().parents[1] / "examples" / "fleet"

EXPECTED_TARGETS = {  # pass, fail, error, notapplicable, score, grade (examples/README.md)
    "ad-kakuu-local": (8, 8, 0, 29, 44.4, "C"),
    "in-kikaku-02": (12, 15, 3, 15, 52.6, "C"),
    "in-kouhou-01": (31, 0, 0, 14, 100.0, "A"),
    "kakuu-city": (0, 1, 0, 44, 0.0, "D"),
    "lg-fs-01": (30, 2, 0, 13, 94.1, "A"),
    "lg-jousei-04": (28, 4, 0, 13, 77.7, "B"),
    "lg-shimin-03": (15, 8, 0, 22, 61.5, "C"),
    "lg-shimin-05": (0, 0, 36, 9, 0.0, "D"),
    "lg-soumu-02": (19, 3, 0, 23, 87.7, "B"),
    "mn-jyuki-01": (30, 1, 0, 14, 99.0, "A"),
    "mn-zeimu-01": (30, 1, 0, 14, 96.9, "A"),
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
    assert [(b["check"], b["target"], b["status"]) for b in doc["gate"]["failed_critical"]] == [
        ("no-ip-forwarding", "lg-jousei-04", "fail"), ("no-ip-forwarding", "lg-shimin-05", "error")]


def test_fleet_totals_and_targets(fleet_json):
    _, doc = fleet_json
    assert doc["summary"] == {"pass": 203, "fail": 43, "error": 39, "notapplicable": 210, "waived": 0, "manual": 0}
    assert (doc["score"], doc["grade"]) == (70.7, "B")
    got = {t["id"]: (t["summary"]["pass"], t["summary"]["fail"], t["summary"]["error"],
                     t["summary"]["notapplicable"], t["score"], t["grade"]) for t in doc["targets"]}
    assert got == EXPECTED_TARGETS
    assert {s["segment"]: s["score"] for s in doc["segments"]} == {
        None: 0.0, "internet": 76.4, "lgwan": 58.9, "mynumber": 98.0}


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
    assert "スコア: 70.7" in out and "B 一部達成" in out and "不通過" in out
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
