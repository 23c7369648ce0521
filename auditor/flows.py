"""Exact zone-to-zone reachability over a normalised first-match rule list.

The question an inspector asks of a firewall is "which new connections from zone A to
zone B does it let through, and because of which rule?" (guideline §3.3). This module
answers it exactly, without sampling packets: the packet space of one zone pair is a
product of four integer dimensions — source address, destination address, service
(IP protocol number × destination port, or ICMP type) and source port — and is carried
through the rules in their evaluation order as a set of boxes. Each rule takes the part
of the remaining space it matches (the first match decides), so a rule that is disabled,
matches only established connections, or is fully shadowed by earlier rules decides
nothing and is never cited.

Some rules cannot be judged exactly: the importer marked them with ``error``, they name
objects it could not resolve (FQDN addresses), or they are restricted to interfaces and
neither the zones file nor the device's configuration says which interfaces face the zone. The space such a rule *may*
match carries a taint naming it; when that space is later decided, the verdict is
``undetermined`` unless every possible verdict is the same. A flow is therefore never
silently allowed or denied because of a rule the analysis could not read.
"""

from __future__ import annotations

import bisect
import functools
import gc
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from auditor.memory import paused_gc

Ivs = tuple[tuple[int, int], ...]  # sorted, disjoint, inclusive integer intervals
Box = tuple[Ivs, Ivs, Ivs, Ivs]  # source address, destination address, service, source port
Taint = tuple[int, str | None]  # (rule index, the verdict the rule would give; None: unknown)

ADDRESS_MAX = {4: (1 << 32) - 1, 6: (1 << 128) - 1}
PORT_MAX = 65535
SERVICE_MAX = (256 << 16) - 1
ALL_PORTS: Ivs = ((0, PORT_MAX),)
ALL_SERVICES: Ivs = ((0, SERVICE_MAX),)
PROTOCOLS = {"icmp": 1, "tcp": 6, "udp": 17, "sctp": 132, "icmpv6": 58}
PROTOCOL_NAMES = {number: name for name, number in PROTOCOLS.items()}
PORT_PROTOCOLS = ("tcp", "udp", "sctp")
ICMP_TYPES = {  # names iptables, nftables and FortiGate print, to the type number (RFC 792 / 4443)
    "echo-reply": 0, "destination-unreachable": 3, "source-quench": 4, "redirect": 5, "echo-request": 8,
    "router-advertisement": 9, "router-solicitation": 10, "time-exceeded": 11, "parameter-problem": 12,
    "timestamp-request": 13, "timestamp-reply": 14, "packet-too-big": 2, "ping": 8, "pong": 0,
}
ICMPV6_TYPES = {
    "destination-unreachable": 1, "packet-too-big": 2, "time-exceeded": 3, "parameter-problem": 4,
    "echo-request": 128, "echo-reply": 129, "nd-router-solicit": 133, "nd-router-advert": 134,
    "nd-neighbor-solicit": 135, "nd-neighbor-advert": 136,
}


# --- interval sets --------------------------------------------------------------------------


def inter(a: Ivs, b: Ivs) -> Ivs:
    if len(a) == 1 and len(b) == 1:  # the usual case: one range each
        (alo, ahi), (blo, bhi) = a[0], b[0]
        lo, hi = (alo if alo > blo else blo), (ahi if ahi < bhi else bhi)
        return ((lo, hi),) if lo <= hi else ()
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        alo, ahi = a[i]
        blo, bhi = b[j]
        lo, hi = (alo if alo > blo else blo), (ahi if ahi < bhi else bhi)
        if lo <= hi:
            out.append((lo, hi))
        if ahi < bhi:
            i += 1
        else:
            j += 1
    return tuple(out)


def minus(a: Ivs, b: Ivs) -> Ivs:
    if len(a) == 1 and len(b) == 1:
        (alo, ahi), (blo, bhi) = a[0], b[0]
        if bhi < alo or blo > ahi:
            return a
        left = ((alo, blo - 1),) if blo > alo else ()
        return left + ((bhi + 1, ahi),) if bhi < ahi else left
    out: list[tuple[int, int]] = []
    j = 0
    for lo, hi in a:
        cur = lo
        while j < len(b) and b[j][1] < cur:
            j += 1
        k = j
        while k < len(b) and b[k][0] <= hi:
            if b[k][0] > cur:
                out.append((cur, b[k][0] - 1))
            cur = max(cur, b[k][1] + 1)
            if cur > hi:
                break
            k += 1
        if cur <= hi:
            out.append((cur, hi))
    return tuple(out)


def union(sets: Iterable[Ivs]) -> Ivs:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(p for s in sets for p in s):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return tuple(out)


def box_minus(a: Box, b: Box) -> list[Box]:
    """``a`` without ``b``: at most four disjoint boxes (one per dimension where ``a`` sticks out)."""
    out: list[Box] = []
    kept = list(a)
    for dim in range(4):
        outside = minus(a[dim], b[dim])
        if outside:
            piece = list(kept)
            piece[dim] = outside
            out.append((piece[0], piece[1], piece[2], piece[3]))
        kept[dim] = inter(a[dim], b[dim])
        if not kept[dim]:
            return [a]
    return out


Cell = tuple[Ivs, Ivs]  # service, source port: what is left once the addresses are fixed


def _split(cell: Cell, boxes: list[Cell]) -> tuple[list[Cell], list[Cell]]:
    """(the parts of ``cell`` outside every box, the parts inside some box), both disjoint."""
    outside = [cell]
    inside: list[Cell] = []
    for svc_box, sport_box in boxes:
        nxt: list[Cell] = []
        for svc, sport in outside:
            svc_in = svc if svc_box is ALL_SERVICES else inter(svc, svc_box)
            sport_in = sport if sport_box is ALL_PORTS or sport is sport_box else inter(sport, sport_box)
            if not svc_in or not sport_in:
                nxt.append((svc, sport))
                continue
            inside.append((svc_in, sport_in))
            svc_out = () if svc_in is svc else minus(svc, svc_box)
            if svc_out:
                nxt.append((svc_out, sport))
            sport_out = () if sport_in is sport else minus(sport, sport_box)
            if sport_out:
                nxt.append((svc_in, sport_out))
        outside = nxt
    return outside, inside


# --- the rule model, compiled ------------------------------------------------------------------


def _addresses(pairs: list[list[str]]) -> dict[int, Ivs]:
    """The ``[first, last]`` pairs of a rule or zone, per family, sorted and merged."""
    parsed = [_pair(tuple(pair)) for pair in pairs]
    return {family: _merged([(lo, hi) for f, lo, hi in parsed if f == family]) for family in (4, 6)}


class _Reader:
    """Address lists and services read once each while one rule set is compiled: rules name the
    same objects again and again. Looked up by identity first (a bundle made in this process shares
    them between rules; the rule set holds them all while it is compiled), then by value, so that a
    set met again is the very same tuples, which the analysis then places among the zones once."""

    def __init__(self) -> None:
        self._sets: dict[tuple[tuple[str, ...], ...], dict[int, Ivs]] = {}
        self._seen: dict[int, Any] = {}

    def addresses(self, pairs: list[list[str]]) -> dict[int, Ivs]:
        found = self._seen.get(id(pairs))
        if found is None:
            key = tuple(map(tuple, pairs))
            found = self._sets.get(key)
            if found is None:
                found = self._sets[key] = _addresses(pairs)
            self._seen[id(pairs)] = found
        return found

    def service(self, service: dict[str, Any]) -> tuple[Ivs, Ivs, bool]:
        found = self._seen.get(id(service))
        if found is None:
            found = self._seen[id(service)] = _service_space(service)
        return found


def _merged(pairs: list[tuple[int, int]]) -> Ivs:
    for k in range(1, len(pairs)):
        if pairs[k][0] <= pairs[k - 1][1] + 1:
            return union([tuple(pairs)])
    return tuple(pairs)  # as the importers write them: already sorted and apart


@functools.lru_cache(maxsize=65536)
def _pair(pair: tuple[str, ...]) -> tuple[int, int, int]:
    """(family, first, last) of a ``[first, last]`` address pair; large rule sets repeat the same objects.
    ValueError for anything else: a bundle file may have been edited after its shape was checked."""
    if len(pair) != 2 or not all(isinstance(text, str) and len(text) <= 64 for text in pair):
        raise ValueError(f"not an address pair [first, last]: {_brief(pair)}")
    lo_text, hi_text = pair
    family = 6 if ":" in lo_text else 4
    kind = socket.AF_INET6 if family == 6 else socket.AF_INET
    try:
        lo, hi = (int.from_bytes(socket.inet_pton(kind, lo_text), "big"),
                  int.from_bytes(socket.inet_pton(kind, hi_text), "big"))
    except OSError:
        raise ValueError(f"not an address pair: {lo_text!r}, {hi_text!r}") from None
    if lo > hi:
        raise ValueError(f"the address pair {lo_text!r}, {hi_text!r} ends before it starts")
    return (family, lo, hi)


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class FactError(ValueError):
    """A rule list or zones area the analysis cannot read (a bundle is hostile input: it may have been
    edited after the schemas checked its shape); the checks reading it are ``error``, never a pass."""


_SERVICE_SPACES: dict[tuple[Any, ...], tuple[Ivs, Ivs, bool]] = {}


def _service_space(service: dict[str, Any]) -> tuple[Ivs, Ivs, bool]:
    """(service intervals, source ports, exact) of one service entry of a rule; rule sets repeat a few
    dozen services thousands of times, so each is worked out once."""
    icmp_type, number = service.get("icmp_type"), service.get("number")
    if icmp_type is not None and not isinstance(icmp_type, str):
        raise ValueError(f"icmp_type {_brief(icmp_type)} is not a text")
    if number is not None and (type(number) is not int or not 0 <= number <= 255):
        raise ValueError(f"protocol number {_brief(number)} is not 0-255")
    key = (service["protocol"], number, icmp_type,
           _port_pairs(service.get("ports", ())), _port_pairs(service.get("source_ports", ())))
    space = _SERVICE_SPACES.get(key)
    if space is None:
        space = _SERVICE_SPACES[key] = _compute_service_space(service)
    return space


def _port_pairs(pairs: Any) -> tuple[tuple[int, int], ...]:
    """``[[lo, hi], ...]`` as tuples; ValueError unless each is two ports, lo <= hi."""
    out = tuple(map(tuple, pairs))
    for pair in out:
        if len(pair) != 2 or not all(type(p) is int for p in pair) or not 0 <= pair[0] <= pair[1] <= PORT_MAX:
            raise ValueError(f"not a port range [lo, hi]: {_brief(list(pair))}")
    return out


def _compute_service_space(service: dict[str, Any]) -> tuple[Ivs, Ivs, bool]:
    protocol = service["protocol"]
    if protocol == "any":
        return ALL_SERVICES, ALL_PORTS, True
    number = service.get("number") if protocol == "ip" else PROTOCOLS.get(protocol)
    if number is None:  # ``ip`` without a number matches every protocol
        return ALL_SERVICES, ALL_PORTS, True
    base = number << 16
    if protocol in PORT_PROTOCOLS:
        ports = tuple((base + lo, base + hi) for lo, hi in service.get("ports", [[0, PORT_MAX]]))
        sports = tuple((lo, hi) for lo, hi in service.get("source_ports", [[0, PORT_MAX]]))
        return union([ports]), union([sports]), True
    whole = ((base, base + PORT_MAX),)
    icmp_type = service.get("icmp_type")
    if icmp_type is None or protocol not in ("icmp", "icmpv6"):
        return whole, ALL_PORTS, True
    kind = _icmp_type(str(icmp_type), ICMP_TYPES if protocol == "icmp" else ICMPV6_TYPES)
    if kind is None:
        return whole, ALL_PORTS, False
    return ((base + kind, base + kind),), ALL_PORTS, True


def _icmp_type(text: str, names: dict[str, int]) -> int | None:
    head = text.strip().lower().split("/", 1)[0]
    if head.isascii() and head.isdigit() and len(head) <= 3 and int(head) <= 255:  # '²' is a digit to isdigit
        return int(head)
    return names.get(head)


def parse_service(text: str) -> Ivs:
    """One service text; ValueError naming what is wrong."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r}: expected a text such as tcp/443")
    protocol, _, ports = text.strip().lower().partition("/")
    if protocol == "any" and not ports:
        return ALL_SERVICES
    if protocol == "ip":
        if not (ports.isascii() and ports.isdigit()) or len(ports) > 3 or int(ports) > 255:
            raise ValueError(f"{text!r}: ip/N needs a protocol number 0-255")
        base = int(ports) << 16
        return ((base, base + PORT_MAX),)
    if protocol not in PROTOCOLS:
        raise ValueError(f"{text!r}: unknown protocol (expected tcp, udp, sctp, icmp, icmpv6, ip/N or any)")
    base = PROTOCOLS[protocol] << 16
    if not ports:
        return ((base, base + PORT_MAX),)
    if protocol not in PORT_PROTOCOLS:
        raise ValueError(f"{text!r}: {protocol} has no ports")
    lo_text, _, hi_text = ports.partition("-")
    if not _port_text(lo_text) or (hi_text and not _port_text(hi_text)):
        raise ValueError(f"{text!r}: expected a port or a range lo-hi")
    lo, hi = int(lo_text), int(hi_text or lo_text)
    if not lo <= hi <= PORT_MAX:
        raise ValueError(f"{text!r}: ports must be 0-65535, lo <= hi")
    return ((base + lo, base + hi),)


def _port_text(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 5


EVERYWHERE: dict[int, Ivs] = {family: ((0, ADDRESS_MAX[family]),) for family in (4, 6)}
NOWHERE: dict[int, Ivs] = {4: (), 6: ()}


@dataclass
class CompiledRule:
    """One rule's match, per address family: addresses it surely matches (``*_exact``) and may
    match (``*_maybe``, a superset), and its services as (service, source ports, exact).

    The address dictionaries are shared between rules naming the same objects (never changed)."""

    index: int
    origin: dict[str, Any]
    action: str
    skip_to: int | None
    error: str | None
    source_interfaces: list[str]
    destination_interfaces: list[str]
    source_negated: bool
    destination_negated: bool
    services: list[tuple[Ivs, Ivs, bool]] = field(default_factory=list)
    src_exact: dict[int, Ivs] = field(default_factory=lambda: NOWHERE)
    src_maybe: dict[int, Ivs] = field(default_factory=lambda: NOWHERE)
    dst_exact: dict[int, Ivs] = field(default_factory=lambda: NOWHERE)
    dst_maybe: dict[int, Ivs] = field(default_factory=lambda: NOWHERE)

    def __post_init__(self) -> None:
        self.may_accept = self.action != "deny"  # a deny rule in error can still only deny
        # what the interface conditions depend on, to judge them once per zone, not once per rule
        self.source_faces = (tuple(self.source_interfaces), self.source_negated)
        self.destination_faces = (tuple(self.destination_interfaces), self.destination_negated)

    @functools.cached_property
    def plain(self) -> Ivs | None:
        """The services as one set when the rule decides exactly and ignores source ports (most rules)."""
        if self.error or self.action not in ("accept", "deny") or \
                any(not exact or sport != ALL_PORTS for _, sport, exact in self.services):
            return None
        return union(svc for svc, _, _ in self.services)

    @functools.cached_property
    def maybe_cells(self) -> list[Cell]:
        return [(svc, sport) for svc, sport, _ in self.services]

    @functools.cached_property
    def exact_cells(self) -> list[Cell]:
        return [(svc, sport) for svc, sport, exact in self.services if exact]


def _compile(rule: dict[str, Any], reader: _Reader | None = None) -> CompiledRule | None:
    """The rule's match as intervals; None when it never decides a new connection. ``reader``
    reads its address lists and services (one for a whole rule set)."""
    if not rule["enabled"] or not rule["new_connections"]:
        return None  # never matches the first packet of a connection
    if rule["action"] == "log" and not rule.get("error"):
        return None  # matches, but decides nothing
    states = rule.get("states")
    if states is not None and not ({"NEW", "UNTRACKED"} & set(states)):
        return None
    error = rule.get("error")
    parts = _error_parts(rule) if error else ()
    if error and not parts:  # its meaning is unknown: it may match anything, surely nothing
        services = [(ALL_SERVICES, ALL_PORTS, False)]
        src_exact = dst_exact = NOWHERE
        src_maybe = dst_maybe = EVERYWHERE
    else:
        reader = reader or _Reader()
        services = list(map(reader.service, rule["services"]))
        src_exact, dst_exact = reader.addresses(rule["sources"]), reader.addresses(rule["destinations"])
        src_maybe = EVERYWHERE if rule.get("unresolved_sources") else src_exact
        dst_maybe = EVERYWHERE if rule.get("unresolved_destinations") else dst_exact
        # An error in some parts only (an object missing from the export): there the rule may match
        # anything and surely matches nothing; the other parts bound where it can matter.
        if "sources" in parts:
            src_exact, src_maybe = NOWHERE, EVERYWHERE
        if "destinations" in parts:
            dst_exact, dst_maybe = NOWHERE, EVERYWHERE
        if "services" in parts:
            services = [(ALL_SERVICES, ALL_PORTS, False)]
    return CompiledRule(rule["index"], rule["origin"], rule["action"], rule.get("skip_to"), error,
                        list(rule.get("source_interfaces", ())), list(rule.get("destination_interfaces", ())),
                        bool(rule.get("source_interfaces_negated")), bool(rule.get("destination_interfaces_negated")),
                        services, src_exact, src_maybe, dst_exact, dst_maybe)


ERROR_PARTS = ("sources", "destinations", "services")


def _vdom_faces(rules_fact: dict[str, Any], vdom: str) -> set[str] | None:
    """The interfaces of one VDOM (``vdom_interfaces``), None when the rule list does not say: a zone
    faced only by another VDOM's interfaces is, here, faced by interfaces no one named (unknown)."""
    table = rules_fact.get("vdom_interfaces")
    if table is None:
        return None
    faces = table.get(vdom) if isinstance(table, dict) else None
    if faces is None and isinstance(table, dict):
        return None
    if not isinstance(faces, list) or not all(isinstance(f, str) for f in faces):
        raise FactError(f"vdom_interfaces {_brief(table)}: expected the interface names of each VDOM")
    return set(faces)


def _vdoms(rules_fact: dict[str, Any]) -> list[str]:
    """The VDOMs a rule list names, each its own rule set ([] for a unit without VDOMs); FactError when
    the list and the rules' origins disagree (a rule of no listed VDOM would be analysed by none)."""
    vdoms = rules_fact.get("vdoms")
    if vdoms is None:
        named = next((r for r in rules_fact["rules"] if isinstance(r.get("origin"), dict) and "vdom" in r["origin"]),
                     None)
        if named is not None:
            raise FactError(f"rule {named.get('index', '?')} names VDOM {_brief(named['origin']['vdom'])}, "
                            "but the rule list names no vdoms")
        return []
    if not isinstance(vdoms, list) or not vdoms or not all(isinstance(v, str) for v in vdoms) \
            or len(set(vdoms)) != len(vdoms):
        raise FactError(f"vdoms {_brief(vdoms)}: expected a list of distinct VDOM names")
    for rule in rules_fact["rules"]:
        origin = rule.get("origin")
        if not isinstance(origin, dict) or origin.get("vdom") not in vdoms:
            raise FactError(f"rule {rule.get('index', '?')}: origin.vdom "
                            f"{_brief(origin.get('vdom') if isinstance(origin, dict) else None)} is not one of the "
                            "vdoms the rule list names")
    return list(vdoms)


def _error_parts(rule: dict[str, Any]) -> tuple[str, ...]:
    """The parts of a rule in error that are unknown (``error_parts``); () when the whole rule is."""
    parts = rule.get("error_parts")
    if parts is None:
        return ()
    if not isinstance(parts, list) or not all(isinstance(p, str) and p in ERROR_PARTS for p in parts):
        raise ValueError(f"error_parts {_brief(parts)}: expected a list of {', '.join(ERROR_PARTS)}")
    return tuple(parts)


def _compiled(rule: dict[str, Any], reader: _Reader) -> CompiledRule | None:
    try:
        return _compile(rule, reader)
    except ValueError as exc:
        raise FactError(f"rule {rule.get('index', '?')}: {exc}") from None


Placed = tuple[Ivs, Ivs]  # (exact, maybe) addresses of a rule within one zone's space


class _Grid:
    """A zone's address space cut at every bound of the rules' address sets there, with the cells
    each set covers: the groups of one side are found from it, however many times, without
    sorting the bounds again (one grid per zone pair and side)."""

    def __init__(self, space: Ivs, sets: Iterable[Placed]) -> None:
        distinct = list({id(placed): placed for placed in sets}.values())
        points = {lo for lo, _ in space} | {hi + 1 for _, hi in space}
        for exact, maybe in distinct:
            for lo, hi in maybe:
                points.add(lo)
                points.add(hi + 1)
            if exact is not maybe:
                for lo, hi in exact:
                    points.add(lo)
                    points.add(hi + 1)
        self.cuts = cuts = sorted(points)
        at = {cut: k for k, cut in enumerate(cuts)}
        self.space = [k for lo, hi in space for k in range(at[lo], at[hi + 1])]
        # per set: the cells it may cover, and which of them it surely covers (None: all of them)
        self.cells: dict[int, tuple[list[int], set[int] | None]] = {}
        covering: dict[int, list[int]] = {}
        for placed in distinct:  # a rule's addresses lie within ``space``
            exact, maybe = placed
            sure = None if exact is maybe else {k for lo, hi in exact for k in range(at[lo], at[hi + 1])}
            covered = [k for lo, hi in maybe for k in range(at[lo], at[hi + 1])]
            self.cells[id(placed)] = (covered, sure)
            for k in covered:
                covering.setdefault(k, []).append(id(placed))
        # per set that is exact and not empty: the other sets it shares addresses with
        self.near: dict[int, set[int]] = {id(p): set() for p in distinct if p[0] is p[1] and p[1]}
        for sets in covering.values():
            if len(sets) > 1:
                for one in sets:
                    if one in self.near:
                        self.near[one].update(sets)
        for one, near in self.near.items():
            near.discard(one)

    def partition(self, rules: Iterable[tuple[int, Placed]], keep_empty: bool = True,
                  ) -> list[tuple[Ivs, tuple[int, ...]]]:
        """Split the space into groups of addresses that every rule treats alike.

        ``rules`` are (number, addresses) in evaluation order, the numbers ascending. Each group is
        (addresses, codes) where the codes ``number * 2 + exact?`` list, in order, the rules that
        may match the whole group (``keep_empty=False`` leaves out the addresses no rule may
        match). Addresses with the same list form one group however scattered they are, so that
        a thousand department-to-department policies are analysed as a few hundred small
        problems instead of one problem with a thousand overlapping boxes.
        """
        numbers: list[int] = []
        found: dict[int, int] = {}  # cell: one bit per rule that may cover it, 2 * position + exact?
        get = found.get
        cells = self.cells
        for position, (number, placed) in enumerate(rules):
            numbers.append(number)
            covered, sure = cells[id(placed)]
            inexact = 1 << 2 * position
            if sure is None:
                exact = inexact << 1
                for k in covered:
                    found[k] = get(k, 0) | exact
            else:
                for k in covered:
                    found[k] = get(k, 0) | (inexact << 1 if k in sure else inexact)
        cuts = self.cuts
        groups: dict[int, list[tuple[int, int]]] = {}
        for k in (self.space if keep_empty else sorted(found)):
            signature = get(k, 0)
            ivs = groups.get(signature)
            if ivs is None:
                groups[signature] = [(cuts[k], cuts[k + 1] - 1)]
            elif ivs[-1][1] + 1 == cuts[k]:
                ivs[-1] = (ivs[-1][0], cuts[k + 1] - 1)  # cells come in address order: join neighbours
            else:
                ivs.append((cuts[k], cuts[k + 1] - 1))
        out: list[tuple[Ivs, tuple[int, ...]]] = []
        for signature, ivs in groups.items():
            codes: list[int] = []
            while signature:
                low = signature & -signature
                bit = low.bit_length() - 1
                codes.append(numbers[bit >> 1] * 2 + (bit & 1))
                signature ^= low
            out.append((tuple(ivs), tuple(codes)))
        return out

    def groups(self, rules: list[tuple[int, Placed]]) -> list[tuple[Ivs, tuple[int, ...]]]:
        """:meth:`partition` with ``keep_empty=False``, quicker when the rules' sets mostly overlap
        no other set of the list (the usual destination side): such a set is a group by itself."""
        present: dict[int, int] = {}
        for _, placed in rules:
            present[id(placed)] = present.get(id(placed), 0) + 1
        alone: list[tuple[Ivs, tuple[int, ...]]] = []
        tangled: list[tuple[int, Placed]] = []
        near = self.near
        for number, placed in rules:
            others = near.get(id(placed))
            if others is not None and present[id(placed)] == 1 and others.isdisjoint(present):
                alone.append((placed[1], (number * 2 + 1,)))
            else:
                tangled.append((number, placed))
        out = self.partition(tangled, keep_empty=False) + alone if tangled else alone
        if len(out) > 1:
            out.sort(key=_first_address)  # groups are disjoint: in address order, as partition gives them
        return out


def _first_address(group: tuple[Ivs, tuple[int, ...]]) -> int:
    return group[0][0][0]


def _place(memo: dict[tuple[int, int], Placed], exact: Ivs, maybe: Ivs, space: Ivs) -> Placed:
    """A rule's (exact, maybe) addresses within ``space``: one object per distinct set, as sets repeat."""
    key = (id(exact), id(maybe))
    placed = memo.get(key)
    if placed is None:
        within = inter(maybe, space)
        placed = memo[key] = (within if exact is maybe else inter(exact, space), within)
    return placed


# --- zones -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Zone:
    name: str
    segment: str
    role: str
    interfaces: tuple[str, ...]
    addresses: dict[int, Ivs]


EXTERNAL = "external"


def zones_of(zones_fact: list[dict[str, Any]], external: dict[str, Any] | None = None) -> list[Zone]:
    """The zones of the ``zones`` area, plus the pseudo-zone ``external``: every address in no zone.

    The pseudo-zone is faced by the interfaces of the zones whose segment is ``external`` (the
    WAN side), when the file lists any; else by those the importer inferred from the device's
    routes (``external``: the rule list's ``external_zone``). The zones must not share an address
    (the loader gives nested zones only the addresses their own networks do not leave to more
    specific zones): a bundle edited to make them overlap cannot be analysed.
    """
    out = [Zone(z["name"], z["segment"], z["role"], tuple(z.get("interfaces", [])), _zone_addresses(z))
           for z in zones_fact]
    for family in (4, 6):
        spans = sorted((lo, hi, z.name) for z in out for lo, hi in z.addresses[family])
        for (_, hi, first), (lo, _, second) in zip(spans, spans[1:], strict=False):
            if lo <= hi:
                raise FactError(f"zones {_brief(first)} and {_brief(second)} share the address "
                                f"{address_text(family, lo)}: every address belongs to at most one zone")
    taken = {f: union([z.addresses[f] for z in out]) for f in (4, 6)}
    wan = tuple(dict.fromkeys(i for z in out if z.segment == EXTERNAL for i in z.interfaces))
    if not wan and isinstance(external, dict) and isinstance(external.get("interfaces"), list):
        wan = tuple(str(i) for i in external["interfaces"])
    rest = {f: minus(((0, ADDRESS_MAX[f]),), taken[f]) for f in (4, 6)}
    if not any(z.name == EXTERNAL for z in out):
        out.append(Zone(EXTERNAL, EXTERNAL, "", wan, rest))
    return out


def _zone_addresses(zone: dict[str, Any]) -> dict[int, Ivs]:
    try:
        return _addresses(zone["intervals"])
    except ValueError as exc:
        raise FactError(f"zone {_brief(zone['name'])}: {exc}") from None


def _interface_match(patterns: list[str], negated: bool, faces: tuple[str, ...]) -> str:
    """``yes``, ``no`` or ``maybe``: does a rule's interface condition match traffic of a zone?"""
    if not patterns:
        return "no" if negated else "yes"
    if not faces:
        return "maybe"
    hits = set()
    for face in faces:
        hit = any(p == face or (p[-1:] in ("+", "*") and face.startswith(p[:-1])) for p in patterns)
        hits.add(hit != negated)
    return "yes" if hits == {True} else "no" if hits == {False} else "maybe"


# --- the analysis ------------------------------------------------------------------------------


@dataclass(slots=True)
class Verdict:
    """Part of a zone pair's space that a new connection may take, and why."""

    box: Box
    rule: int | None  # the deciding rule's index; None: the default action
    undetermined_by: int | None = None  # the rule whose uncertain match makes the verdict open


@dataclass
class PairFlows:
    family: int
    source: Zone
    destination: Zone
    accepted: list[Verdict]
    undetermined: list[Verdict]


class RuleSet:
    """A ``firewall_rules`` area compiled once; :meth:`pair` analyses one zone pair on demand.

    A multi-VDOM FortiGate's area lists its VDOMs (``vdoms``) and each rule's ``origin.vdom``: every
    VDOM is its own first-match list (``parts``, one RuleSet each), and a zone pair's flows are those
    any VDOM lets through."""

    def __init__(self, rules_fact: dict[str, Any], zones_fact: list[dict[str, Any]], vdom: str | None = None,
                 zones: list[Zone] | None = None) -> None:
        self.fact = rules_fact
        self.default_action = rules_fact["default_action"]
        self.rules = rules_fact["rules"]
        self.vdom = vdom
        vdoms = _vdoms(rules_fact) if vdom is None else []
        self.zones = zones if zones is not None else zones_of(zones_fact, rules_fact.get("external_zone"))
        if vdom is not None:  # a zone is faced, in this VDOM, by those of its interfaces the VDOM has
            faces = _vdom_faces(rules_fact, vdom)
            if faces is not None:
                self.zones = [replace(z, interfaces=tuple(i for i in z.interfaces if i in faces)) for z in self.zones]
        self.zone_named = {z.name: z for z in self.zones}
        self.parts = [RuleSet(rules_fact, zones_fact, v, self.zones) for v in vdoms] or [self]
        # the rules of this rule set (one VDOM's, or all), in order
        self.own = self.rules if vdom is None else [r for r in self.rules if r["origin"].get("vdom") == vdom]
        if vdoms:
            self.compiled = [c for part in self.parts for c in part.compiled]
        else:
            reader = _Reader()
            with paused_gc():
                self.compiled = [c for c in (_compiled(r, reader) for r in self.own) if c is not None]
        self._cache: dict[tuple[int, str, str], PairFlows] = {}
        self._relevant: dict[int, dict[tuple[str, str], list[CompiledRule]]] = {}
        self._faces: dict[tuple[tuple[tuple[str, ...], bool], tuple[str, ...]], str] = {}

    def zones_seen_by(self, rule: dict[str, Any], *zones: Zone) -> list[Zone]:
        """The zones as the rule set of a rule's VDOM sees them (faced by that VDOM's interfaces)."""
        vdom = rule["origin"].get("vdom") if isinstance(rule.get("origin"), dict) else None
        part = next((p for p in self.parts if p.vdom == vdom), self)
        return [part.zone_named.get(z.name, z) for z in zones]

    def _touched(self, family: int) -> dict[tuple[str, str], list[CompiledRule]]:
        """For each zone pair, the rules that may match some of its traffic, in order.

        Built once per family by locating each rule's address intervals among the zones
        (which partition the address space), so that a pair's analysis does not visit the
        thousands of rules about other zones.
        """
        if family in self._relevant:
            return self._relevant[family]
        spans = sorted((lo, hi, z.name) for z in self.zones for lo, hi in z.addresses[family])
        starts = [lo for lo, _, _ in spans]
        found: dict[int, list[str]] = {}  # by address set: rules naming the same objects share the set

        def zones_in(ivs: Ivs) -> list[str]:
            zones = found.get(id(ivs))
            if zones is None:
                names: dict[str, None] = {}
                for lo, hi in ivs:
                    at = max(bisect.bisect_right(starts, lo) - 1, 0)
                    while at < len(spans) and spans[at][0] <= hi:
                        if spans[at][1] >= lo:
                            names[spans[at][2]] = None
                        at += 1
                zones = found[id(ivs)] = list(names)
            return zones

        table: dict[tuple[str, str], list[CompiledRule]] = {}
        for rule in self.compiled:
            destinations = zones_in(rule.dst_maybe[family])
            for s in zones_in(rule.src_maybe[family]):
                for d in destinations:
                    table.setdefault((s, d), []).append(rule)
        self._relevant[family] = table
        return table

    def origin(self, index: int | None) -> dict[str, Any] | None:
        return None if index is None else self.rules[index]["origin"]

    def pair(self, family: int, source: Zone, destination: Zone) -> PairFlows:
        key = (family, source.name, destination.name)
        found = self._cache.get(key)
        if found is None:
            if gc.isenabled():
                with paused_gc():
                    found = self._analyse(family, source, destination)
            else:  # the caller paused it (reachability does): a zones file of hundreds of zones is 10^5 pairs
                found = self._analyse(family, source, destination)
            self._cache[key] = found
        return found

    def _analyse(self, family: int, source: Zone, destination: Zone) -> PairFlows:
        flows = PairFlows(family, source, destination, [], [])
        if self.parts[0] is not self:  # VDOMs: what any of them lets through
            for part in self.parts:
                found = part._analyse(family, part.zone_named[source.name], part.zone_named[destination.name])
                flows.accepted += found.accepted
                flows.undetermined += found.undetermined
            return flows
        src_space, dst_space = source.addresses[family], destination.addresses[family]
        if not src_space or not dst_space:
            return flows
        faces = self._faces
        rules: list[CompiledRule] = []
        sure_faces: list[bool] = []
        sources: list[Placed] = []
        destinations: list[Placed] = []
        src_placed: dict[tuple[int, int], Placed] = {}
        dst_placed: dict[tuple[int, int], Placed] = {}
        for rule in self._touched(family).get((source.name, destination.name), []):
            key = (rule.source_faces, source.interfaces)
            src_if = faces.get(key)
            if src_if is None:
                src_if = faces[key] = _interface_match(*rule.source_faces, source.interfaces)
            key = (rule.destination_faces, destination.interfaces)
            dst_if = faces.get(key)
            if dst_if is None:
                dst_if = faces[key] = _interface_match(*rule.destination_faces, destination.interfaces)
            if src_if == "no" or dst_if == "no":
                continue
            rules.append(rule)
            sure_faces.append(src_if == dst_if == "yes")
            sources.append(_place(src_placed, rule.src_exact[family], rule.src_maybe[family], src_space))
            destinations.append(_place(dst_placed, rule.dst_exact[family], rule.dst_maybe[family], dst_space))
        deny_by_default = self.default_action == "deny"
        if not rules and deny_by_default:
            return flows  # most pairs of a zones file of hundreds of zones: nothing to partition
        dst_grid = _Grid(dst_space, destinations)
        sweeps: dict[tuple[int, ...], list[Decided]] = {}  # codes number * 2 + exact: the rules' verdicts
        # Source groups whose destination group and rules are the same share their verdicts: one
        # verdict per (destination addresses, verdict list), the source groups joined, in the order
        # they first come (so that the first verdict of each rule is the one at its lowest address).
        joined: dict[tuple[int, int], tuple[Ivs, list[Decided], list[Ivs]]] = {}
        for src_ivs, src_codes in _Grid(src_space, sources).partition(enumerate(sources)):
            if deny_by_default and not any(rules[code >> 1].may_accept for code in src_codes):
                continue  # only denies here: nothing gets through
            sure = {code >> 1: sure_faces[code >> 1] and code & 1 for code in src_codes}
            surely = all(sure.values())  # then a destination group's codes are its rules' codes
            placed = [(code >> 1, destinations[code >> 1]) for code in src_codes]
            by_destination = dst_grid.groups(placed) if deny_by_default else dst_grid.partition(placed)
            for dst_ivs, codes in by_destination:
                if deny_by_default and len(codes) == 1 and not rules[codes[0] >> 1].may_accept:
                    continue
                signature = codes if surely else tuple(code & ~1 | (sure[code >> 1] and code & 1) for code in codes)
                decided = sweeps.get(signature)
                if decided is None:
                    decided = sweeps[signature] = self._sweep([(rules[code >> 1], code & 1 == 1)
                                                               for code in signature])
                if decided:
                    key = (id(dst_ivs), id(decided))  # both kept alive by ``joined`` and ``sweeps``
                    found = joined.get(key)
                    if found is None:
                        joined[key] = (dst_ivs, decided, [src_ivs])
                    else:
                        found[2].append(src_ivs)
        accepted, undetermined = flows.accepted, flows.undetermined
        for dst_ivs, decided, parts in joined.values():
            src_ivs = parts[0] if len(parts) == 1 else union(parts)
            for (services, sports), index, unsure in decided:
                (accepted if unsure is None else undetermined).append(
                    Verdict((src_ivs, dst_ivs, services, sports), index, unsure))
        return flows

    def _sweep(self, rules: list[tuple[CompiledRule, bool]]) -> list[Decided]:
        """First match over the services of one group of addresses, which every rule here covers whole:
        the space left is two-dimensional (service, source port). The verdicts do not depend on the
        addresses, so one list serves every group with the same rules (most groups have one rule)."""
        out: list[Decided] = []
        if all(sure and rule.plain is not None for rule, sure in rules):
            self._sweep_services(rules, out)
            return out
        region: list[tuple[Cell, tuple[Taint, ...]]] = [((ALL_SERVICES, ALL_PORTS), ())]
        pending: dict[int, list[tuple[Cell, tuple[Taint, ...]]]] = {}  # skipped space, by where it resumes
        for rule, sure in rules:
            for resume in [r for r in pending if r <= rule.index]:
                region.extend(pending.pop(resume))
            if not region:
                if not pending:
                    break
                continue
            region = self._apply(rule, sure, region, pending, out)
        for leftover in pending.values():
            region.extend(leftover)
        for cell, taints in region:
            _decide(cell, taints, self.default_action, None, out)
        return out

    def _sweep_services(self, rules: list[tuple[CompiledRule, bool]], out: list[Decided]) -> None:
        """:meth:`_sweep` when every rule decides exactly and ignores source ports: one dimension left."""
        left = ALL_SERVICES
        for rule, _ in rules:
            services = rule.plain
            taken = left if services is ALL_SERVICES else inter(left, services)
            if taken:
                if rule.action == "accept":
                    out.append(((taken, ALL_PORTS), rule.index, None))
                left = () if taken is left else minus(left, taken)
                if not left:
                    return
        if self.default_action == "accept":
            out.append(((left, ALL_PORTS), None, None))

    def _apply(self, rule: CompiledRule, sure: bool, region: list[tuple[Cell, tuple[Taint, ...]]],
               pending: dict[int, list[tuple[Cell, tuple[Taint, ...]]]], out: list[Decided],
               ) -> list[tuple[Cell, tuple[Taint, ...]]]:
        verdict = rule.action if rule.action in ("accept", "deny") else None  # uncertain skip: either way
        maybe = rule.maybe_cells
        exact = rule.exact_cells if sure else []
        kept: list[tuple[Cell, tuple[Taint, ...]]] = []
        for cell, taints in region:
            outside, matched = _split(cell, maybe)
            kept.extend((part, taints) for part in outside)
            for part in matched:
                unsure, decided = _split(part, exact)
                for common in decided:
                    if rule.action == "skip":
                        target = rule.skip_to if rule.skip_to is not None else len(self.rules)
                        pending.setdefault(target, []).append((common, taints))
                    else:
                        _decide(common, taints, rule.action, rule.index, out)
                kept.extend((piece, taints + ((rule.index, verdict),)) for piece in unsure)
        return kept


Decided = tuple[Cell, int | None, int | None]  # a cell let through: (cell, deciding rule, undetermined by)


def _decide(cell: Cell, taints: tuple[Taint, ...], action: str, index: int | None, out: list[Decided]) -> None:
    """Record ``cell`` if a new connection may pass there: undetermined when a rule it is tainted by
    could have given another verdict than ``action``."""
    possible = {action}
    for _, verdict in taints:
        possible |= {verdict} if verdict else {"accept", "deny"}
    if possible == {"deny"}:
        return
    if possible == {"accept"}:
        out.append((cell, index, None))
        return
    out.append((cell, index, next(i for i, v in taints if v != action)))


# --- presenting a box --------------------------------------------------------------------------


def address_text(family: int, value: int) -> str:
    if family == 4:  # as ipaddress writes it, without making an address object for each finding
        return f"{value >> 24}.{value >> 16 & 255}.{value >> 8 & 255}.{value & 255}"
    return str(ipaddress.IPv6Address(value))


@functools.lru_cache(maxsize=4096)  # findings of a large rule set name the same few service sets
def services_text(services: Ivs) -> str:
    """``tcp/445, tcp/3389-3390, udp, icmp`` for a service interval set; ``any`` for all of it."""
    if services == ALL_SERVICES:
        return "any"
    rest = minus(ALL_SERVICES, services)
    if len(rest) < len(services):  # "any except tcp/25" reads better than 250 protocol numbers
        return "any except " + services_text(rest)
    parts: list[str] = []
    for lo, hi in services:
        p_lo, p_hi = lo >> 16, hi >> 16
        for proto in range(p_lo, p_hi + 1):
            first = lo & 0xFFFF if proto == p_lo else 0
            last = hi & 0xFFFF if proto == p_hi else PORT_MAX
            name = PROTOCOL_NAMES.get(proto, f"ip/{proto}")
            if name not in PORT_PROTOCOLS:
                if name in ("icmp", "icmpv6") and (first, last) != (0, PORT_MAX):
                    parts.append(f"{name} type {first}" + (f"-{last}" if last != first else ""))
                else:
                    parts.append(name)
            elif (first, last) == (0, PORT_MAX):
                parts.append(f"{name}/any")
            else:
                parts.append(f"{name}/{first}" + (f"-{last}" if last != first else ""))
        if len(parts) > 12:
            return ", ".join(parts[:12]) + ", …"
    return ", ".join(parts)


TELLING_PORTS = (445, 3389, 22, 23, 21, 25, 80, 443, 53, 161)  # an example an inspector recognises


@functools.lru_cache(maxsize=4096)
def example_service(services: Ivs) -> tuple[str, int | None]:
    """A representative (protocol, port) of a service set: TCP first, then UDP, then what is there;
    a well-known port when the set holds one, else its lowest port above 0."""
    for proto in (6, 17, 1, 58):
        hit = inter(services, ((proto << 16, (proto << 16) + PORT_MAX),))
        if hit:
            name = PROTOCOL_NAMES[proto]
            if name not in PORT_PROTOCOLS:
                return name, None
            ports = [(lo & 0xFFFF, hi & 0xFFFF) for lo, hi in hit]
            for port in TELLING_PORTS:
                if any(lo <= port <= hi for lo, hi in ports):
                    return name, port
            lo, hi = ports[0]
            return name, lo if lo > 0 or hi == 0 else 1
    lo = services[0][0]
    return PROTOCOL_NAMES.get(lo >> 16, f"ip/{lo >> 16}"), None


def example_flow(family: int, box: Box) -> str:
    """One concrete packet of a box: ``10.30.0.1 → 10.10.16.5 tcp/445``."""
    protocol, port = example_service(box[2])
    service = f"{protocol}/{port}" if port is not None else protocol
    return f"{address_text(family, box[0][0][0])} → {address_text(family, box[1][0][0])} {service}"


def origin_text(origin: dict[str, Any] | None, default_action: str) -> str:
    """How an inspector finds the rule: ``policy 12 "allow-smb" (fortigate.conf:340)``."""
    if origin is None:
        return f"default action {default_action}"
    kind = origin["kind"]
    label = f"policy {origin['id']}" if kind == "fortigate-policy" else f"rule {origin['id']}"
    if origin.get("name"):
        label += f' "{origin["name"]}"'
    where = f"{origin['file']}:{origin['line']}" if origin.get("file") else f"line {origin['line']}"
    if origin.get("vdom"):  # policy ids repeat from one VDOM to the next
        where = f"vdom {origin['vdom']}, {where}"
    via = origin.get("via")
    return f"{label} ({where})" + (f" via {' → '.join(via)}" if via else "")
