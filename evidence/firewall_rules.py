"""The normalised rule model shared by the firewall importers (``firewall_rules`` area).

FortiGate policies and iptables chains are turned into one ordered list of rules that
the reachability analysis evaluates first-match, so that the analysis never needs to know
a vendor's syntax. Everything a rule matches is kept exact: address sets as intervals,
ports as ranges, negations resolved into complements. A rule whose meaning the importer
cannot represent exactly carries ``error`` instead of being guessed as accept or deny.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.evidence.addresses import Interval, to_text
from auditor.evidence.bundle import BundleBuilder

from auditor.limits import check_int_text

PortRange = tuple[int, int]
ALL_PORTS: list[PortRange] = [(0, 65535)]
PORT_PROTOCOLS = ("tcp", "udp", "sctp")
ERROR_PARTS = ("sources", "destinations", "services")  # what an error may leave unknown (Rule.error_parts)
SHOWN = 60  # characters of a value quoted in a message: a hostile value may be megabytes long


def shown(text: str | None) -> str:
    """A value as a message quotes it (``repr``), cut short when long."""
    return repr(text if text is None or len(text) <= SHOWN else text[:SHOWN] + "...")


def cut(text: str, limit: int = SHOWN) -> str:
    """A name as a message writes it unquoted (a chain, a table, a block), cut short when long."""
    return text if len(text) <= limit else text[:limit] + "..."


def path_text(names: list[str] | tuple[str, ...], quote: bool = False) -> str:
    """``a → b → c``: a chain of nested groups or jumps as a message writes it, long ones elided."""
    if len(names) > 6:
        return " → ".join([path_text(names[:3], quote), "...", path_text(names[-2:], quote)])
    return " → ".join(shown(n) if quote else cut(n, 40) for n in names)


def decimal(text: str, file: str, line: int | None = None) -> int | None:
    """The value of a plain decimal number as the appliances write one (ASCII digits only), or None for
    any other text. ``str.isdigit`` alone also admits ``²``, which ``int()`` refuses with a ValueError,
    and ``int()`` refuses 4,300 digits: more than MAX_INT_DIGITS is an InputError naming the line."""
    if not text.isascii() or not text.isdigit():
        return None
    check_int_text(text, file, line)
    return int(text)


@dataclass
class Service:
    """One protocol with destination (and source) port ranges; ports only for tcp/udp/sctp."""

    protocol: str  # tcp | udp | sctp | icmp | icmpv6 | ip | any
    ports: list[PortRange] = field(default_factory=lambda: list(ALL_PORTS))
    source_ports: list[PortRange] = field(default_factory=lambda: list(ALL_PORTS))
    number: int | None = None  # protocol ip: the IP protocol number
    icmp_type: str | None = None  # icmp: only this type (iptables --icmp-type), as written

    def as_fact(self) -> dict[str, Any]:
        """The bundle form, built once: a service object is shared by every rule that names it."""
        key = (self.protocol, tuple(self.ports), tuple(self.source_ports), self.number, self.icmp_type)
        if getattr(self, "_fact_key", None) != key:
            self._fact, self._fact_key = self._build_fact(), key
        return self._fact

    def _build_fact(self) -> dict[str, Any]:
        out: dict[str, Any] = {"protocol": self.protocol}
        if self.protocol in PORT_PROTOCOLS:
            out["ports"] = [list(p) for p in merge_ports(self.ports)]
            out["source_ports"] = [list(p) for p in merge_ports(self.source_ports)]
        if self.number is not None:
            out["number"] = self.number
        if self.icmp_type is not None:
            out["icmp_type"] = self.icmp_type
        return out


def merge_ports(ranges: list[PortRange]) -> list[PortRange]:
    out: list[PortRange] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            out.append((lo, hi))
    return out


def port_intersection(a: list[PortRange], b: list[PortRange]) -> list[PortRange]:
    """Ports in both range lists (a jump's ports narrowing an inlined rule's)."""
    return merge_ports([(max(x[0], y[0]), min(x[1], y[1])) for x in a for y in b if max(x[0], y[0]) <= min(x[1], y[1])])


def port_complement(ranges: list[PortRange]) -> list[PortRange]:
    """Every port 0-65535 not in the ranges (a negated port match)."""
    out: list[PortRange] = []
    nxt = 0
    for lo, hi in merge_ports(ranges):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= 65535:
        out.append((nxt, 65535))
    return out


@dataclass
class Rule:
    """One normalised rule; see docs/facts.md ``firewall_rules`` for each key's meaning."""

    origin: dict[str, Any]
    action: str  # accept | deny | skip | log
    sources: list[Interval]
    destinations: list[Interval]
    services: list[Service]
    enabled: bool = True
    new_connections: bool = True
    states: list[str] | None = None
    source_interfaces: list[str] = field(default_factory=list)
    destination_interfaces: list[str] = field(default_factory=list)
    source_interfaces_negated: bool = False
    destination_interfaces_negated: bool = False
    unresolved_sources: list[str] = field(default_factory=list)
    unresolved_destinations: list[str] = field(default_factory=list)
    skip_to: int | None = None
    schedule: str | None = None
    log: bool | None = None
    log_mode: str | None = None  # FortiGate: the policy's logtraffic as written (all, utm, disable)
    av_profile: str | None = None  # FortiGate: the antivirus profile applied (None: none), see av_recorded
    av_recorded: bool = False  # whether the importer can tell (only FortiGate records av_profile)
    error: str | None = None
    # With an error: the parts of the match it leaves unknown (ERROR_PARTS, e.g. a policy naming an
    # object missing from the export); the rest is exact. None: the whole rule is unknown.
    error_parts: list[str] | None = None

    def as_fact(self, index: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": index, "origin": self.origin, "enabled": self.enabled, "action": self.action,
            "sources": to_text(self.sources), "destinations": to_text(self.destinations),
            "services": [s.as_fact() for s in self.services],
            "new_connections": self.new_connections,
            "source_interfaces": list(self.source_interfaces),
            "destination_interfaces": list(self.destination_interfaces),
            "source_interfaces_negated": self.source_interfaces_negated,
            "destination_interfaces_negated": self.destination_interfaces_negated,
            "unresolved_sources": list(self.unresolved_sources),
            "unresolved_destinations": list(self.unresolved_destinations),
            "error": self.error,
        }
        if self.states is not None:
            out["states"] = list(self.states)
        if self.skip_to is not None:
            out["skip_to"] = self.skip_to
        if self.schedule is not None:
            out["schedule"] = self.schedule
        if self.log is not None:
            out["log"] = self.log
        if self.log_mode is not None:
            out["log_mode"] = self.log_mode
        if self.av_recorded:
            out["av_profile"] = self.av_profile
        if self.error and self.error_parts:
            out["error_parts"] = list(self.error_parts)
        return out


def rules_fact(device: str, default_action: str, rules: list[Rule], chain: str | None = None) -> dict[str, Any]:
    """The ``firewall_rules`` area value."""
    out: dict[str, Any] = {"device": device, "default_action": default_action,
                           "rules": [r.as_fact(i) for i, r in enumerate(rules)]}
    if chain is not None:
        out["chain"] = chain
    return out


def store_rules(builder: BundleBuilder, area: str, path: Path, fact: dict[str, Any], rules: list[Rule]) -> None:
    """Set a rule-list area, with an ``errors`` entry for each rule the importer could not read exactly,
    naming its file, line and origin (what every firewall importer writes the same way)."""
    builder.set_fact(area, fact)
    for index, rule in enumerate(rules):
        if rule.error:
            origin = rule.origin
            label = f"policy {origin['id']}" if origin["kind"] == "fortigate-policy" else origin["id"]
            if origin.get("vdom"):
                label += f" of vdom {origin['vdom']}"
            builder.add_error(area, f"{path}:{origin['line']}: {label} (rule {index}): {rule.error}", str(path))
