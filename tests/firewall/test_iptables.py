import json
from pathlib import Path

import pytest
from auditor.evidence.importers.iptables import flatten, parse_save

from auditor.cli import main
from auditor.errors import InputError

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "firewall" / "iptables-kakuu.rules"
ZONES = Path(__file__).resolve().parents[2] / "examples" / "zones.yaml"
ALL4 = [["0.0.0.0", "255.255.255.255"]]
ANY_PORT = [[0, 65535]]


def _forward(text: str | None = None, chain: str = "FORWARD") -> list[dict]:
    raw = text if text is not None else FIXTURE.read_text()
    return [r.as_fact(i) for i, r in enumerate(flatten(parse_save(raw, "fw.rules"), chain, "fw.rules"))]


def _filter(*rules: str, chains: str = "") -> str:
    return "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n" + chains + \
        "".join(r + "\n" for r in rules) + "COMMIT\n"


def test_established_related_accept_opens_no_new_flow():
    first, invalid = _forward()[:2]
    assert (first["action"], first["new_connections"], first["states"]) == ("accept", False, ["ESTABLISHED", "RELATED"])
    assert (first["sources"], first["destinations"], first["services"]) == (ALL4, ALL4, [{"protocol": "any"}])
    assert (invalid["action"], invalid["new_connections"], invalid["states"]) == ("deny", False, ["INVALID"])


def test_user_chains_are_inlined_narrowed_by_the_jump():
    rules = _forward()
    assert [r["origin"]["id"] for r in rules] == [
        "FORWARD#1", "FORWARD#2", "MN-SPECIFIED#1", "MN-SPECIFIED#2", "MN-SPECIFIED#3",
        "LG-TO-SANITIZER#1", "LG-TO-SANITIZER#2", "LG-TO-SANITIZER#3", "FORWARD#5", "FORWARD#6", "FORWARD#7",
        "FORWARD#8"]
    jlis = rules[2]
    assert jlis["origin"] == {"kind": "iptables-rule", "id": "MN-SPECIFIED#1", "chain": "MN-SPECIFIED", "line": 31,
                              "file": "fw.rules", "via": ["FORWARD#3"]}
    assert jlis["sources"] == [["10.10.16.5", "10.10.16.5"]]
    assert jlis["destinations"] == [["172.16.30.10", "172.16.30.20"]]
    assert (jlis["source_interfaces"], jlis["destination_interfaces"]) == (["eth0"], ["eth2"])
    assert rules[3]["services"] == [{"protocol": "tcp", "ports": [[8443, 8443]], "source_ports": [[1024, 65535]]}]
    assert (rules[4]["action"], rules[4]["destinations"]) == ("deny", ALL4)


def test_return_skips_the_rest_of_the_inlined_chain():
    rules = _forward()
    ret = rules[6]
    assert (ret["action"], ret["skip_to"]) == ("skip", 8)
    assert ret["destinations"] == [["10.20.100.0", "10.20.100.255"]]
    # the jump was -p tcp: the protocol of the jump narrows the inlined rules
    assert ret["services"] == [{"protocol": "tcp", "ports": ANY_PORT, "source_ports": ANY_PORT}]
    assert rules[8]["origin"]["id"] == "FORWARD#5"


def test_negation_is_the_exact_complement_and_log_does_not_decide():
    log, drop = _forward()[8:10]
    expected = [["0.0.0.0", "10.29.255.255"], ["10.30.16.0", "255.255.255.255"]]
    assert (log["action"], log["sources"]) == ("log", expected)
    assert (drop["action"], drop["sources"]) == ("deny", expected)


def test_multiport_comment_and_reject():
    proxy, reject = _forward()[10:12]
    assert proxy["origin"]["name"] == "proxy to security cloud"
    assert proxy["services"] == [{"protocol": "tcp", "ports": [[80, 80], [443, 443], [8000, 8080]],
                                  "source_ports": ANY_PORT}]
    assert (reject["action"], reject["services"][0]["protocol"]) == ("deny", "udp")


def test_input_chain_and_policies(tmp_path):
    out = tmp_path / "fw.json"
    assert main(["import", "iptables", str(FIXTURE), "--zones", str(ZONES), "--out", str(out)]) == 0
    facts = json.loads(out.read_text())["facts"]
    assert (facts["firewall_rules"]["default_action"], facts["firewall_rules"]["chain"]) == ("deny", "FORWARD")
    assert len(facts["firewall_rules"]["rules"]) == 12
    inputs = facts["firewall_input_rules"]
    assert inputs["default_action"] == "deny" and inputs["rules"][0]["source_interfaces"] == ["lo"]
    assert inputs["rules"][2]["origin"]["name"] == "ssh from LG admins"
    assert facts["zones"][0]["name"] == "mynumber-office"
    from auditor.schemas import problems
    from auditor.schemas.facts import FACT_SCHEMAS
    for area in ("firewall_rules", "firewall_input_rules"):
        assert problems({"v": facts[area]}, {"v": FACT_SCHEMAS[area]}) == []


def test_top_level_return_goes_to_the_policy_and_negated_ports_and_states():
    rules = _forward(_filter("-A FORWARD -p tcp -m tcp ! --dport 1024:65535 -j RETURN",
                             "-A FORWARD -m conntrack ! --ctstate NEW -j ACCEPT",
                             "-A FORWARD -p tcp -m tcp --dport 22"))
    assert (rules[0]["skip_to"], rules[0]["services"][0]["ports"]) == (3, [[0, 1023]])
    assert rules[1]["states"] == ["ESTABLISHED", "RELATED", "INVALID", "UNTRACKED"]
    assert rules[1]["new_connections"] is True  # UNTRACKED packets are not part of a known connection
    assert rules[2]["action"] == "log"  # no target: counts only


def test_nested_chains_with_return_continue_in_the_caller():
    rules = _forward(_filter("-A FORWARD -s 10.0.0.0/8 -j A", "-A FORWARD -j ACCEPT", "-A A -j B",
                             "-A A -j DROP", "-A B -d 10.1.0.0/16 -j RETURN", "-A B -j ACCEPT",
                             chains=":A - [0:0]\n:B - [0:0]\n"))
    assert [(r["origin"]["id"], r["action"], r.get("skip_to")) for r in rules] == [
        ("B#1", "skip", 2), ("B#2", "accept", None), ("A#2", "deny", None), ("FORWARD#2", "accept", None)]
    assert rules[0]["origin"]["via"] == ["FORWARD#1", "A#1"]
    assert rules[0]["sources"] == [["10.0.0.0", "10.255.255.255"]]


def test_different_interfaces_of_jump_and_rule_never_match():
    rules = _forward(_filter("-A FORWARD -i eth0 -j A", "-A A -i eth1 -j ACCEPT", chains=":A - [0:0]\n"))
    assert rules[0]["sources"] == []


@pytest.mark.parametrize(("rule", "error"), [
    ("-A FORWARD -m geoip --src-cc CN -j DROP", "match module 'geoip' is not modelled"),
    ("-A FORWARD -p tcp -m tcp --tcp-flags SYN,ACK SYN -j ACCEPT", "option '--tcp-flags' is not modelled"),
    ("-A FORWARD -j NFQUEUE --queue-num 0", "target NFQUEUE is not modelled"),
    ("-A FORWARD ! -p tcp -j ACCEPT", "negated protocol"),
    ("-A FORWARD -m conntrack --ctstate DNAT -j ACCEPT", "conntrack state DNAT"),
    ("-A FORWARD -p icmp -m limit --limit 5/sec -j ACCEPT", "packet rate"),
])
def test_unknown_matches_are_rule_errors_not_verdicts(rule, error):
    result = _forward(_filter(rule))[0]
    assert error in result["error"]


def test_a_jump_with_an_unmodelled_match_marks_the_inlined_rules():
    rules = _forward(_filter("-A FORWARD -m geoip --src-cc CN -j A", "-A A -j ACCEPT", chains=":A - [0:0]\n"))
    assert "in a jump whose match is not modelled" in rules[0]["error"]


@pytest.mark.parametrize(("text", "line", "problem"), [
    ("*filter\n:FORWARD DROP [0:0]\n-A FORWARD -j ACCEPT\n", 1, "not closed by COMMIT"),
    ("-A FORWARD -j ACCEPT\n", 1, "outside a table"),
    (_filter("-A FORWARD -j NOWHERE"), 5, "jump to undefined chain 'NOWHERE'"),
    (_filter("-A A -j B", "-A B -j A", "-A FORWARD -j A", chains=":A - [0:0]\n:B - [0:0]\n"), 8, "chain loop"),
    (_filter("-A FORWARD -s 10.0.0.300 -j ACCEPT"), 5, "bad address"),
    (_filter("-A FORWARD -p tcp -m tcp --dport http -j ACCEPT"), 5, "bad port"),
    (_filter("-A NOCHAIN -j ACCEPT"), 5, "undeclared chain"),
    ("*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n", None, "no *filter table"),
    (_filter("-A FORWARD -s 2001:db8::/32 -j ACCEPT"), 5, "ip6tables-save output is not supported"),
    ("# Generated by ip6tables-save v1.8.9\n" + _filter(), 1, "ip6tables-save output is not supported"),
])
def test_malformed_saves_name_the_line(text, line, problem):
    with pytest.raises(InputError) as exc:
        flatten(parse_save(text, "fw.rules"), "FORWARD", "fw.rules")
    assert exc.value.line == line and problem in exc.value.problem


def test_counters_and_numeric_protocols():
    rules = _forward(_filter("[12:3400] -A FORWARD -p 47 -j ACCEPT", "[0:0] -A FORWARD -p 6 -m tcp --dport 1 -j DROP"))
    assert rules[0]["services"] == [{"protocol": "ip", "number": 47}]
    assert rules[1]["services"][0]["protocol"] == "tcp"


def test_rate_limited_log_is_not_an_error():
    rule = _forward(_filter('-A FORWARD -m limit --limit 5/min --limit-burst 10 -j LOG --log-prefix "drop: "'))[0]
    assert (rule["action"], rule["error"]) == ("log", None)


def test_icmp_type_narrows_icmp():
    rule = _forward(_filter("-A FORWARD -p icmp -m icmp --icmp-type 8 -j ACCEPT"))[0]
    assert rule["services"] == [{"protocol": "icmp", "icmp_type": "8"}]


def test_several_port_and_state_matches_all_hold():
    rule = _forward(_filter("-A FORWARD -p tcp -m tcp --dport 1000:2000 -m multiport --dports 80,1500:2500 "
                            "-m state --state NEW,ESTABLISHED -m conntrack --ctstate ESTABLISHED -j ACCEPT"))[0]
    assert rule["services"][0]["ports"] == [[1500, 2000]]
    assert (rule["states"], rule["new_connections"]) == (["ESTABLISHED"], False)


def test_goto_is_a_rule_error():
    rules = _forward(_filter("-A FORWARD -g A", chains=":A - [0:0]\n") + "")
    assert rules == []  # an empty chain inlines to nothing
    rules = _forward(_filter("-A FORWARD -g A", "-A A -j ACCEPT", chains=":A - [0:0]\n"))
    assert "-g (goto) is not modelled" in rules[0]["error"]


def test_chains_that_multiply_when_inlined_are_refused(monkeypatch):
    from auditor.evidence.importers import iptables

    monkeypatch.setattr(iptables, "MAX_FLAT_RULES", 5)
    text = _filter(*[f"-A FORWARD -s 10.0.0.{i} -j A" for i in range(4)], "-A A -j ACCEPT", "-A A -j DROP",
                   chains=":A - [0:0]\n")
    with pytest.raises(InputError, match="more than 5 rules"):
        _forward(text)


def test_cli_exit_2_names_file_and_line(tmp_path, capsys):
    bad = tmp_path / "fw.rules"
    bad.write_bytes(_filter("-A FORWARD -j NOWHERE").replace("\n", "\r\n").encode())
    assert main(["import", "iptables", str(bad)]) == 2
    assert f"{bad}:5: jump to undefined chain 'NOWHERE'" in capsys.readouterr().err
