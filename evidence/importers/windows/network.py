"""``net-adapters.json`` + ``ip-addresses.json`` (Get-NetAdapter, Get-NetIPAddress) → ``interfaces``;
``tcp-listen.json`` + ``udp-endpoints.json`` → ``listening``; ``firewall.json``
(Get-NetFirewallProfile -PolicyStore ActiveStore) → ``firewall``.

Wireless adapters are told by ``NdisPhysicalMedium`` (the NDIS medium number, not localised):
9 Native 802.11 (Wi-Fi), 1 wireless LAN, 8 wireless WAN (mobile broadband), 10 Bluetooth,
12 WiMAX, 13 UWB, 16 IrDA, 20 802.15.4; ``PhysicalMediaType`` ``Native 802.11`` and the
script's ``WiFi`` mark are read too. Interfaces that only ``Get-NetIPAddress`` knows (the
``Loopback Pseudo-Interface 1``, hidden adapters) are listed from their addresses.

Firewall profiles: in the ActiveStore a profile's ``NotConfigured`` leaves Windows' default
(firewall on, inbound blocked, outbound allowed). ``enabled`` is true only when every profile
is on (the check's remediation asks for every profile), and ``input_policy`` is ``drop`` only
when every profile is on and blocks inbound by default: which profile applies depends on the
network the computer is on at the time.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from auditor.evidence.importers.windows import psjson

from auditor.errors import InputError

WIRELESS_MEDIA = {1, 8, 9, 10, 12, 13, 16, 20}
FAMILIES = {"ipv4": "ipv4", "ipv6": "ipv6", "2": "ipv4", "23": "ipv6"}


def _mac(text: str | None) -> str | None:
    """``00-15-5D-01-02-03`` → ``00:15:5d:01:02:03``; an all-zero address is None."""
    if text is None:
        return None
    digits = text.replace("-", "").replace(":", "").lower()
    if not digits.strip("0"):
        return None
    return ":".join(digits[i:i + 2] for i in range(0, len(digits), 2))


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _wireless(adapter: dict[str, Any], name: str) -> bool:
    medium = psjson.integer(adapter.get("NdisPhysicalMedium"), name, "NdisPhysicalMedium")
    media_type = (psjson.text(adapter.get("PhysicalMediaType")) or "").casefold()
    return medium in WIRELESS_MEDIA or "802.11" in media_type or adapter.get("WiFi") is True


def addresses_by_interface(doc: Any, name: str) -> dict[int, tuple[str, list[dict[str, Any]]]]:
    """Interface index → (alias, addresses in file order)."""
    found: dict[int, tuple[str, list[dict[str, Any]]]] = {}
    for entry in psjson.records(doc, name):
        index = psjson.integer(entry.get("InterfaceIndex"), name, "InterfaceIndex")
        address = psjson.text(entry.get("IPAddress"))
        family = FAMILIES.get(str(entry.get("AddressFamily")).strip().casefold())
        if index is None or address is None or family is None:
            raise InputError(name, "expected InterfaceIndex, IPAddress and AddressFamily (IPv4/IPv6): not the output "
                             "of Get-NetIPAddress as collect-windows.ps1 writes it")
        record: dict[str, Any] = {"family": family, "address": address}
        prefix = psjson.integer(entry.get("PrefixLength"), name, "PrefixLength")
        if prefix is not None:
            record["prefixlen"] = prefix
        alias = psjson.text(entry.get("InterfaceAlias")) or f"ifIndex {index}"
        found.setdefault(index, (alias, []))[1].append(record)
    return found


def interfaces(adapters_doc: Any, adapters_name: str, addresses_doc: Any, addresses_name: str) -> list[dict[str, Any]]:
    """The ``interfaces`` area: every adapter with its addresses, then interfaces known only by address."""
    addresses = addresses_by_interface(addresses_doc, addresses_name)
    result: list[dict[str, Any]] = []
    seen: set[int] = set()
    for adapter in psjson.records(adapters_doc, adapters_name):
        index = psjson.integer(adapter.get("ifIndex"), adapters_name, "ifIndex")
        adapter_name = psjson.text(adapter.get("Name"))
        if index is None or adapter_name is None:
            raise InputError(adapters_name, "expected Name and ifIndex: not the output of Get-NetAdapter")
        seen.add(index)
        result.append({
            "name": adapter_name,
            "up": (psjson.text(adapter.get("Status")) or "").casefold() == "up",
            "loopback": False,
            "wireless": _wireless(adapter, adapters_name),
            "mac": _mac(psjson.text(adapter.get("MacAddress"))),
            "addresses": addresses.get(index, ("", []))[1],
        })
    for index, (alias, found) in addresses.items():
        if index in seen:
            continue
        loopback = all(_is_loopback(a["address"]) for a in found)
        # the loopback pseudo-interface is always up and never wireless; of another one nothing is known
        entry: dict[str, Any] = {"name": alias, "up": True, "loopback": True, "wireless": False} if loopback \
            else {"name": alias, "loopback": False}
        entry["addresses"] = found
        result.append(entry)
    return result


def listening(tcp_doc: Any, tcp_name: str, udp_doc: Any, udp_name: str) -> list[dict[str, Any]]:
    """The ``listening`` area: TCP sockets in the Listen state and every UDP endpoint."""
    result: list[dict[str, Any]] = []
    for protocol, doc, name in (("tcp", tcp_doc, tcp_name), ("udp", udp_doc, udp_name)):
        for entry in psjson.records(doc, name):
            address = psjson.text(entry.get("LocalAddress"))
            port = psjson.integer(entry.get("LocalPort"), name, "LocalPort")
            if address is None or port is None or not 0 <= port <= 65535:
                raise InputError(name, "expected LocalAddress and LocalPort (0-65535): not the output of "
                                 f"{'Get-NetTCPConnection' if protocol == 'tcp' else 'Get-NetUDPEndpoint'}")
            pid = psjson.integer(entry.get("OwningProcess"), name, "OwningProcess")
            result.append({
                "protocol": protocol, "address": address, "port": port,
                "family": "ipv6" if ":" in address else "ipv4",
                "loopback": _is_loopback(address),
                "pid": pid,
                "process": psjson.text(entry.get("ProcessName")),
            })
    return result


def firewall(doc: Any, name: str) -> dict[str, Any]:
    """The ``firewall`` area of the three profiles (Domain, Private, Public)."""
    profiles: list[dict[str, Any]] = []
    inbound_block, outbound_block = [], []
    for entry in psjson.records(doc, name):
        profile = psjson.text(entry.get("Name"))
        enabled = psjson.text(entry.get("Enabled"))
        inbound = psjson.text(entry.get("DefaultInboundAction"))
        outbound = psjson.text(entry.get("DefaultOutboundAction"))
        if profile is None or enabled is None or inbound is None:
            raise InputError(name, "expected Name, Enabled and DefaultInboundAction: not the output of "
                             "Get-NetFirewallProfile as collect-windows.ps1 writes it")
        if enabled.casefold() not in ("true", "false", "notconfigured"):
            raise InputError(name, f"{profile}: Enabled is {enabled!r}; expected True, False or NotConfigured")
        on = enabled.casefold() != "false"
        inbound_default = "Block" if inbound.casefold() in ("block", "notconfigured") else inbound
        profiles.append({"name": profile, "enabled": on, "inbound_default": inbound_default})
        inbound_block.append(on and inbound_default.casefold() == "block")
        outbound_block.append(on and (outbound or "").casefold() == "block")
    if not profiles:
        raise InputError(name, "no firewall profile in the output")
    return {
        "enabled": all(p["enabled"] for p in profiles),
        "backend": "windows",
        "input_policy": "drop" if all(inbound_block) else "accept",
        "output_policy": "drop" if all(outbound_block) else "accept",
        "profiles": profiles,
    }
