"""The example boundary firewall of Kakuu City imports cleanly and carries its documented flaws."""

import json
from pathlib import Path

from auditor.evidence.zones import load_zones

from auditor.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_example_firewall_imports_with_its_planted_flaws(tmp_path):
    conf = EXAMPLES / "exports" / "kakuu-fw01.conf"
    assert b"\r\nconfig firewall policy\r\n" in conf.read_bytes()
    out = tmp_path / "fw.json"
    assert main(["import", "fortigate", str(conf), "--zones", str(EXAMPLES / "zones.yaml"),
                 "--target", "kakuu-fw01", "--out", str(out)]) == 0
    bundle = json.loads(out.read_text())
    assert bundle["errors"] == []
    rules = {r["origin"]["id"]: r for r in bundle["facts"]["firewall_rules"]["rules"]}
    assert rules["11"]["services"] == [{"protocol": "any"}]  # 特定通信 without pinned ports
    assert rules["31"]["destinations"] == [["0.0.0.0", "255.255.255.255"]]
    assert rules["60"]["services"][0]["ports"] == [[3389, 3389]]
    assert rules["50"]["enabled"] is False
    assert [r["origin"]["id"] for r in bundle["facts"]["firewall_rules"]["rules"]] == \
        ["10", "11", "20", "21", "22", "30", "31", "40", "50", "60"]


def _results(tmp_path, zones: Path, name: str) -> list[tuple]:
    bundle, report = tmp_path / f"{name}.json", tmp_path / f"{name}-report.json"
    assert main(["import", "fortigate", str(EXAMPLES / "exports" / "kakuu-fw01.conf"), "--zones", str(zones),
                 "--target", "kakuu-fw01", "--out", str(bundle)]) == 0
    main(["audit", str(bundle), "--format", "json", "--lang", "en", "--out", str(report)])
    return [(r["check"], r["status"], r["message"], r["findings"]) for r in json.loads(report.read_text())["results"]]


def test_the_example_zones_written_nested_give_the_verdicts_of_the_flat_zones(tmp_path):
    flat = Path(__file__).resolve().parents[1] / "fixtures" / "firewall" / "zones-kakuu-flat.yaml"
    assert not any("within" in z for z in load_zones(flat))  # today's flat file: no zone inside another
    assert sum("within" in z for z in load_zones(EXAMPLES / "zones.yaml")) == 6
    nested, before = _results(tmp_path, EXAMPLES / "zones.yaml", "nested"), _results(tmp_path, flat, "flat")
    assert nested == before
    assert sum(status == "fail" for _, status, _, _ in nested) == 4  # the planted flaws, found either way
