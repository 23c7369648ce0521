"""``nft list ruleset`` output into the normalised ``firewall_rules`` area.

The filter base chains of the ``inet``, ``ip`` and ``ip6`` tables are read: those on
``hook forward`` become ``firewall_rules`` (flows through the device), those on ``hook
input`` ``firewall_input_rules``. Each base chain is flattened into one first-match list
as the iptables importer does: ``jump CHAIN`` is replaced by that chain's rules narrowed by
the jump's own matches, ``return`` becomes a ``skip`` to the rule after the inlined chain,
and ``goto CHAIN`` is inlined followed by a ``skip`` (for packets the goto'd chain does not
decide) to where a ``return`` of the calling chain would continue. Verdict maps (``ct
state vmap { established : accept, invalid : drop }``) become one rule per verdict.

When several base chains sit on the same hook (two tables, or two priorities), a packet
must be accepted by every chain it traverses: an ``accept`` of an earlier chain becomes a
``skip`` to the next chain (only for the address families a later chain sees), and a
``policy drop`` that is not the final fate becomes an explicit ``deny`` rule (origin id
``... policy``). An ``ip`` table sees only IPv4 and an ``ip6`` table only IPv6: the
families no chain on the hook sees are accepted, as the kernel does. This is exact.

Unknown expressions and statements set the rule's ``error`` (never read as accept or
deny). A malformed file — unbalanced braces, a reference to an unknown set or map, a jump
to an undefined chain, a chain loop, a bad address or port number — is an InputError
naming the line.

What is given twice is refused, naming both lines, when `nft list ruleset` would never write
it twice: a table (``nft -f`` lets a script re-open ``table inet filter { ... }`` to add to it,
but the listing of the kernel's ruleset writes each table once, complete; a file that repeats
one was edited or concatenated, and this importer reads listings, not scripts), a chain, a set
or map (one namespace, as in the kernel), a chain's ``type`` or ``policy``, a set's ``type``,
``flags``, ``timeout`` or ``elements``, and a verdict map's key (or two ranges sharing keys).
Jumps are followed to ``MAX_CHAIN_DEPTH`` (auditor/limits.py) with a stack of the resolver's own,
and inlining stops at ``MAX_FLAT_RULES`` steps; a number longer than ``MAX_INT_DIGITS`` is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from auditor.evidence.addresses import ANY4, ANY6, Interval, complement, intersect, normalise, parse_network
from auditor.evidence.bundle import BundleBuilder
from auditor.evidence.firewall_rules import (
    ALL_PORTS,
    PortRange,
    Rule,
    Service,
    cut,
    decimal,
    merge_ports,
    path_text,
    port_complement,
    port_intersection,
    rules_fact,
    shown,
    store_rules,
)
from auditor.evidence.importers import register
from auditor.evidence.importers.linux_routes import is_route_listing, route_networks
from auditor.evidence.importers.textio import decode
from auditor.evidence.zones import ZonedImporter, store_zones

from auditor.errors import InputError, duplicate_key
from auditor.limits import MAX_CHAIN_DEPTH, check_int_text, check_size

FAMILIES = {"inet": frozenset({4, 6}), "ip": frozenset({4}), "ip6": frozenset({6})}
OTHER_FAMILIES = {"arp", "bridge", "netdev"}  # not IP routing: read for shape only
STATES = ("NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED")
PRIORITIES = {"raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50, "srcnat": 100}
PROTOCOLS = {"tcp": 6, "udp": 17, "sctp": 132, "icmp": 1, "icmpv6": 58, "ipv6-icmp": 58, "igmp": 2, "ipip": 4,
             "ipencap": 4, "egp": 8, "dccp": 33, "ipv6": 41, "rsvp": 46, "gre": 47, "esp": 50, "ah": 51,
             "ospf": 89, "ospfigp": 89, "pim": 103, "ipcomp": 108, "vrrp": 112, "l2tp": 115, "udplite": 136}
PROTOCOL_NAMES = {6: "tcp", 17: "udp", 132: "sctp", 1: "icmp", 58: "icmpv6"}
PORT_NUMBERS = (6, 17, 132)
# Well-known names nft 0.9.0 prints for ports (later versions print numbers unless -S). An unknown
# name is a rule error, never guessed.
SERVICES = {"ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "bootps": 67,
            "bootpc": 68, "tftp": 69, "http": 80, "kerberos": 88, "pop3": 110, "sunrpc": 111, "ntp": 123,
            "netbios-ns": 137, "netbios-dgm": 138, "netbios-ssn": 139, "imap2": 143, "imap": 143, "snmp": 161,
            "snmp-trap": 162, "ldap": 389, "https": 443, "microsoft-ds": 445, "isakmp": 500, "syslog": 514,
            "submission": 587, "ldaps": 636, "domain-s": 853, "imaps": 993, "pop3s": 995, "openvpn": 1194,
            "ms-sql-s": 1433, "radius": 1812, "radius-acct": 1813, "nfs": 2049, "mysql": 3306,
            "ms-wbt-server": 3389, "ipsec-nat-t": 4500, "postgresql": 5432, "http-alt": 8080}
SET_KINDS = {"ipv4_addr": "addr4", "ipv6_addr": "addr6", "inet_service": "port", "inet_proto": "proto",
             "ifname": "ifname", "ct_state": "ctstate", "icmp_type": "icmp", "icmpv6_type": "icmpv6",
             "nf_proto": "nfproto"}

# (prefix, field) -> (value kind, what it narrows, protocol or family it implies)
SELECTORS: dict[tuple[str, ...], tuple[str, str, int | None]] = {
    ("ip", "saddr"): ("addr4", "src", 4), ("ip", "daddr"): ("addr4", "dst", 4),
    ("ip6", "saddr"): ("addr6", "src", 6), ("ip6", "daddr"): ("addr6", "dst", 6),
    ("ip", "protocol"): ("proto", "proto", 4), ("ip6", "nexthdr"): ("proto", "proto", 6),
    ("meta", "l4proto"): ("proto", "proto", None),
    ("meta", "nfproto"): ("nfproto", "family", None), ("meta", "protocol"): ("ether", "family", None),
    ("meta", "iifname"): ("ifname", "in", None), ("meta", "oifname"): ("ifname", "out", None),
    ("meta", "iif"): ("ifname", "in", None), ("meta", "oif"): ("ifname", "out", None),
    ("iifname",): ("ifname", "in", None), ("oifname",): ("ifname", "out", None),
    ("iif",): ("ifname", "in", None), ("oif",): ("ifname", "out", None),
    ("ct", "state"): ("ctstate", "state", None),
    ("icmp", "type"): ("icmp", "icmp", 1), ("icmpv6", "type"): ("icmpv6", "icmp", 58),
    ("th", "dport"): ("port", "dports", None), ("th", "sport"): ("port", "sports", None),
    **{(p, f"{d}port"): ("port", f"{d}ports", PROTOCOLS[p]) for p in ("tcp", "udp", "sctp") for d in "ds"},
}
PREFIXES = {key[0] for key in SELECTORS if len(key) == 2} | {"tcp", "udp", "sctp"}
SHORT = {key[0] for key in SELECTORS if len(key) == 1}
VERDICTS = {"accept", "drop", "reject", "return", "continue", "jump", "goto", "queue"}
STATEMENTS = {"counter", "log", "limit", "comment"}
OPERATORS = {"==": "==", "eq": "==", "!=": "!=", "ne": "!=", "<": "<", "lt": "<", ">": ">", "gt": ">",
             "<=": "<=", "le": "<=", ">=": ">=", "ge": ">="}
BITWISE = {"&", "|", "^", "<<", ">>", "and", "or", "xor", "lshift", "rshift"}
TABLE_OBJECTS = {"flowtable", "counter", "quota", "ct", "limit", "secmark", "synproxy", "tunnel"}
END = -1  # skip_to placeholder: the end of the base chain (its policy)
MAX_FLAT_RULES = 200_000  # chains jumping to shared chains at many levels multiply when inlined

_TOKEN = re.compile(r'(\n)|[ \t\r\f\v]+|(#[^\n]*)|("(?:[^"\\\n]|\\.)*")|([{},;])|([^\s{},;"#]+)|(")')
_HANDLE = re.compile(r"#\s*handle\s+([0-9]+)\s*$")


# --- tokens and blocks ------------------------------------------------------------------------


@dataclass
class Tok:
    kind: str  # w (word), s (string), { } , ; \n, h (a "# handle N" annotation)
    text: str
    line: int


@dataclass
class Stmt:
    """One statement: the words of a rule, a chain's ``type`` line, a set's ``elements``..."""

    toks: list[Tok]  # newlines inside braces kept (as kind "\n")
    line: int
    handle: str | None = None

    def words(self) -> list[str]:
        return [t.text for t in self.toks if t.kind != "\n"]


def tokenize(text: str, name: str) -> list[Tok]:
    out: list[Tok] = []
    line = 1
    for m in _TOKEN.finditer(text):
        newline, comment, string, punct, word, bad = m.groups()
        if newline:
            out.append(Tok("\n", "\n", line))
            line += 1
        elif comment:
            handle = _HANDLE.match(comment)
            if handle:
                check_int_text(handle.group(1), name, line)
                out.append(Tok("h", handle.group(1), line))
        elif string:
            out.append(Tok("s", string[1:-1].replace('\\"', '"'), line))
        elif punct:
            out.append(Tok(punct, punct, line))
        elif word:
            out.append(Tok("w", word, line))
        elif bad:
            raise InputError(name, "unterminated string (a '\"' without its closing '\"')", line=line)
    return out


class Cursor:
    """Walks the tokens of a file: statements separated by newlines or ``;``, blocks in braces."""

    def __init__(self, toks: list[Tok], name: str) -> None:
        self.toks, self.i, self.name = toks, 0, name

    def peek(self) -> Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def skip_separators(self) -> None:
        while self.i < len(self.toks) and self.toks[self.i].kind in ("\n", ";", "h"):
            self.i += 1

    def statement(self) -> Stmt:
        """Tokens up to a newline or ``;`` outside braces, or up to the ``}`` closing the block."""
        toks: list[Tok] = []
        handle = None
        opens: list[Tok] = []
        while self.i < len(self.toks):
            tok = self.toks[self.i]
            if tok.kind == "h":
                handle = tok.text
                self.i += 1
                continue
            if not opens and tok.kind in ("\n", ";"):
                self.i += 1
                break
            if not opens and tok.kind == "}":
                break
            if tok.kind == "{":
                opens.append(tok)
            elif tok.kind == "}":
                opens.pop()
            toks.append(tok)
            self.i += 1
        if opens:
            raise InputError(self.name, "unbalanced braces: this '{' is never closed", line=opens[0].line)
        return Stmt(toks, toks[0].line if toks else 0, handle)

    def opens_block(self) -> bool:
        """Do the words at the cursor open a block (``chain NAME {``, ``table inet NAME {``)?"""
        for tok in self.toks[self.i + 1:self.i + 4]:
            if tok.kind == "{":
                return True
            if tok.kind not in ("w", "s"):
                return False
        return False

    def block(self, opener: Tok, what: str, nested: set[str]) -> list[Stmt]:
        """The statements of a ``{ ... }`` block whose ``{`` was just read, with its ``}``."""
        out: list[Stmt] = []
        while True:
            self.skip_separators()
            tok = self.peek()
            if tok is None:
                raise InputError(self.name, f"unbalanced braces: the '{{' of {what} is never closed",
                                 line=opener.line)
            if tok.kind == "}":
                self.i += 1
                return out
            if tok.kind == "w" and tok.text in nested and self.opens_block():
                spanning = [s for s in out if s.toks[-1].line > s.line] if what.startswith("chain") else []
                hint = (f" (the rule of line {spanning[-1].line} runs on to line {spanning[-1].toks[-1].line}: "
                        "is its '}' missing?)" if spanning else "")
                raise InputError(self.name, f"'{cut(tok.text)}' inside {what} (line {opener.line}): a '}}' is "
                                 f"missing before this line{hint}", line=tok.line)
            stmt = self.statement()
            if stmt.toks:
                out.append(stmt)


# --- the ruleset ------------------------------------------------------------------------------


@dataclass
class NamedSet:
    """A named set (``set``) or map (``map``) of one table."""

    name: str
    line: int
    kind: str | None = None  # value kind (addr4, port, ...); None: a type the model does not know
    type_text: str = ""
    verdict_map: bool = False
    runtime: bool = False  # flags dynamic/timeout, or updated by a rule: the listing is a snapshot
    elements: list[Stmt] = field(default_factory=list)  # the tokens of `elements = { ... }`


@dataclass
class Branch:
    match: Match
    verdict: str | None  # accept | deny | return | jump | goto | queue | None (does not decide)
    target: str | None = None


@dataclass
class RuleLine:
    origin: dict
    line: int
    branches: list[Branch]
    logged: bool


@dataclass
class Chain:
    table: Table
    name: str
    line: int
    type: str | None = None
    hook: str | None = None
    priority: int = 0
    policy: str = "accept"
    policy_line: int = 0
    stmts: list[Stmt] = field(default_factory=list)
    rules: list[RuleLine] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.table.label}/{self.name}"


@dataclass
class Table:
    family: str
    name: str
    line: int
    dormant: bool = False
    sets: dict[str, NamedSet] = field(default_factory=dict)
    maps: dict[str, NamedSet] = field(default_factory=dict)
    chains: dict[str, Chain] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.family} {self.name}"


def parse_ruleset(text: str, name: str) -> list[Table]:
    """Every table of the file, its sets, maps and chains, and each rule parsed."""
    cursor = Cursor(tokenize(text, name), name)
    tables: list[Table] = []
    seen: dict[str, int] = {}
    while True:
        cursor.skip_separators()
        tok = cursor.peek()
        if tok is None:
            break
        if tok.kind == "}":
            raise InputError(name, "unbalanced braces: '}' without its '{'", line=tok.line)
        if tok.kind != "w" or tok.text != "table":
            stmt = cursor.statement()
            words = stmt.words()
            if words == ["flush", "ruleset"]:
                continue
            problem = (f"'{cut(words[0])}' is not resolved: give the output of `nft list ruleset`"
                       if words[0] in ("define", "include") or words[0].startswith("$")
                       else f"unexpected {shown(' '.join(words[:3]))} (expected `table FAMILY NAME {{`)")
            raise InputError(name, problem, line=stmt.line)
        line = tok.line
        cursor.i += 1
        head = []
        while (tok := cursor.peek()) is not None and tok.kind in ("w", "s"):
            head.append(tok.text)
            cursor.i += 1
        if tok is None or tok.kind != "{" or not 1 <= len(head) <= 2:
            raise InputError(name, "expected `table FAMILY NAME {`", line=line)
        family, table_name = head if len(head) == 2 else ("ip", head[0])
        if family not in FAMILIES and family not in OTHER_FAMILIES:
            raise InputError(name, f"unknown table family {shown(family)}", line=line)
        key = f"{family} {table_name}"
        if key in seen:  # `nft list ruleset` writes each table once; see the module's docstring
            raise duplicate_key(name, key, seen[key], line, what="table")
        seen[key] = line
        cursor.i += 1
        table = Table(family, table_name, line)
        _table_body(cursor, table, tok, name)
        tables.append(table)
    if not tables:
        raise InputError(name, "no table: not the output of `nft list ruleset`")
    for table in tables:
        if table.family in FAMILIES:
            for what, objects in (("set", table.sets), ("map", table.maps)):
                for named in objects.values():
                    for element in named.elements if named.kind else []:
                        _item(element.toks[0], named.kind, f"{what} {cut(named.name)}", name, [])
            _mark_runtime_sets(table)
            for chain in table.chains.values():
                _chain_rules(chain, name)
            _check_jumps(table, name)
    return tables


def _table_body(cursor: Cursor, table: Table, opener: Tok, name: str) -> None:
    what = f"table {cut(table.label)}"
    while True:
        cursor.skip_separators()
        tok = cursor.peek()
        if tok is None:
            raise InputError(name, f"unbalanced braces: the '{{' of {what} is never closed", line=opener.line)
        if tok.kind == "}":
            cursor.i += 1
            return
        word = tok.text if tok.kind == "w" else ""
        if word in ("chain", "set", "map"):
            cursor.i += 1
            name_tok, brace = cursor.peek(), (cursor.toks[cursor.i + 1] if cursor.i + 1 < len(cursor.toks) else None)
            if name_tok is None or name_tok.kind not in ("w", "s") or brace is None or brace.kind != "{":
                raise InputError(name, f"expected `{word} NAME {{`", line=tok.line)
            cursor.i += 2
            label = f"{word} {cut(name_tok.text)} of {what}"
            body = cursor.block(brace, label, {"table", "chain", "set", "map"})
            objects = {"chain": table.chains, "set": table.sets, "map": table.maps}[word]
            # Sets and maps share one namespace in the kernel (a map is a set with values).
            first = table.chains.get(name_tok.text) if word == "chain" else \
                table.sets.get(name_tok.text) or table.maps.get(name_tok.text)
            if first is not None:
                raise duplicate_key(name, name_tok.text, first.line, tok.line, where=what,
                                    what="chain" if word == "chain" else "set or map")
            if word == "chain":
                chain = Chain(table, name_tok.text, tok.line)
                _chain_header(chain, body, name)
                table.chains[chain.name] = chain
            else:
                objects[name_tok.text] = _named_set(name_tok.text, tok.line, body, word == "map", name)
            continue
        if word == "table":
            raise InputError(name, f"'table' inside {what} (line {opener.line}): a '}}' is missing before this line",
                             line=tok.line)
        stmt = cursor.statement()
        words = stmt.words()
        if words[0] == "flags":
            table.dormant = "dormant" in "".join(words[1:]).split(",")
        elif words[0] not in TABLE_OBJECTS and words[0] != "comment":
            raise InputError(name, f"unexpected {shown(' '.join(words[:3]))} in {what}", line=stmt.line)


def _named_set(set_name: str, line: int, body: list[Stmt], is_map: bool, name: str) -> NamedSet:
    out = NamedSet(set_name, line)
    given: dict[str, int] = {}  # `nft list ruleset` writes each of these once: twice is ambiguous
    for stmt in body:
        words = stmt.words()
        key = {"typeof": "type", "elements=": "elements"}.get(words[0], words[0])
        if key in ("type", "flags", "timeout", "elements"):
            if key in given:
                where = f"{'map' if is_map else 'set'} {cut(set_name)}"
                raise duplicate_key(name, key, given[key], stmt.line, where=where, what="declaration")
            given[key] = stmt.line
        if words[0] == "type":
            out.type_text = " ".join(words[1:])
        elif words[0] == "typeof":
            out.type_text = _typeof(words[1:])
        elif words[0] == "flags":
            flags = "".join(words[1:]).split(",")
            out.runtime = out.runtime or bool({"dynamic", "timeout"} & set(flags))
        elif words[0] == "timeout":
            out.runtime = True
        elif words[0] in ("elements", "elements="):
            toks = [t for t in stmt.toks if t.kind != "\n"]
            start = 2 if words[0] == "elements" else 1
            if len(toks) < start + 2 or toks[start].kind != "{" or toks[-1].kind != "}" or \
                    (start == 2 and toks[1].text != "="):
                raise InputError(name, "expected `elements = { ... }`", line=stmt.line)
            out.elements = _split_elements(toks[start + 1:-1])
    key_text, _, value_text = out.type_text.partition(" : ")
    if is_map:
        out.verdict_map = value_text.strip() == "verdict"
    out.kind = SET_KINDS.get(key_text.strip()) if "." not in key_text.split() else None
    if out.kind is None and not out.type_text:
        raise InputError(name, f"{'map' if is_map else 'set'} {shown(set_name)} has no type", line=line)
    return out


def _typeof(words: list[str]) -> str:
    """The ``type`` equivalent of ``typeof EXPR``, for the expressions the model knows."""
    key = tuple(words[:2]) if tuple(words[:2]) in SELECTORS else tuple(words[:1])
    kind = SELECTORS.get(key, ("", "", None))[0]
    names = {v: k for k, v in SET_KINDS.items()}
    rest = words[len(key):]
    if kind in ("ether",) or kind not in names or (rest and rest[0] != ":"):
        return " ".join(words)  # unknown or concatenated: kept as written, not modelled
    return " ".join([names[kind], *rest])


def _split_elements(toks: list[Tok]) -> list[Stmt]:
    """``a, b timeout 1h, c : accept`` into one token list per element."""
    out: list[Stmt] = []
    current: list[Tok] = []
    depth = 0
    for tok in toks:
        if tok.kind == "," and depth == 0:
            if current:
                out.append(Stmt(current, current[0].line))
            current = []
            continue
        depth += {"{": 1, "}": -1}.get(tok.kind, 0)
        current.append(tok)
    if current:
        out.append(Stmt(current, current[0].line))
    return out


def _chain_header(chain: Chain, body: list[Stmt], name: str) -> None:
    given: dict[str, int] = {}
    for stmt in body:
        words = stmt.words()
        if words[0] in ("type", "policy"):
            if words[0] in given:  # two hooks or two policies: which one the kernel has cannot be known
                raise duplicate_key(name, words[0], given[words[0]], stmt.line, where=f"chain {cut(chain.label)}",
                                    what="declaration")
            given[words[0]] = stmt.line
        if words[0] == "type":
            spec = dict(zip(words[::2], words[1::2], strict=False))
            if "hook" not in spec or "priority" not in words:
                raise InputError(name, "expected `type TYPE hook HOOK priority PRIORITY`", line=stmt.line)
            chain.type, chain.hook = words[1], spec["hook"]
            chain.priority = _priority(words[words.index("priority") + 1:], name, stmt.line)
        elif words[0] == "policy":
            if len(words) != 2 or words[1] not in ("accept", "drop"):
                raise InputError(name, f"bad chain policy {shown(' '.join(words[1:]))} (accept or drop)",
                                 line=stmt.line)
            chain.policy, chain.policy_line = words[1], stmt.line
        elif words[0] in ("comment", "devices", "devices="):
            continue
        else:
            chain.stmts.append(stmt)


def _priority(words: list[str], name: str, line: int) -> int:
    m = re.fullmatch(r"(-?[0-9]+|[a-z]+)\s*(?:([+-])\s*([0-9]+))?", " ".join(words))
    if not m or (not m.group(1).lstrip("-").isdigit() and m.group(1) not in PRIORITIES):
        raise InputError(name, f"unknown chain priority {shown(' '.join(words))}", line=line)
    for digits in (m.group(1), m.group(3) or "0"):
        check_int_text(digits, name, line)
    base = int(m.group(1)) if m.group(1).lstrip("-").isdigit() else PRIORITIES[m.group(1)]
    offset = int(m.group(3) or 0)
    return base + offset if m.group(2) != "-" else base - offset


def _mark_runtime_sets(table: Table) -> None:
    """Sets a rule adds to, updates or deletes from (``add @blocklist { ip saddr }``)."""
    for chain in table.chains.values():
        for stmt in chain.stmts:
            words = stmt.words()
            for i, word in enumerate(words):
                if word in ("add", "update", "delete"):
                    for later in words[i + 1:]:
                        if later.startswith("@") and later[1:] in table.sets:
                            table.sets[later[1:]].runtime = True


# --- matches ----------------------------------------------------------------------------------

Ifaces = tuple[tuple[str, ...], bool]  # names (``eth*`` wildcards), negated


def _any(families: frozenset[int]) -> list[Interval]:
    return (list(ANY4) if 4 in families else []) + (list(ANY6) if 6 in families else [])


def _meet(a: str, b: str) -> str | None:
    """The names matched by both patterns, as one pattern (a trailing ``*`` is a wildcard)."""
    aw, bw = a.endswith("*"), b.endswith("*")
    if not aw and not bw:
        return a if a == b else None
    if aw and bw:
        longer, shorter = (a, b) if len(a) >= len(b) else (b, a)
        return longer if longer.startswith(shorter[:-1]) else None
    literal, pattern = (b, a) if aw else (a, b)
    return literal if literal.startswith(pattern[:-1]) else None


def _covers(pattern: str, other: str) -> bool:
    """Every name ``other`` matches is matched by ``pattern``."""
    if not pattern.endswith("*"):
        return pattern == other
    return other.startswith(pattern[:-1])


def _and_ifaces(a: Ifaces | None, b: Ifaces) -> Ifaces | str | None:
    """Both interface conditions; ``"never"`` when nothing matches, ``"inexact"`` when not expressible."""
    if a is None:
        return b
    (an, aneg), (bn, bneg) = a, b
    if aneg and bneg:
        return (tuple(dict.fromkeys(an + bn)), True)
    if not aneg and not bneg:
        met = tuple(dict.fromkeys(m for x in an for y in bn if (m := _meet(x, y)) is not None))
        return (met, False) if met else "never"
    names, excluded = (an, bn) if not aneg else (bn, an)
    kept: list[str] = []
    for n in names:
        if any(_covers(e, n) for e in excluded):
            continue
        if n.endswith("*") and any(_meet(n, e) is not None for e in excluded):
            return "inexact"  # "eth*" except "eth0": no such pattern in the model
        kept.append(n)
    return (tuple(kept), False) if kept else "never"


@dataclass
class Match:
    """The conjunction of a rule's matches (None: not restricted), before it becomes a Rule."""

    families: frozenset[int]
    sources: list[Interval] | None = None
    destinations: list[Interval] | None = None
    protocols: list[int] | None = None
    dports: list[PortRange] | None = None
    sports: list[PortRange] | None = None
    icmp_types: list[str] | None = None
    states: list[str] | None = None
    inputs: Ifaces | None = None
    outputs: Ifaces | None = None
    never: bool = False
    limit: bool = False
    problems: list[str] = field(default_factory=list)

    def copy(self) -> Match:
        return replace(self, problems=list(self.problems))

    def apply(self, kind: str, what: str, implied: int | None, op: str, values: list, text: str) -> None:
        """Narrow by one match ``text`` (``ip saddr``) ``op`` ``values`` (already parsed)."""
        if op not in ("==", "!=") and kind != "port":
            self.problems.append(f"'{text} {op}' is not modelled")
            return
        if kind in ("addr4", "addr6"):
            family = 4 if kind == "addr4" else 6
            self.families &= {family}
            found = normalise(values) if op == "==" else complement(values, (family,))
            side = "sources" if what == "src" else "destinations"
            current = getattr(self, side)
            setattr(self, side, found if current is None else intersect(current, found))
        elif kind == "proto":
            if implied:
                self.families &= {implied}
            if op == "!=":
                self.problems.append(f"negated protocol '{text} !=' is not modelled")
            else:
                self._protocols(list(dict.fromkeys(values)))
        elif kind == "port":
            if implied:
                self._protocols([implied])
            ranges = self._port_op(op, values, text)
            if ranges is not None:
                current = getattr(self, what)
                setattr(self, what, ranges if current is None else port_intersection(current, ranges))
        elif kind == "ifname":
            side = "inputs" if what == "in" else "outputs"
            combined = _and_ifaces(getattr(self, side), (tuple(values), op == "!="))
            if combined == "never":
                self.never = True
            elif combined == "inexact":
                self.problems.append(f"'{text}' conditions cannot be combined exactly")
            else:
                setattr(self, side, combined)
        elif kind == "ctstate":
            chosen = [s for s in STATES if (s in values) == (op == "==")]
            self.states = chosen if self.states is None else [s for s in chosen if s in self.states]
        elif kind in ("icmp", "icmpv6"):
            self._protocols([1 if kind == "icmp" else 58])
            if op == "!=":
                self.problems.append(f"negated '{text} !=' is not modelled")
            else:
                types = list(dict.fromkeys(values))
                self.icmp_types = types if self.icmp_types is None else [t for t in self.icmp_types if t in types]
        elif kind in ("nfproto", "ether"):
            self.families = self.families & set(values) if op == "==" else self.families - set(values)

    def _protocols(self, found: list[int]) -> None:
        self.protocols = found if self.protocols is None else [p for p in self.protocols if p in found]

    def _port_op(self, op: str, values: list[PortRange], text: str) -> list[PortRange] | None:
        if op == "==":
            return merge_ports(values)
        if op == "!=":
            return port_complement(values)
        if len(values) != 1 or values[0][0] != values[0][1]:
            self.problems.append(f"'{text} {op}' with a set or range is not modelled")
            return None
        port = values[0][0]
        lo, hi = {"<": (0, port - 1), "<=": (0, port), ">": (port + 1, 65535), ">=": (port, 65535)}[op]
        return [(lo, hi)] if lo <= hi else []

    def within(self, outer: Match) -> Match:
        """This match evaluated only for packets that also matched ``outer`` (a jump's matches)."""
        out = self.copy()
        out.families = self.families & outer.families
        for side in ("sources", "destinations"):
            a, b = getattr(self, side), getattr(outer, side)
            if b is not None:
                setattr(out, side, list(b) if a is None else intersect(a, b))
        for attr in ("protocols", "icmp_types", "states"):
            a, b = getattr(self, attr), getattr(outer, attr)
            if b is not None:
                setattr(out, attr, list(b) if a is None else [x for x in a if x in b])
        for attr in ("dports", "sports"):
            a, b = getattr(self, attr), getattr(outer, attr)
            if b is not None:
                setattr(out, attr, list(b) if a is None else port_intersection(a, b))
        for side in ("inputs", "outputs"):
            b = getattr(outer, side)
            if b is None:
                continue
            combined = _and_ifaces(getattr(self, side), b)
            if combined == "never":
                out.never = True
            elif combined == "inexact":
                out.problems.append(f"{'input' if side == 'inputs' else 'output'} interfaces of the jump and the "
                                    "rule cannot be combined exactly")
            else:
                setattr(out, side, combined)
        out.never = out.never or outer.never
        out.limit = self.limit or outer.limit
        out.problems = [f"in a jump whose match is not modelled: {p}" for p in outer.problems] + out.problems
        return out

    def rule(self, origin: dict, action: str, logged: bool) -> Rule:
        everything = _any(self.families)
        problems = list(self.problems)
        sources = everything if self.sources is None else intersect(self.sources, everything)
        destinations = everything if self.destinations is None else intersect(self.destinations, everything)
        if self.never:
            sources = []
        services = self._services(problems)
        if self.limit and action != "log":
            problems.append("limit makes the verdict depend on the packet rate")
        rule = Rule(origin=origin, action=action, sources=sources, destinations=destinations, services=services,
                    log=logged, error="; ".join(dict.fromkeys(problems)) or None)
        if self.states is not None:
            rule.states = list(self.states)
            rule.new_connections = bool({"NEW", "UNTRACKED"} & set(self.states))
        for side, attr in (("inputs", "source"), ("outputs", "destination")):
            ifaces = getattr(self, side)
            if ifaces is not None and (ifaces[0] or ifaces[1]):
                setattr(rule, f"{attr}_interfaces", list(ifaces[0]))
                setattr(rule, f"{attr}_interfaces_negated", ifaces[1])
        return rule

    def _services(self, problems: list[str]) -> list[Service]:
        has_ports = self.dports is not None or self.sports is not None
        dports = self.dports if self.dports is not None else list(ALL_PORTS)
        sports = self.sports if self.sports is not None else list(ALL_PORTS)
        if self.protocols is None:
            if not has_ports:
                return [Service("any")]
            problems.append("th ports without `meta l4proto` of tcp, udp or sctp match any protocol's header")
            return [Service(PROTOCOL_NAMES[p], dports, sports) for p in PORT_NUMBERS]
        out: list[Service] = []
        for number in self.protocols:
            protocol = PROTOCOL_NAMES.get(number, "ip")
            if number in PORT_NUMBERS:
                out.append(Service(protocol, list(dports), list(sports)))
                continue
            if has_ports:
                problems.append(f"th ports on protocol {protocol if protocol != 'ip' else number}, which has none")
            if protocol in ("icmp", "icmpv6") and self.icmp_types is not None:
                out.extend(Service(protocol, icmp_type=t) for t in self.icmp_types)
            else:
                out.append(Service(protocol, number=number if protocol == "ip" else None))
        return out


# --- rules ------------------------------------------------------------------------------------


def _item(tok: Tok, kind: str, text: str, name: str, problems: list[str]) -> Interval | PortRange | int | str | None:
    """One value of ``kind``; a malformed one is an InputError, one the model cannot read a problem (None)."""
    value = tok.text
    line = tok.line
    if kind in ("addr4", "addr6"):
        try:
            interval = parse_network(value)
        except ValueError as exc:
            raise InputError(name, f"bad address {shown(value)}: {exc}", line=line) from None
        if interval[0] != (4 if kind == "addr4" else 6):
            raise InputError(name, f"{shown(value)} is not an IPv{4 if kind == 'addr4' else 6} address (in '{text}')",
                             line=line)
        return interval
    if kind == "port":
        lo_text, dash, hi_text = value.partition("-")
        lo, hi = decimal(lo_text, name, line), decimal(hi_text, name, line) if dash else None
        try:
            lo = lo if lo is not None else SERVICES[lo_text]
            hi = (hi if hi is not None else SERVICES[hi_text]) if dash else lo
        except KeyError:
            problems.append(f"service name {shown(value)} is not resolved")
            return None
        if not 0 <= lo <= hi <= 65535:
            raise InputError(name, f"bad port range {shown(value)}", line=line)
        return (lo, hi)
    if kind == "proto":
        number = decimal(value, name, line)
        number = number if number is not None else PROTOCOLS.get(value.lower())
        if number is None or number > 255:
            problems.append(f"protocol {shown(value)} is not modelled")
            return None
        return number
    if kind == "ctstate":
        if value.upper() not in STATES:
            problems.append(f"conntrack state {shown(value)} is not modelled")
            return None
        return value.upper()
    if kind in ("nfproto", "ether"):
        family = {"ipv4": 4, "ipv6": 6} if kind == "nfproto" else {"ip": 4, "ip6": 6}
        if value not in family:
            problems.append(f"'{text} {value}' is not modelled")
            return None
        return family[value]
    return value  # ifname, icmp types: as written


class RuleParser:
    """The matches, statements and verdict of one rule's words."""

    def __init__(self, chain: Chain, stmt: Stmt, name: str) -> None:
        self.chain, self.table, self.stmt, self.name = chain, chain.table, stmt, name
        self.toks = [t for t in stmt.toks if t.kind != "\n"]
        self.i = 0
        self.match = Match(FAMILIES[chain.table.family])

    def word(self, ahead: int = 0) -> str | None:
        j = self.i + ahead
        return self.toks[j].text if j < len(self.toks) and self.toks[j].kind == "w" else None

    def fail(self, problem: str) -> InputError:
        return InputError(self.name, problem, line=self.stmt.line)

    def parse(self) -> tuple[list[Branch], bool, str | None]:
        verdict: str | None = None
        target: str | None = None
        vmap: tuple[tuple, tuple[list[tuple[str | None, str | None, list]], bool]] | None = None
        logged = False
        comment: str | None = None
        while self.i < len(self.toks):
            tok = self.toks[self.i]
            word = tok.text if tok.kind == "w" else None
            if word in PREFIXES or word in SHORT:
                selector = self.selector()
                if selector is None:
                    continue
                kind, what, implied, text = selector
                if self.word() == ".":
                    self.unknown(f"concatenation '{text} . ...'")
                elif self.word() in BITWISE:
                    self.unknown(f"'{text} {self.word()}'")
                elif self.word() == "vmap":
                    self.i += 1
                    vmap = (selector, self.verdict_map(kind, text))
                else:
                    op = OPERATORS.get(self.word() or "")
                    if op:
                        self.i += 1
                    values = self.values(kind, text)
                    if values is not None:
                        self.match.apply(kind, what, implied, op or "==", values, text)
            elif word == "counter":
                self.i += 1
                if self.word() == "packets":
                    self.i += 4
                elif self.word() == "name":
                    self.i += 2
            elif word == "log":
                logged = True
                self.i += 1
                self.skip_arguments({"prefix", "level", "group", "snaplen", "queue-threshold"}, {"flags"})
            elif word == "limit":
                self.match.limit = True
                self.i += 1
                while self.i < len(self.toks) and not self.at_start():
                    self.i += 1
            elif word == "comment":
                if self.i + 1 >= len(self.toks):
                    raise self.fail("comment needs a text")
                comment = self.toks[self.i + 1].text
                self.i += 2
            elif word in VERDICTS:
                if verdict is not None or vmap is not None:
                    self.match.problems.append(f"a second verdict {shown(word)} in one rule")
                self.i += 1
                if word in ("jump", "goto"):
                    if self.i >= len(self.toks) or self.toks[self.i].kind not in ("w", "s"):
                        raise self.fail(f"{word} needs a chain name")
                    target = self.toks[self.i].text
                    self.i += 1
                elif word == "reject" and self.word() == "with":
                    self.i += 2
                    if self.word() == "type":
                        self.i += 1
                    self.i += 1
                elif word == "queue":
                    while self.i < len(self.toks) and not self.at_start():
                        self.i += 1
                    self.match.problems.append("queue hands the verdict to a user-space program")
                verdict = {"drop": "deny", "reject": "deny", "continue": None}.get(word, word)
            else:
                self.unknown()
        if vmap is None:
            return [Branch(self.match, verdict, target)], logged, comment
        (kind, what, implied, text), (groups, complete) = vmap
        branches = []
        for group_verdict, group_target, values in groups:
            match = self.match.copy()
            match.apply(kind, what, implied, "==", values, text)
            branches.append(Branch(match, group_verdict, group_target))
        if not complete:  # keys whose verdict is not known: undetermined, never "no match"
            branches.append(Branch(self.match.copy(), None))
        return branches, logged, comment

    def selector(self) -> tuple[str, str, int | None, str] | None:
        """(value kind, what, implied protocol/family, text) of the match at the cursor."""
        first, second = self.word(), self.word(1)
        if first in SHORT:
            self.i += 1
            return (*SELECTORS[(first,)], first)
        if (first, second) in SELECTORS:
            self.i += 2
            return (*SELECTORS[(first, second)], f"{first} {second}")
        self.unknown()
        return None

    def at_start(self, j: int | None = None) -> bool:
        """Does an expression or statement the parser knows begin at token ``j``?"""
        j = self.i if j is None else j
        tok = self.toks[j]
        if tok.kind != "w":
            return False
        if tok.text in VERDICTS or tok.text in STATEMENTS or tok.text in SHORT:
            return True
        nxt = self.toks[j + 1].text if j + 1 < len(self.toks) else None
        return tok.text in PREFIXES and (tok.text, nxt) in SELECTORS

    def unknown(self, text: str | None = None) -> None:
        """Skip an expression or statement the model does not know; the rule gets an error."""
        written: list[str] = []
        first = True
        if self.word() == "fib":  # `fib saddr . iif oif missing`: its result keyword is no interface match
            while self.i < len(self.toks) and self.word() not in ("oif", "oifname", "type"):
                written.append(self.toks[self.i].text)
                self.i += 1
            written.extend(t.text for t in self.toks[self.i:self.i + 1])
            self.i += 1
            first = False
        while self.i < len(self.toks):
            tok = self.toks[self.i]
            if tok.kind == "{":
                depth = 0
                while self.i < len(self.toks):
                    depth += {"{": 1, "}": -1}.get(self.toks[self.i].kind, 0)
                    self.i += 1
                    if depth == 0:
                        break
                written.append("{...}")
            elif tok.kind == "w" and tok.text == ".":  # a concatenation: the next selector belongs to it
                after = self.word(1)
                words = 3 if after in PREFIXES else 2
                written.extend(t.text for t in self.toks[self.i:self.i + words])
                self.i += words
            elif not first and self.at_start():
                break
            else:
                written.append(tok.text)
                self.i += 1
            first = False
        shown = " ".join(written)
        self.match.problems.append(f"{text or repr(shown if len(shown) <= 80 else shown[:77] + '...')} "
                                   "is not modelled")

    def skip_arguments(self, valued: set[str], listed: set[str]) -> None:
        while (word := self.word()) is not None:
            if word in valued:
                self.i += 2
            elif word in listed:
                self.i += 1
                while self.word() is not None and not self.at_start() and self.word() not in valued:
                    self.i += 1
                    if self.i < len(self.toks) and self.toks[self.i].kind == ",":
                        self.i += 1
            else:
                break

    def values(self, kind: str, text: str) -> list | None:
        """The values after a match: ``x``, ``x,y``, ``{ x, y }`` or ``@set``, parsed as ``kind``
        (None: a named set the model cannot read; the rule already has its error)."""
        if self.i >= len(self.toks):
            raise self.fail(f"'{text}' needs a value")
        tok = self.toks[self.i]
        if tok.kind == "{":
            items: list[Tok] = []
            self.i += 1
            while self.i < len(self.toks) and self.toks[self.i].kind != "}":
                if self.toks[self.i].kind != ",":
                    items.append(self.toks[self.i])
                self.i += 1
            self.i += 1
            return self.items(items, kind, text)
        if tok.kind == "w" and tok.text.startswith("@"):
            self.i += 1
            named = self.named(tok.text[1:], self.table.sets, "set", kind, text)
            if named is None:
                return None
            return self.items([e.toks[0] for e in named.elements], kind, text)
        if tok.kind not in ("w", "s"):
            raise self.fail(f"'{text}' needs a value")
        items = [tok]
        self.i += 1
        while self.i + 1 < len(self.toks) and self.toks[self.i].kind == ",":
            items.append(self.toks[self.i + 1])
            self.i += 2
        return self.items(items, kind, text)

    def named(self, set_name: str, objects: dict[str, NamedSet], what: str, kind: str, text: str) -> NamedSet | None:
        found = objects.get(set_name)
        if found is None:
            raise self.fail(f"unknown {what} @{cut(set_name)} (not defined in table {cut(self.table.label)})")
        if found.kind is None:
            self.match.problems.append(f"{what} @{set_name} of type {shown(found.type_text)} is not modelled")
            return None
        if found.kind != kind:
            raise self.fail(f"{what} @{cut(set_name)} holds {cut(found.type_text)}, not values of '{text}'")
        if found.runtime:
            self.match.problems.append(f"{what} @{set_name} changes at runtime (dynamic, timeout or updated by a "
                                       "rule): its listed elements are a snapshot")
        return found

    def items(self, toks: list[Tok], kind: str, text: str) -> list:
        out = []
        for tok in toks:
            value = self.item(tok, kind, text)
            if value is not None:
                out.append(value)
        return out

    def item(self, tok: Tok, kind: str, text: str) -> Interval | PortRange | int | str | None:
        return _item(tok, kind, text, self.name, self.match.problems)

    def verdict_map(self, kind: str, text: str) -> tuple[list[tuple[str | None, str | None, list]], bool]:
        """``vmap { key : verdict, ... }`` or ``vmap @map``: ((verdict, target, keys) per verdict, whether
        every element was understood)."""
        tok = self.toks[self.i] if self.i < len(self.toks) else None
        if tok is not None and tok.kind == "w" and tok.text.startswith("@"):
            self.i += 1
            named = self.named(tok.text[1:], self.table.maps, "map", kind, text)
            if named is not None and not named.verdict_map:
                raise self.fail(f"map @{cut(named.name)} is not a verdict map ({cut(named.type_text)})")
            if named is None:
                return [], False
            elements = named.elements
        elif tok is not None and tok.kind == "{":
            depth, start = 0, self.i
            while self.i < len(self.toks):
                depth += {"{": 1, "}": -1}.get(self.toks[self.i].kind, 0)
                self.i += 1
                if depth == 0:
                    break
            elements = _split_elements(self.toks[start + 1:self.i - 1])
        else:
            raise self.fail(f"'{text} vmap' needs {{ key : verdict, ... }} or @map")
        groups: dict[tuple[str | None, str | None], list] = {}
        keys: list[tuple[Any, int, str]] = []  # (value, line, as written) of every element read
        complete = True
        for element in elements:
            words = [t.text for t in element.toks]
            if ":" not in words or words.index(":") + 1 >= len(words):
                raise InputError(self.name, f"verdict map element {shown(' '.join(words))} has no ': verdict'",
                                 line=element.line)
            verdict_words = words[words.index(":") + 1:]
            verdict = {"accept": "accept", "drop": "deny", "continue": None, "return": "return", "jump": "jump",
                       "goto": "goto"}.get(verdict_words[0], "?")
            target = verdict_words[1] if verdict in ("jump", "goto") and len(verdict_words) > 1 else None
            if verdict == "?" or (verdict in ("jump", "goto") and target is None):
                self.match.problems.append(f"verdict {shown(' '.join(verdict_words))} in a verdict map is not modelled")
                complete = False
                continue
            value = self.item(element.toks[0], kind, text)
            if value is None:
                complete = False
            else:
                groups.setdefault((verdict, target), []).append(value)
                keys.append((value, element.line, element.toks[0].text))
        _distinct_keys(keys, self.name)
        return [(verdict, target, values) for (verdict, target), values in groups.items()], complete


def _distinct_keys(keys: list[tuple[Any, int, str]], name: str) -> None:
    """Refuse a verdict map that gives one key two elements (``22 : accept, 22 : drop``), or two
    ranges that share keys: nft itself refuses them, `nft list ruleset` never writes them, and which
    verdict a packet gets could only be guessed."""
    first: dict[Any, tuple[int, str]] = {}
    ranges: list[tuple[tuple, int, str]] = []
    for value, line, text in keys:
        if value in first:
            raise duplicate_key(name, text, first[value][0], line, where="verdict map", what="key")
        first[value] = (line, text)
        if isinstance(value, tuple):
            ranges.append((value, line, text))
    ranges.sort(key=lambda r: r[0])
    for (a, a_line, a_text), (b, b_line, b_text) in zip(ranges, ranges[1:], strict=False):
        if a[:-2] == b[:-2] and b[-2] <= a[-1]:  # same family (addresses), and b starts inside a
            raise InputError(name, f"verdict map keys {shown(a_text)} (line {a_line}) and {shown(b_text)} overlap: "
                             "which verdict applies cannot be known", line=b_line)


def _chain_rules(chain: Chain, name: str) -> None:
    for position, stmt in enumerate(chain.stmts, start=1):
        branches, logged, comment = RuleParser(chain, stmt, name).parse()
        rule_id = f"{chain.label} handle {stmt.handle}" if stmt.handle else f"{chain.label}#{position}"
        origin: dict = {"kind": "nftables-rule", "id": rule_id, "chain": chain.name, "line": stmt.line, "file": name}
        if comment is not None:
            origin["name"] = comment
        chain.rules.append(RuleLine(origin, stmt.line, branches, logged))


def _check_jumps(table: Table, name: str) -> None:
    """Every jump and goto names a user chain of the table, and no chain reaches itself."""
    edges: dict[str, list[tuple[str, int]]] = {}
    for chain in table.chains.values():
        for entry in chain.rules:
            for branch in entry.branches:
                if branch.verdict not in ("jump", "goto"):
                    continue
                target = table.chains.get(branch.target or "")
                if target is None:
                    raise InputError(name, f"{branch.verdict} to undefined chain {shown(branch.target)} "
                                     f"(not in table {cut(table.label)})", line=entry.line)
                if target.hook is not None:
                    raise InputError(name, f"{branch.verdict} to base chain {shown(branch.target)}", line=entry.line)
                edges.setdefault(chain.name, []).append((target.name, entry.line))
    # Depth-first with a stack of its own (a file of 10,000 chains each jumping to the next must be
    # refused by the limit, not by Python's recursion limit); each chain's depth, its longest chain of
    # jumps, is known once its targets are, so the limit holds whichever chain comes first in the file.
    depths: dict[str, int] = {}
    for root in table.chains:
        if root in depths:
            continue
        path = [root]
        stack = [iter(edges.get(root, ()))]
        while stack:
            for target, line in stack[-1]:
                if target in depths:
                    continue
                if target in path:
                    cycle = (*path[path.index(target):], target)
                    raise InputError(name, f"chain loop: {path_text(cycle)}", line=line)
                if len(path) > MAX_CHAIN_DEPTH:
                    _too_deep(table, [*path, target], name, line)
                path.append(target)
                stack.append(iter(edges.get(target, ())))
                break
            else:
                current = path.pop()
                stack.pop()
                depth = max((depths[t] + 1 for t, _ in edges.get(current, ())), default=0)
                if depth > MAX_CHAIN_DEPTH:
                    _too_deep(table, [*path, current], name, table.chains[current].line, depth)
                depths[current] = depth


def _too_deep(table: Table, path: list[str], name: str, line: int, depth: int | None = None) -> None:
    deep = f"{depth} deep" if depth is not None else f"more than {MAX_CHAIN_DEPTH} deep"
    raise InputError(name, f"chains of table {cut(table.label)} jump {deep} ({path_text(path)}); at most "
                     f"{MAX_CHAIN_DEPTH} nested jumps are allowed (see the README's Limits)", line=line)


# --- flattening -------------------------------------------------------------------------------

ACTIONS = {"accept": "accept", "deny": "deny", None: "log", "queue": "log", "return": "skip"}


def flatten(chain: Chain, name: str) -> list[Rule]:
    """One base chain as a first-match list, user chains inlined; ``skip_to`` ``len(list)`` is its policy."""
    out: list[Rule] = []
    table = chain.table
    steps = 0  # every branch inlined, jumps included: jumps to empty chains multiply too

    def walk(current: Chain, outer: Match | None, via: list[str], stack: tuple[str, ...],
             returns: list[Rule]) -> None:
        nonlocal steps
        for entry in current.rules:
            origin = {**entry.origin, "via": list(via)} if via else entry.origin
            steps += len(entry.branches)
            if steps > MAX_FLAT_RULES:
                raise InputError(name, f"inlining user chains gives more than {MAX_FLAT_RULES:,} rules and jumps "
                                 f"for {cut(chain.label)}: too many shared chains to analyse exactly",
                                 line=entry.line)
            for branch in entry.branches:
                match = branch.match if outer is None else branch.match.within(outer)
                if branch.verdict in ("jump", "goto"):
                    target = table.chains.get(branch.target or "")
                    if target is None:
                        raise InputError(name, f"{branch.verdict} to undefined chain {shown(branch.target)}",
                                         line=entry.line)
                    if target.hook is not None:
                        raise InputError(name, f"{branch.verdict} to base chain {shown(branch.target)}",
                                         line=entry.line)
                    if target.name in stack or target.name == current.name:
                        raise InputError(name, f"chain loop: {path_text((*stack, current.name, target.name))}",
                                         line=entry.line)
                    inner_via = [*via, entry.origin["id"]]
                    if branch.verdict == "jump":
                        inner_returns: list[Rule] = []
                        walk(target, match, inner_via, stack + (current.name,), inner_returns)
                        for rule in inner_returns:
                            rule.skip_to = len(out)  # continue after the inlined chain, in the caller
                    else:
                        walk(target, match, inner_via, stack + (current.name,), returns)
                        back = match.rule(origin, "skip", False)  # the goto'd chain did not decide
                        returns.append(back)
                        out.append(back)
                    continue
                rule = match.rule(origin, ACTIONS[branch.verdict], entry.logged)
                if branch.verdict == "return":
                    returns.append(rule)
                out.append(rule)

    top: list[Rule] = []
    walk(chain, None, [], (), top)
    for rule in top:
        rule.skip_to = len(out)
    return out


def _restrict(rule: Rule, families: frozenset[int]) -> Rule | None:
    everything = _any(families)
    sources, destinations = intersect(rule.sources, everything), intersect(rule.destinations, everything)
    return replace(rule, sources=sources, destinations=destinations) if sources and destinations else None


def hook_rules(tables: list[Table], hook: str, name: str) -> tuple[list[Rule], str, str | None]:
    """(rules, default action, chain label) of every filter base chain on ``hook``, as one list.

    A packet is accepted only if every base chain of its family on the hook accepts it; chains
    are evaluated in priority order (file order for equal priorities)."""
    chains = sorted((c for t in tables if t.family in FAMILIES and not t.dormant for c in t.chains.values()
                     if c.hook == hook and c.type == "filter"), key=lambda c: c.priority)
    if not chains:
        return [], "accept", None
    families = [FAMILIES[c.table.family] for c in chains]
    last = {v: max((i for i, f in enumerate(families) if v in f), default=-1) for v in (4, 6)}
    fate = {v: chains[last[v]].policy if last[v] >= 0 else "accept" for v in (4, 6)}
    default = fate[4] if fate[4] == fate[6] else "accept"
    out: list[Rule] = []
    to_next: list[tuple[Rule, int]] = []  # an earlier chain's accept: continue at the next chain
    ends: list[int] = []
    for i, chain in enumerate(chains):
        local = flatten(chain, name)
        later = frozenset(v for v in families[i] if last[v] > i)
        index_of: list[int] = []
        skips: list[Rule] = []
        for rule in local:
            index_of.append(len(out))
            if rule.action == "accept" and later:
                parts = [(p, final) for fams, final in ((later, False), (families[i] - later, True))
                         if fams and (p := _restrict(rule, fams)) is not None]
                for part, final in parts:
                    if not final:
                        part.action = "skip"
                        to_next.append((part, i))
                    out.append(part)
                if not parts:
                    out.append(rule)  # matches no address
                continue
            if rule.action == "skip":
                skips.append(rule)
            out.append(rule)
        index_of.append(len(out))
        by_default = frozenset(v for v in families[i] if last[v] == i and fate[v] == default)
        if chain.policy == "drop" and families[i] - by_default:
            origin = {"kind": "nftables-rule", "id": f"{chain.label} policy", "chain": chain.name,
                      "line": chain.policy_line or chain.line, "file": name}
            everything = _any(families[i] - by_default)
            out.append(Rule(origin=origin, action="deny", sources=everything, destinations=list(everything),
                            services=[Service("any")], log=False))
        for rule in skips:
            rule.skip_to = index_of[rule.skip_to if rule.skip_to is not None else len(local)]
        ends.append(len(out))
    for rule, i in to_next:
        rule.skip_to = ends[i]
    return out, "accept" if default == "accept" else "deny", ", ".join(c.label for c in chains)


class NftablesImporter(ZonedImporter):
    name = "nftables"
    target_kind = "network"
    description = ("nft list ruleset output (inet/ip/ip6 filter chains: hook forward into firewall_rules, "
                   "hook input into firewall_input_rules); with it, `ip route show` output says what lies behind "
                   "each interface")

    def read(self, path: Path, data: bytes, builder: BundleBuilder) -> None:
        check_size(path, "firewall", len(data))  # before any work on it (the caller has read the file)
        text, encoding = decode(data, str(path))
        if is_route_listing(text):  # the gateway's `ip route` table, given with its rules
            self.networks = (self.networks or []) + route_networks(text, str(path))
            builder.add_source(str(path), f"ip route ({encoding})", data, "firewall_rules")
            store_zones(builder, self.zones, self.zones_path, self.networks)
            return
        tables = parse_ruleset(text, str(path))
        for hook, area in (("forward", "firewall_rules"), ("input", "firewall_input_rules")):
            rules, default, chain = hook_rules(tables, hook, str(path))
            builder.add_source(str(path), f"nft list ruleset ({encoding})", data, area)
            store_rules(builder, area, path, rules_fact("nftables", default, rules, chain), rules)
        store_zones(builder, self.zones, self.zones_path, self.networks)


@register("nftables")
def nftables_importer() -> NftablesImporter:
    return NftablesImporter()
