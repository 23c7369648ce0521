"""The example boundary firewall of Kakuu City imports cleanly and carries its documented flaws."""

import json
from pathlib import Path

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
