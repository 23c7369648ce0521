"""The firewall importers facing hostile input: depth limits, cycles, huge numbers, duplicates.

Each input here once gave a traceback (RecursionError, ValueError from ``int()``), a hang, or a
silent choice between two values; each must now be a clear InputError naming the file and line
(exit 2), or be read exactly when it is within the documented limits (auditor/limits.py).
"""

import time
from pathlib import Path

import pytest
from auditor.evidence.bundle import BundleBuilder
from auditor.evidence.importers.fortigate import FortigateImporter, parse_config, policy_rules
from auditor.evidence.importers.iptables import IptablesImporter, flatten, parse_save
from auditor.evidence.importers.nftables import NftablesImporter, hook_rules, parse_ruleset

from auditor.errors import InputError
from auditor.limits import MAX_CHAIN_DEPTH, MAX_GROUP_DEPTH

HUGE = "9" * 5000  # int() refuses more than 4,300 digits with a ValueError


def _builder() -> BundleBuilder:
    return BundleBuilder(target_id="fw", kind="network", collector_name="test", segment=None, department=None,
                         labels={}, collected_at="2026-11-02T08:41:07+09:00")


def _refused(importer, text: str, match: str, line: int | None = None) -> InputError:
    with pytest.raises(InputError, match=match) as exc:
        importer.read(Path("fw.conf"), text.encode(), _builder())
    assert exc.value.file == "fw.conf"
    if line is not None:
        assert exc.value.line == line
    return exc.value


# --- FortiGate --------------------------------------------------------------------------------


def _fortigate_groups(depth: int, innermost_first: bool = False) -> tuple[str, int]:
    """Address groups g0 ⊃ g1 ⊃ ... ⊃ g{depth-1} ⊃ host h, and a policy naming g0; and the line of g0."""
    head = ['config firewall address', '    edit "h"', '        set subnet 10.1.2.3 255.255.255.255', '    next',
            'end', 'config firewall addrgrp']
    groups = [[f'    edit "g{k}"', f'        set member "{f"g{k + 1}" if k + 1 < depth else "h"}"', '    next']
              for k in range(depth)]
    if innermost_first:
        groups.reverse()
    lines = head + [line for group in groups for line in group] + [
        'end', 'config firewall policy', '    edit 1', '        set srcaddr "g0"', '        set dstaddr "all"',
        '        set service "ALL"', '        set action accept', '    next', 'end']
    return "\n".join(lines) + "\n", lines.index('    edit "g0"') + 1


def _fortigate_rules(text: str) -> list[dict]:
    return [r.as_fact(i) for i, r in enumerate(policy_rules(parse_config(text, "fw.conf"), "fw.conf"))]


def test_address_groups_nested_ten_thousand_deep_are_refused_not_a_recursion_error():
    text, line = _fortigate_groups(10_000)
    error = _refused(FortigateImporter(), text, f"nests groups more than {MAX_GROUP_DEPTH} deep", line)
    assert "g0 → g1 → g2 → ..." in error.problem


@pytest.mark.parametrize("innermost_first", [False, True])
def test_group_nesting_within_the_limit_is_exact_and_beyond_it_refused_whatever_the_order(innermost_first):
    for depth in (60, MAX_GROUP_DEPTH):
        rule = _fortigate_rules(_fortigate_groups(depth, innermost_first)[0])[0]
        assert (rule["sources"], rule["error"]) == ([["10.1.2.3", "10.1.2.3"]], None)
    text, line = _fortigate_groups(MAX_GROUP_DEPTH + 1, innermost_first)
    with pytest.raises(InputError, match="nests groups") as exc:
        _fortigate_rules(text)
    assert exc.value.line == line  # the outermost group, however the file orders them


def test_a_group_cycle_is_refused_naming_the_cycle():
    text = ('config firewall addrgrp\n    edit "a"\n        set member "b"\n    next\n    edit "b"\n'
            '        set member "c"\n    next\n    edit "c"\n        set member "a"\n    next\nend\n'
            'config firewall policy\n    edit 1\n        set srcaddr "all"\n        set dstaddr "all"\n'
            '        set service "ALL"\n    next\nend\n')
    _refused(FortigateImporter(), text, "address group cycle: 'a' → 'b' → 'c' → 'a'", line=9)


def test_exclude_members_count_in_the_nesting_and_the_cycles():
    text = ('config firewall addrgrp\n    edit "a"\n        set member "all"\n        set exclude enable\n'
            '        set exclude-member "a"\n    next\nend\n')
    with pytest.raises(InputError, match="address group cycle: 'a' → 'a'"):
        _fortigate_rules(text + 'config firewall policy\n    edit 1\n    next\nend\n')


def _service_groups(depth: int) -> str:
    lines = ['config firewall service group']
    for k in range(depth):
        lines += [f'    edit "s{k}"', f'        set member "{f"s{k + 1}" if k + 1 < depth else "HTTPS"}"', '    next']
    return "\n".join(lines + ['end', 'config firewall policy', '    edit 1', '        set srcaddr "all"',
                              '        set dstaddr "all"', '        set service "s0"', '        set action accept',
                              '    next', 'end']) + "\n"


def test_service_groups_nested_deep_are_refused_and_within_the_limit_exact():
    _refused(FortigateImporter(), _service_groups(10_000), "service group 's0' nests groups", line=2)
    rule = _fortigate_rules(_service_groups(60))[0]
    assert rule["services"] == [{"protocol": "tcp", "ports": [[443, 443]], "source_ports": [[0, 65535]]}]
    cycle = _service_groups(3).replace('set member "HTTPS"', 'set member "s1"')
    with pytest.raises(InputError, match="service group cycle: 's1' → 's2' → 's1'"):
        _fortigate_rules(cycle)


POLICY = ('config firewall policy\n    edit 1\n        set srcaddr "all"\n        set dstaddr "all"\n'
          '        set service "X"\n        set action accept\n    next\nend\n')


@pytest.mark.parametrize(("objects", "line"), [
    (f'config firewall service custom\n    edit "X"\n        set tcp-portrange {HUGE}\n    next\nend\n', 3),
    (f'config firewall service custom\n    edit "X"\n        set tcp-portrange 80-{HUGE}\n    next\nend\n', 3),
    (f'config firewall service custom\n    edit "X"\n        set udp-portrange 53:{HUGE}\n    next\nend\n', 3),
    (f'config firewall service custom\n    edit "X"\n        set protocol IP\n        set protocol-number {HUGE}\n'
     '    next\nend\n', 4),
])
def test_a_number_of_thousands_of_digits_is_refused_naming_the_line(objects, line):
    _refused(FortigateImporter(), objects + POLICY, "an integer of 5,000 digits; at most 40", line)


def test_a_huge_policy_id_or_netmask_is_refused():
    _refused(FortigateImporter(), POLICY.replace("edit 1", f"edit {HUGE}").replace('"X"', '"ALL"'),
             "an integer of 5,000 digits", line=2)
    mask = f'config firewall address\n    edit "n"\n        set subnet 10.0.0.0/{HUGE}\n    next\nend\n'
    error = _refused(FortigateImporter(), mask + POLICY.replace('srcaddr "all"', 'srcaddr "n"'),
                     "a prefix length or netmask of 5,000 characters", line=2)
    assert len(str(error)) < 300  # the value is not quoted whole


def test_digits_int_refuses_are_a_bad_port_not_a_traceback():
    custom = 'config firewall service custom\n    edit "X"\n        set tcp-portrange ²\n    next\nend\n'
    _refused(FortigateImporter(), custom + POLICY, "bad port range '²'", line=3)


def test_a_setting_given_twice_in_one_edit_is_refused_naming_both_lines():
    text = POLICY.replace('        set action accept\n', '        set action accept\n        set action deny\n')
    _refused(FortigateImporter(), text, r"edit '1': duplicate setting 'action' \(first on line 6\)", line=7)
    config = "config system global\n    set hostname a\n    set hostname b\nend\n" + POLICY
    _refused(FortigateImporter(), config, r"config system global: duplicate setting 'hostname' \(first on line 2\)", 3)


def test_an_entry_edited_twice_in_one_table_is_refused_naming_both_lines():
    text = ('config firewall address\n    edit "n"\n        set subnet 10.0.0.0 255.0.0.0\n    next\n'
            '    edit "n"\n        set subnet 0.0.0.0 0.0.0.0\n    next\nend\n') + POLICY
    _refused(FortigateImporter(), text, r"config firewall address: duplicate entry 'n' \(first on line 2\)", 5)
    again = POLICY + POLICY.replace("edit 1", "edit 2") + POLICY  # a concatenated file: policy 1 twice
    _refused(FortigateImporter(), again, r"config firewall policy: duplicate entry '1' \(first on line 2\)", 18)


def test_the_verbs_that_change_a_list_are_legal():
    objects = ('config firewall address\n' + "".join(
        f'    edit "{n}"\n        set subnet 10.0.{k}.0 255.255.255.0\n    next\n' for k, n in enumerate("abcd"))
        + 'end\nconfig firewall addrgrp\n    edit "g"\n        set member "a" "b"\n        append member "c" "d"\n'
        '        unselect member "b"\n    next\n    edit "h"\n        set member "a"\n        select member "d"\n'
        '    next\n    edit "k"\n        set member "a"\n        unset member\n        set member "b"\n    next\nend\n')
    rules = _fortigate_rules(objects + POLICY.replace('"X"', '"ALL"').replace('srcaddr "all"', 'srcaddr "g"')
                             .replace('dstaddr "all"', 'dstaddr "h" "k"'))
    assert rules[0]["sources"] == [["10.0.0.0", "10.0.0.255"], ["10.0.2.0", "10.0.3.255"]]
    assert rules[0]["destinations"] == [["10.0.1.0", "10.0.1.255"], ["10.0.3.0", "10.0.3.255"]]


def test_an_unclosed_quote_early_in_a_large_file_is_refused_quickly():
    text = 'config firewall policy\n    edit 1\n        set comments "open\n' + "        set x y\n" * 100_000
    started = time.perf_counter()
    _refused(FortigateImporter(), text, "unbalanced quotes", line=3)
    assert time.perf_counter() - started < 5  # it was split again after every line: hours


# --- iptables ---------------------------------------------------------------------------------


def _chains(depth: int, per_chain: int = 1, last: str = "-A C{last} -p tcp --dport 22 -j ACCEPT\n") -> str:
    """FORWARD jumps to C0, each C{k} to C{k+1} ``per_chain`` times, down to C{depth-1}."""
    declared = "".join(f":C{k} - [0:0]\n" for k in range(depth))
    jumps = "".join(f"-A C{k} -j C{k + 1}\n" * per_chain for k in range(depth - 1))
    return ("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n" + declared
            + "-A FORWARD -s 10.0.0.0/8 -j C0\n" + jumps + last.format(last=depth - 1) + "COMMIT\n")


def test_iptables_chains_jumping_ten_thousand_deep_are_refused_not_a_recursion_error():
    error = _refused(IptablesImporter(), _chains(10_000), f"jump more than {MAX_CHAIN_DEPTH} deep from FORWARD")
    assert "FORWARD → C0 → C1 → ..." in error.problem


def test_iptables_jumps_within_the_limit_are_exact():
    rules = flatten(parse_save(_chains(MAX_CHAIN_DEPTH), "fw.rules"), "FORWARD", "fw.rules")
    assert len(rules) == 1 and rules[0].action == "accept" and len(rules[0].origin["via"]) == MAX_CHAIN_DEPTH
    assert rules[0].sources == [(4, 10 << 24, (11 << 24) - 1)]
    with pytest.raises(InputError, match="jump more than"):
        flatten(parse_save(_chains(MAX_CHAIN_DEPTH + 1), "fw.rules"), "FORWARD", "fw.rules")


def test_iptables_chain_loop_names_the_cycle():
    text = ("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:X - [0:0]\n:Y - [0:0]\n"
            "-A FORWARD -j X\n-A X -j Y\n-A Y -j X\nCOMMIT\n")
    _refused(IptablesImporter(), text, "chain loop: X → Y → X", line=9)


def test_iptables_jumps_that_multiply_to_empty_chains_are_refused_not_a_hang():
    text = _chains(40, per_chain=2, last="")  # 2**39 visits of empty chains, no rule inlined
    started = time.perf_counter()
    _refused(IptablesImporter(), text, "more than 200,000 rules and jumps")
    assert time.perf_counter() - started < 10


def test_iptables_table_or_chain_given_twice_is_refused_naming_both_lines():
    table = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"
    _refused(IptablesImporter(), table + table.replace("DROP", "ACCEPT"),
             r"duplicate table '\*filter' \(first on line 1\)", line=6)
    _refused(IptablesImporter(), table.replace(":OUTPUT", ":FORWARD ACCEPT [0:0]\n:OUTPUT"),
             r"table \*filter: duplicate chain 'FORWARD' \(first on line 3\)", line=4)
    nat = "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n"
    IptablesImporter().read(Path("fw.rules"), (nat + table).encode(), _builder())  # two tables, each once


@pytest.mark.parametrize("rule", [
    f"-A FORWARD -p {HUGE} -j ACCEPT", f"-A FORWARD -p tcp --dport {HUGE} -j ACCEPT",
    f"-A FORWARD -p tcp -m multiport --dports 80,{HUGE} -j ACCEPT", f"-A FORWARD -p udp --sport 1:{HUGE} -j ACCEPT",
])
def test_iptables_numbers_of_thousands_of_digits_are_refused_naming_the_line(rule):
    text = f"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n{rule}\nCOMMIT\n"
    _refused(IptablesImporter(), text, "an integer of 5,000 digits", line=5)


def test_iptables_odd_numbers_are_an_error_or_a_rule_error_never_a_traceback():
    base = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n{}\nCOMMIT\n"
    rules = flatten(parse_save(base.format("-A FORWARD -p ² -j ACCEPT"), "fw.rules"), "FORWARD", "fw.rules")
    assert rules[0].error == "protocol '²' is not modelled"
    _refused(IptablesImporter(), base.format(f"-A FORWARD -s 10.0.0.0/{HUGE} -j ACCEPT"),
             "a prefix length or netmask of 5,000 characters", line=5)


# --- nftables ---------------------------------------------------------------------------------


def _nft(rules: str, chains: str = "") -> str:
    return ("table inet filter {\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n"
            f"\t\t{rules}\n\t}}\n{chains}}}\n")


def _nft_chains(depth: int, per_chain: int = 1, last: str = "tcp dport 22 accept", deepest_first: bool = False,
                ) -> str:
    chains = [f"\tchain c{k} {{\n" + f"\t\tjump c{k + 1}\n" * per_chain + "\t}\n" for k in range(depth - 1)]
    chains.append(f"\tchain c{depth - 1} {{\n\t\t{last}\n\t}}\n")
    if deepest_first:
        chains.reverse()
    return _nft("ip saddr 10.0.0.0/8 jump c0", "".join(chains))


def _nft_forward(text: str) -> list:
    return hook_rules(parse_ruleset(text, "fw.nft"), "forward", "fw.nft")[0]


def test_nft_chains_jumping_ten_thousand_deep_are_refused_not_a_recursion_error():
    text = _nft_chains(10_000)
    line = text.split("\n").index(f"\t\tjump c{MAX_CHAIN_DEPTH}") + 1  # the first jump beyond the limit
    error = _refused(NftablesImporter(), text, f"jump more than {MAX_CHAIN_DEPTH} deep", line)
    assert "forward → c0 → c1 → ..." in error.problem


@pytest.mark.parametrize("deepest_first", [False, True])
def test_nft_jumps_within_the_limit_are_exact_and_beyond_it_refused_whatever_the_order(deepest_first):
    rules = _nft_forward(_nft_chains(MAX_CHAIN_DEPTH, deepest_first=deepest_first))
    accepts = [r for r in rules if r.action == "accept"]
    assert len(accepts) == 1 and len(accepts[0].origin["via"]) == MAX_CHAIN_DEPTH
    assert accepts[0].sources == [(4, 10 << 24, (11 << 24) - 1)]
    with pytest.raises(InputError, match="jump"):
        _nft_forward(_nft_chains(MAX_CHAIN_DEPTH + 1, deepest_first=deepest_first))


def test_nft_chain_loop_names_the_cycle():
    text = _nft("jump x", "\tchain x {\n\t\tjump y\n\t}\n\tchain y {\n\t\tgoto x\n\t}\n")
    _refused(NftablesImporter(), text, "chain loop: x → y → x", line=10)


def test_nft_jumps_that_multiply_to_empty_chains_are_refused_not_a_hang():
    started = time.perf_counter()
    _refused(NftablesImporter(), _nft_chains(40, per_chain=2, last=""), "more than 200,000 rules and jumps")
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize(("rule", "line"), [
    (f"tcp dport {HUGE} accept", 4), (f"tcp dport 1-{HUGE} accept", 4), (f"meta l4proto {HUGE} accept", 4),
    (f"tcp dport {{ 22, {HUGE} }} accept", 4), (f"ip saddr 10.0.0.0/{HUGE} accept", 4),
    (f"accept # handle {HUGE}", 4),
])
def test_nft_numbers_of_thousands_of_digits_are_refused_naming_the_line(rule, line):
    error = _refused(NftablesImporter(), _nft(rule), "5,000", line)
    assert len(str(error)) < 300


def test_nft_huge_priority_is_refused_and_odd_digits_are_a_rule_error():
    _refused(NftablesImporter(), _nft("accept").replace("priority filter", f"priority filter + {HUGE}"),
             "an integer of 5,000 digits", line=3)
    assert _nft_forward(_nft("tcp dport ² accept"))[0].error == "service name '²' is not resolved"


@pytest.mark.parametrize(("extra", "line", "problem"), [
    ("\tchain forward {\n\t}\n", 6, r"table inet filter: duplicate chain 'forward' \(first on line 2\)"),
    ("\tset s {\n\t\ttype ipv4_addr\n\t}\n\tset s {\n\t\ttype ipv4_addr\n\t}\n", 9, "duplicate set or map 's'"),
    ("\tset s {\n\t\ttype ipv4_addr\n\t}\n\tmap s {\n\t\ttype ipv4_addr : verdict\n\t}\n", 9,
     r"duplicate set or map 's' \(first on line 6\)"),
    ("\tset s {\n\t\ttype ipv4_addr\n\t\ttype inet_service\n\t}\n", 8, r"set s: duplicate declaration 'type'"),
    ("\tset s {\n\t\ttype ipv4_addr\n\t\telements = { 10.0.0.1 }\n\t\telements = { 10.0.0.2 }\n\t}\n", 9,
     "duplicate declaration 'elements'"),
])
def test_nft_objects_given_twice_are_refused_naming_both_lines(extra, line, problem):
    _refused(NftablesImporter(), _nft("accept", extra), problem, line)


def test_nft_chain_policy_given_twice_is_refused():
    text = _nft("accept").replace("policy drop;", "policy drop;\n\t\tpolicy accept;")
    _refused(NftablesImporter(), text, r"chain inet filter/forward: duplicate declaration 'policy' \(first on line 3\)",
             line=4)


def test_nft_reopened_table_is_refused_as_nft_list_ruleset_never_writes_one():
    text = _nft("accept") + "table inet filter {\n\tchain extra {\n\t}\n}\n"
    _refused(NftablesImporter(), text, r"duplicate table 'inet filter' \(first on line 1\)", line=7)


@pytest.mark.parametrize(("vmap", "problem"), [
    ("tcp dport vmap { 22 : accept, 22 : drop }", r"verdict map: duplicate key '22'"),
    ("tcp dport vmap { 20-30 : accept, 25 : drop }", "verdict map keys '20-30' .* and '25' overlap"),
    ("ip saddr vmap { 10.0.0.0/8 : drop, 10.1.0.0/16 : accept }", "overlap"),
])
def test_nft_verdict_map_giving_one_key_two_verdicts_is_refused(vmap, problem):
    _refused(NftablesImporter(), _nft(vmap), problem, line=4)


def test_nft_verdict_map_with_distinct_keys_is_read():
    rules = _nft_forward(_nft("tcp dport vmap { 20-21 : accept, 22 : drop, 23-30 : accept }"))
    assert [r.action for r in rules] == ["accept", "deny"]


def test_service_groups_naming_a_member_twice_at_every_level_do_not_multiply():
    lines = ['config firewall service group', '    edit "s0"', '        set member "HTTPS" "SSH"', '    next']
    for k in range(1, 40):  # 2**40 services if each level repeated what it names
        lines += [f'    edit "s{k}"', f'        set member "s{k - 1}" "s{k - 1}"', '    next']
    text = "\n".join(lines) + "\nend\n" + POLICY.replace('"X"', '"s39"')
    started = time.perf_counter()
    rule = _fortigate_rules(text)[0]
    assert time.perf_counter() - started < 5
    assert [(s["protocol"], s["ports"]) for s in rule["services"]] == [("tcp", [[443, 443]]), ("tcp", [[22, 22]])]


def test_groups_that_copy_one_large_group_again_and_again_are_refused_not_hours():
    hosts = 3000  # 3,000 groups each naming the group of 3,000 hosts: 9 million intervals from 0.4 MB
    lines = ['config firewall address']
    for k in range(hosts):
        lines += [f'    edit "h{k}"', f'        set subnet 10.{k >> 8}.{k & 255}.1 255.255.255.255', '    next']
    lines += ['end', 'config firewall addrgrp', '    edit "G"',
              '        set member ' + " ".join(f'"h{k}"' for k in range(hosts)), '    next']
    for k in range(hosts):
        lines += [f'    edit "H{k}"', f'        set member "G" "h{k}"', '    next']
    started = time.perf_counter()
    _refused(FortigateImporter(), "\n".join(lines) + "\nend\n" + POLICY.replace('"X"', '"ALL"'),
             "the groups resolve to more than 2,000,000 addresses and services")
    assert time.perf_counter() - started < 10
