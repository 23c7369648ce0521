"""FortiGate ``show full-configuration`` text into the normalised ``firewall_rules`` area.

FortiOS evaluates ``config firewall policy`` first match in the order the policies are
listed (``move`` changes the list, not the ids), then denies implicitly; the rules are
kept in that order with their policy id, name and line. Objects are resolved exactly:
addresses (ipmask/subnet, iprange; IPv6 in ``address6``), groups (nested, with
``exclude-member``; a cycle is refused), custom services (``tcp-portrange 80 443
1000-2000 80:1024-65535``, UDP, SCTP, ICMP, IP with a protocol number) and service groups.
An ``fqdn`` address cannot be resolved offline: it is kept as a name in
``unresolved_sources``/``unresolved_destinations`` and the rule's intervals hold only what
is known.

A malformed file (unterminated ``config``, stray ``next``/``end``, unknown member in a
group) is an InputError naming the line. An unknown object referenced by a *policy*, or a
policy feature the model cannot express exactly (address types such as geography,
``service-negate``), sets that rule's ``error`` instead, so the rest of the policy can still
be analysed and no unknown is silently treated as allow or deny.

FortiOS's ``show`` writes each setting once per ``edit`` and each entry once per ``config``: a
``set`` given twice in one block, or an ``edit "name"`` given twice in one table (a hand-edited
or concatenated file), is refused naming both lines, as which one is meant cannot be known. The
CLI verbs that change a value on purpose (``append``, ``select``, ``unselect``, ``unset``,
``clear``) are applied in order; ``config vdom`` is edited again by multi-VDOM files. Groups are
resolved with a stack of the resolver's own, to ``MAX_GROUP_DEPTH`` levels (auditor/limits.py),
and a number longer than ``MAX_INT_DIGITS`` is refused.
"""

from __future__ import annotations

import contextlib
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.evidence.addresses import ANY4, ANY6, Interval, complement, normalise, parse_network
from auditor.evidence.bundle import BundleBuilder
from auditor.evidence.firewall_rules import (
    ALL_PORTS,
    ERROR_PARTS,
    PortRange,
    Rule,
    Service,
    cut,
    decimal,
    path_text,
    rules_fact,
    shown,
    store_rules,
)
from auditor.evidence.fortios_services import load_table
from auditor.evidence.importers import register
from auditor.evidence.importers.fortigate_interfaces import device_networks
from auditor.evidence.importers.textio import decode
from auditor.evidence.segments import segments_fact
from auditor.evidence.zones import ZonedImporter, store_zones

from auditor.errors import InputError, duplicate_key
from auditor.limits import MAX_GROUP_DEPTH, MAX_INT_DIGITS, check_int_text, check_size
from auditor.memory import paused_gc

_WORD = re.compile(r"""(?:[^\s"'\\]+|"(?:[^"\\]|\\.)*"|'[^']*'|\\.)+""", re.S)
_PART = re.compile(r"""([^\s"'\\]+)|"((?:[^"\\]|\\.)*)"|'([^']*)'|\\(.)""", re.S)
_CANONICAL = re.compile(r"""\s*(?:(?:"[^"\\]*"|[^\s"'\\]+)(?:\s+|$))*""")
_CANONICAL_WORD = re.compile(r""""[^"]*"|[^\s"]+""")
_QUOTED_ESCAPE = re.compile(r"""\\(["\\])""")


LIST_VERBS = ("append", "select", "unselect", "unset", "clear")  # FortiOS CLI verbs that change a value


def _split(line: str) -> list[str]:
    """Words of a line as POSIX shell quoting reads them (``shlex.split``, which FortiOS quoting
    follows), at a fraction of shlex's cost on a 10,000-policy file; ValueError on an open quote."""
    if "'" not in line and "\\" not in line:
        if '"' not in line:
            return line.split()
        parts = line.split('"')
        if len(parts) == 3 and not parts[2] and (not parts[0] or parts[0][-1] in " \t"):
            words = parts[0].split()  # set name "p1": one quoted word at the end, the usual line
            words.append(parts[1])
            return words
        if _CANONICAL.fullmatch(line):  # set srcaddr "a b" "c": whole words, plain double quotes
            return [w[1:-1] if w[0] == '"' else w for w in _CANONICAL_WORD.findall(line)]
    words: list[str] = []
    end = 0
    for match in _WORD.finditer(line):
        if line[end:match.start()].strip():
            break
        end = match.end()
        word = match.group()
        if '"' not in word and "'" not in word and "\\" not in word:
            words.append(word)
        elif word[0] == word[-1] == '"' and word.count('"') == 2 and "\\" not in word:
            words.append(word[1:-1])  # the usual "name"
        else:
            words.append("".join(_QUOTED_ESCAPE.sub(r"\1", double) if "\\" in double else double or bare or single
                                 or escaped for bare, double, single, escaped in _PART.findall(word)))
    if line[end:].strip():
        raise ValueError("no closing quotation")
    return words


@dataclass
class Block:
    """A ``config`` block or an ``edit`` entry: its settings (values, line) and children."""

    name: str
    line: int
    settings: dict[str, tuple[list[str], int]] = field(default_factory=dict)
    edits: dict[str, Block] = field(default_factory=dict)  # in list order (dicts keep insertion order)
    configs: dict[str, Block] = field(default_factory=dict)


def parse_config(text: str, name: str) -> Block:
    """The tree of ``config``/``edit``/``set``/``next``/``end`` lines."""
    root = Block("", 0)
    stack: list[tuple[str, Block]] = [("root", root)]
    kind, top = "root", root  # stack[-1], kept at hand: a large file is mostly 'set' lines
    lines = text.split("\n")
    count = len(lines)
    index = 0
    while index < count:
        line = lines[index].strip()
        index += 1
        if not line or line[0] == "#":
            continue
        number = index
        try:
            words = _split(line)
        except ValueError:
            words, index = _continued(lines, line, index, name)
        verb = words[0]
        if verb == "set":
            if kind == "root" or len(words) < 2:
                raise InputError(name, "'set' outside a 'config' block", line=number)
            setting = (words[2:], number)
            first = top.settings.setdefault(words[1], setting)  # one look-up: most lines of a file are 'set'
            if first is not setting:
                raise duplicate_key(name, cut(words[1]), first[1], number, where=_where(kind, top), what="setting")
        elif verb == "next":
            if kind != "edit":
                raise InputError(name, "'next' without a matching 'edit'", line=number)
            stack.pop()
            kind, top = stack[-1]
        elif verb == "edit":
            if kind != "config" or len(words) < 2:
                raise InputError(name, "'edit' outside a 'config' block", line=number)
            entry = top.edits.get(words[1])
            if entry is None:
                entry = top.edits[words[1]] = Block(words[1], number)
            elif not (len(stack) == 2 and top.name == "vdom"):  # multi-VDOM files edit each VDOM again
                raise duplicate_key(name, cut(words[1]), entry.line, number, where=f"config {cut(top.name)}",
                                    what="entry")
            top = entry
            kind = "edit"
            stack.append((kind, top))
        elif verb == "config":
            # A block opened again (multi-VDOM files repeat 'config vdom') continues the first.
            title = " ".join(words[1:])
            top = top.configs.get(title) or top.configs.setdefault(title, Block(title, number))
            kind = "config"
            stack.append((kind, top))
        elif verb == "end":
            if kind == "edit" and len(stack) == 3 and stack[1][1].name == "vdom":
                stack.pop()  # multi-VDOM files close 'config vdom' / 'edit NAME' with one 'end'
                kind = "config"
            if kind != "config":
                what = "an 'edit' not closed by 'next'" if kind == "edit" else "'end' without a matching 'config'"
                raise InputError(name, what, line=number)
            stack.pop()
            kind, top = stack[-1]
        elif verb in LIST_VERBS:
            # The verbs that change a value given before (FortiOS CLI): a deliberate change, not a duplicate.
            if kind == "root" or len(words) < 2:
                raise InputError(name, f"'{verb}' outside a 'config' block", line=number)
            old = top.settings.get(words[1], ([], number))[0]
            if verb == "append":
                top.settings[words[1]] = (old + words[2:], number)
            elif verb == "select":
                top.settings[words[1]] = (words[2:], number)
            elif verb == "unselect":
                top.settings[words[1]] = ([v for v in old if v not in words[2:]], number)
            else:
                top.settings.pop(words[1], None)
        elif verb.startswith("--More--"):  # the console's pager, erased by the text after it
            lines[index - 1] = _PAGER.sub("", line)
            index -= 1
        elif not _cli_line(line, kind, stack, name, number):
            raise InputError(name, f"unexpected {shown(verb)} (expected config, edit, set, next or end)",
                             line=number)
    if len(stack) > 1:
        kind, block = stack[-1]
        what = f"'config {cut(block.name)}'" if kind == "config" else f"'edit {cut(block.name)}'"
        raise InputError(name, f"{what} is not terminated (no '{'end' if kind == 'config' else 'next'}')",
                         line=block.line)
    return root


# A CLI prompt as FortiOS prints it, and what may follow it: ``FGT # ``, ``FG_VM-Demo $ show``,
# ``FGT (root) # show full-configuration`` (``#`` for an administrator who may write, ``$`` for one who
# may only read; the context in parentheses is the VDOM or the object being edited).
_PROMPT = re.compile(r"""(?P<host>[^\s#$()"']+)(?: \((?P<context>[^()]*)\))? ?[#$](?:\s+(?P<command>.*))?""")
_PAGER = re.compile(r"^--More--[\s\x08]*")
QUIET_COMMANDS = ("exit", "quit")  # commands that print nothing


def _cli_line(line: str, kind: str, stack: list[tuple[str, Block]], name: str, number: int) -> bool:
    """Whether ``line`` is a CLI prompt or command a console capture holds around the configuration
    (skipped); an InputError when it holds more than the output of ``show``; False when it is neither."""
    prompt = _PROMPT.fullmatch(line)
    command = (prompt.group("command") or "") if prompt else line
    words = command.split()
    shows = bool(words) and len(words[0]) >= 2 and "show".startswith(words[0].lower())  # FortiOS takes "sh"
    if prompt is None and not shows:
        return False
    if kind != "root":
        opened = next(block for k, block in reversed(stack) if k == "config")
        raise InputError(name, f"a CLI prompt or command ({shown(line)}) inside 'config {cut(opened.name)}' (line "
                         f"{opened.line}): the output was cut off there; save the whole output of "
                         "'show full-configuration' (or a backup from the GUI) and import that", line=number)
    if "|" in command:
        raise InputError(name, f"{shown(line)}: the output of a command filtered through '|' is not a whole "
                         "configuration; import the unfiltered output of 'show full-configuration'", line=number)
    if not words or shows or (len(words) == 1 and words[0].lower() in QUIET_COMMANDS):
        return True
    raise InputError(name, f"{shown(line)}: the command {shown(command)} was captured with its output; only "
                     "the output of 'show' or 'show full-configuration' can be read (remove the other commands "
                     "and what they printed)", line=number)


def _where(kind: str, block: Block) -> str:
    return f"edit {shown(block.name)}" if kind == "edit" else f"config {cut(block.name)}"


def _continued(lines: list[str], line: str, index: int, name: str) -> tuple[list[str], int]:
    """The words of a line whose quoted value spans the lines after it (certificates, multi-line
    comments), and the index of the line after the value.

    Each line is scanned once for where its quoting leaves off: trying to split the value again after
    every line it gathers took time growing with the square of its length (an unclosed quote early in a
    large file)."""
    number = index
    parts = [line]
    state = _open_quote(line, "")
    while state:
        if index >= len(lines):
            raise InputError(name, f"unbalanced quotes in {shown(line.splitlines()[0])}", line=number)
        chunk = "\n" + lines[index]
        parts.append(chunk)
        index += 1
        state = _open_quote(chunk, state)
    try:
        return _split("".join(parts)), index
    except ValueError:
        raise InputError(name, f"unbalanced quotes in {shown(line.splitlines()[0])}", line=number) from None


_OUTSIDE = re.compile(r"""(?:[^"'\\]+|"(?:[^"\\]|\\.)*"|'[^']*'|\\.)*""", re.S)
_CLOSING = {'"': re.compile(r"""(?:[^"\\]|\\.)*"|""", re.S), "'": re.compile(r"[^']*'|"),
            "\\": re.compile(".|", re.S)}


def _open_quote(chunk: str, state: str) -> str:
    """What is still open after ``chunk`` (``"``, ``'``, or a backslash at its end), given what was open
    before it; '' when nothing is."""
    pos = 0
    if state:
        closing = _CLOSING[state].match(chunk)
        if not closing.group():  # the quote is still open at the end of this chunk
            return state
        pos = closing.end()
    end = _OUTSIDE.match(chunk, pos).end()
    return chunk[end] if end < len(chunk) else ""


# Intervals and services copied into groups from their members, in all: a file of 8,000 groups each
# naming one group of 8,000 hosts (1 MB) would otherwise materialise 64 million intervals (GBs, minutes).
# Real configurations stay far below (the 10,000-policy benchmark copies 4,500).
MAX_GROUP_EXPANSION = 2_000_000

ANY_SUBNET = ["0.0.0.0", "0.0.0.0"]  # noqa: S104  # FortiOS's default subnet of an address: every address


class Unresolvable(Exception):
    """An object a policy refers to cannot be expressed exactly (the rule gets ``error``)."""


@dataclass
class AddressSet:
    intervals: list[Interval] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)


class Objects:
    """The address, group and service tables of one configuration, resolved on demand."""

    def __init__(self, root: Block, name: str) -> None:
        self.name = name
        firewall = {n: b for n, b in root.configs.items() if n.startswith("firewall ")}

        def table(key: str) -> dict[str, Block]:
            block = firewall.get(f"firewall {key}")
            return dict(block.edits) if block else {}

        self.addresses = {**table("address"), **table("address6")}
        self.groups = {**table("addrgrp"), **table("addrgrp6")}
        self.services = table("service custom")
        self.service_groups = table("service group")
        self.own_service_groups = list(self.service_groups)
        # FortiOS's predefined services and groups, for the names the file uses without defining them.
        predefined = load_table()
        self._predefined = {n: Block(n, 0, {k: (v, 0) for k, v in settings.items()})
                            for n, settings in predefined.services.items()}
        for group, members in predefined.groups.items():
            if group not in self.services and group not in self.service_groups:
                self.service_groups[group] = Block(group, 0, {"member": (list(members), 0)})
        self.predefined_used: set[str] = set()  # the predefined names the file relies on
        self.policies = list(table("policy").values())
        # Resolved objects; an object that cannot be expressed exactly is kept as its Unresolvable,
        # raised again for every policy naming it (and every group containing it).
        self._cache: dict[str, AddressSet | Unresolvable] = {}
        self._services: dict[str, list[Service] | Unresolvable] = {}
        self._depths: dict[str, int] = {}  # nesting of each resolved group (1: groups no other group)
        self._expanded = 0  # intervals and services copied into groups so far (MAX_GROUP_EXPANSION)

    def address(self, ref: str) -> AddressSet:
        """The exact set of an address or group (memoised: large groups are used by many policies)."""
        cached = self._cache.get(ref)
        if cached is None:
            if ref in self.groups:
                self._nested(ref, self.groups, self._address_members, self._cache, self._group, "address group")
            else:
                self._cache[ref] = self._kept(self._address_or_all, ref)
            cached = self._cache[ref]
        if isinstance(cached, Unresolvable):
            raise cached
        return cached

    def service(self, ref: str) -> list[Service]:
        """The services of a custom service or group (memoised, like addresses: the same Service
        objects are shared by every policy naming them)."""
        cached = self._services.get(ref)
        if cached is None:
            if ref in self.service_groups:
                self._nested(ref, self.service_groups, self._service_members, self._services, self._service_group,
                             "service group")
            else:
                self._services[ref] = self._kept(self._service_or_builtin, ref)
            cached = self._services[ref]
        if isinstance(cached, Unresolvable):
            raise cached
        return list(cached)

    @staticmethod
    def _kept(resolve: Any, ref: str) -> Any:
        try:
            return resolve(ref)
        except Unresolvable as exc:
            return exc

    def _nested(self, root: str, groups: dict[str, Block], members: Any, cache: dict[str, Any], resolve: Any,
                what: str) -> None:
        """Resolve a group and every group it contains, innermost first, with a stack of its own: groups
        nested thousands deep must be refused by the documented limit, not by Python's recursion limit
        (a RecursionError). A group's depth is its longest chain of nested groups, the same whichever
        group is resolved first; a cycle is refused naming it."""
        depths = self._depths
        path = [root]
        stack = [iter(members(root))]
        below = [0]  # per group on the path: the depth of the deepest group met among its members so far
        on_path = {root}
        while stack:
            for member in stack[-1]:
                if member not in groups:
                    continue
                known = depths.get(member)
                if known is not None:  # resolved before
                    if known > below[-1]:
                        below[-1] = known
                    continue
                if member in on_path:
                    cycle = path[path.index(member):] + [member]
                    holder = groups[path[-1]]
                    raise InputError(self.name, f"{what} cycle: {path_text(cycle, quote=True)} (a group cannot "
                                     "contain itself)", line=holder.settings.get("member", ([], holder.line))[1])
                if len(path) >= MAX_GROUP_DEPTH:
                    self._too_deep(what, path + [member], groups)
                path.append(member)
                on_path.add(member)
                stack.append(iter(members(member)))
                below.append(0)
                break
            else:
                ref = path.pop()
                on_path.discard(ref)
                stack.pop()
                depth = below.pop() + 1
                if depth > MAX_GROUP_DEPTH:
                    self._too_deep(what, path + [ref], groups, depth)
                depths[ref] = depth
                if below and depth > below[-1]:
                    below[-1] = depth
                cache[ref] = self._kept(resolve, ref)

    def _spend(self, count: int, what: str, ref: str, line: int) -> None:
        self._expanded += count
        if self._expanded > MAX_GROUP_EXPANSION:
            raise InputError(self.name, f"{what} {shown(ref)}: the groups resolve to more than "
                             f"{MAX_GROUP_EXPANSION:,} addresses and services in all: too large to analyse exactly",
                             line=line)

    def _too_deep(self, what: str, path: list[str], groups: dict[str, Block], depth: int | None = None) -> None:
        deep = f"{depth} deep" if depth is not None else f"more than {MAX_GROUP_DEPTH} deep"
        raise InputError(self.name, f"{what} {shown(path[0])} nests groups {deep} ({path_text(path)}); at most "
                         f"{MAX_GROUP_DEPTH} levels are allowed (see the README's Limits)", line=groups[path[0]].line)

    def _address_members(self, ref: str) -> list[str]:
        """The members of an address group, and what it excludes: both are resolved before it."""
        block = self.groups[ref]
        members = block.settings.get("member", ([], 0))[0]
        if block.settings.get("exclude", (["disable"], 0))[0][:1] == ["enable"]:
            return members + block.settings.get("exclude-member", ([], 0))[0]
        return members

    def _service_members(self, ref: str) -> list[str]:
        return self.service_groups[ref].settings.get("member", ([], 0))[0]

    def _group(self, ref: str) -> AddressSet:
        """An address group whose nested groups are resolved (in the cache)."""
        block = self.groups[ref]
        out = AddressSet()
        members, line = block.settings.get("member", ([], block.line))
        for member in members:
            if member not in self.addresses and member not in self.groups and member not in ("all", "all6"):
                raise Unresolvable(f"address group {shown(ref)} (line {line}): unknown member {shown(member)}")
            sub = self.address(member)
            self._spend(len(sub.intervals) + len(sub.unresolved), "address group", ref, line)
            out.intervals += sub.intervals
            out.unresolved += sub.unresolved
        if block.settings.get("exclude", (["disable"], 0))[0][:1] == ["enable"]:
            excluded, xline = block.settings.get("exclude-member", ([], line))
            removed = AddressSet()
            for member in excluded:
                if member not in self.addresses and member not in self.groups:
                    raise Unresolvable(f"address group {shown(ref)} (line {xline}): unknown exclude-member "
                                       f"{shown(member)}")
                sub = self.address(member)
                self._spend(len(sub.intervals), "address group", ref, xline)
                if sub.unresolved:
                    raise Unresolvable(f"group {shown(ref)} excludes an unresolved FQDN")
                removed.intervals += sub.intervals
            out.intervals = _minus(out.intervals, removed.intervals)
        return AddressSet(normalise(out.intervals), sorted(set(out.unresolved)))

    def _address_or_all(self, ref: str) -> AddressSet:
        if ref in self.addresses:
            return self._address(ref, self.addresses[ref])
        if ref == "all":
            return AddressSet(list(ANY4))
        if ref == "all6":
            return AddressSet(list(ANY6))
        raise Unresolvable(f"unknown address {shown(ref)}")

    def _address(self, ref: str, block: Block) -> AddressSet:
        settings = {k: v for k, (v, _) in block.settings.items()}
        kind = (settings.get("type") or ["ipmask"])[0]
        try:
            if "ip6" in settings:
                return AddressSet([parse_network(settings["ip6"][0])])
            if kind in ("ipmask", "subnet"):
                subnet = settings.get("subnet", ANY_SUBNET)
                if len(subnet) > 1:
                    found = _ipv4_subnet(subnet[0], subnet[1])
                    if found is not None:
                        return AddressSet([found])
                return AddressSet([parse_network("/".join(subnet[:2]) if len(subnet) > 1 else subnet[0])])
            if kind == "iprange":
                return AddressSet([parse_network(f"{settings['start-ip'][0]}-{settings['end-ip'][0]}")])
        except (ValueError, KeyError, IndexError) as exc:
            raise InputError(self.name, f"address {shown(ref)}: cannot read {kind}: {exc}", line=block.line) from None
        if kind == "fqdn":
            return AddressSet([], [f"fqdn:{(settings.get('fqdn') or [ref])[0]}"])
        raise Unresolvable(f"address {shown(ref)} of type {shown(kind)} cannot be resolved offline")

    def _service_group(self, ref: str) -> list[Service]:
        """A service group whose nested groups are resolved (in the cache)."""
        block = self.service_groups[ref]
        members, line = block.settings.get("member", ([], block.line))
        if not block.line:
            self.predefined_used.add(ref)
        # Each service once: a group naming its member twice, at each of 60 levels, would otherwise be
        # 2**60 services (address groups are normalised, which merges what is repeated).
        out: dict[tuple[Any, ...], Service] = {}
        for member in members:
            if member not in self.services and member not in self.service_groups and member not in self._predefined:
                raise Unresolvable(f"service group {shown(ref)}{f' (line {line})' if line else ''}: unknown member "
                                   f"{shown(member)}")
            services = self.service(member)
            self._spend(len(services), "service group", ref, line)
            for service in services:
                out.setdefault((service.protocol, tuple(service.ports), tuple(service.source_ports), service.number,
                                service.icmp_type), service)
        return list(out.values())

    def _service_or_builtin(self, ref: str) -> list[Service]:
        if ref in self.services:
            return self._service(ref, self.services[ref])
        if ref in self._predefined:
            self.predefined_used.add(ref)
            return self._service(ref, self._predefined[ref])
        raise Unresolvable(f"unknown service {shown(ref)}")

    def _service(self, ref: str, block: Block) -> list[Service]:
        settings = {k: (v, line) for k, (v, line) in block.settings.items()}
        protocol = (settings.get("protocol", (["TCP/UDP/SCTP"], 0))[0] or ["TCP/UDP/SCTP"])[0].upper()
        if protocol in ("ICMP", "ICMP6"):
            icmp_type = (settings.get("icmptype", ([], 0))[0] or [None])[0]
            return [Service("icmp" if protocol == "ICMP" else "icmpv6", icmp_type=icmp_type)]
        if protocol == "IP":
            text = (settings.get("protocol-number", (["0"], 0))[0] or ["0"])[0]
            number = decimal(text, self.name, settings.get("protocol-number", ([], block.line))[1])
            if number is None or number > 255:
                raise InputError(self.name, f"service {shown(ref)}: bad protocol-number {shown(text)} (0-255)",
                                 line=settings["protocol-number"][1])
            # The same protocol is written one way in the model, whichever way the service says it.
            named = {6: "tcp", 17: "udp", 132: "sctp", 1: "icmp", 58: "icmpv6"}.get(number)
            if number == 0:
                return [Service("any")]
            return [Service(named)] if named else [Service("ip", number=number)]
        if protocol != "TCP/UDP/SCTP":
            raise Unresolvable(f"service {shown(ref)}: protocol {shown(protocol)} is not modelled")
        iprange = (settings.get("iprange", (["0.0.0.0"], 0))[0] or ["0.0.0.0"])[0]  # noqa: S104
        fqdn = (settings.get("fqdn", ([""], 0))[0] or [""])[0]
        if iprange != "0.0.0.0" or fqdn:  # noqa: S104  # the default: no restriction
            raise Unresolvable(f"service {shown(ref)}: a destination restricted by iprange/fqdn is not modelled")
        out: list[Service] = []
        for key, proto in (("tcp-portrange", "tcp"), ("udp-portrange", "udp"), ("sctp-portrange", "sctp")):
            values, line = settings.get(key, ([], block.line))
            for value in values:
                dst, _, src = value.partition(":")
                try:
                    out.append(Service(proto, [_ports(dst, self.name, line)],
                                       [_ports(src, self.name, line)] if src else list(ALL_PORTS)))
                except ValueError:
                    raise InputError(self.name, f"service {shown(ref)}: bad port range {shown(value)}",
                                     line=line) from None
        return out


NETMASKS = {".".join(str(m >> s & 255) for s in (24, 16, 8, 0)): m
            for m in ((0xFFFFFFFF << (32 - n)) & 0xFFFFFFFF for n in range(33))}


def _ipv4_subnet(address: str, netmask: str) -> Interval | None:
    """``set subnet 10.1.2.0 255.255.255.0`` as parse_network reads it, without ipaddress (thousands of
    addresses); None for any other form, which is left to parse_network."""
    mask = NETMASKS.get(netmask)
    if mask is None:
        return None
    try:  # inet_pton is as strict as ipaddress: four decimal octets, no leading zeros
        first = int.from_bytes(socket.inet_pton(socket.AF_INET, address), "big") & mask
    except OSError:
        return None
    return (4, first, first | (~mask & 0xFFFFFFFF))


def _ports(text: str, name: str, line: int) -> PortRange:
    """``80`` or ``1000-2000``; ValueError when not that."""
    lo_text, _, hi_text = text.partition("-")
    lo, hi = decimal(lo_text, name, line), decimal(hi_text or lo_text, name, line)
    if lo is None or hi is None or not 0 <= lo <= hi <= 65535:
        raise ValueError(text)
    return (lo, hi)


def _minus(a: list[Interval], b: list[Interval]) -> list[Interval]:
    families = tuple(sorted({f for f, _, _ in a}))
    kept: list[Interval] = []
    holes = complement(b, families)
    for fa, la, ha in normalise(a):
        for fb, lb, hb in holes:
            if fa == fb and max(la, lb) <= min(ha, hb):
                kept.append((fa, max(la, lb), min(ha, hb)))
    return normalise(kept)


def _interfaces(values: list[str]) -> list[str]:
    return [] if "any" in values else list(values)


def _first(settings: dict[str, list[str]], key: str, default: str) -> str:
    return (settings.get(key) or [default])[0]


def _side(objects: Objects, settings: dict[str, list[str]], keys: tuple[str, str],
          ) -> tuple[list[Interval], list[str], list[str]]:
    """(intervals, unresolved names, problems) of a policy's source or destination side."""
    resolved = AddressSet()
    problems: list[str] = []
    contributions = 0  # one normalised set needs no merging (large groups, many policies)
    for key in keys:
        # srcaddr-negate negates srcaddr within IPv4, srcaddr6-negate srcaddr6 within IPv6.
        part = AddressSet()
        for ref in settings.get(key, []):
            try:
                sub = objects.address(ref)
            except Unresolvable as exc:
                problems.append(str(exc))
                continue
            part.intervals += sub.intervals
            part.unresolved += sub.unresolved
            contributions += 1
        negate_key = f"{key}-negate"
        if key in settings and _first(settings, negate_key, "disable") == "enable":
            if part.unresolved:
                problems.append(f"{negate_key} with an unresolved FQDN")
            part.intervals = complement(part.intervals, (6,) if key.endswith("6") else (4,))
        resolved.intervals += part.intervals
        resolved.unresolved += part.unresolved
    intervals = resolved.intervals if contributions == 1 else normalise(resolved.intervals)
    return intervals, sorted(set(resolved.unresolved)), problems


SIDES = (("srcaddr", "srcaddr6", "srcaddr-negate", "srcaddr6-negate"),
         ("dstaddr", "dstaddr6", "dstaddr-negate", "dstaddr6-negate"))


def policy_rules(root: Block, name: str, objects: Objects | None = None, vdom: str | None = None) -> list[Rule]:
    """The policies as normalised rules, in list order (``objects``: the tables of ``root``, given by a
    caller that reads what was resolved, such as the predefined services used; ``vdom``: the VDOM
    ``root`` is, named in each rule's origin)."""
    objects = objects or Objects(root, name)
    # Every group is checked, used or not: an unknown member or a cycle is a malformed file.
    for group in objects.groups:
        with contextlib.suppress(Unresolvable):  # reported on the policies that use the group
            objects.address(group)
    for group in objects.own_service_groups:
        with contextlib.suppress(Unresolvable):
            objects.service(group)
    profile_groups = {n: {k: v for k, (v, _) in b.settings.items()} for n, b in _table(root, "profile-group").items()}
    rules: list[Rule] = []
    # Policies name the same objects, interfaces and services again and again: each is read once.
    sides: dict[tuple[Any, ...], tuple[list[Interval], list[str], list[str]]] = {}
    interfaces: dict[tuple[str, ...], list[str]] = {}
    services: dict[tuple[str, ...], tuple[list[Service], list[str]]] = {}
    for block in objects.policies:
        settings = {k: v for k, (v, _) in block.settings.items()}
        get = settings.get
        if len(block.name) > MAX_INT_DIGITS and block.name.isdigit():  # a policy id: FortiOS 0 to 4294967294
            check_int_text(block.name, name, block.line)
        origin = {"kind": "fortigate-policy", "id": block.name, "line": block.line, "file": name}
        if vdom is not None:
            origin["vdom"] = vdom
        if "name" in settings:
            origin["name"] = (get("name") or [""])[0]
        action = (get("action") or ["deny"])[0]
        problems: list[str] = []
        parts: list[str] = []  # the parts of the match the problems leave unknown (see Rule.error_parts)
        found = []
        for part, (v4, v6, negate4, negate6) in zip(("sources", "destinations"), SIDES, strict=True):
            key = (tuple(get(v4, ())), tuple(get(v6, ())), str(get(negate4)), str(get(negate6)))
            side = sides.get(key)
            if side is None:
                side = sides[key] = _side(objects, settings, (v4, v6))
            found.append(side)
            if side[2]:
                problems += side[2]
                parts.append(part)
        (sources, unresolved_sources, _), (destinations, unresolved_destinations, _) = found
        wanted = tuple(get("service", ()))
        offered = services.get(wanted)
        if offered is None:
            offered = services[wanted] = ([], [])
            for ref in wanted:
                try:
                    offered[0].extend(objects.service(ref))
                except Unresolvable as exc:
                    offered[1].append(str(exc))
        if offered[1]:
            problems += offered[1]
            parts.append("services")
        faces = []
        for side in ("srcintf", "dstintf"):
            named = tuple(get(side, ()))
            face = interfaces.get(named)
            if face is None:
                face = interfaces[named] = _interfaces(list(named))
            faces.append(list(face))
        rule = Rule(origin, "deny" if action == "deny" else "accept", sources, destinations, list(offered[0]),
                    enabled=(get("status") or ["enable"])[0] != "disable",
                    source_interfaces=faces[0], destination_interfaces=faces[1],
                    unresolved_sources=list(unresolved_sources),
                    unresolved_destinations=list(unresolved_destinations),
                    schedule=(get("schedule") or ["always"])[0], log=(get("logtraffic") or ["utm"])[0] != "disable",
                    log_mode=(get("logtraffic") or ["utm"])[0], av_profile=_av_profile(settings, profile_groups),
                    av_recorded=True)
        for unknown, part, problem in (((get("service-negate") or ["disable"])[0] == "enable", "services",
                                         "service-negate is not modelled"),
                                        (not get("srcaddr") and not get("srcaddr6"), "sources", "no srcaddr"),
                                        (not get("dstaddr") and not get("dstaddr6"), "destinations", "no dstaddr"),
                                        (not get("service"), "services", "no service")):
            if unknown:
                problems.append(problem)
                parts.append(part)
        whole = action not in ("accept", "deny", "ipsec")  # what the rule does is unknown: all of it is
        if whole:
            problems.append(f"action {shown(action)} is not modelled")
        if problems:
            rule.error = "; ".join(problems)
            rule.error_parts = None if whole else [p for p in ERROR_PARTS if p in parts]
        rules.append(rule)
    return rules


def _table(root: Block, key: str) -> dict[str, Block]:
    block = root.configs.get(f"firewall {key}")
    return dict(block.edits) if block else {}


def _av_profile(settings: dict[str, list[str]], groups: dict[str, dict[str, list[str]]]) -> str | None:
    """The antivirus profile a policy applies: its ``av-profile``, or its profile group's when
    ``profile-type group``; None when there is none or ``utm-status disable`` turns profiles off
    (a file without ``utm-status``, as FortiOS 5 wrote, applies the profiles it names)."""
    if _first(settings, "utm-status", "enable") != "enable":
        return None
    if _first(settings, "profile-type", "single") == "group":
        group = groups.get(_first(settings, "profile-group", ""), {})
        return _first(group, "av-profile", "") or None
    return _first(settings, "av-profile", "") or None


def interface_records(root: Block, vdom: str | None = None) -> list[dict[str, Any]]:
    """``config system interface`` (in ``config global`` on a multi-VDOM unit) as the ``interfaces``
    area's records: name, up, and the IPv4 ``ip`` and IPv6 ``ip6-address`` set on it, with the line;
    ``vdom``: only the interfaces of that VDOM (``set vdom``)."""
    scope = root.configs.get("global", root)
    block = scope.configs.get("system interface")
    out: list[dict[str, Any]] = []
    for name, entry in (block.edits.items() if block else ()):
        settings = {k: v for k, (v, _) in entry.settings.items()}
        if vdom is not None and _first(settings, "vdom", "root") != vdom:
            continue
        addresses: list[dict[str, Any]] = []
        ip = settings.get("ip") or []
        if len(ip) >= 2 and ip[0] != "0.0.0.0":  # noqa: S104  # FortiOS writes 0.0.0.0 for no address
            prefix = NETMASKS.get(ip[1])
            addresses.append({"family": "ipv4", "address": ip[0],
                              **({"prefixlen": bin(prefix).count("1")} if prefix is not None else {})})
        ipv6 = entry.configs.get("ipv6")
        six = (ipv6.settings.get("ip6-address", ([], 0))[0] if ipv6 else []) or []
        if six and not six[0].startswith("::/"):
            address, _, length = six[0].partition("/")
            addresses.append({"family": "ipv6", "address": address,
                              **({"prefixlen": int(length)} if length.isascii() and length.isdigit()
                                 and int(length) <= 128 else {})})
        out.append({"name": name, "up": _first(settings, "status", "up") != "down", "loopback":
                    _first(settings, "type", "physical") == "loopback", "wireless": False,
                    "addresses": addresses, "line": entry.line})
    return out


_VDOM_HEADER = re.compile(r"#global_vdom=0:vd_name=([^/\s]+)")  # the header of one VDOM's own backup


def header_vdom(text: str) -> str | None:
    """The VDOM a backup of one VDOM names in its header (``#global_vdom=0:vd_name=dmz/dmz``), or None."""
    for line in text[:8192].split("\n")[:20]:
        found = _VDOM_HEADER.match(line.strip())
        if found:
            return found.group(1)
    return None


def vdom_scopes(root: Block, name: str, wanted: str | None = None, header: str | None = None,
                ) -> list[tuple[str | None, Block]]:
    """The rule sets of a configuration as (VDOM, the block holding its firewall tables): the file itself
    for a unit without VDOMs (VDOM ``header`` for one VDOM's own backup, None for a unit without
    VDOMs), or every VDOM of a multi-VDOM file (``config vdom`` / ``edit NAME``) in the order it lists
    them, each its own rule set; ``wanted``: that VDOM only."""
    if "vdom" not in root.configs:
        if "firewall policy" not in root.configs:
            raise InputError(name, "no 'config firewall policy': not a FortiGate full configuration")
        if wanted is not None and wanted != (header or "root"):
            raise InputError(name, f"--vdom {shown(wanted)}: the file is the configuration of "
                             + (f"VDOM {shown(header)} only" if header else "a unit without VDOMs (its one VDOM is "
                                "'root')"))
        return [(header, root)]
    outside = sorted(n for n in root.configs if n.startswith("firewall "))
    if outside:
        block = root.configs[outside[0]]
        raise InputError(name, f"'config {cut(block.name)}' outside 'config vdom' in a multi-VDOM file: which VDOM "
                         "it belongs to cannot be known", line=block.line)
    vdoms = root.configs["vdom"].edits
    if not any("firewall policy" in v.configs for v in vdoms.values()):
        raise InputError(name, "no 'config firewall policy' in any VDOM: not a FortiGate full configuration")
    if wanted is not None:
        if wanted not in vdoms:
            raise InputError(name, f"--vdom {shown(wanted)}: no such VDOM (the file has "
                             f"{', '.join(shown(v) for v in list(vdoms)[:10])}{' ...' if len(vdoms) > 10 else ''})")
        return [(wanted, vdoms[wanted])]
    return [(vdom, block) for vdom, block in vdoms.items()]


def vdom_interfaces(tree: Block, vdom: str, scope: Block) -> list[str] | None:
    """The names a policy of VDOM ``vdom`` (its block ``scope``) may give as ``srcintf``/``dstintf``: the
    interfaces ``config system interface`` assigns to it (``set vdom``, root when unset), its interface
    zones, SD-WAN zones and IPsec tunnels; None when the file lists no interfaces."""
    block = tree.configs.get("global", tree).configs.get("system interface")
    if block is None:
        return None
    names = [name for name, entry in block.edits.items()
             if (entry.settings.get("vdom", (["root"], 0))[0] or ["root"])[0] == vdom]
    for key in ("system zone", "vpn ipsec phase1-interface"):
        names += list(scope.configs[key].edits) if key in scope.configs else []
    sdwan = scope.configs.get("system sdwan")
    if sdwan is not None:
        names += list(sdwan.configs["zone"].edits) if "zone" in sdwan.configs else ["virtual-wan-link"]
    if "system virtual-wan-link" in scope.configs:
        names.append("virtual-wan-link")
    return list(dict.fromkeys(names))


def policy_scope(root: Block, name: str) -> Block:
    """The block holding the firewall tables of a configuration with one rule set: the file, or its one
    VDOM with policies (:func:`vdom_scopes` gives every VDOM of a multi-VDOM file)."""
    scopes = [block for _, block in vdom_scopes(root, name) if "firewall policy" in block.configs]
    if len(scopes) > 1:
        raise InputError(name, f"{len(scopes)} VDOMs have firewall policies: each is its own rule set")
    return scopes[0]


class FortigateImporter(ZonedImporter):
    name = "fortigate"
    target_kind = "network"
    description = ("FortiGate 'show full-configuration' or backup (firewall policy, addresses, services; every "
                   "VDOM of a multi-VDOM unit, or --vdom NAME)")
    uses_vdom = True

    def __init__(self) -> None:
        super().__init__()
        self.vdom: str | None = None

    def configure(self, options: Any) -> None:
        super().configure(options)
        self.vdom = getattr(options, "vdom", None)

    def read(self, path: Path, data: bytes, builder: BundleBuilder) -> None:
        check_size(path, "firewall", len(data))  # before any work on it (the caller has read the file)
        text, encoding = decode(data, str(path))
        # A large configuration is hundreds of thousands of new acyclic containers: the cycle collector
        # waits until they are made, and the parse tree is freed before it runs, leaving it the rules.
        with paused_gc():
            tree = parse_config(text, str(path))
            scopes = vdom_scopes(tree, str(path), self.vdom, header_vdom(text))
            rules: list[Rule] = []
            used: set[str] = set()
            networks: list[dict[str, Any]] = []
            faces: dict[str, list[str]] = {}
            for vdom, scope in scopes:  # each VDOM its own tables and its own first-match list
                objects = Objects(scope, str(path))
                rules += policy_rules(scope, str(path), objects, vdom)
                used |= objects.predefined_used
                networks += device_networks(tree, scope, str(path))  # what lies behind each port
                found = vdom_interfaces(tree, vdom, scope) if vdom is not None else None
                if found is not None:
                    faces[str(vdom)] = found
            fact = rules_fact("fortigate", "deny", rules)
            if scopes[0][0] is not None:
                fact["vdoms"] = [vdom for vdom, _ in scopes]
                if faces:
                    fact["vdom_interfaces"] = faces
            if used:
                fact["predefined_services"] = sorted(used)
            builder.add_source(str(path), f"fortigate ({encoding})", data, "firewall_rules")
            store_rules(builder, "firewall_rules", path, fact, rules)
            del rules
            interfaces = interface_records(tree, self.vdom if "vdom" in tree.configs else None)
        if interfaces:
            builder.add_source(str(path), f"fortigate ({encoding})", data, "interfaces")
            builder.set_fact("interfaces", interfaces)
            if self.zones is not None and self.zones_path is not None:
                builder.set_fact("segments", segments_fact(interfaces, self.zones, self.zones_path))
        store_zones(builder, self.zones, self.zones_path, networks)


@register("fortigate")
def fortigate_importer() -> FortigateImporter:
    return FortigateImporter()
