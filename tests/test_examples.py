"""The example fleet in examples/: the numbers its README promises."""

import json
from pathlib import Path

import pytest

from auditor.cli import main

FLEET = Path(__file__).resolve().parents[1] / "examples" / "fleet"

EXPECTED_TARGETS = {  # pass, fail, error, notapplicable, score, grade (examples/README.md)
    "ad-kakuu-local": (7, 1, 0, 26, 86.4, "B"),
    "in-kikaku-02": (12, 15, 3, 4, 52.6, "C"),
    "in-kouhou-01": (31, 0, 0, 3, 100.0, "A"),
    "lg-fs-01": (30, 2, 0, 2, 94.1, "A"),
    "lg-jousei-04": (28, 4, 0, 2, 77.7, "B"),
    "lg-shimin-03": (15, 6, 0, 13, 68.6, "C"),
    "lg-shimin-05": (0, 0, 34, 0, 0.0, "D"),
    "lg-soumu-02": (17, 3, 0, 14, 86.2, "B"),
    "mn-jyuki-01": (30, 1, 0, 3, 99.0, "A"),
    "mn-zeimu-01": (30, 1, 0, 3, 96.9, "A"),
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
    assert doc["summary"] == {"pass": 200, "fail": 33, "error": 37, "notapplicable": 70, "waived": 0, "manual": 0}
    assert (doc["score"], doc["grade"]) == (74.0, "B")
    got = {t["id"]: (t["summary"]["pass"], t["summary"]["fail"], t["summary"]["error"],
                     t["summary"]["notapplicable"], t["score"], t["grade"]) for t in doc["targets"]}
    assert got == EXPECTED_TARGETS
    assert {s["segment"]: s["score"] for s in doc["segments"]} == {"internet": 76.4, "lgwan": 63.1, "mynumber": 98.0}


def test_broken_bundle_target_is_error_and_names_the_field(fleet_json):
    _, doc = fleet_json
    broken = [r for r in doc["results"] if r["target"] == "lg-shimin-05"]
    assert broken and {r["status"] for r in broken} == {"error"}
    assert all("broken-lg-shimin-05.json: facts: expected dict" in r["message"] for r in broken)


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
    assert "スコア: 74.0" in out and "B 一部達成" in out and "不通過" in out
    assert "マイナンバー利用事務系" in out and "評価不能" in out
