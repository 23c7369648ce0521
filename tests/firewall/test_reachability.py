"""The separation checks (reachability) on rule sets imported from real formats, with known answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.conditions import validate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "firewall"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEPARATION = ["mn-outbound-specified-only", "mn-inbound-closed", "external-inbound-closed", "lgwan-to-internet-limited",
              "internet-to-lgwan-sanitised-only", "lgwan-no-direct-internet", "internet-egress-via-security-cloud"]


def _audit(tmp_path: Path, kind: str, config: Path, zones: Path, *extra: str) -> tuple[int, dict[str, dict]]:
    bundle = tmp_path / "fw.json"
    assert main(["import", kind, str(config), "--zones", str(zones), "--target", "fw", "--out", str(bundle)]) == 0
    report = tmp_path / "report.json"
    code = main(["audit", str(bundle), "--format", "json", "--out", str(report), "--lang", "en", *extra])
    return code, {r["check"]: r for r in json.loads(report.read_text(encoding="utf-8"))["results"]}


def _cited(result: dict) -> list[str]:
    return [f"{f['item']} | {f['actual']}" for f in result["findings"]]


def test_fortigate_nested_group_path_into_mynumber_is_found_disabled_and_shadowed_are_not_cited(tmp_path):
    code, results = _audit(tmp_path, "fortigate", FIXTURES / "fortigate-reach.conf", FIXTURES / "zones-reach.yaml")
    inbound = results["mn-inbound-closed"]
    assert inbound["status"] == "fail"
    assert _cited(inbound) == [
        'in-office → mn-servers | policy 7 "file share via nested group" (' + str(FIXTURES / "fortigate-reach.conf")
        + ':87) allows tcp/445 (e.g. 10.30.0.0 → 10.10.16.0 tcp/445)',
        'in-office → mn-servers | policy 9 "v6 admin" (' + str(FIXTURES / "fortigate-reach.conf")
        + ':97) allows tcp/22 (e.g. 2001:db8:30:: → 2001:db8:10:: tcp/22)',
    ]
    text = json.dumps(inbound, ensure_ascii=False)
    # policy 5 denies LG → MN first: policy 6 is shadowed, and lg-host-5 (in grp-outer via grp-inner) never gets
    # through policy 7; policy 8 is disabled. None of them is cited, and LG → MN is not reported at all.
    assert "policy 6" not in text and "policy 8" not in text and "lg-office →" not in text
    assert code == 1  # a critical separation finding fails the gate, whatever the score
    for check in SEPARATION:
        if check != "mn-inbound-closed":
            assert results[check]["status"] == "pass", check


def _fortigate(tmp_path: Path, policies: str) -> Path:
    base = (FIXTURES / "fortigate-reach.conf").read_bytes().decode()
    head = base.split("config firewall policy")[0]
    path = tmp_path / "fw.conf"
    path.write_bytes((head + "config firewall policy\r\n" + policies.replace("\n", "\r\n") + "end\r\n").encode())
    return path


def test_a_policy_naming_an_unknown_object_makes_the_result_error_never_a_pass(tmp_path):
    conf = _fortigate(tmp_path, """    edit 3
        set srcintf "port4"
        set dstintf "port1"
        set srcaddr "in-office-typo"
        set dstaddr "mn-servers"
        set action accept
        set schedule "always"
        set service "SMB"
    next
""")
    code, results = _audit(tmp_path, "fortigate", conf, FIXTURES / "zones-reach.yaml")
    inbound = results["mn-inbound-closed"]
    assert inbound["status"] == "error"
    assert "cannot be decided" in inbound["message"] and "policy 3" in inbound["message"]
    assert code == 1
    # a deny rule in error changes nothing where the outcome is deny anyway
    assert results["external-inbound-closed"]["status"] == "pass"


def test_a_definite_finding_is_reported_with_the_undetermined_ones(tmp_path):
    conf = _fortigate(tmp_path, """    edit 1
        set srcintf "port4"
        set dstintf "port1"
        set srcaddr "in-office"
        set dstaddr "mn-servers"
        set action accept
        set schedule "always"
        set service "SSH"
    next
    edit 2
        set srcintf "port2"
        set dstintf "port1"
        set srcaddr "nowhere"
        set dstaddr "mn-servers"
        set action accept
        set schedule "always"
        set service "HTTPS"
    next
""")
    _, results = _audit(tmp_path, "fortigate", conf, FIXTURES / "zones-reach.yaml")
    findings = _cited(results["mn-inbound-closed"])
    assert results["mn-inbound-closed"]["status"] == "fail"
    assert findings[0].startswith('in-office → mn-servers | policy 1 (')
    assert any(f.startswith("lg-office → mn-servers | undetermined: policy 2 (") for f in findings)


IPTABLES_ZONES = """format: auditor-zones/1
zones:
  - {name: mn-servers, segment: mynumber, role: server, networks: [10.10.16.0/24], interfaces: [eth0]}
  - {name: lg-office, segment: lgwan, role: office, networks: [10.20.0.0/20], interfaces: [eth1]}
  - {name: lg-sanitizer, segment: lgwan, role: sanitizer, networks: [10.20.100.10], interfaces: [eth1]}
  - {name: in-office, segment: internet, role: office, networks: [10.30.0.0/20], interfaces: [eth3]}
  - {name: cloud, segment: external, role: security-cloud, networks: [203.0.113.0/26], interfaces: [eth4]}
"""


def _iptables(tmp_path: Path, rules: str, chains: str = "") -> tuple[int, dict[str, dict]]:
    save = tmp_path / "fw.rules"
    save.write_text("# Generated by iptables-save v1.8.9 (nf_tables)\n*filter\n:INPUT DROP [0:0]\n"
                    ":FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n" + chains + rules + "COMMIT\n")
    zones = tmp_path / "zones.yaml"
    zones.write_text(IPTABLES_ZONES)
    return _audit(tmp_path, "iptables", save, zones)


def test_iptables_established_related_accept_opens_no_path(tmp_path):
    _, results = _iptables(tmp_path, "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
                                     "-A FORWARD -s 10.30.0.0/20 -d 10.10.16.0/24 -m state --state ESTABLISHED"
                                     " -j ACCEPT\n")
    for check in SEPARATION:
        assert results[check]["status"] == "pass", check


def test_iptables_new_state_accept_and_user_chain_return(tmp_path):
    chains = ":IN-TO-LG - [0:0]\n"
    rules = ("-A FORWARD -i eth3 -o eth1 -j IN-TO-LG\n"
             "-A FORWARD -s 10.30.0.0/20 -d 10.10.16.0/24 -p tcp -m conntrack --ctstate NEW -m tcp --dport 3389"
             " -m comment --comment \"temporary vendor access\" -j ACCEPT\n"
             "-A IN-TO-LG -d 10.20.100.10/32 -p tcp -m tcp --dport 443 -j ACCEPT\n"
             "-A IN-TO-LG ! -s 10.30.1.0/24 -j RETURN\n"
             "-A IN-TO-LG -p tcp -m multiport --dports 139,445 -j ACCEPT\n")
    _, results = _iptables(tmp_path, rules, chains)
    inbound = results["mn-inbound-closed"]
    assert _cited(inbound) == ['in-office → mn-servers | rule FORWARD#2 "temporary vendor access" (' + str(tmp_path)
                               + '/fw.rules:8) allows tcp/3389 (e.g. 10.30.0.0 → 10.10.16.0 tcp/3389)']
    into_lg = results["internet-to-lgwan-sanitised-only"]
    # the sanitiser on 443 is permitted; SMB is open only from 10.30.1.0/24, the rest RETURNs to a DROP policy
    assert [f["item"] for f in into_lg["findings"]] == ["in-office → lg-office", "in-office → lg-sanitizer"]
    assert all("IN-TO-LG#3" in f["actual"] and "tcp/139, tcp/445" in f["actual"] and "10.30.1.0 →" in f["actual"]
               for f in into_lg["findings"])


def test_a_zone_without_interfaces_leaves_interface_bound_rules_undetermined(tmp_path):
    zones = tmp_path / "zones.yaml"
    zones.write_text((FIXTURES / "zones-reach.yaml").read_text().replace(", interfaces: [port4]", ""))
    bundle = tmp_path / "fw.json"
    assert main(["import", "fortigate", str(FIXTURES / "fortigate-reach.conf"), "--zones", str(zones),
                 "--out", str(bundle)]) == 0
    report = tmp_path / "r.json"
    main(["audit", str(bundle), "--format", "json", "--out", str(report)])
    results = {r["check"]: r for r in json.loads(report.read_text())["results"]}
    inbound = results["mn-inbound-closed"]
    assert inbound["status"] == "fail"  # policy 7 ("any" interface) still decides
    undetermined = [f["actual"] for f in inbound["findings"] if f["actual"].startswith("undetermined")]
    assert len(undetermined) == 1 and "policy 9" in undetermined[0]
    assert "neither the zones file nor the device's configuration says which interface faces in-office" \
        in undetermined[0]


def test_the_example_firewall_carries_its_documented_separation_flaws(tmp_path):
    _, results = _audit(tmp_path, "fortigate", EXAMPLES / "exports" / "kakuu-fw01.conf", EXAMPLES / "zones.yaml")
    failing = {c: [f["item"] + " | " + f["actual"].split(" (")[0] for f in r["findings"]]
               for c, r in results.items() if r["status"] == "fail" and c in SEPARATION}
    assert failing == {
        "mn-outbound-specified-only": ['mynumber-server → chukan | policy 11 "MN to chukan"',
                                       'mynumber-server → jlis | policy 10 "MN to specified destinations"'],
        "lgwan-to-internet-limited": ['lgwan-office → internet-office | policy 60 "LG to IN remote desktop"'],
        "internet-egress-via-security-cloud": ['internet-office → external | policy 31 "IN direct out"'],
    }
    assert all(results[c]["status"] == "pass" for c in SEPARATION if c not in failing)


def test_the_beta_profile_permits_screen_transfer_from_the_internet_desk(tmp_path):
    conf = _fortigate(tmp_path, """    edit 1
        set srcintf "port4"
        set dstintf "port2"
        set srcaddr "in-office"
        set dstaddr "lg-office"
        set action accept
        set schedule "always"
        set service "HTTPS"
    next
""")
    zones = tmp_path / "zones.yaml"
    zones.write_text((FIXTURES / "zones-reach.yaml").read_text().replace(
        "role: office, networks: [10.20.0.0/20]", "role: screen-transfer, networks: [10.20.0.0/20]"))
    _, alpha = _audit(tmp_path, "fortigate", conf, zones)
    _, beta = _audit(tmp_path, "fortigate", conf, zones, "--profile", "national-beta")
    assert alpha["internet-to-lgwan-sanitised-only"]["status"] == "fail"
    assert beta["internet-to-lgwan-sanitised-only"]["status"] == "pass"


@pytest.mark.parametrize(("arg", "problem"), [
    ({"from": {"segment": "mynumber"}}, "required: a zone selector"),
    ({"from": {"zone": "x"}, "to": {"segment": "lgwan"}}, "unknown key (expected: segment, role, name)"),
    ({"from": {"segment": "lgwan"}, "to": {"segment": "mynumber"}, "permit": [{"services": ["tcp/70000"]}]},
     "ports must be 0-65535"),
    ({"from": {"segment": "lgwan"}, "to": {"segment": "mynumber"}, "permit": [{"services": ["smtp"]}]},
     "unknown protocol"),
    ({"from": {"segment": "lgwan"}, "to": [], "permit": []}, "expected a zone selector"),
])
def test_malformed_reachability_arguments_are_refused_when_checks_load(arg, problem):
    problems = validate({"reachability": arg})
    assert problems and problem in problems[0][1], problems


NFT = """table inet filter {
\tset mn_servers {
\t\ttype ipv4_addr
\t\tflags interval
\t\telements = { 10.10.16.0/24 }
\t}

\tchain forward {
\t\ttype filter hook forward priority filter; policy drop;
\t\tct state established,related accept
\t\tiifname "eth3" jump from_internet
\t\tip6 saddr 2001:db8:30::/48 ip6 daddr 2001:db8:10::/48 tcp dport 22 accept comment "v6 admin"
\t}

\tchain from_internet {
\t\tip daddr @mn_servers tcp dport 445 ct state established accept
\t\tip saddr != 10.30.1.0/24 return
\t\tip daddr @mn_servers tcp dport { 139, 445 } accept comment "smb from the admin subnet"
\t}
}
"""

NFT_ZONES = """format: auditor-zones/1
zones:
  - {name: mn-servers, segment: mynumber, role: server, networks: [10.10.16.0/24, "2001:db8:10::/48"],
     interfaces: [eth0]}
  - {name: in-office, segment: internet, role: office, networks: [10.30.0.0/20, "2001:db8:30::/48"],
     interfaces: [eth3]}
"""


def test_nftables_jump_return_established_and_ipv6(tmp_path):
    ruleset, zones = tmp_path / "ruleset.nft", tmp_path / "zones.yaml"
    ruleset.write_text(NFT)
    zones.write_text(NFT_ZONES)
    _, results = _audit(tmp_path, "nftables", ruleset, zones)
    findings = [f["actual"] for f in results["mn-inbound-closed"]["findings"]]
    assert len(findings) == 2, findings
    smb, ssh = findings
    assert '"smb from the admin subnet"' in smb and "tcp/139, tcp/445" in smb and "e.g. 10.30.1.0 → 10.10.16.0" in smb
    assert "via" in smb  # inlined from the jump, which the finding names
    assert '"v6 admin"' in ssh and "tcp/22" in ssh and "2001:db8:30:: → 2001:db8:10::" in ssh


def test_services_beyond_the_permitted_ones_are_reported_as_any_except(tmp_path):
    conf = _fortigate(tmp_path, """    edit 1
        set srcintf "port4"
        set dstintf "port1"
        set srcaddr "in-office"
        set dstaddr "mn-servers"
        set action accept
        set schedule "always"
        set service "ALL"
    next
""")
    bundle = tmp_path / "fw.json"
    assert main(["import", "fortigate", str(conf), "--zones", str(FIXTURES / "zones-reach.yaml"),
                 "--out", str(bundle)]) == 0
    tailoring = tmp_path / "tailoring.yaml"
    tailoring.write_text("format: auditor-tailoring/1\nid: t\nprofile: national-alpha\nparameters:\n"
                         "  mn_inbound_flows:\n    reason: declared 2026-10 (test)\n    value:\n"
                         "      - {from: {name: in-office}, to: {segment: mynumber}, services: [tcp/443]}\n")
    report = tmp_path / "r.json"
    assert main(["audit", str(bundle), "--tailoring", str(tailoring), "--format", "json", "--out", str(report)]) == 1
    result = {r["check"]: r for r in json.loads(report.read_text())["results"]}["mn-inbound-closed"]
    (finding,) = result["findings"]
    assert "allows any except tcp/443 (e.g. 10.30.0.0 → 10.10.16.0 tcp/445)" in finding["actual"]
    assert "except from name in-office to segment mynumber on tcp/443" in finding["expected"]
