"""Which of the city's segments a host's own addresses fall in (``segments`` area).

Only declared boundary devices may hold addresses in two segments (guideline §3.1,
GL-A13); a second NIC, tethering or a VPN adapter on an ordinary terminal bridges the
three layers. Both endpoint collectors (Linux, Windows raw import) map their interfaces
through this one function, given the zones file, so the rule is applied identically.
"""

from __future__ import annotations

import bisect
import ipaddress
from typing import Any

from auditor.evidence.addresses import from_text

_LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))


def _is_host_local(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address.is_loopback or address.is_unspecified or any(address in net for net in _LINK_LOCAL)


class ZoneIndex:
    """Address → zone lookup over the zones' merged intervals (an address in no zone is external)."""

    def __init__(self, zones: list[dict[str, Any]]) -> None:
        entries = sorted((iv, zone) for zone in zones for iv in from_text(zone["intervals"]))
        self._starts = [(family, lo) for (family, lo, _hi), _zone in entries]
        self._entries = entries

    def zone_of(self, address: str) -> dict[str, Any] | None:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        key = (ip.version, int(ip))
        at = bisect.bisect_right(self._starts, key) - 1
        if at >= 0:
            (family, lo, hi), zone = self._entries[at]
            if family == ip.version and lo <= int(ip) <= hi:
                return zone
        return None


def segments_fact(interfaces: list[dict[str, Any]], zones: list[dict[str, Any]], zones_file: str) -> dict[str, Any]:
    """The ``segments`` area for the ``interfaces`` area's records (docs/facts.md)."""
    index = ZoneIndex(zones)
    addresses: list[dict[str, Any]] = []
    for interface in interfaces:
        if interface.get("loopback"):
            continue
        for entry in interface.get("addresses", []):
            text = entry.get("address")
            if not text:
                continue
            try:
                ip = ipaddress.ip_address(text.split("%", 1)[0])
            except ValueError:
                continue
            if _is_host_local(ip):
                continue
            zone = index.zone_of(text)
            addresses.append({
                "interface": interface["name"], "address": str(ip),
                "wireless": bool(interface.get("wireless", False)),
                "zone": zone["name"] if zone else None,
                "segment": zone["segment"] if zone else "external",
            })
    return {"zones_file": zones_file, "segments": sorted({a["segment"] for a in addresses}),
            "addresses": addresses}
