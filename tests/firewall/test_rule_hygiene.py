"""Firewall rule hygiene (GL-D17), gateway antivirus (GL-D06), vendor remote access (GL-A22), the
β path from IN to LG (GL-A21) and interface assignment (GL-A01), on real rule-set texts imported
through the importers and audited as ``auditor audit`` does."""

import json
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.conditions import validate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "firewall"
ZONES = FIXTURES / "zones-hygiene.yaml"
CHECKS = ("rule-any-any", "rule-disabled", "rule-shadowed", "rule-logging", "gateway-antivirus",
          "no-always-open-remote-access", "in-to-lg-screen-transfer-only", "segment-assigned")


def _import(kind: str, name: str, tmp_path: Path) -> Path:
    out = tmp_path / f"{kind}.json"
    assert main(["import", kind, str(FIXTURES / name), "--zones", str(ZONES), "--target", f"{kind}-fw",
                 "--out", str(out)]) == 0
    return out


def _audit(bundle: Path, capsys, profile: str = "national-beta") -> dict[str, dict]:
    capsys.readouterr()
    main(["audit", str(bundle), "--format", "json", "--lang", "en", "--profile", profile])
    doc = json.loads(capsys.readouterr().out)
    return {r["check"]: r for r in doc["results"] if r["check"] in CHECKS}


def _cited(result: dict) -> list[str]:
    """The rule labels the findings name (``policy 12``, ``rule FORWARD#4``)."""
    return [f["item"].split(" (")[0].split(' "')[0] for f in result["findings"]]


def _line(name: str, text: str) -> int:
    return (FIXTURES / name).read_bytes().decode().split("\r\n" if name.endswith(".conf") else "\n").index(text) + 1


def test_fortigate_records_logging_antivirus_and_interfaces(tmp_path):
    bundle = json.loads(_import("fortigate", "fortigate-hygiene.conf", tmp_path).read_text(encoding="utf-8"))
    rules = {r["origin"]["id"]: r for r in bundle["facts"]["firewall_rules"]["rules"]}
    assert (rules["7"]["log_mode"], rules["7"]["log"]) == ("utm", True)
    assert (rules["9"]["log_mode"], rules["9"]["log"]) == ("disable", False)
    assert rules["1"]["av_profile"] == "default"
    assert rules["10"]["av_profile"] == "default"  # from its profile group pg-mail
    assert rules["2"]["av_profile"] is None and rules["11"]["av_profile"] is None
    interfaces = {i["name"]: i for i in bundle["facts"]["interfaces"]}
    assert interfaces["port3"]["addresses"] == [{"family": "ipv4", "address": "10.30.0.1", "prefixlen": 16},
                                                {"family": "ipv6", "address": "2001:db8:30::1", "prefixlen": 64}]
    assert interfaces["port10"]["addresses"] == [] and interfaces["port10"]["up"] is False
    zones = {a["address"]: a["zone"] for a in bundle["facts"]["segments"]["addresses"]}
    assert zones == {"10.20.0.1": "lg-office", "10.21.0.1": "lg-server", "10.30.0.1": "in-office",
                     "2001:db8:30::1": "in-office", "198.51.100.2": "uplink", "192.168.99.1": None}


def test_fortigate_hygiene_findings_name_the_policies(tmp_path, capsys):
    results = _audit(_import("fortigate", "fortigate-hygiene.conf", tmp_path), capsys)
    assert {c: r["status"] for c, r in results.items()} == dict.fromkeys(CHECKS, "fail")
    assert _cited(results["rule-any-any"]) == ["policy 99"]
    assert _cited(results["rule-disabled"]) == ["policy 13"]
    # policy 2 lies wholly inside policy 1; policy 5 is covered by 3 and 4 together; policy 7 only
    # half by policy 6 (10.20.0.0/21 of its /20): partly covered is not shadowed
    assert _cited(results["rule-shadowed"]) == ["policy 2", "policy 5"]
    shadow = results["rule-shadowed"]["findings"]
    assert 'policy 3 "low-ssh-deny"' in shadow[1]["actual"] and 'policy 4 "high-ssh-deny"' in shadow[1]["actual"]
    line = _line("fortigate-hygiene.conf", "    edit 2")
    assert shadow[0]["item"] == f'policy 2 "pc10-web" ({FIXTURES / "fortigate-hygiene.conf"}:{line})'
    assert shadow[0]["source"] == {"file": str(FIXTURES / "fortigate-hygiene.conf"), "line": line}
    assert _cited(results["rule-logging"]) == ["policy 9", "policy 99"]  # utm (policy 7) is logging
    # policy 10 applies an antivirus profile through its group; 12 its own
    assert _cited(results["gateway-antivirus"]) == ["policy 11", "policy 99"]
    # policy 12 opens RDP only on its schedule maint-2026-11
    assert _cited(results["no-always-open-remote-access"]) == ["policy 11", "policy 99"]
    assert "tcp/3389" in results["no-always-open-remote-access"]["findings"][0]["actual"]
    # policy 8 goes to the screen-transfer zone: allowed; 9 (SMB to a server) and 99 are not
    assert sorted(set(_cited(results["in-to-lg-screen-transfer-only"]))) == ["in-office → lg-office",
                                                                             "in-office → lg-server"]
    assert "policy 8" not in json.dumps(results["in-to-lg-screen-transfer-only"])
    assert [f["item"] for f in results["segment-assigned"]["findings"]] == ["port9 192.168.99.1"]


def test_a_clean_fortigate_passes_every_hygiene_check(tmp_path, capsys):
    results = _audit(_import("fortigate", "fortigate-clean.conf", tmp_path), capsys)
    assert {c: r["status"] for c, r in results.items()} == dict.fromkeys(CHECKS, "pass")


def test_screen_transfer_check_is_selected_in_beta_only(tmp_path, capsys):
    results = _audit(_import("fortigate", "fortigate-hygiene.conf", tmp_path), capsys, profile="national-alpha")
    assert "in-to-lg-screen-transfer-only" not in results and results["rule-shadowed"]["status"] == "fail"


def test_iptables_shadowing_respects_states_returns_and_log_rules(tmp_path, capsys):
    results = _audit(_import("iptables", "iptables-hygiene.rules", tmp_path), capsys)
    # FORWARD#4 is inside FORWARD#3. Not shadowed: #6 (half covered by #5), #8 (the NEW-only drop
    # leaves it established traffic), #10 (the LG chain's RETURN jumps over its tcp/22 drop).
    assert _cited(results["rule-shadowed"]) == ["rule FORWARD#4"]
    assert _cited(results["rule-any-any"]) == ["rule FORWARD#11"]
    assert results["rule-disabled"]["status"] == "notapplicable"  # iptables has no disabled rules
    assert results["gateway-antivirus"]["status"] == "notapplicable"
    # the LOG rule FORWARD#2 matches all that #3 and #4 decide
    logged = _cited(results["rule-logging"])
    assert "rule FORWARD#3" not in logged and "rule FORWARD#4" not in logged
    assert {"rule FORWARD#5", "rule FORWARD#6", "rule FORWARD#11"} <= set(logged)
    line = _line("iptables-hygiene.rules", "-A FORWARD -s 10.20.1.10/32 -p tcp -m tcp --dport 443 -j ACCEPT")
    assert results["rule-shadowed"]["findings"][0]["item"].endswith(f"({FIXTURES / 'iptables-hygiene.rules'}:{line})")


def test_nftables_log_statements_and_log_rules(tmp_path, capsys):
    results = _audit(_import("nftables", "nft-hygiene.nft", tmp_path), capsys)
    assert _cited(results["rule-shadowed"]) == ["rule inet filter/forward#3"]
    # forward#2 logs itself; forward#5 is logged by the log-only rule forward#4
    assert _cited(results["rule-logging"]) == ["rule inet filter/forward#3", "rule inet filter/forward#6"]
    assert results["rule-any-any"]["status"] == "pass"


def test_a_bundle_without_antivirus_profiles_is_error_not_pass(tmp_path, capsys):
    path = _import("fortigate", "fortigate-clean.conf", tmp_path)
    bundle = json.loads(path.read_text(encoding="utf-8"))
    for rule in bundle["facts"]["firewall_rules"]["rules"]:
        del rule["av_profile"]  # as imported before the importer recorded it
    path.write_text(json.dumps(bundle), encoding="utf-8")
    result = _audit(path, capsys)["gateway-antivirus"]
    assert result["status"] == "error" and "av_profile" in result["message"]


@pytest.mark.parametrize(("arg", "problem"), [
    ({"find": "everything"}, "find"),
    ({"find": "always-open", "from": {"segment": "external"}}, "to"),
    ({"find": "shadowed", "colour": "red"}, "colour"),
    ({"find": "always-open", "from": {"segment": "external"}, "to": {"zone": "x"}}, "zone"),
    ({"find": "always-open", "from": {"segment": "external"}, "to": {"segment": "lgwan"}, "services": ["tcp/99999"]},
     "services"),
])
def test_malformed_arguments_are_refused_naming_the_key(arg, problem):
    problems = validate({"rule_hygiene": arg})
    assert problems and problem in str(problems[0][0]), problems
