"""Parsers of ``listening``, ``interfaces`` and ``routing``."""

from __future__ import annotations

from auditor.evidence.collectors.linux.network import (
    interface_list,
    listening_sockets,
    parse_forwarding,
    parse_route_v4,
    parse_route_v6,
)
from linux_support import fixture_text


def _conn(protocol: str, address: str, port: int, status: str = "LISTEN", remote: bool = False,
          pid: int | None = 812, family: str = "ipv4") -> dict:
    return {"protocol": protocol, "family": family, "address": address, "port": port, "status": status,
            "remote": remote, "pid": pid}


def test_listening_filters_dedups_and_sorts() -> None:
    conns = [
        _conn("tcp", "0.0.0.0", 22),
        _conn("tcp", "0.0.0.0", 22),  # SO_REUSEPORT twin
        _conn("tcp", "::", 22, family="ipv6"),
        _conn("tcp", "192.0.2.2", 22, status="ESTABLISHED", remote=True),
        _conn("udp", "127.0.0.53", 53, status="NONE", pid=401),
        _conn("udp", "192.0.2.2", 40000, status="NONE", remote=True),
        _conn("tcp", "127.0.0.1", 631, pid=None),
        _conn("tcp", "::ffff:127.0.0.1", 8080, family="ipv6", pid=None),
    ]
    procs = {812: {"name": "sshd", "user": "root"}, 401: {"name": "systemd-resolve", "user": "systemd-resolve"}}
    assert listening_sockets(conns, procs) == [
        {"protocol": "tcp", "address": "0.0.0.0", "port": 22, "family": "ipv4", "loopback": False, "pid": 812,
         "process": "sshd", "user": "root"},
        {"protocol": "tcp", "address": "::", "port": 22, "family": "ipv6", "loopback": False, "pid": 812,
         "process": "sshd", "user": "root"},
        {"protocol": "tcp", "address": "127.0.0.1", "port": 631, "family": "ipv4", "loopback": True, "pid": None,
         "process": None, "user": None},
        {"protocol": "tcp", "address": "::ffff:127.0.0.1", "port": 8080, "family": "ipv6", "loopback": True,
         "pid": None, "process": None, "user": None},
        {"protocol": "udp", "address": "127.0.0.53", "port": 53, "family": "ipv4", "loopback": True, "pid": 401,
         "process": "systemd-resolve", "user": "systemd-resolve"},
    ]


def test_interface_list() -> None:
    addrs = {
        "lo": [{"family": "ipv4", "address": "127.0.0.1", "netmask": "255.0.0.0"},
               {"family": "ipv6", "address": "::1", "netmask": "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
               {"family": "link", "address": "00:00:00:00:00:00", "netmask": None}],
        "wlp2s0": [{"family": "ipv4", "address": "10.1.2.3", "netmask": "255.255.254.0"},
                   {"family": "ipv6", "address": "fe80::1234%wlp2s0", "netmask": "ffff:ffff:ffff:ffff::"},
                   {"family": "link", "address": "3C:22:FB:01:02:03", "netmask": None}],
    }
    stats = {"lo": {"isup": True, "flags": "up,loopback,running"},
             "wlp2s0": {"isup": False, "flags": "broadcast,multicast"}}
    assert interface_list(addrs, stats, {"wlp2s0"}) == [
        {"name": "lo", "up": True, "loopback": True, "wireless": False, "mac": None,
         "addresses": [{"family": "ipv4", "address": "127.0.0.1", "prefixlen": 8},
                       {"family": "ipv6", "address": "::1", "prefixlen": 128}]},
        {"name": "wlp2s0", "up": False, "loopback": False, "wireless": True, "mac": "3c:22:fb:01:02:03",
         "addresses": [{"family": "ipv4", "address": "10.1.2.3", "prefixlen": 23},
                       {"family": "ipv6", "address": "fe80::1234", "prefixlen": 64}]},
    ]


def test_routing_files() -> None:
    assert parse_forwarding(fixture_text("root/proc/sys/net/ipv4/ip_forward")) is False
    assert parse_forwarding(fixture_text("root/proc/sys/net/ipv6/conf/all/forwarding")) is True
    assert parse_route_v4(fixture_text("root/proc/net/route")) == ["192.168.10.1"]
    assert parse_route_v6(fixture_text("root/proc/net/ipv6_route")) == ["fe80::1"]  # reject route skipped
