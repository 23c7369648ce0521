"""Areas ``listening``, ``interfaces`` and ``routing``.

Sockets and interfaces come from psutil (the live kernel); routing from /proc files, so
it can also be read from a captured tree. psutil results are recorded as JSON sources
so their hash covers exactly what the facts were derived from.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import struct
from pathlib import Path
from typing import Any

import psutil
from auditor.evidence.bundle import BundleBuilder

from .common import Context, not_live, read_text

_FAMILIES = {socket.AF_INET: "ipv4", socket.AF_INET6: "ipv6"}
_RTF_GATEWAY = 0x0002
_RTF_REJECT = 0x0200


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def listening_sockets(conns: list[dict[str, Any]], procs: dict[int, dict[str, str | None]]) -> list[dict[str, Any]]:
    """Listening sockets, deduplicated and sorted by (protocol, port, address).

    ``conns`` are plain records of psutil.net_connections (protocol, family, address,
    port, status, remote, pid); a TCP socket listens in state LISTEN, a UDP one when it
    has no remote peer. ``procs`` maps pid to its process name and user.
    """
    seen: set[tuple[Any, ...]] = set()
    out = []
    for c in conns:
        if c["protocol"] == "tcp" and c["status"] != "LISTEN":
            continue
        if c["protocol"] == "udp" and c["remote"]:
            continue
        pid = c["pid"]
        info = procs.get(pid, {}) if pid is not None else {}
        item = {"protocol": c["protocol"], "address": c["address"], "port": c["port"], "family": c["family"],
                "loopback": _is_loopback(c["address"]), "pid": pid,
                "process": info.get("name"), "user": info.get("user")}
        key = tuple(item.values())
        if key not in seen:
            seen.add(key)
            out.append(item)
    out.sort(key=lambda i: (i["protocol"], i["port"], i["address"], i["pid"] if i["pid"] is not None else -1))
    return out


def _prefixlen(netmask: str | None) -> int | None:
    if not netmask:
        return None
    try:
        bits = int(ipaddress.ip_address(netmask))
    except ValueError:
        return None
    return bin(bits).count("1")  # ipaddress cannot parse an IPv6 netmask in address form


def interface_list(addrs: dict[str, list[dict[str, Any]]], stats: dict[str, dict[str, Any]],
                   wireless: set[str]) -> list[dict[str, Any]]:
    """Interfaces sorted by name from plain records of psutil.net_if_addrs / net_if_stats.

    An all-zero hardware address (loopback, tunnels) is no MAC and becomes null.
    """
    out = []
    for name in sorted(set(addrs) | set(stats)):
        st = stats.get(name, {})
        flags = [f for f in (st.get("flags") or "").split(",") if f]
        mac = None
        addresses = []
        for a in addrs.get(name, []):
            if a["family"] == "link":
                if a["address"] and a["address"].strip("0:") != "":
                    mac = a["address"].lower()
            elif a["family"] in ("ipv4", "ipv6"):
                entry: dict[str, Any] = {"family": a["family"], "address": a["address"].split("%", 1)[0]}
                prefix = _prefixlen(a.get("netmask"))
                if prefix is not None:
                    entry["prefixlen"] = prefix
                addresses.append(entry)
        loopback = "loopback" in flags if flags else any(_is_loopback(a["address"]) for a in addresses)
        out.append({"name": name, "up": bool(st.get("isup", False)), "loopback": loopback,
                    "wireless": name in wireless, "mac": mac, "addresses": addresses})
    return out


def parse_forwarding(text: str) -> bool:
    """A /proc/sys forwarding switch: "1" on, "0" off."""
    return text.strip() not in ("", "0")


def parse_route_v4(text: str) -> list[str]:
    """Default gateways in /proc/net/route (destination and mask 0, gateway flag set)."""
    out = []
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 8:
            continue
        try:
            flags = int(parts[3], 16)
            gateway = socket.inet_ntoa(struct.pack("<L", int(parts[2], 16)))
        except (ValueError, struct.error):
            continue
        if parts[1] == "00000000" and parts[7] == "00000000" and flags & _RTF_GATEWAY and not flags & _RTF_REJECT:
            out.append(gateway)
    return sorted(set(out))


def parse_route_v6(text: str) -> list[str]:
    """Default gateways in /proc/net/ipv6_route (::/0 with a next hop, not a reject route)."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 10:
            continue
        try:
            flags = int(parts[8], 16)
            dest = int(parts[0], 16)
            next_hop = ipaddress.IPv6Address(bytes.fromhex(parts[4]))
        except ValueError:
            continue
        if dest == 0 and parts[1] == "00" and int(next_hop) != 0 and flags & _RTF_GATEWAY \
                and not flags & _RTF_REJECT:
            out.append(next_hop.compressed)
    return sorted(set(out))


def collect_routing(builder: BundleBuilder, ctx: Context) -> None:
    """Forwarding switches and default gateways from /proc, which a captured tree can carry."""
    area = "routing"
    facts: dict[str, Any] = {}
    v4 = read_text(builder, ctx, "/proc/sys/net/ipv4/ip_forward", area, "linux.sysctl")
    if v4 is not None:
        facts["ip_forward_v4"] = parse_forwarding(v4)
    v6 = read_text(builder, ctx, "/proc/sys/net/ipv6/conf/all/forwarding", area, "linux.sysctl")
    if v6 is not None:
        facts["ip_forward_v6"] = parse_forwarding(v6)
    route4 = read_text(builder, ctx, "/proc/net/route", area, "linux.proc_net_route")
    route6 = read_text(builder, ctx, "/proc/net/ipv6_route", area, "linux.proc_net_ipv6_route")
    if route4 is not None and route6 is not None:
        facts["default_gateways"] = parse_route_v4(route4) + parse_route_v6(route6)
    elif route4 is not None and not ctx.path("/proc/net/ipv6_route").exists():
        facts["default_gateways"] = parse_route_v4(route4)  # IPv6 disabled: no v6 routes exist
    builder.set_fact(area, facts)


def _process_info(pid: int) -> dict[str, str | None]:
    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            return {"name": proc.name(), "user": proc.username()}
    except (psutil.Error, KeyError, OSError):
        return {"name": None, "user": None}


def collect_listening(builder: BundleBuilder, ctx: Context) -> None:
    """Live only: listening sockets with their owning process and user."""
    area = "listening"
    if not ctx.live:
        not_live(builder, ctx, area, "listening sockets")
        return
    try:
        raw = psutil.net_connections(kind="inet")
    except psutil.AccessDenied:
        builder.add_error(area, "psutil.net_connections: permission denied")
        return
    except OSError as exc:
        builder.add_error(area, f"psutil.net_connections: {exc.strerror or exc}")
        return
    conns = [{"protocol": "tcp" if c.type == socket.SOCK_STREAM else "udp",
              "family": _FAMILIES.get(c.family, str(c.family)), "address": c.laddr.ip if c.laddr else "",
              "port": c.laddr.port if c.laddr else 0, "status": c.status, "remote": bool(c.raddr), "pid": c.pid}
             for c in raw if c.family in _FAMILIES and c.laddr]
    pids = sorted({c["pid"] for c in conns if c["pid"] is not None})
    procs = {pid: _process_info(pid) for pid in pids}
    builder.add_source("psutil.net_connections(kind='inet')", "linux.psutil_connections",
                       json.dumps({"connections": conns, "processes": {str(k): v for k, v in procs.items()}},
                                  sort_keys=True).encode(), area)
    sockets = listening_sockets(conns, procs)
    hidden = sum(1 for s in sockets if s["pid"] is None)
    if hidden and os.geteuid() != 0:
        builder.add_error(area, f"{hidden} listening sockets without owning process: "
                                "other users' processes are not visible without root")
    builder.set_fact(area, sockets)


def is_wireless(sys_dir: Path) -> bool:
    """Whether a /sys/class/net/<name> directory is a Wi-Fi interface: cfg80211 drivers link
    ``phy80211`` and write ``DEVTYPE=wlan`` in ``uevent``; drivers with only the old wireless
    extensions have a ``wireless`` directory."""
    phy = sys_dir / "phy80211"
    if phy.exists() or phy.is_symlink() or (sys_dir / "wireless").is_dir():
        return True
    try:
        uevent = (sys_dir / "uevent").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "DEVTYPE=wlan" in uevent.split()


def collect_interfaces(builder: BundleBuilder, ctx: Context) -> None:
    """Live only: interfaces, their addresses and whether they are wireless."""
    area = "interfaces"
    if not ctx.live:
        not_live(builder, ctx, area, "network interfaces")
        return
    try:
        raw_addrs = psutil.net_if_addrs()
        raw_stats = psutil.net_if_stats()
    except OSError as exc:
        builder.add_error(area, f"psutil.net_if_addrs/net_if_stats: {exc.strerror or exc}")
        return
    families = {**_FAMILIES, psutil.AF_LINK: "link"}
    addrs = {name: [{"family": families.get(a.family, str(a.family)), "address": a.address,
                     "netmask": a.netmask} for a in items] for name, items in raw_addrs.items()}
    stats = {name: {"isup": s.isup, "flags": getattr(s, "flags", "")} for name, s in raw_stats.items()}
    wireless = {name for name in set(addrs) | set(stats) if is_wireless(ctx.path("/sys/class/net") / name)}
    builder.add_source("psutil.net_if_addrs() + net_if_stats() + /sys/class/net/*/{wireless,phy80211,uevent}",
                       "linux.psutil_interfaces",
                       json.dumps({"addrs": addrs, "stats": stats, "wireless": sorted(wireless)},
                                  sort_keys=True).encode(), area)
    builder.set_fact(area, interface_list(addrs, stats, wireless))
