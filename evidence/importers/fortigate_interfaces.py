"""What lies behind each port of a FortiGate, from its own configuration (``interface_networks``).

A policy's ``srcintf``/``dstintf`` can be judged for a zone once it is known which interfaces face
the zone. Where the zones file does not say, the FortiGate's configuration does: the network of
each interface address (``config system interface``: ``set ip A.B.C.D M.M.M.M``, secondary
addresses, ``config ipv6`` ``set ip6-address``) is connected to that interface; ``config router
static`` (and ``static6``) sends ``set dst`` through ``set device`` at its ``distance`` and
``priority``; an interface that takes its address by DHCP or PPPoE with ``defaultgw`` adds a
default route at run time. Each becomes one record naming the line it came from, for
:class:`auditor.evidence.routes.RouteMap`.

Names are given as the policies use them: a port that is a member of a ``config system zone`` is
matched by policies through the zone's name, and an SD-WAN member through its SD-WAN zone's
(``virtual-wan-link`` unless named), so the record's ``interface`` is that name and ``port`` the
member. What the configuration does not settle is marked ``ignored`` rather than guessed: an
interface that is down, a route to a named address that is not a subnet, a route to an Internet
service; when policy routes (``config router policy``) may send traffic elsewhere, or routes reach
the unit at run time (BGP, OSPF, RIP, IS-IS configured), default routes are not used (dynamic
routes may be more specific) or, for policy routes, nothing is.

This module reads the tree of :func:`auditor.evidence.importers.fortigate.parse_config` (its
``Block`` objects: ``settings``, ``edits``, ``configs``) and imports nothing from that module.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from auditor.evidence.routes import ignore_all, network_record

Block = Any  # auditor.evidence.importers.fortigate.Block: name, line, settings, edits, configs
DYNAMIC = ("bgp", "ospf", "ospf6", "rip", "ripng", "isis")
ZERO = "0.0.0.0"  # noqa: S104  # FortiOS writes it for "no address"


def device_networks(tree: Block, scope: Block, file: str) -> list[dict[str, Any]]:
    """The records of one unit (or of the VDOM ``scope`` of a multi-VDOM file): interfaces from the
    file's ``config system interface`` (under ``config global`` on a multi-VDOM unit)."""
    top = tree.configs.get("global", tree)
    vdom = None if scope is tree else scope.name
    return interface_networks(top.configs.get("system interface"), scope, file, vdom)


def interface_networks(interfaces: Block | None, scope: Block, file: str,
                       vdom: str | None = None) -> list[dict[str, Any]]:
    """The ``interface_networks`` records of ``interfaces`` (a ``config system interface`` block) and of
    the routes of ``scope`` (the file, or one VDOM's ``edit`` block); with ``vdom``, only the
    interfaces whose ``set vdom`` names it."""
    names = _policy_names(scope)
    records: list[dict[str, Any]] = []
    for name, entry in (interfaces.edits.items() if interfaces is not None else ()):
        if vdom is not None and _first(entry, "vdom", "root") != vdom:
            continue
        records += _interface(name, entry, names, file, vdom)
    for table, source in (("router static", "router static"), ("router static6", "router static6")):
        block = scope.configs.get(table)
        for entry in (block.edits.values() if block is not None else ()):
            record = _route(entry, scope, names, file, vdom, source)
            if record is not None:
                records.append(record)
    policy = scope.configs.get("router policy")
    if policy is not None and any(_first(e, "status", "enable") != "disable" for e in policy.edits.values()):
        ignore_all(records, f"policy routes (config router policy, line {policy.line}) may send traffic through "
                   "other interfaces than the routing table")
    unread = next((r for r in records if r.get("unreadable")), None)
    if unread is not None:
        ignore_all(records, f"the static route at line {unread['line']} goes to destinations the file does not "
                   "spell out as a subnet, which may be more specific than any other route")
    dynamic = [p for p in DYNAMIC if _runs(scope.configs.get(f"router {p}"), p)]
    if dynamic:
        for record in records:
            if any(text.endswith("/0") for text in record["networks"]):
                record.setdefault("ignored", f"{'/'.join(p.upper() for p in dynamic)} is configured: routes learned "
                                  "at run time may be more specific than this default route")
    for record in records:
        record.pop("unreadable", None)
    return records


def _first(entry: Block, key: str, default: str) -> str:
    values = entry.settings.get(key, ([], 0))[0]
    return values[0] if values else default


def _policy_names(scope: Block) -> dict[str, str]:
    """Member port → the name policies use for it: its ``system zone``, or its SD-WAN zone."""
    names: dict[str, str] = {}
    zones = scope.configs.get("system zone")
    for zone_name, zone in (zones.edits.items() if zones is not None else ()):
        for port in zone.settings.get("interface", ([], 0))[0]:
            names[port] = zone_name
    for table in ("system sdwan", "system virtual-wan-link"):
        sdwan = scope.configs.get(table)
        if sdwan is None or _first(sdwan, "status", "enable") == "disable":
            continue
        members = sdwan.configs.get("members")
        for member in (members.edits.values() if members is not None else ()):
            port = _first(member, "interface", "")
            if port:
                names[port] = _first(member, "zone", "virtual-wan-link")
    return names


def _interface(name: str, entry: Block, names: dict[str, str], file: str, vdom: str | None) -> list[dict[str, Any]]:
    face = names.get(name, name)
    port = name if face != name else None
    down = "the interface is down (set status down)" if _first(entry, "status", "up") == "down" else None
    out: list[dict[str, Any]] = []
    addresses = [entry.settings.get("ip", ([], entry.line))]
    secondary = entry.configs.get("secondaryip")
    if secondary is not None and _first(entry, "secondary-IP", "disable") == "enable":
        addresses += [s.settings.get("ip", ([], s.line)) for s in secondary.edits.values()]
    networks = [n for n in (_ipv4_network(values) for values, _ in addresses if _assigned(values)) if n]
    ipv6 = entry.configs.get("ipv6")
    if ipv6 is not None:
        six = ipv6.settings.get("ip6-address", ([], 0))[0]
        extra = ipv6.configs.get("ip6-extra-addr")
        texts = six[:1] + list(extra.edits if extra is not None else ())
        networks += [n for n in (_ipv6_network(t) for t in texts if _assigned([t])) if n]
    if networks:
        out.append(network_record(face, list(dict.fromkeys(networks)), "system interface", file, entry.line,
                                  port=port, vdom=vdom, ignored=down))
    mode = _first(entry, "mode", "static")
    if mode in ("dhcp", "pppoe") and _first(entry, "defaultgw", "enable") == "enable":
        distance = _number(_first(entry, "distance", "5"), 5)
        out.append(network_record(face, ["0.0.0.0/0"], "system interface", file, entry.line, distance,
                                  port=port, vdom=vdom, ignored=down,
                                  priority=_number(_first(entry, "priority", "0"), 0),
                                  note=f"default route of the {mode.upper()} address"))
    return out


def _route(entry: Block, scope: Block, names: dict[str, str], file: str, vdom: str | None,
           source: str) -> dict[str, Any] | None:
    """One static route as a record; None for a disabled one."""
    if _first(entry, "status", "enable") == "disable":
        return None
    six = source == "router static6"
    distance = _number(_first(entry, "distance", "10"), 10)
    priority = _number(_first(entry, "priority", "1024" if six else "1"), 1)  # FortiOS 7's defaults
    device = _first(entry, "device", "")
    if _first(entry, "sdwan-zone", ""):
        device = _first(entry, "sdwan-zone", "")
    elif "enable" in (_first(entry, "sdwan", "disable"), _first(entry, "virtual-wan-link", "disable")):
        device = "virtual-wan-link"
    blackhole = _first(entry, "blackhole", "disable") == "enable"
    dst = entry.settings.get("dst", ([], 0))[0]
    if _first(entry, "dstaddr", ""):
        network = _named_subnet(scope, _first(entry, "dstaddr", ""))
    elif _first(entry, "internet-service", "0") not in ("0", "") or _first(entry, "internet-service-custom", ""):
        network = None
    elif entry.settings.get("src", ([ZERO, ZERO], 0))[0] not in ([ZERO, ZERO], ["0.0.0.0/0"], ["::/0"]):
        network = None  # a route for some sources only (FortiOS 7.4 set src)
    elif not dst:
        network = "::/0" if six else "0.0.0.0/0"  # FortiOS's default dst: a default route
    else:
        network = _ipv6_network(dst[0]) if six else _ipv4_network(dst)
    face = None if blackhole else names.get(device, device) or None
    ignored = None
    if network is None:
        ignored = ("its destination is not a subnet the file spells out (a named object or an Internet service), or "
                   "it applies to some sources only")
    elif face is None and not blackhole:
        ignored = "the route names no device"
    return network_record(face, [network] if network else [], source, file, entry.line, distance,
                          port=device if face is not None and face != device else None, vdom=vdom,
                          priority=priority, blackhole=blackhole or None, ignored=ignored,
                          unreadable=network is None or None)


def _named_subnet(scope: Block, name: str) -> str | None:
    """The subnet of a ``firewall address`` a route names as ``dstaddr``; None unless an ipmask subnet."""
    table = scope.configs.get("firewall address")
    entry = table.edits.get(name) if table is not None else None
    if entry is None or _first(entry, "type", "ipmask") not in ("ipmask", "subnet"):
        return None
    values = entry.settings.get("subnet", ([], 0))[0]
    return _ipv4_network(values) if values else None


def _ipv4_network(values: list[str]) -> str | None:
    """``A.B.C.D M.M.M.M`` or ``A.B.C.D/len`` as its network (``0.0.0.0 0.0.0.0``: every address);
    None for an odd mask or text."""
    text = values[0] if len(values) < 2 else f"{values[0]}/{values[1]}"
    try:
        return str(ipaddress.IPv4Network(text, strict=False))
    except ValueError:
        return None


def _ipv6_network(text: str) -> str | None:
    try:
        return str(ipaddress.IPv6Network(text, strict=False))
    except ValueError:
        return None


def _assigned(values: list[str]) -> bool:
    """Whether an interface's ``ip``/``ip6-address`` is an address (FortiOS writes 0.0.0.0 or ::/0 for none)."""
    return bool(values) and values[0] != ZERO and not values[0].startswith("::/")


def _number(text: str, default: int) -> int:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else default


def _runs(block: Block | None, protocol: str) -> bool:
    """Whether a dynamic routing protocol is configured (``show full-configuration`` lists each one, off)."""
    if block is None:
        return False
    if protocol == "bgp":
        return _first(block, "as", "0") not in ("0", "") or bool(_edits(block, "neighbor"))
    if protocol in ("ospf", "ospf6"):
        return bool(_edits(block, "area")) and _first(block, "router-id", ZERO) != ZERO
    if protocol in ("rip", "ripng"):
        return bool(_edits(block, "network") or _edits(block, "interface"))
    return bool(_edits(block, "isis-net"))


def _edits(block: Block, name: str) -> dict[str, Block]:
    sub = block.configs.get(name)
    return sub.edits if sub is not None else {}
