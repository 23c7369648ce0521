import json
from pathlib import Path

import pytest
from auditor.evidence.importers.nftables import hook_rules, parse_ruleset

from auditor import bundles
from auditor.cli import main
from auditor.errors import InputError
from auditor.schemas import problems
from auditor.schemas.facts import FACT_SCHEMAS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "firewall"
KAKUU = FIXTURES / "nft-kakuu.nft"
ZONES = Path(__file__).resolve().parents[2] / "examples" / "zones.yaml"
ALL4 = [["0.0.0.0", "255.255.255.255"]]
ALL6 = [["::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]]
ALL = ALL4 + ALL6
ANY_PORT = [[0, 65535]]


def _line(text: str) -> int:
    return KAKUU.read_text(encoding="utf-8").split("\n").index(text) + 1


def _hook(text: str | None = None, hook: str = "forward") -> tuple[list[dict], str, str | None]:
    raw = text if text is not None else KAKUU.read_text(encoding="utf-8")
    rules, default, chain = hook_rules(parse_ruleset(raw, "fw.nft"), hook, "fw.nft")
    return [r.as_fact(i) for i, r in enumerate(rules)], default, chain


def _forward(text: str | None = None) -> list[dict]:
    return _hook(text)[0]


def _table(*rules: str, chains: str = "", policy: str = "drop", family: str = "inet") -> str:
    """One table with a forward base chain holding ``rules``; ``chains`` are more chains of the table."""
    body = "".join(f"\t\t{r}\n" for r in rules)
    return (f"table {family} filter {{\n\tchain forward {{\n\t\ttype filter hook forward priority filter; "
            f"policy {policy};\n{body}\t}}\n{chains}}}\n")


def _chain(name: str, *rules: str) -> str:
    return f"\tchain {name} {{\n" + "".join(f"\t\t{r}\n" for r in rules) + "\t}\n"


def _ids(rules: list[dict]) -> list[str]:
    return [r["origin"]["id"] for r in rules]


# --- the example city's ruleset --------------------------------------------------------------


def test_forward_is_flattened_in_evaluation_order_with_user_chains_inlined():
    rules, default, chain = _hook()
    assert (default, chain) == ("deny", "inet filter/forward")
    assert _ids(rules) == [
        "inet filter/forward#1", "inet filter/forward#2",
        "inet filter/mn_specified#1", "inet filter/mn_specified#2", "inet filter/mn_specified#3",
        "inet filter/lg_to_sanitizer#1", "inet filter/lg_to_sanitizer#2", "inet filter/lg_to_sanitizer#3",
        "inet filter/forward#5", "inet filter/forward#6", "inet filter/forward#7", "inet filter/forward#8",
        "inet filter/forward#9", "inet filter/forward#10"]
    assert rules[2]["origin"] == {
        "kind": "nftables-rule", "id": "inet filter/mn_specified#1", "chain": "mn_specified", "line": 54,
        "file": "fw.nft", "name": "特定通信 (住基・中間サーバー・J-LIS)", "via": ["inet filter/forward#3"]}
    assert rules[0]["origin"] == {"kind": "nftables-rule", "id": "inet filter/forward#1", "chain": "forward",
                                  "line": _line("\t\tct state established,related accept"), "file": "fw.nft"}
    assert all(r["enabled"] for r in rules)  # nftables has no disabled rules


def test_established_related_accept_opens_no_new_flow_and_invalid_is_dropped():
    first, invalid = _forward()[:2]
    assert (first["action"], first["new_connections"], first["states"]) == ("accept", False, ["ESTABLISHED", "RELATED"])
    assert (first["sources"], first["destinations"], first["services"]) == (ALL, ALL, [{"protocol": "any"}])
    assert (invalid["action"], invalid["new_connections"], invalid["states"]) == ("deny", False, ["INVALID"])


def test_named_sets_are_exact_intervals_narrowed_by_the_jump():
    jlis, juki, drop = _forward()[2:5]
    assert jlis["sources"] == [["10.10.16.5", "10.10.16.5"]]
    assert jlis["destinations"] == [["172.16.10.0", "172.16.10.255"], ["172.16.20.0", "172.16.20.255"],
                                    ["172.16.30.10", "172.16.30.20"]]  # set elements written over two lines
    assert jlis["services"] == [{"protocol": "tcp", "ports": [[443, 443]], "source_ports": ANY_PORT}]
    assert (jlis["source_interfaces"], jlis["destination_interfaces"]) == (["port1"], ["port5"])
    assert juki["services"] == [{"protocol": "tcp", "ports": [[8443, 8443]], "source_ports": [[1024, 65535]]}]
    # `ip saddr` of the jump makes the inlined rules IPv4 only
    assert (drop["action"], drop["destinations"], drop["services"]) == ("deny", ALL4, [{"protocol": "any"}])


def test_return_skips_the_rest_of_the_inlined_chain():
    rules = _forward()
    ret = rules[6]
    assert (ret["action"], ret["skip_to"]) == ("skip", 8)
    assert ret["destinations"] == [["10.20.100.0", "10.20.100.255"]]
    # the jump's `meta l4proto tcp` narrows the inlined rules
    assert ret["services"] == [{"protocol": "tcp", "ports": ANY_PORT, "source_ports": ANY_PORT}]
    assert rules[7]["services"] == [{"protocol": "tcp", "ports": [[25, 25]], "source_ports": ANY_PORT}]
    assert rules[8]["origin"]["id"] == "inet filter/forward#5"


def test_negation_is_the_exact_complement_and_log_with_drop_is_a_logged_deny():
    spoofed = _forward()[8]
    assert (spoofed["action"], spoofed["log"]) == ("deny", True)
    assert spoofed["sources"] == [["0.0.0.0", "10.29.255.255"], ["10.30.16.0", "255.255.255.255"]]
    assert (spoofed["destinations"], spoofed["source_interfaces"]) == (ALL4, ["port4"])


def test_set_of_ports_ipv6_reject_and_th_ports_with_l4proto():
    proxy, office6, reject, ntp = _forward()[9:13]
    assert proxy["origin"]["name"] == "proxy to security cloud"
    assert proxy["services"] == [{"protocol": "tcp", "ports": [[80, 80], [443, 443], [8000, 8080]],
                                  "source_ports": ANY_PORT}]
    assert (proxy["log"], proxy["destination_interfaces"]) == (False, ["port6"])
    assert office6["sources"] == [["2001:db8:30::", "2001:db8:30:ffff:ffff:ffff:ffff:ffff"]]
    assert (office6["destinations"], office6["services"][0]["ports"]) == (ALL6, [[80, 80], [443, 443]])
    assert (reject["action"], reject["services"]) == ("deny", [{"protocol": "udp", "ports": [[53, 53]],
                                                                "source_ports": ANY_PORT}])
    assert ntp["services"] == [{"protocol": "tcp", "ports": [[123, 123]], "source_ports": ANY_PORT},
                               {"protocol": "udp", "ports": [[123, 123]], "source_ports": ANY_PORT}]
    assert (ntp["sources"], ntp["destinations"], ntp["error"]) == (ALL4, [["10.10.16.10", "10.10.16.10"]], None)


def test_an_unknown_expression_is_a_rule_error_and_wildcards_are_kept():
    marked = _forward()[13]
    assert (marked["action"], marked["error"]) == ("accept", "'meta mark 0x00000001' is not modelled")
    assert marked["destination_interfaces"] == ["port*"]


def test_input_chain_vmap_goto_and_icmp():
    rules, default, chain = _hook(hook="input")
    assert (default, chain) == ("deny", "inet filter/input")
    assert _ids(rules) == ["inet filter/input#1", "inet filter/input#2", "inet filter/input#2", "inet filter/input#3",
                           "inet filter/input#4", "inet filter/input#5", "inet filter/input#6",
                           "inet filter/from_lgwan#1", "inet filter/input#7", "inet filter/input#8"]
    assert (rules[0]["source_interfaces"], rules[0]["action"]) == (["lo"], "accept")
    # ct state vmap { invalid : drop, established : accept, related : accept }: one rule per verdict
    assert [(r["action"], r["states"], r["new_connections"]) for r in rules[1:3]] == [
        ("deny", ["INVALID"], False), ("accept", ["ESTABLISHED", "RELATED"], False)]
    ssh = rules[3]
    assert ssh["origin"]["name"] == "ssh from LG admins"
    assert ssh["sources"] == [["10.20.0.0", "10.20.0.15"], ["10.20.1.10", "10.20.1.19"]]
    assert rules[4]["sources"] == [["2001:db8:20::", "2001:db8:20:0:ffff:ffff:ffff:ffff"]]
    assert rules[5]["services"] == [{"protocol": "icmpv6", "icmp_type": "nd-neighbor-solicit"},
                                    {"protocol": "icmpv6", "icmp_type": "nd-neighbor-advert"}]
    assert rules[6]["error"] == "limit makes the verdict depend on the packet rate"
    ping = rules[7]
    assert (ping["origin"]["via"], ping["source_interfaces"]) == (["inet filter/input#7"], ["port5"])
    assert ping["services"] == [{"protocol": "icmp", "icmp_type": "echo-request"}]
    # what the goto'd chain does not decide continues at the policy, not at the next rule of input
    back = rules[8]
    assert (back["action"], back["skip_to"], back["origin"]["line"]) == ("skip", 10, _line(
        '\t\tiifname "port5" goto from_lgwan'))
    assert (rules[9]["action"], rules[9]["log"], rules[9]["error"]) == ("log", True, None)


def test_cli_import_validates_and_stores_the_zones(tmp_path):
    out = tmp_path / "fw.json"
    assert main(["import", "nftables", str(KAKUU), "--zones", str(ZONES), "--target", "kakuu-fw",
                 "--out", str(out)]) == 0
    target = bundles.load_target("kakuu-fw", bundles.index([out])["kakuu-fw"])
    assert (target.problem, target.area_problems, target.kind) == (None, {}, "network")
    facts = target.facts
    forward, inputs = facts["firewall_rules"], facts["firewall_input_rules"]
    assert (forward["device"], forward["chain"], forward["default_action"]) == ("nftables", "inet filter/forward",
                                                                                 "deny")
    assert (len(forward["rules"]), len(inputs["rules"])) == (14, 10)
    assert forward["rules"][2]["origin"]["file"] == str(KAKUU)
    assert [z["name"] for z in facts["zones"]][:2] == ["mynumber-office", "mynumber-server"]
    # the My Number network without the server network nested in it
    assert facts["zones"][0]["intervals"] == [["10.10.0.0", "10.10.15.255"], ["10.10.32.0", "10.10.255.255"]]
    assert facts["zones"][1]["within"] == ["mynumber-office"] and facts["zones"][1]["interfaces"] == ["port1"]
    for area in ("firewall_rules", "firewall_input_rules"):
        assert problems({"v": facts[area]}, {"v": FACT_SCHEMAS[area]}) == []
    errors = [(e["area"], e["message"]) for e in target.collector_errors]
    assert errors == [
        ("firewall_rules", f"{KAKUU}:50: inet filter/forward#10 (rule 13): 'meta mark 0x00000001' is not modelled"),
        ("firewall_input_rules", f"{KAKUU}:34: inet filter/input#6 (rule 6): limit makes the verdict depend on "
                                 "the packet rate")]
    document = json.loads(out.read_text(encoding="utf-8"))
    assert {(s["parser"], s["area"]) for s in document["sources"]} == {
        ("nft list ruleset (utf-8)", "firewall_rules"), ("nft list ruleset (utf-8)", "firewall_input_rules"),
        ("auditor-zones/1", "zones")}


# --- ids, tables, chains ----------------------------------------------------------------------


def test_handles_name_the_rules_when_printed_with_nft_a():
    text = ("table inet filter { # handle 7\n\tchain forward { # handle 1\n"
            "\t\ttype filter hook forward priority filter; policy drop;\n"
            "\t\ttcp dport 22 accept # handle 4\n\t\tjump a # handle 9\n\t}\n"
            "\tchain a { # handle 2\n\t\tdrop # handle 5\n\t}\n}\n")
    rules = _forward(text)
    assert [(r["origin"]["id"], r["origin"]["line"]) for r in rules] == [
        ("inet filter/forward handle 4", 4), ("inet filter/a handle 5", 8)]
    assert rules[1]["origin"]["via"] == ["inet filter/forward handle 9"]


def test_several_tables_on_one_hook_must_all_accept():
    text = ("table ip filter {\n\tchain FORWARD {\n\t\ttype filter hook forward priority filter; policy drop;\n"
            "\t\tip saddr 10.0.0.0/8 accept\n\t\treturn\n\t}\n}\n"
            "table inet firewalld {\n\tchain filter_FORWARD {\n"
            "\t\ttype filter hook forward priority filter + 10; policy accept;\n"
            "\t\tct state established,related accept\n\t\ttcp dport 22 accept\n"
            "\t\treject with icmpx admin-prohibited\n\t}\n}\n")
    rules, default, chain = _hook(text)
    assert (default, chain) == ("accept", "ip filter/FORWARD, inet firewalld/filter_FORWARD")
    assert [(r["origin"]["id"], r["action"], r.get("skip_to"), r["sources"]) for r in rules] == [
        # an accept of the first table only lets the packet on to the next table
        ("ip filter/FORWARD#1", "skip", 3, [["10.0.0.0", "10.255.255.255"]]),
        ("ip filter/FORWARD#2", "skip", 2, ALL4),  # return in a base chain: its policy
        ("ip filter/FORWARD policy", "deny", None, ALL4),  # IPv4 only: the ip table never sees IPv6
        ("inet firewalld/filter_FORWARD#1", "accept", None, ALL),
        ("inet firewalld/filter_FORWARD#2", "accept", None, ALL),
        ("inet firewalld/filter_FORWARD#3", "deny", None, ALL)]
    assert rules[2]["origin"]["line"] == 3


def test_an_earlier_inet_accept_is_final_for_the_family_no_later_table_sees():
    text = ("table inet a {\n\tchain f {\n\t\ttype filter hook forward priority -10; policy drop;\n"
            "\t\ttcp dport 443 accept\n\t}\n}\n"
            "table ip b {\n\tchain f {\n\t\ttype filter hook forward priority 0; policy drop;\n"
            "\t\tip daddr 10.0.0.1 accept\n\t}\n}\n")
    rules, default, _ = _hook(text)
    assert default == "deny"  # both families end in a drop policy
    assert [(r["origin"]["id"], r["action"], r.get("skip_to"), r["sources"]) for r in rules] == [
        ("inet a/f#1", "skip", 3, ALL4), ("inet a/f#1", "accept", None, ALL6),
        ("inet a/f policy", "deny", None, ALL4),  # IPv4 that a does not accept never reaches b
        ("ip b/f#1", "accept", None, ALL4)]  # IPv6 falling off a meets the default deny: no later table sees it


def test_an_ip_only_ruleset_leaves_ipv6_unfiltered_and_ip_plus_ip6_is_default_deny():
    rules, default, _ = _hook(_table("tcp dport 22 accept", family="ip"))
    assert default == "accept"
    assert [(r["origin"]["id"], r["action"], r["sources"]) for r in rules] == [
        ("ip filter/forward#1", "accept", ALL4), ("ip filter/forward policy", "deny", ALL4)]
    text = _table("tcp dport 22 accept", family="ip") + _table("tcp dport 22 accept", family="ip6")
    rules, default, chain = _hook(text)
    assert (default, chain) == ("deny", "ip filter/forward, ip6 filter/forward")
    assert [(r["action"], r["sources"]) for r in rules] == [("accept", ALL4), ("accept", ALL6)]


def test_dormant_tables_other_families_and_nat_chains_are_not_read():
    text = ("table inet off {\n\tflags dormant\n\tchain f {\n\t\ttype filter hook forward priority 0; policy drop;\n"
            "\t}\n}\ntable bridge br {\n\tchain forward {\n\t\ttype filter hook forward priority 0; policy drop;\n"
            "\t}\n}\ntable ip nat {\n\tchain pre {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
            "\t\ttcp dport 80 dnat to 10.0.0.1\n\t}\n}\n")
    assert _hook(text) == ([], "accept", None)  # no filter chain on the hook: the kernel accepts


def test_goto_continues_where_a_return_of_the_calling_chain_would():
    text = _table('iifname "eth*" jump a', "accept",
                  chains=_chain("a", 'iifname "eth1" goto b', 'iifname "wlan0" accept', "drop")
                  + _chain("b", "ip saddr 10.0.0.1 return", "ip saddr 10.0.0.2 accept"))
    rules = _forward(text)
    assert [(r["origin"]["id"], r["action"], r.get("skip_to"), r["source_interfaces"]) for r in rules] == [
        ("inet filter/b#1", "skip", 5, ["eth1"]),  # return from b: back in forward, after the inlined a
        ("inet filter/b#2", "accept", None, ["eth1"]),
        ("inet filter/a#1", "skip", 5, ["eth1"]),  # the rest of b: not decided, and a is not resumed
        ("inet filter/a#2", "accept", None, ["wlan0"]),
        ("inet filter/a#3", "deny", None, ["eth*"]),
        ("inet filter/forward#2", "accept", None, [])]
    assert rules[0]["origin"]["via"] == ["inet filter/forward#1", "inet filter/a#1"]
    assert rules[3]["sources"] == []  # "wlan0" inside a jump for "eth*": never matches


def test_verdict_maps_with_jumps_and_a_named_map():
    text = ("table inet filter {\n\tmap by_if {\n\t\ttype ifname : verdict\n"
            '\t\telements = { "lo" : accept, "port2" : jump lan }\n\t}\n'
            "\tchain forward {\n\t\ttype filter hook forward priority 0; policy drop;\n"
            "\t\tmeta l4proto vmap { tcp : jump web, udp : drop, icmp : continue }\n\t\tiifname vmap @by_if\n\t}\n"
            "\tchain web {\n\t\ttcp dport { 80, 443 } accept\n\t}\n"
            "\tchain lan {\n\t\tip saddr 10.20.0.0/20 accept\n\t}\n}\n")
    rules = _forward(text)
    assert [(r["origin"]["id"], r["action"], r["services"][0]["protocol"], r["source_interfaces"]) for r in rules] == [
        ("inet filter/web#1", "accept", "tcp", []), ("inet filter/forward#1", "deny", "udp", []),
        ("inet filter/forward#1", "log", "icmp", []),  # continue: matches, decides nothing
        ("inet filter/forward#2", "accept", "any", ["lo"]), ("inet filter/lan#1", "accept", "any", ["port2"])]


def test_interface_conditions_combine_exactly_or_are_an_error():
    text = _table('iifname "port*" jump a', 'iifname != "lo" iifname != { "port1", "port2" } accept',
                  'iifname { "port1", "port2" } iifname "port2" accept',
                  'iifname != "port1" iifname "port*" accept',
                  chains=_chain("a", 'iifname { "port1", "eth0" } accept'))
    rules = _forward(text)
    assert [(r["source_interfaces"], r["source_interfaces_negated"], r["error"]) for r in rules] == [
        (["port1"], False, None), (["lo", "port1", "port2"], True, None), (["port2"], False, None),
        (["port1"], True, "'iifname' conditions cannot be combined exactly")]  # "port*" except "port1"


def test_ports_sets_relations_and_service_names():
    rules = _forward(_table("tcp dport < 1024 accept", "udp sport >= 1024 accept", "tcp dport != { 22, 23 } drop",
                            "tcp dport ssh accept", "sctp dport 36412 accept", "meta l4proto gre accept",
                            "ip protocol icmp accept", "ct state != established accept"))
    assert rules[0]["services"] == [{"protocol": "tcp", "ports": [[0, 1023]], "source_ports": ANY_PORT}]
    assert rules[1]["services"] == [{"protocol": "udp", "ports": ANY_PORT, "source_ports": [[1024, 65535]]}]
    assert rules[2]["services"][0]["ports"] == [[0, 21], [24, 65535]]
    assert rules[3]["services"][0]["ports"] == [[22, 22]]  # nft 0.9.0 prints well-known names
    assert rules[4]["services"][0]["protocol"] == "sctp"
    assert rules[5]["services"] == [{"protocol": "ip", "number": 47}]
    assert (rules[6]["services"], rules[6]["sources"]) == ([{"protocol": "icmp"}], ALL4)
    assert (rules[7]["states"], rules[7]["new_connections"]) == (["NEW", "RELATED", "INVALID", "UNTRACKED"], True)


def test_rate_limited_log_without_verdict_is_not_an_error():
    rule = _forward(_table('limit rate 5/minute burst 10 packets log prefix "fwd drop: " level warn flags all'))[0]
    assert (rule["action"], rule["log"], rule["error"]) == ("log", True, None)


@pytest.mark.parametrize(("rule", "error"), [
    ("tcp flags syn tcp dport 22 accept", "'tcp flags syn' is not modelled"),
    ("ip saddr . tcp dport { 10.0.0.1 . 22 } accept", "concatenation 'ip saddr . ...' is not modelled"),
    ("fib saddr . iif oif missing drop", "'fib saddr . iif oif missing' is not modelled"),
    ("th dport 53 accept", "th ports without `meta l4proto`"),
    ("queue num 0 bypass", "queue hands the verdict to a user-space program"),
    ("meta l4proto != tcp accept", "negated protocol 'meta l4proto !='"),
    ("tcp dport frobnicate accept", "service name 'frobnicate' is not resolved"),
    ("ip saddr & 255.0.255.0 == 10.0.1.0 accept", "'ip saddr &' is not modelled"),
    ("ct status dnat accept", "'ct status dnat' is not modelled"),
    ("meta l4proto tcp limit rate over 10/second drop", "packet rate"),
    ("ip saddr @blocked drop", "set @blocked changes at runtime"),
    ("ip saddr @seen accept", "set @seen changes at runtime"),
    ("ip saddr . tcp dport @pairs accept", "concatenation"),
    ("tcp dport vmap { 22 : accept, 80 : queue }", "verdict 'queue' in a verdict map is not modelled"),
])
def test_unknown_matches_and_statements_are_rule_errors_not_verdicts(rule, error):
    sets = ("\tset blocked {\n\t\ttype ipv4_addr\n\t\tflags dynamic,timeout\n\t\telements = { 192.0.2.1 timeout 1h "
            "expires 59m }\n\t}\n\tset seen {\n\t\ttype ipv4_addr\n\t}\n"
            "\tset pairs {\n\t\ttype ipv4_addr . inet_service\n\t}\n")
    rules = _forward(_table(rule, "add @seen { ip saddr }", chains=sets))
    assert error in rules[0]["error"]
    assert all(r["error"] for r in rules[:-1])  # a vmap's unknown keys leave an undetermined rule


def test_a_jump_with_an_unmodelled_match_marks_the_inlined_rules():
    rules = _forward(_table("meta skuid 0 jump a", chains=_chain("a", "accept")))
    assert rules[0]["error"] == "in a jump whose match is not modelled: 'meta skuid 0' is not modelled"


def test_chains_that_multiply_when_inlined_are_refused(monkeypatch):
    from auditor.evidence.importers import nftables

    monkeypatch.setattr(nftables, "MAX_FLAT_RULES", 5)
    text = _table(*[f"ip saddr 10.0.0.{i} jump a" for i in range(4)], chains=_chain("a", "accept", "drop"))
    with pytest.raises(InputError, match="more than 5 rules"):
        _forward(text)


# --- malformed files ---------------------------------------------------------------------------


@pytest.mark.parametrize(("fixture", "message"), [
    ("nft-unbalanced.nft", ":7: 'chain' inside chain forward of table inet filter (line 2): a '}' is missing "
                           "before this line"),
    ("nft-unknown-set.nft", ":9: unknown set @lgwan_admin (not defined in table inet filter)"),
    ("nft-undefined-jump.nft", ":4: jump to undefined chain 'lg_to_sanitizer' (not in table inet filter)"),
    ("nft-loop.nft", ":12: chain loop: a → b → a"),
])
def test_cli_refuses_malformed_rulesets_naming_the_line(fixture, message, tmp_path, capsys):
    out = tmp_path / "fw.json"
    assert main(["import", "nftables", str(FIXTURES / fixture), "--zones", str(ZONES), "--out", str(out)]) == 2
    assert f"{FIXTURES / fixture}{message}" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(("text", "line", "problem"), [
    ("table inet f {\n\tchain forward {\n\t\taccept\n\t}\n", 1, "the '{' of table inet f is never closed"),
    ("table inet f {\n\tchain forward {\n\t\taccept\n\t}\n}\n}\n", 6, "'}' without its '{'"),
    ("table inet f {\n\tchain forward {\n\t\ttcp dport { 22, 80 accept\n\t}\n\tchain x {\n\t}\n}\n", 5,
     "(the rule of line 3 runs on to line 4: is its '}' missing?)"),
    (_table("ip saddr 10.0.0.300 accept"), 4, "bad address '10.0.0.300'"),
    (_table("ip saddr 2001:db8::1 accept"), 4, "'2001:db8::1' is not an IPv4 address (in 'ip saddr')"),
    (_table("tcp dport 70000 accept"), 4, "bad port range '70000'"),
    (_table("jump input", chains=_chain("input", "type filter hook input priority 0;")), 4,
     "jump to base chain 'input'"),
    (_table("ip saddr @ports accept",
            chains="\tset ports {\n\t\ttype inet_service\n\t\telements = { 22 }\n\t}\n"), 4,
     "set @ports holds inet_service, not values of 'ip saddr'"),
    ("table inet f {\n\tset s {\n\t\ttype ipv4_addr\n\t\telements = { 10.0.0.0/8,\n\t\t\t10.1.2.3.4 }\n\t}\n}\n", 5,
     "bad address '10.1.2.3.4'"),
    ("table inet f {\n\tchain c {\n\t\ttype filter hook forward priority 0; policy reject;\n\t}\n}\n", 3,
     "bad chain policy 'reject'"),
    ("table inet f {\n\tchain c {\n\t\ttype filter hook forward priority banana;\n\t}\n}\n", 3,
     "unknown chain priority 'banana'"),
    ('table inet f {\n\tchain c {\n\t\taccept comment "open\n\t}\n}\n', 3, "unterminated string"),
    ("table inet f {\n}\ntable inet f {\n}\n", 3, "duplicate table 'inet f' (first on line 1)"),
    ("define lan = 10.0.0.0/8\n", 1, "'define' is not resolved: give the output of `nft list ruleset`"),
    ("add rule inet filter forward accept\n", 1, "unexpected 'add rule inet'"),
    ("# empty ruleset\n", None, "no table: not the output of `nft list ruleset`"),
    (_table("ct state vmap { established }"), 4, "verdict map element 'established' has no ': verdict'"),
])
def test_malformed_rulesets_name_the_line(text, line, problem):
    with pytest.raises(InputError) as exc:
        _forward(text)
    assert exc.value.line == line and problem in exc.value.problem


def test_crlf_and_flush_ruleset_are_read(tmp_path):
    path = tmp_path / "fw.nft"
    path.write_bytes(("flush ruleset\n" + _table("tcp dport 22 accept")).replace("\n", "\r\n").encode())
    out = tmp_path / "fw.json"
    assert main(["import", "nftables", str(path), "--out", str(out)]) == 0
    facts = json.loads(out.read_text(encoding="utf-8"))["facts"]
    assert facts["firewall_rules"]["rules"][0]["origin"]["line"] == 5
    assert "zones" not in facts
