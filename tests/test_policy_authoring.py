"""docs/policy-authoring.md, step by step: the city's copy, control, check, profile, parameter,
tailoring, waivers and attestations give the outcomes the document states."""

import json
import shutil
from pathlib import Path

import pytest

from auditor.cli import main

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "city-policy"


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("city") / "city"
    assert main(["policy", "copy", str(base)]) == 0
    for control in (EXAMPLE / "controls").glob("*.yaml"):
        shutil.copy(control, base / "policies" / "controls")
    shutil.copytree(EXAMPLE / "checks" / "city", base / "checks" / "city")
    for profile in (EXAMPLE / "profiles").glob("*.yaml"):
        shutil.copy(profile, base / "policies" / "profiles")
    lines = [line for line in (EXAMPLE / "parameters-city.yaml").read_text(encoding="utf-8").splitlines(True)
             if not line.startswith("#")]
    with (base / "policies" / "parameters.yaml").open("a", encoding="utf-8") as f:
        f.writelines(lines)
    return base / "policies"


def test_the_copy_refuses_to_write_over(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("x")
    assert main(["policy", "copy", str(tmp_path)]) == 2
    assert "nothing is written over" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_every_example_file_validates(city, capsys):
    assert main(["policy", "validate", str(city)]) == 0
    assert "6 profiles" in capsys.readouterr().out
    for name in ("tailoring.yaml", "waivers.yaml", "attestations.csv"):
        assert main(["policy", "--policy", str(city), "validate", str(EXAMPLE / name)]) == 0, name
    out = capsys.readouterr().out
    assert "valid tailoring of profile ishioka-city" in out and "valid waivers: 1" in out
    assert "valid attestations: 1" in out


def test_the_city_control_is_in_coverage(city, capsys):
    assert main(["policy", "--policy", str(city), "coverage", "--profile", "ishioka-city", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    mine = next(r for r in doc["requirements"] if r["id"] == "ISHIOKA-C01")
    assert mine["state"] == "automated"
    assert [(c["id"], c["manual"], [e["area"] for e in c["evidence"]]) for c in mine["checks"]] == [
        ("hostname-naming", False, ["os"])]
    assert "auditor collect (Linux)" in mine["checks"][0]["evidence"][0]["suppliers"]


def _audit(city: Path, evidence: list[str], capsys) -> dict:
    main(["audit", *evidence, "--policy", str(city), "--profile", "ishioka-city", "--as-of", "2026-11-02",
          "--tailoring", str(EXAMPLE / "tailoring.yaml"), "--waivers", str(EXAMPLE / "waivers.yaml"),
          "--attestations", str(EXAMPLE / "attestations.csv"), "--format", "json", "--lang", "en"])
    return json.loads(capsys.readouterr().out)


def test_the_example_fleet_gives_what_the_document_says(city, capsys):
    doc = _audit(city, [str(ROOT / "examples" / "fleet")], capsys)
    kinds = {t["id"]: t for t in doc["targets"]}
    naming = {r["target"]: r["status"] for r in doc["results"] if r["check"] == "hostname-naming"}
    assert naming["lg-shimin-05"] == "error"
    assert {kinds[t]["kind"] for t in naming} == {"endpoint", "directory", "network", "organization"}
    for target, status in naming.items():
        if target != "lg-shimin-05":
            assert status == ("pass" if kinds[target]["kind"] == "endpoint" else "notapplicable"), (target, status)
    assert {r["target"] for r in doc["results"] if r["check"] == "package-index-fresh"} == set()
    assert next(c for c in doc["controls"] if c["id"] == "ISHIOKA-C01")["audit_items"] == ["市-2-05"]
    assert next(c for c in doc["controls"] if c["id"] == "GL-B11")["audit_items"] == []
    assert next(c for c in doc["run"]["policy"]["tailoring"]["changes"] if c["id"] == "screen_lock_idle_seconds")
    waiver = doc["waivers"][0]
    assert (waiver["id"], waiver["state"], waiver["unused"]) == ("W-2026-014", "active", False)
    attested = [r for r in doc["results"] if r.get("attestation")]
    assert attested and all(r["status"] == "pass" and "GL-E01" in r["controls"] for r in attested)


def test_an_installer_host_name_fails_naming_the_rule(city, tmp_path, capsys):
    bundle = json.loads((ROOT / "examples" / "fleet" / "lg-soumu-02.json").read_text(encoding="utf-8"))
    bundle["target"]["id"] = "lg-soumu-09"
    bundle["facts"]["os"]["hostname"] = "DESKTOP-7QK2M1A"
    path = tmp_path / "pc.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    doc = _audit(city, [str(path)], capsys)
    result = next(r for r in doc["results"] if r["check"] == "hostname-naming")
    assert result["status"] == "fail"
    assert "DESKTOP-7QK2M1A" in result["message"] and "(?i)^(mn|lg|in)-[a-z]+-[0-9]{2}$" in result["message"]
