"""``iptables-save`` output into the normalised ``firewall_rules`` area (IPv4 filter table).

Flows through the device are decided by the FORWARD chain, flows to it by INPUT; each is
flattened into one first-match list: a jump to a user chain is replaced by that chain's
rules, each narrowed by the jump's own matches (an exact conjunction: address intervals
and port ranges intersected), and a ``-j RETURN`` becomes a ``skip`` to the rule after
the inlined chain, so the order and semantics of the kernel's evaluation are kept without
sampling. ``! -s`` and negated ports are resolved into complements. An ESTABLISHED,RELATED
accept gets ``new_connections: false``. LOG (non-terminating) is kept as ``log``.

An unknown match module, option or target, ``-g`` (goto) and negations the model cannot
express set that rule's ``error`` (never read as accept or deny). A malformed file — a
rule outside ``*table``/``COMMIT``, a jump to an undefined chain, a chain loop, a bad
address or port — is an InputError naming the line.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path

from auditor.evidence.addresses import ANY4, Interval, complement, intersect, normalise, parse_network
from auditor.evidence.bundle import BundleBuilder
from auditor.evidence.firewall_rules import ALL_PORTS, PortRange, Rule, Service, merge_ports, rules_fact
from auditor.evidence.importers import ImportOptions, register
from auditor.evidence.importers.fortigate import store_zones
from auditor.evidence.importers.textio import decode
from auditor.evidence.zones import load_zones

from auditor.errors import InputError

BUILTIN = {"INPUT", "FORWARD", "OUTPUT"}
STATES = ("NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED")
DENY = {"DROP", "REJECT"}
NON_DECIDING = {"LOG", "NFLOG", "ULOG"}
# Targets of the filter table other than the above: kept as non-deciding rules with an error
# (NFQUEUE hands the verdict to a user-space program the audit cannot see).
EXTENSION_TARGETS = {"MARK", "CONNMARK", "NFQUEUE", "QUEUE", "CT", "TCPMSS", "AUDIT", "TRACE", "CLASSIFY",
                     "DSCP", "TOS", "SECMARK", "CONNSECMARK", "SET", "CHECKSUM", "TEE", "IDLETIMER", "LED"}
MODULES = {"tcp", "udp", "sctp", "icmp", "multiport", "iprange", "conntrack", "state", "comment"}
IGNORED_TARGET_OPTIONS = {"--reject-with", "--log-prefix", "--log-level", "--log-tcp-sequence", "--log-tcp-options",
                          "--log-ip-options", "--log-uid", "--nflog-group", "--nflog-prefix", "--nflog-threshold"}


@dataclass
class Line:
    """One ``-A`` rule as written: its matches, target and where it came from."""

    chain: str
    position: int  # 1-based within the chain
    line: int
    rule: Rule
    target: str | None
    goto: bool = False


@dataclass
class Table:
    policies: dict[str, tuple[str, int]] = field(default_factory=dict)
    rules: dict[str, list[Line]] = field(default_factory=dict)


def parse_save(text: str, name: str) -> Table:
    """The filter table of an iptables-save file (other tables are checked for shape only)."""
    table: str | None = None
    table_line = 0
    found: Table | None = None
    current = Table()
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and "] " in line:  # iptables-save -c: packet and byte counters first
            line = line.split("] ", 1)[1]
        if line.startswith("*"):
            if table is not None:
                raise InputError(name, f"table *{table} not closed by COMMIT before {line}", line=number)
            table, current, table_line = line[1:], Table(), number
        elif line == "COMMIT":
            if table is None:
                raise InputError(name, "COMMIT outside a table", line=number)
            if table == "filter":
                found = current
            table = None
        elif table is None:
            raise InputError(name, f"{line[:40]!r} outside a table (*filter ... COMMIT)", line=number)
        elif line.startswith(":"):
            parts = line[1:].split()
            if len(parts) < 2:
                raise InputError(name, f"bad chain line {line!r}", line=number)
            current.policies[parts[0]] = (parts[1], number)
            current.rules.setdefault(parts[0], [])
        elif line.startswith("-A ") or line.startswith("--append "):
            try:
                words = shlex.split(line)
            except ValueError:
                raise InputError(name, "unbalanced quotes", line=number) from None
            chain = words[1]
            if chain not in current.policies:
                raise InputError(name, f"rule in undeclared chain {chain!r}", line=number)
            entries = current.rules[chain]
            entries.append(parse_rule(words[2:], chain, len(entries) + 1, number, name))
        else:
            raise InputError(name, f"unexpected line {line[:40]!r} (expected :CHAIN, -A or COMMIT)", line=number)
    if table is not None:
        raise InputError(name, f"table *{table} is not closed by COMMIT", line=table_line)
    if found is None:
        raise InputError(name, "no *filter table: not iptables-save output of the filter rules")
    return found


def _addresses(text: str, name: str, number: int) -> list[Interval]:
    try:
        return normalise([parse_network(part) for part in text.split(",")])
    except ValueError as exc:
        raise InputError(name, f"bad address {text!r}: {exc}", line=number) from None


def _port_list(text: str, name: str, number: int) -> list[PortRange]:
    out: list[PortRange] = []
    for part in text.split(","):
        lo_text, _, hi_text = part.partition(":")
        try:
            lo, hi = int(lo_text or 0), int(hi_text or (65535 if ":" in part else lo_text))
        except ValueError:
            raise InputError(name, f"bad port {part!r} (service names are not resolved)", line=number) from None
        if not 0 <= lo <= hi <= 65535:
            raise InputError(name, f"bad port range {part!r}", line=number)
        out.append((lo, hi))
    return merge_ports(out)


def _port_complement(ranges: list[PortRange]) -> list[PortRange]:
    out: list[PortRange] = []
    nxt = 0
    for lo, hi in merge_ports(ranges):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= 65535:
        out.append((nxt, 65535))
    return out


def parse_rule(words: list[str], chain: str, position: int, number: int, name: str) -> Line:
    """The matches and target of one rule's words (after ``-A CHAIN``)."""
    origin = {"kind": "iptables-rule", "id": f"{chain}#{position}", "chain": chain, "line": number, "file": name}
    rule = Rule(origin=origin, action="log", sources=list(ANY4), destinations=list(ANY4), services=[])
    protocol = "any"
    number_proto: int | None = None
    dports: list[PortRange] = list(ALL_PORTS)
    sports: list[PortRange] = list(ALL_PORTS)
    icmp_type: str | None = None
    problems: list[str] = []
    target: str | None = None
    goto = False
    modules: set[str] = set()
    i, negate = 0, False

    def value() -> str:
        nonlocal i
        i += 1
        if i >= len(words):
            raise InputError(name, f"{words[i - 1]} needs a value", line=number)
        return words[i]

    while i < len(words):
        word = words[i]
        if word == "!":
            negate = True
            i += 1
            continue
        if word in ("-s", "--source", "-d", "--destination"):
            addresses = _addresses(value(), name, number)
            if negate:
                addresses = complement(addresses)
            if word in ("-s", "--source"):
                rule.sources = intersect(rule.sources, addresses)
            else:
                rule.destinations = intersect(rule.destinations, addresses)
        elif word in ("--src-range", "--dst-range") and "iprange" in modules:
            addresses = _addresses(value(), name, number)
            if negate:
                addresses = complement(addresses)
            if word == "--src-range":
                rule.sources = intersect(rule.sources, addresses)
            else:
                rule.destinations = intersect(rule.destinations, addresses)
        elif word in ("-p", "--protocol"):
            text = value().lower()
            if negate:
                problems.append(f"negated protocol ! -p {text} is not modelled")
            elif text in ("tcp", "udp", "sctp", "icmp"):
                protocol = text
            elif text in ("all", "0"):
                protocol = "any"
            elif text.isdigit():
                protocol = {"6": "tcp", "17": "udp", "1": "icmp", "132": "sctp"}.get(str(int(text)), "ip")
                number_proto = int(text) if protocol == "ip" else None
            else:
                problems.append(f"protocol {text!r} is not modelled")
        elif word in ("-i", "--in-interface", "-o", "--out-interface"):
            interface = value()
            if word in ("-i", "--in-interface"):
                rule.source_interfaces, rule.source_interfaces_negated = [interface], negate
            else:
                rule.destination_interfaces, rule.destination_interfaces_negated = [interface], negate
        elif word in ("-m", "--match"):
            module = value()
            modules.add(module)
            if module not in MODULES:
                problems.append(f"match module {module!r} is not modelled")
        elif word in ("--dport", "--destination-port", "--sport", "--source-port", "--dports", "--sports",
                      "--destination-ports", "--source-ports"):
            ports = _port_list(value(), name, number)
            if negate:
                ports = _port_complement(ports)
            if word.startswith("--d"):
                dports = ports
            else:
                sports = ports
        elif word in ("--ctstate", "--state"):
            states = [s.upper() for s in value().split(",")]
            unknown = [s for s in states if s not in STATES + ("SNAT", "DNAT")]
            if unknown or {"SNAT", "DNAT"} & set(states):
                problems.append(f"conntrack state {','.join(states)} is not modelled")
            chosen = [s for s in STATES if (s in states) != negate]
            rule.states = chosen
        elif word == "--comment":
            rule.origin["name"] = value()
        elif word == "--icmp-type":
            icmp_type = value()
            if negate:
                problems.append("negated --icmp-type is not modelled")
        elif word == "--syn":
            pass  # only the first packet of a TCP connection: the flow it opens is the same
        elif word in ("-j", "--jump", "-g", "--goto"):
            goto = word in ("-g", "--goto")
            target = value()
        elif word in IGNORED_TARGET_OPTIONS:
            value()
        elif word in ("-c", "--set-counters"):
            i += 2
        else:
            problems.append(f"option {word!r} is not modelled")
            if i + 1 < len(words) and not words[i + 1].startswith("-") and words[i + 1] != "!":
                i += 1
        negate = False
        i += 1
    if protocol in ("tcp", "udp", "sctp"):
        rule.services = [Service(protocol, dports, sports)]
    else:
        if dports != ALL_PORTS or sports != ALL_PORTS:
            problems.append("ports without -p tcp, udp or sctp")
        rule.services = [Service(protocol, number=number_proto, icmp_type=icmp_type if protocol == "icmp" else None)]
    if rule.states is not None:
        rule.new_connections = bool({"NEW", "UNTRACKED"} & set(rule.states))
    if goto:
        problems.append("-g (goto) is not modelled")
    if problems:
        rule.error = "; ".join(problems)
    return Line(chain, position, number, rule, target, goto)


def _narrow(inner: Rule, outer: Rule) -> Rule:
    """``inner`` evaluated only for packets that also matched ``outer`` (a jump's matches)."""
    out = replace(inner, sources=intersect(inner.sources, outer.sources),
                  destinations=intersect(inner.destinations, outer.destinations),
                  origin={**inner.origin, "via": [*outer.origin.get("via", []), outer.origin["id"]]})
    services: list[Service] = []
    for a in outer.services:
        for b in inner.services:
            if a.protocol == "any":
                services.append(b)
            elif b.protocol == "any":
                services.append(a)
            elif a.protocol == b.protocol and a.number == b.number:
                ports = _port_intersection(a.ports, b.ports)
                source_ports = _port_intersection(a.source_ports, b.source_ports)
                if ports and source_ports:
                    services.append(Service(a.protocol, ports, source_ports, a.number, a.icmp_type or b.icmp_type))
    out.services = services
    if outer.states is not None:
        out.states = [s for s in outer.states if inner.states is None or s in inner.states]
        out.new_connections = bool({"NEW", "UNTRACKED"} & set(out.states))
    problems = [p for p in (outer.error and f"in a jump whose match is not modelled: {outer.error}", inner.error) if p]
    for side in ("source", "destination"):
        o_ifs, o_neg = getattr(outer, f"{side}_interfaces"), getattr(outer, f"{side}_interfaces_negated")
        i_ifs, i_neg = getattr(inner, f"{side}_interfaces"), getattr(inner, f"{side}_interfaces_negated")
        if not o_ifs:
            continue
        if not i_ifs:
            setattr(out, f"{side}_interfaces", list(o_ifs))
            setattr(out, f"{side}_interfaces_negated", o_neg)
        elif (o_ifs, o_neg) == (i_ifs, i_neg):
            continue
        elif not o_neg and not i_neg and not any(x.endswith("+") for x in o_ifs + i_ifs):
            out.sources = []  # two different interfaces: the rule can never match
        else:
            problems.append(f"{side} interfaces of the jump and the rule cannot be combined exactly")
    out.error = "; ".join(problems) or None
    return out


def _port_intersection(a: list[PortRange], b: list[PortRange]) -> list[PortRange]:
    return merge_ports([(max(x[0], y[0]), min(x[1], y[1])) for x in a for y in b if max(x[0], y[0]) <= min(x[1], y[1])])


END = -1  # skip_to placeholder: the end of the built-in chain (its policy)


def flatten(table: Table, chain: str, name: str) -> list[Rule]:
    """One built-in chain as a first-match list, user chains inlined."""
    out: list[Rule] = []

    def walk(current: str, outer: Rule | None, stack: tuple[str, ...]) -> None:
        returns: list[Rule] = []
        for entry in table.rules.get(current, []):
            rule = entry.rule if outer is None else _narrow(entry.rule, outer)
            target = entry.target
            if target in table.policies and target not in BUILTIN:
                if target in stack or target == current:
                    raise InputError(name, f"chain loop: {' → '.join(stack + (current, target))}", line=entry.line)
                walk(target, rule, stack + (current,))
                continue
            if target is None:
                rule.action = "log"
            elif target == "ACCEPT":
                rule.action = "accept"
            elif target in DENY:
                rule.action = "deny"
            elif target in NON_DECIDING:
                rule.action = "log"
            elif target == "RETURN":
                rule.action, rule.skip_to = "skip", END
                returns.append(rule)
            elif target in EXTENSION_TARGETS:
                rule.action = "log"
                rule.error = "; ".join(p for p in (rule.error, f"target {target} is not modelled") if p)
            else:
                raise InputError(name, f"jump to undefined chain {target!r}", line=entry.line)
            out.append(rule)
        if outer is not None:
            for rule in returns:
                rule.skip_to = len(out)  # continue after the inlined chain, in the caller

    walk(chain, None, ())
    for rule in out:
        if rule.skip_to == END:
            rule.skip_to = len(out)
    return out


class IptablesImporter:
    name = "iptables"
    target_kind = "network"
    description = "iptables-save output (filter table: FORWARD into firewall_rules, INPUT into firewall_input_rules)"

    def __init__(self) -> None:
        self.zones: list[dict] | None = None
        self.zones_path: str | None = None

    def configure(self, options: ImportOptions) -> None:
        """Zones are read first so that a bad zones file fails before the rules."""
        if options.zones:
            self.zones, self.zones_path = load_zones(options.zones), options.zones

    def read(self, path: Path, data: bytes, builder: BundleBuilder) -> None:
        text, encoding = decode(data, str(path))
        table = parse_save(text, str(path))
        for chain, area in (("FORWARD", "firewall_rules"), ("INPUT", "firewall_input_rules")):
            policy = table.policies.get(chain, ("ACCEPT", 0))[0]
            rules = flatten(table, chain, str(path))
            builder.add_source(str(path), f"iptables-save ({encoding})", data, area)
            builder.set_fact(area, rules_fact("iptables", "accept" if policy == "ACCEPT" else "deny", rules, chain))
            for index, rule in enumerate(rules):
                if rule.error:
                    builder.add_error(area, f"{path}:{rule.origin['line']}: {rule.origin['id']} (rule {index}): "
                                      f"{rule.error}", str(path))
        store_zones(builder, self.zones, self.zones_path)


@register("iptables")
def iptables_importer() -> IptablesImporter:
    return IptablesImporter()
