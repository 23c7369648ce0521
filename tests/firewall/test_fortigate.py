import json
import shlex
from pathlib import Path

import pytest
from auditor.evidence.addresses import parse_network
from auditor.evidence.importers.fortigate import (
    NETMASKS,
    _ipv4_subnet,
    _split,
    parse_config,
    policy_rules,
    vdom_scopes,
)
from hypothesis import given
from hypothesis import strategies as st

from auditor.cli import main
from auditor.errors import InputError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "firewall"
CONF = FIXTURES / "fortigate-kakuu.conf"
ZONES = Path(__file__).resolve().parents[2] / "examples" / "zones.yaml"
ALL4 = [["0.0.0.0", "255.255.255.255"]]


def _line(text: str) -> int:
    lines = CONF.read_bytes().decode().split("\r\n")
    return lines.index(text) + 1


def _rules(text: str | None = None) -> list[dict]:
    raw = text if text is not None else CONF.read_bytes().decode().replace("\r\n", "\n")
    return [r.as_fact(i) for i, r in enumerate(policy_rules(parse_config(raw, "fw.conf"), "fw.conf"))]


def test_fixture_is_crlf_as_the_appliance_prints_it():
    assert b"\r\nconfig firewall policy\r\n" in CONF.read_bytes()


def test_rules_in_list_order_not_id_order_with_origins():
    rules = _rules()
    assert [r["origin"]["id"] for r in rules] == ["7", "2", "3", "4", "5"]
    assert rules[0]["origin"] == {"kind": "fortigate-policy", "id": "7", "line": _line("    edit 7"),
                                  "file": "fw.conf", "name": "MN to juki"}
    assert rules[0]["origin"]["line"] == 113
    assert "name" not in rules[4]["origin"]


def test_nested_groups_ranges_and_port_forms_are_exact():
    rule = _rules()[0]
    assert rule["sources"] == [["10.10.16.5", "10.10.16.5"]]
    assert rule["destinations"] == [["172.16.10.0", "172.16.10.255"], ["172.16.30.10", "172.16.30.20"]]
    assert rule["services"] == [
        {"protocol": "tcp", "ports": [[443, 443]], "source_ports": [[0, 65535]]},
        {"protocol": "tcp", "ports": [[8080, 8080]], "source_ports": [[0, 65535]]},
        {"protocol": "tcp", "ports": [[10000, 10100]], "source_ports": [[0, 65535]]},
        {"protocol": "tcp", "ports": [[5000, 5000]], "source_ports": [[1024, 65535]]},
    ]
    assert (rule["action"], rule["enabled"], rule["error"]) == ("accept", True, None)
    assert (rule["source_interfaces"], rule["destination_interfaces"]) == (["port1"], ["port5"])
    assert (rule["schedule"], rule["log"], rule["new_connections"]) == ("always", True, True)


def test_exclude_member_quoted_names_and_service_groups():
    rule = _rules()[1]
    assert rule["sources"] == [["10.20.0.0", "10.20.15.255"]]  # "LG sanitizer" excluded (it is outside anyway)
    assert rule["destinations"] == [["10.20.100.10", "10.20.100.10"]]
    protocols = [(s["protocol"], s.get("ports")) for s in rule["services"]]
    # The group's custom service repeats HTTPS's tcp/443: a group lists each service once.
    assert protocols == [("tcp", [[443, 443]]), ("tcp", [[53, 53]]), ("udp", [[53, 53]]),
                         ("tcp", [[8080, 8080]]), ("tcp", [[10000, 10100]]),
                         ("tcp", [[5000, 5000]]), ("icmp", None)]


def test_disabled_policy_all_objects_and_any_interface():
    rule = _rules()[2]
    assert rule["enabled"] is False
    assert rule["sources"] == rule["destinations"] == ALL4
    assert rule["services"] == [{"protocol": "any"}]
    assert rule["source_interfaces"] == rule["destination_interfaces"] == []


def test_fqdn_kept_unresolved_and_ip_protocol_number():
    rule = _rules()[3]
    assert rule["destinations"] == [["203.0.113.0", "203.0.113.63"]]
    assert rule["unresolved_destinations"] == ["fqdn:update.example.jp"]
    assert rule["services"][1] == {"protocol": "ip", "number": 47}
    assert rule["log"] is False


def test_default_action_is_deny():
    assert _rules()[4]["action"] == "deny"


def _policy(body: str, objects: str = "") -> str:
    return (objects + "config firewall policy\n    edit 1\n" + body + "    next\nend\n")


BASIC = '        set srcaddr "all"\n        set dstaddr "all"\n        set service "ALL"\n        set action accept\n'


@pytest.mark.parametrize(("body", "error"), [
    ('        set srcaddr "nosuch"\n        set dstaddr "all"\n        set service "ALL"\n',
     "unknown address 'nosuch'"),
    ('        set srcaddr "all"\n        set dstaddr "all"\n        set service "NOPE"\n', "unknown service 'NOPE'"),
    (BASIC + "        set service-negate enable\n", "service-negate is not modelled"),
    ('        set dstaddr "all"\n        set service "ALL"\n', "no srcaddr"),
])
def test_unknown_references_in_a_policy_mark_the_rule(body, error):
    rule = _rules(_policy(body))[0]
    assert error in rule["error"]


def test_negated_source_is_the_exact_complement():
    rule = _rules(_policy(BASIC + "        set srcaddr-negate enable\n",
                          "config firewall address\n    edit \"n\"\n        set subnet 10.0.0.0 255.0.0.0\n"
                          "    next\nend\n").replace('set srcaddr "all"', 'set srcaddr "n"'))[0]
    assert rule["sources"] == [["0.0.0.0", "9.255.255.255"], ["11.0.0.0", "255.255.255.255"]]


@pytest.mark.parametrize(("text", "line", "problem"), [
    ("config firewall policy\n    edit 1\n        set action accept\n    next\n", 1, "'config firewall policy' is not"),
    ("config firewall policy\n    edit 1\n        set action accept\nend\n", 4, "'edit' not closed"),
    ("config firewall policy\n    edit 1\n    next\n    next\nend\n", 4, "'next' without"),
    ("end\n", 1, "'end' without"),
    ("set hostname x\n", 1, "outside a 'config'"),
    ('config firewall address\n    edit "a\n    next\nend\n', 2, "unbalanced quotes"),
    ('config firewall addrgrp\n    edit "g"\n        set member "h"\n    next\n    edit "h"\n        set member "g"\n'
     '    next\nend\n' + _policy(BASIC).replace('srcaddr "all"', 'srcaddr "g"'), 6, "cycle: 'g' → 'h' → 'g'"),
    ('config firewall service custom\n    edit "s"\n        set tcp-portrange 70000\n    next\nend\n'
     + _policy(BASIC).replace('service "ALL"', 'service "s"'), 3, "bad port range"),
    ("frobnicate\n", 1, "unexpected 'frobnicate'"),
])
def test_malformed_configurations_name_the_line(text, line, problem):
    with pytest.raises(InputError) as exc:
        policy_rules(parse_config(text, "fw.conf"), "fw.conf")
    assert exc.value.line == line and problem in exc.value.problem


def test_cli_import_builds_a_network_bundle_with_zones(tmp_path, capsys):
    out = tmp_path / "fw.json"
    assert main(["import", "fortigate", str(CONF), "--zones", str(ZONES), "--target", "kakuu-fw01",
                 "--out", str(out)]) == 0
    bundle = json.loads(out.read_text())
    assert bundle["target"]["kind"] == "network" and bundle["target"]["id"] == "kakuu-fw01"
    facts = bundle["facts"]
    assert facts["firewall_rules"]["device"] == "fortigate"
    assert facts["firewall_rules"]["default_action"] == "deny"
    assert len(facts["firewall_rules"]["rules"]) == 5
    assert {z["name"] for z in facts["zones"]} >= {"juki", "jlis", "chukan"}
    assert {s["area"] for s in bundle["sources"]} == {"firewall_rules", "zones"}


def test_cli_refuses_a_config_without_policies(tmp_path, capsys):
    conf = tmp_path / "x.conf"
    conf.write_text("config system global\n    set hostname x\nend\n")
    assert main(["import", "fortigate", str(conf)]) == 2
    assert "no 'config firewall policy'" in capsys.readouterr().err


def test_imported_facts_satisfy_the_fact_schemas(tmp_path):
    from auditor.schemas import problems
    from auditor.schemas.facts import FACT_SCHEMAS

    out = tmp_path / "fw.json"
    main(["import", "fortigate", str(CONF), "--zones", str(ZONES), "--out", str(out)])
    facts = json.loads(out.read_text())["facts"]
    assert problems({"v": facts["firewall_rules"]}, {"v": FACT_SCHEMAS["firewall_rules"]}) == []
    assert problems({"v": facts["zones"]}, {"v": FACT_SCHEMAS["zones"]}) == []
    bad = {**facts["firewall_rules"], "rules": [{**facts["firewall_rules"]["rules"][0], "action": "allow"}]}
    assert problems({"v": bad}, {"v": FACT_SCHEMAS["firewall_rules"]})


def test_multi_vdom_file_reads_each_vdom_as_its_own_rule_set():
    text = ("config vdom\nedit root\nnext\nend\nconfig global\n    set hostname x\nend\n"
            "config vdom\nedit root\n" + _policy(BASIC) + "end\n")
    scopes = vdom_scopes(parse_config(text, "fw.conf"), "fw.conf")
    assert [(vdom, block.name) for vdom, block in scopes] == [("root", "root")]
    assert [r.action for r in policy_rules(scopes[0][1], "fw.conf")] == ["accept"]
    two = text + "config vdom\nedit dmz\n" + _policy(BASIC) + "end\n"
    assert [vdom for vdom, _ in vdom_scopes(parse_config(two, "fw.conf"), "fw.conf")] == ["root", "dmz"]
    assert [vdom for vdom, _ in vdom_scopes(parse_config(two, "fw.conf"), "fw.conf", "dmz")] == ["dmz"]
    with pytest.raises(InputError, match="--vdom 'lab': no such VDOM \\(the file has 'root', 'dmz'\\)"):
        vdom_scopes(parse_config(two, "fw.conf"), "fw.conf", "lab")


def test_quoted_values_spanning_lines_are_one_value():
    text = ('config vpn certificate local\n    edit "Fortinet_Factory"\n        set private-key "-----BEGIN KEY-----\n'
            'MIIEvQ==\n-----END KEY-----"\n    next\nend\n' + _policy(BASIC + '        set comments "1行目\n2行目"\n'))
    root = parse_config(text, "fw.conf")
    key = root.configs["vpn certificate local"].edits["Fortinet_Factory"].settings["private-key"]
    assert key == (["-----BEGIN KEY-----\nMIIEvQ==\n-----END KEY-----"], 3)
    rules = policy_rules(root, "fw.conf")
    assert rules[0].origin["line"] == 9 and rules[0].error is None


def test_service_restricted_to_an_address_is_a_rule_error():
    objects = ('config firewall service custom\n    edit "s"\n        set iprange 10.0.0.1\n'
               '        set tcp-portrange 443\n    next\nend\n')
    rule = _rules(objects + _policy(BASIC).replace('service "ALL"', 'service "s"'))[0]
    assert "iprange/fqdn" in rule["error"]


def test_a_group_with_an_unknown_member_marks_the_policies_using_it_not_the_file():
    # FortiOS itself refuses a reference to an undefined object, so such a file is a partial export:
    # what the missing object holds is unknown, and only the policies that depend on it are in doubt.
    text = ('config firewall addrgrp\n    edit "unused"\n        set member "ghost"\n    next\n'
            '    edit "g"\n        set member "nosuch"\n    next\nend\n'
            + _policy(BASIC).replace('srcaddr "all"', 'srcaddr "g"')
            + _policy(BASIC).replace("edit 1", "edit 2").replace("config firewall policy\n", ""))
    text = text.replace("    next\nend\n    edit 2", "    next\n    edit 2")
    rules = policy_rules(parse_config(text, "fw.conf"), "fw.conf")
    assert [r.origin["id"] for r in rules] == ["1", "2"]
    assert rules[0].error == "address group 'g' (line 6): unknown member 'nosuch'"
    assert rules[1].error is None  # the unused group with its own unknown member changes nothing


def test_ip_services_by_number_and_icmp_types():
    objects = ('config firewall service custom\n    edit "tcp-all"\n        set protocol IP\n'
               '        set protocol-number 6\n    next\n    edit "echo"\n        set protocol ICMP\n'
               '        set icmptype 8\n    next\nend\n')
    rule = _rules(objects + _policy(BASIC).replace('service "ALL"', 'service "tcp-all" "echo"'))[0]
    assert rule["services"] == [{"protocol": "tcp", "ports": [[0, 65535]], "source_ports": [[0, 65535]]},
                                {"protocol": "icmp", "icmp_type": "8"}]


def test_zones_only_with_firewall_imports(tmp_path, capsys):
    inf = tmp_path / "s.inf"
    inf.write_text("[System Access]\nMinimumPasswordLength = 8\n")
    assert main(["import", "secedit", str(inf), "--zones", str(ZONES)]) == 2
    assert "secedit does not use it" in capsys.readouterr().err


@given(st.text(alphabet='ab "\'\\\t', max_size=14))
def test_word_splitting_agrees_with_shlex(line):
    try:
        expected = shlex.split(line)
    except ValueError:
        with pytest.raises(ValueError):
            _split(line)
        return
    assert _split(line) == expected


octets = st.one_of(st.integers(0, 300).map(str), st.sampled_from(["010", "00", "1e1", " 1", "٣", ""]))


netmasks = st.sampled_from(sorted(NETMASKS) + ["0.0.0.255", "255.0.255.0", "24", "255.255.255.0 "])


@given(st.lists(octets, min_size=3, max_size=5).map(".".join), netmasks)
def test_the_subnet_fast_path_reads_what_parse_network_reads(address, netmask):
    try:
        expected = parse_network(f"{address}/{netmask}")
    except ValueError:
        expected = None
    found = _ipv4_subnet(address, netmask)
    assert found is None or found == expected  # None: left to parse_network
    if expected is not None and netmask in NETMASKS and address == address.strip():
        assert found == expected  # the usual form is read by the fast path
