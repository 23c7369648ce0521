"""The exact analysis (auditor.flows) agrees with evaluating single packets one by one.

Hypothesis builds small random rule lists — accepts, denies, skips (an inlined chain's
RETURN), non-deciding log rules, disabled rules, established-only rules, interface
conditions with negation, source ports, ICMP types, IPv4 and IPv6 — over a tiny address and
port universe. A brute-force first-match evaluation of every packet of that universe must
give the same verdict, and the analysis must cite the very rule that decided it.

The zones are given flat, and nested three deep as administrators write them (a server network
inside the office network, a host inside it, the host naming no interface of its own): the nested
ones go through the zones loader, while the packet-by-packet side finds each address's zone as the
smallest network holding it and the host's interface by walking up to an enclosing zone that names one.
"""

from __future__ import annotations

import functools
import ipaddress
import itertools

import pytest
import yaml
from auditor.evidence.zones import parse_zones, zones_for_device
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.flows import PROTOCOLS, RuleSet, _Grid, inter, minus, union

ADDRESSES = range(8)  # the universe: 8 addresses per family, ports 0-3, source ports 0-1
PORTS = range(4)
SPORTS = range(2)
FLAT = [  # every universe address is in a declared zone, each zone faced by one interface
    {"name": "a", "segment": "lgwan", "role": "office", "interfaces": ["eth0"], "range": (0, 2)},
    {"name": "b", "segment": "mynumber", "role": "server", "interfaces": ["eth1"], "range": (3, 5)},
    {"name": "w", "segment": "external", "role": "security-cloud", "interfaces": ["wan"], "range": (6, 7)},
]
NESTED = [  # three deep: b inside a, h inside b; h names no interface and is faced by b's
    {"name": "a", "segment": "lgwan", "role": "office", "interfaces": ["eth0"], "range": (0, 5)},
    {"name": "b", "segment": "mynumber", "role": "server", "interfaces": ["eth1"], "range": (2, 4)},
    {"name": "h", "segment": "mynumber", "role": "server", "interfaces": [], "range": (3, 3)},
    {"name": "w", "segment": "external", "role": "security-cloud", "interfaces": ["wan"], "range": (6, 7)},
]
LAYOUTS = {"flat": FLAT, "nested": NESTED}
FACES = ["eth0", "eth1", "wan", "eth+"]


def _addr(family: int, value: int) -> str:
    return str(ipaddress.IPv4Address(value) if family == 4 else ipaddress.IPv6Address(value))


def _zones_fact(layout: list[dict] = FLAT) -> list[dict]:
    if layout is FLAT:  # the area as a bundle holds it
        return [{"name": z["name"], "segment": z["segment"], "role": z["role"], "interfaces": z["interfaces"],
                 "intervals": [[_addr(f, z["range"][0]), _addr(f, z["range"][1])] for f in (4, 6)]} for z in layout]
    document = {"format": "auditor-zones/1", "zones": [  # a zones file, read by the loader
        {"name": z["name"], "segment": z["segment"], "role": z["role"], "interfaces": z["interfaces"],
         "networks": [f"{_addr(f, z['range'][0])}-{_addr(f, z['range'][1])}" for f in (4, 6)]} for z in layout]}
    return zones_for_device(parse_zones(yaml.safe_dump(document).encode(), "zones.yaml"), "fw").zones


@functools.cache
def _zone_of(value: int, layout: str = "flat") -> dict:
    """The smallest zone holding the address (longest prefix), with the interface facing it: its own, or
    that of the nearest zone holding it that names one."""
    holding = sorted((z for z in LAYOUTS[layout] if z["range"][0] <= value <= z["range"][1]),
                     key=lambda z: z["range"][1] - z["range"][0])
    face = next(z["interfaces"] for z in holding if z["interfaces"])
    return {**holding[0], "interfaces": face}


ranges = st.tuples(st.integers(0, 7), st.integers(0, 7)).map(sorted)
port_ranges = st.tuples(st.integers(0, 4), st.integers(0, 4)).map(sorted)


@st.composite
def services(draw):
    kind = draw(st.sampled_from(["tcp", "udp", "icmp", "any"]))
    if kind in ("tcp", "udp"):
        return {"protocol": kind, "ports": [list(p) for p in draw(st.lists(port_ranges, min_size=1, max_size=2))],
                "source_ports": [[0, 0]] if draw(st.booleans()) else [[0, 65535]]}
    if kind == "icmp":
        return {"protocol": "icmp", "icmp_type": draw(st.sampled_from(["echo-request", "0", "3"]))} \
            if draw(st.booleans()) else {"protocol": "icmp"}
    return {"protocol": "any"}


@st.composite
def rule_lists(draw):
    count = draw(st.integers(1, 7))
    rules = []
    for index in range(count):
        action = draw(st.sampled_from(["accept", "accept", "deny", "skip", "log"]))
        families = draw(st.sampled_from([(4,), (6,), (4, 6)]))
        addresses = {side: [[_addr(f, lo), _addr(f, hi)] for f in families
                            for lo, hi in draw(st.lists(ranges, min_size=0, max_size=2))]
                     for side in ("sources", "destinations")}
        rule = {
            "index": index, "origin": {"kind": "iptables-rule", "id": f"FORWARD#{index + 1}", "line": index + 1},
            "enabled": draw(st.booleans()) or draw(st.booleans()), "action": action,
            **addresses,
            "services": draw(st.lists(services(), min_size=0, max_size=2)),
            "new_connections": draw(st.booleans()) or draw(st.booleans()),
            "source_interfaces": draw(st.lists(st.sampled_from(FACES), max_size=2)),
            "destination_interfaces": draw(st.lists(st.sampled_from(FACES), max_size=1)),
            "source_interfaces_negated": draw(st.booleans()),
            "destination_interfaces_negated": False,
            "error": None,
        }
        if not rule["source_interfaces"]:
            rule["source_interfaces_negated"] = False
        if action == "skip":
            rule["skip_to"] = draw(st.integers(index + 1, count))
        rules.append(rule)
    return {"device": "iptables", "default_action": draw(st.sampled_from(["accept", "deny"])), "rules": rules}


def _in(pairs: list[list[str]], family: int, value: int) -> bool:
    return any(f == family and lo <= value <= hi for f, lo, hi in _parsed(tuple(map(tuple, pairs))))


@functools.cache
def _parsed(pairs: tuple[tuple[str, str], ...]) -> list[tuple[int, int, int]]:
    out = []
    for lo, hi in pairs:
        a, b = ipaddress.ip_address(lo), ipaddress.ip_address(hi)
        out.append((a.version, int(a), int(b)))
    return out


def _iface(patterns: list[str], negated: bool, face: str) -> bool:
    if not patterns:
        return True
    hit = any(p == face or (p.endswith("+") and face.startswith(p[:-1])) for p in patterns)
    return hit != negated


ICMP_NUMBERS = {"echo-request": 8, "0": 0, "3": 3}


def _service(service: dict, protocol: str, port: int, sport: int) -> bool:
    if service["protocol"] == "any":
        return True
    if service["protocol"] != protocol:
        return False
    if protocol == "icmp":
        return "icmp_type" not in service or ICMP_NUMBERS[service["icmp_type"]] == port
    return any(lo <= port <= hi for lo, hi in service["ports"]) and \
        any(lo <= sport <= hi for lo, hi in service["source_ports"])


def brute_force(fact: dict, family: int, src: int, dst: int, protocol: str, port: int, sport: int,
                stop_at: int | None = None, layout: str = "flat"):
    """(verdict, index of the deciding rule or None) for one NEW packet, first match;
    ``("reached", stop_at)`` when evaluation arrives at rule ``stop_at``."""
    inside, outside = _zone_of(src, layout)["interfaces"][0], _zone_of(dst, layout)["interfaces"][0]
    i = 0
    rules = fact["rules"]
    while i < len(rules):
        if i == stop_at:
            return "reached", i
        r = rules[i]
        if r["enabled"] and r["new_connections"] and _in(r["sources"], family, src) \
                and _in(r["destinations"], family, dst) \
                and any(_service(s, protocol, port, sport) for s in r["services"]) \
                and _iface(r["source_interfaces"], r["source_interfaces_negated"], inside) \
                and _iface(r["destination_interfaces"], False, outside):
            if r["action"] in ("accept", "deny"):
                return r["action"], i
            if r["action"] == "skip":
                i = r["skip_to"]
                continue
        i += 1
    return fact["default_action"], None


def _service_key(protocol: str, port: int) -> int:
    return (PROTOCOLS[protocol] << 16) + port


def _analysed(ruleset: RuleSet, family: int, src: int, dst: int, protocol: str, port: int, sport: int,
              layout: str = "flat"):
    zones = {z.name: z for z in ruleset.zones}
    flows = ruleset.pair(family, zones[_zone_of(src, layout)["name"]], zones[_zone_of(dst, layout)["name"]])
    key = _service_key(protocol, port)
    hits = [v for v in flows.accepted + flows.undetermined
            if inter(v.box[0], ((src, src),)) and inter(v.box[1], ((dst, dst),))
            and inter(v.box[2], ((key, key),)) and inter(v.box[3], ((sport, sport),))]
    assert not flows.undetermined  # every rule here is exact
    assert len(hits) <= 1, "verdict boxes overlap"
    return ("accept", hits[0].rule) if hits else ("deny", None)


PACKETS = [(p, port, sport) for p in ("tcp", "udp") for port in PORTS for sport in SPORTS] + \
    [("icmp", t, 0) for t in (0, 3, 8)]


def _examples_come_first(flows) -> None:
    """The first verdict of a rule on some services is at the lowest source address it has there:
    findings take it as their example."""
    lowest: dict = {}
    for verdicts in (flows.accepted, flows.undetermined):
        for v in verdicts:
            key = (v.rule, v.undetermined_by, v.box[2])
            lowest.setdefault(key, v.box[0][0][0])
            assert lowest[key] <= v.box[0][0][0]


def test_the_nested_layout_reaches_the_analysis_as_the_packet_side_sees_it():
    """The loader gives each nested zone the addresses its networks do not leave to more specific ones,
    and the host its enclosing zone's interface (else the property below would test nothing new)."""
    zones = {z.name: z for z in RuleSet({"device": "iptables", "default_action": "deny", "rules": []},
                                        _zones_fact(NESTED)).zones}
    assert zones["a"].addresses[4] == ((0, 1), (5, 5)) and zones["b"].addresses[6] == ((2, 2), (4, 4))
    assert zones["h"].addresses[4] == ((3, 3),) and zones["h"].interfaces == ("eth1",)
    assert [_zone_of(v, "nested")["name"] for v in ADDRESSES] == ["a", "a", "b", "h", "b", "a", "w", "w"]


@pytest.mark.parametrize("layout", list(LAYOUTS))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fact=rule_lists())
def test_analysis_agrees_with_packet_by_packet_evaluation(layout, fact):
    ruleset = RuleSet(fact, _zones_fact(LAYOUTS[layout]))
    zones = {z.name: z for z in ruleset.zones}
    for family, source, destination in itertools.product((4, 6), zones.values(), zones.values()):
        _examples_come_first(ruleset.pair(family, source, destination))
    for family, src, dst in itertools.product((4, 6), ADDRESSES, ADDRESSES):
        if _zone_of(src, layout)["name"] == _zone_of(dst, layout)["name"]:
            continue
        for protocol, port, sport in PACKETS:
            verdict, rule = brute_force(fact, family, src, dst, protocol, port, sport, layout=layout)
            got = _analysed(ruleset, family, src, dst, protocol, port, sport, layout)
            if verdict == "accept":
                assert got == ("accept", rule), (family, src, dst, protocol, port, sport)
            else:
                assert got[0] == "deny", (family, src, dst, protocol, port, sport, got)


interval_sets = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)).map(sorted), max_size=4).map(
    lambda pairs: union([tuple(tuple(p) for p in pairs)]))


@given(interval_sets, interval_sets)
def test_interval_algebra_matches_sets(a, b):
    def points(ivs):
        return {x for lo, hi in ivs for x in range(lo, hi + 1)}

    assert points(inter(a, b)) == points(a) & points(b)
    assert points(minus(a, b)) == points(a) - points(b)
    assert points(union([a, b])) == points(a) | points(b)
    assert minus(a, b) == union([minus(a, b)])  # stays sorted and merged


def _possible(fact: dict, family: int, src: int, dst: int, protocol: str, port: int, sport: int,
              layout: str = "flat") -> set[str]:
    """Every verdict the packet may get when the rule with ``error`` may or may not match it."""
    inside, outside = _zone_of(src, layout)["interfaces"][0], _zone_of(dst, layout)["interfaces"][0]
    bad = next(r for r in fact["rules"] if r["error"])
    may = bad["enabled"] and bad["new_connections"] \
        and _iface(bad["source_interfaces"], bad["source_interfaces_negated"], inside) \
        and _iface(bad["destination_interfaces"], False, outside)
    skipping = {**fact, "rules": [{**r, "enabled": False} if r is bad else r for r in fact["rules"]]}
    possible = {brute_force(skipping, family, src, dst, protocol, port, sport, layout=layout)[0]}
    if may:  # reached and matched: the rule's own verdict, or any verdict when it has none
        reached, _ = brute_force(fact, family, src, dst, protocol, port, sport, stop_at=bad["index"], layout=layout)
        if reached == "reached":
            possible |= {bad["action"]} if bad["action"] in ("accept", "deny") else {"accept", "deny"}
    return possible


@pytest.mark.parametrize("layout", list(LAYOUTS))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fact=rule_lists(), data=st.data())
def test_a_rule_with_an_error_makes_exactly_the_flows_it_could_change_undetermined(layout, fact, data):
    bad = data.draw(st.sampled_from(fact["rules"]))
    bad["error"] = "unknown match module"
    if bad["action"] == "skip":
        bad["action"] = "log"
    ruleset = RuleSet(fact, _zones_fact(LAYOUTS[layout]))
    zones = {z.name: z for z in ruleset.zones}
    for family, src, dst in itertools.product((4, 6), ADDRESSES, ADDRESSES):
        source, destination = _zone_of(src, layout)["name"], _zone_of(dst, layout)["name"]
        if source == destination:
            continue
        flows = ruleset.pair(family, zones[source], zones[destination])
        for protocol, port, sport in PACKETS:
            key = _service_key(protocol, port)

            def holds(verdicts, key=key, src=src, dst=dst, sport=sport):
                return any(inter(v.box[0], ((src, src),)) and inter(v.box[1], ((dst, dst),))
                           and inter(v.box[2], ((key, key),)) and inter(v.box[3], ((sport, sport),))
                           for v in verdicts)

            possible = _possible(fact, family, src, dst, protocol, port, sport, layout)
            expected = "accept" if possible == {"accept"} else "deny" if possible == {"deny"} else "undetermined"
            got = "accept" if holds(flows.accepted) else "undetermined" if holds(flows.undetermined) else "deny"
            assert got == expected, (family, src, dst, protocol, port, sport, possible)


narrow_sets = st.lists(st.tuples(st.integers(0, 38), st.integers(0, 3)).map(lambda p: (p[0], min(p[0] + p[1], 40))),
                      min_size=1, max_size=2).map(lambda pairs: union([tuple(pairs)]))


@st.composite
def placed_rules(draw):
    space = draw(interval_sets.filter(bool))
    rules = []
    for _ in range(draw(st.integers(0, 6))):
        if rules and draw(st.integers(0, 4)) == 0:
            rules.append(rules[-1])  # rules naming the same objects share one set
            continue
        maybe = inter(draw(st.one_of(interval_sets, narrow_sets)), space)  # narrow: often apart from the others
        exact = maybe if draw(st.booleans()) else inter(draw(interval_sets), maybe)
        rules.append((exact, maybe))
    return space, rules


@given(placed_rules(), st.booleans(), st.data())
def test_grid_groups_are_the_addresses_every_rule_treats_alike(case, keep_empty, data):
    space, rules = case
    numbers = sorted(data.draw(st.sets(st.integers(0, 50), min_size=len(rules), max_size=len(rules))))
    groups = _Grid(space, rules).partition(list(zip(numbers, rules, strict=True)), keep_empty=keep_empty)

    def inside(ivs, value):
        return any(lo <= value <= hi for lo, hi in ivs)

    seen = {}
    for ivs, codes in groups:
        assert ivs == union([ivs]) and codes not in seen  # merged, and one group per list of rules
        for value in range(41):
            if inside(ivs, value):
                assert value not in seen
                seen[value] = codes
    for value in range(41):
        expected = tuple(n * 2 + inside(exact, value) for n, (exact, maybe) in zip(numbers, rules, strict=True)
                         if inside(maybe, value))
        if inside(space, value) and (expected or keep_empty):
            assert seen.pop(value) == expected, value
    assert not seen  # nothing outside the space, nor (keep_empty=False) where no rule may match
    firsts = [ivs[0][0] for ivs, _ in groups]
    assert firsts == sorted(firsts)  # in address order
    if not keep_empty:  # the quick way when sets overlap little gives the very same groups
        grid = _Grid(space, rules)
        placed = list(zip(numbers, rules, strict=True))
        assert grid.groups(placed) == grid.partition(placed, keep_empty=False)
