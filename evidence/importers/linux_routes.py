"""A Linux gateway's routing table (``ip route show`` output) as ``interface_networks`` records.

iptables-save and ``nft list ruleset`` name interfaces (``-i ens224``, ``iifname "ens224"``) but not
what lies behind them. The gateway's routing table does: given as a further file of the same
import (``auditor import iptables rules.v4 ip-route.txt``), each route is one record — its prefix
(``default`` is every address), its ``dev`` and its ``metric`` as the distance — so that a zone the
zones file names no interface for is faced by the interface its addresses are routed through
(:mod:`auditor.evidence.routes`). ``blackhole``, ``unreachable`` and ``prohibit`` routes drop what
they match; a multipath route is faced by each ``nexthop``'s device. Routes of other tables than
``main`` (policy routing) and ``local``/``broadcast``/``multicast`` entries are kept, marked
``ignored``. ``ip -6 route`` output is read the same way; a word the file should not hold is an
InputError naming the line, as is a file that is neither a routing table nor a rule set.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from auditor.evidence.routes import network_record

from auditor.errors import InputError

TYPES = {"unicast", "local", "broadcast", "multicast", "throw", "unreachable", "prohibit", "blackhole", "nat",
         "anycast"}
DROPPING = {"unreachable", "prohibit", "blackhole"}
VALUED = {"via", "dev", "proto", "scope", "src", "metric", "table", "pref", "mtu", "advmss", "rtt", "rttvar",
          "window", "cwnd", "initcwnd", "initrwnd", "realm", "realms", "expires", "hoplimit", "weight", "features",
          "quickack", "congctl", "fastopen_no_cookie", "ssthresh", "reordering", "nhid", "from", "tos", "dsfield",
          "error", "rto_min", "ttl-propagate", "preference", "priority"}
FLAGS = {"onlink", "linkdown", "dead", "pervasive", "offload", "trap", "notify", "rt_offload", "rt_trap",
         "rt_offload_failed", "lock"}
_START = re.compile(r"^(?:(?:unicast|local|broadcast|multicast|throw|unreachable|prohibit|blackhole|nat|anycast)\s+)?"
                    r"(?:default|\d+\.[\d.]+|[0-9a-fA-F]*:[0-9a-fA-F:.]*)(?:/\d{1,3})?(?:\s|$)")


def is_route_listing(text: str) -> bool:
    """Whether a file is ``ip route`` output: its first line that is not blank or a comment starts like a
    route (a rule set starts with ``*filter``, ``:CHAIN``, ``-A`` or ``table``)."""
    for line in text.split("\n"):
        line = line.strip()
        if line and not line.startswith("#"):
            return bool(_START.match(line))
    return False


def route_networks(text: str, file: str) -> list[dict[str, Any]]:
    """The routes of an ``ip route show`` listing, one record each, in file order."""
    records: list[dict[str, Any]] = []
    last: dict[str, Any] | None = None
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = line.split()
        if words[0] == "nexthop":  # a line of the multipath route above it
            if last is None:
                raise InputError(file, "'nexthop' without a route before it", line=number)
            device = _options(words[1:], file, number).get("dev")
            if device and device not in last.setdefault("nexthops", []):
                last["nexthops"].append(device)
            continue
        last = _route(words, file, number)
        records.append(last)
    out: list[dict[str, Any]] = []
    for record in records:  # a multipath route: one record per device, equal cost
        devices = record.pop("nexthops", [])
        if record["interface"] is None and not record.get("blackhole"):
            if devices:
                out += [{**record, "interface": device} for device in devices]
                continue
            record.setdefault("ignored", "the route names no device")
        out.append(record)
    return out


def _route(words: list[str], file: str, number: int) -> dict[str, Any]:
    kind = words[0] if words[0] in TYPES else "unicast"
    if words[0] in TYPES:
        words = words[1:]
    if not words:
        raise InputError(file, f"a {kind} route without a destination", line=number)
    options = _options(words[1:], file, number)
    network = _network(words[0], options, file, number)
    distance = _metric(options.get("metric") or options.get("preference") or options.get("priority") or "0",
                       file, number)
    table = options.get("table", "main")
    ignored = None
    if kind in ("local", "broadcast", "multicast", "anycast", "nat"):
        ignored = f"a {kind} route: not where forwarded traffic goes"
    elif kind == "throw":
        ignored = "a throw route: lookup continues in another table"
    elif table not in ("main", "254"):
        ignored = f"table {table}: policy routing (ip rule) decides when it is used"
    dropping = kind in DROPPING
    return network_record(None if dropping else options.get("dev"), [network], "ip route", file, number, distance,
                          blackhole=dropping or None, ignored=ignored)


def _options(words: list[str], file: str, number: int) -> dict[str, str]:
    out: dict[str, str] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if word in FLAGS:
            i += 1
            continue
        if word in VALUED:
            if i + 1 >= len(words):
                raise InputError(file, f"{word!r} needs a value", line=number)
            value = words[i + 1]
            if word == "via" and value in ("inet", "inet6") and i + 2 < len(words):
                value, i = words[i + 2], i + 1
            out.setdefault(word, value)
            i += 2
            continue
        raise InputError(file, f"unexpected {word[:40]!r} in a route (expected ip route show output: dev, via, "
                         "proto, scope, src, metric, ...)", line=number)
    return out


def _network(text: str, options: dict[str, str], file: str, number: int) -> str:
    if text == "default":
        hint = options.get("via") or options.get("src") or ""
        return "::/0" if ":" in hint else "0.0.0.0/0"
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        raise InputError(file, f"bad route destination {text[:60]!r}", line=number) from None


def _metric(text: str, file: str, number: int) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        raise InputError(file, f"bad metric {text[:20]!r}", line=number)
    return int(text)
