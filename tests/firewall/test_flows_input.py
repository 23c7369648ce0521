"""The analysis facing a hostile bundle: a ``firewall_rules`` or ``zones`` area the bundle schemas let
through (they check shapes, not meaning) but the analysis cannot read is an ``error`` result naming the
rule or zone, never a traceback (exit 2 for the whole audit) and never a pass."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.flows import FactError, RuleSet, parse_service

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "firewall"
ZONES = Path(__file__).resolve().parents[2] / "examples" / "zones.yaml"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("fw") / "fw.json"
    assert main(["import", "iptables", str(FIXTURES / "iptables-kakuu.rules"), "--zones", str(ZONES),
                 "--target", "fw", "--out", str(out)]) == 0
    return json.loads(out.read_text(encoding="utf-8"))


BAD_RULES = [
    ("sources", [["x", "y"]], "rule 4: not an address pair: 'x', 'y'"),
    ("sources", [["10.0.0.1", "10.0.0.2", "10.0.0.3"]], r"rule 4: not an address pair \[first, last\]"),
    ("sources", [["10.0.0.9", "10.0.0.1"]], "rule 4: the address pair '10.0.0.9', '10.0.0.1' ends before it starts"),
    ("destinations", [["10.0.0.1", "::1"]], "rule 4: not an address pair"),
    ("services", [{"protocol": "tcp", "ports": [[1, 2, 3]]}], r"rule 4: not a port range \[lo, hi\]: \[1, 2, 3\]"),
    ("services", [{"protocol": "tcp", "ports": [[90, 80]]}], r"rule 4: not a port range \[lo, hi\]: \[90, 80\]"),
    ("services", [{"protocol": "icmp", "icmp_type": ["echo-request"]}], "rule 4: icmp_type .* is not a text"),
    ("services", [{"protocol": "ip", "number": True}], "rule 4: protocol number True is not 0-255"),
]


@pytest.mark.parametrize(("key", "value", "problem"), BAD_RULES)
def test_a_rule_the_analysis_cannot_read_is_a_fact_error_naming_it(bundle, key, value, problem):
    rules = copy.deepcopy(bundle["facts"]["firewall_rules"])
    rules["rules"][4][key] = value
    with pytest.raises(FactError, match=problem):
        RuleSet(rules, bundle["facts"]["zones"])


def test_a_zone_the_analysis_cannot_read_is_a_fact_error_naming_it(bundle):
    zones = copy.deepcopy(bundle["facts"]["zones"])
    zones[0]["intervals"] = [["10.0.0.9", "10.0.0.1"]]
    with pytest.raises(FactError, match="zone 'mynumber-office': the address pair"):
        RuleSet(bundle["facts"]["firewall_rules"], zones)


def test_digits_that_int_refuses_are_an_unknown_icmp_type_not_a_traceback(bundle):
    rules = copy.deepcopy(bundle["facts"]["firewall_rules"])
    rules["rules"][4]["services"] = [{"protocol": "icmp", "icmp_type": "²"}]
    ruleset = RuleSet(rules, bundle["facts"]["zones"])
    compiled = next(rule for rule in ruleset.compiled if rule.index == 4)
    assert compiled.services[0][2] is False  # not exact: the verdict is left open, never guessed
    with pytest.raises(ValueError, match="expected a port"):
        parse_service("tcp/²")
    with pytest.raises(ValueError, match="expected a port"):
        parse_service("tcp/" + "9" * 5000)


def test_an_edited_bundle_gives_error_results_and_the_audit_goes_on(bundle, tmp_path):
    edited = copy.deepcopy(bundle)
    edited["facts"]["firewall_rules"]["rules"][4]["sources"] = [["x", "y"]]
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(edited), encoding="utf-8")
    report = tmp_path / "report.json"
    assert main(["audit", str(path), "--format", "json", "--out", str(report), "--lang", "en"]) == 1
    results = {r["check"]: r for r in json.loads(report.read_text(encoding="utf-8"))["results"]}
    inbound = results["mn-inbound-closed"]
    assert inbound["status"] == "error"
    assert "firewall_rules and zones cannot be analysed: rule 4: not an address pair: 'x', 'y'" in inbound["message"]
