"""Wireless interfaces seen in /sys/class/net, and the ``segments`` area built from the interfaces."""

from __future__ import annotations

import socket
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psutil
import pytest
from auditor.evidence.collectors import CollectOptions
from auditor.evidence.collectors.linux import collector, network
from auditor.evidence.collectors.linux.collector import AREAS, collect_timed
from auditor.evidence.collectors.linux.network import is_wireless
from linux_support import TODAY, FakeHost, collect_area, live_context, messages, schema_problems

ZONES = [
    {"name": "lg-office", "segment": "lgwan", "role": "office", "intervals": [["10.20.0.0", "10.20.255.255"]]},
    {"name": "mn-office", "segment": "mynumber", "role": "office", "intervals": [["10.10.0.0", "10.10.255.255"]]},
]


def _sysfs(root: Path) -> None:
    net = root / "sys/class/net"
    for name in ("lo", "eth0", "wlp2s0", "wlan1", "wwan0"):
        (net / name).mkdir(parents=True)
    (net / "lo/uevent").write_text("INTERFACE=lo\nIFINDEX=1\n")
    (net / "eth0/uevent").write_text("INTERFACE=eth0\nIFINDEX=2\n")
    (net / "wlp2s0/phy80211").symlink_to("../../ieee80211/phy0")  # cfg80211 driver (dangling in the tree)
    (net / "wlp2s0/uevent").write_text("DEVTYPE=wlan\nINTERFACE=wlp2s0\n")
    (net / "wlan1/wireless").mkdir()  # wireless extensions only
    (net / "wwan0/uevent").write_text("DEVTYPE=wwan\nINTERFACE=wwan0\n")


def test_wireless_detection(tmp_path: Path) -> None:
    _sysfs(tmp_path)
    net = tmp_path / "sys/class/net"
    assert [n for n in ("lo", "eth0", "wlp2s0", "wlan1", "wwan0", "missing") if is_wireless(net / n)] == [
        "wlp2s0", "wlan1"]
    only_uevent = net / "wlx0"
    only_uevent.mkdir()
    (only_uevent / "uevent").write_text("DEVTYPE=wlan\n")
    assert is_wireless(only_uevent)


def _addr(family: int, address: str, netmask: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(family=family, address=address, netmask=netmask)


def _fake_psutil(monkeypatch: pytest.MonkeyPatch) -> None:
    addrs = {
        "lo": [_addr(socket.AF_INET, "127.0.0.1", "255.0.0.0")],
        "eth0": [_addr(psutil.AF_LINK, "52:54:00:12:34:56"), _addr(socket.AF_INET, "10.20.4.7", "255.255.0.0"),
                 _addr(socket.AF_INET6, "fe80::5054:ff:fe12:3456%eth0", "ffff:ffff:ffff:ffff::")],
        "wlp2s0": [_addr(socket.AF_INET, "192.168.43.20", "255.255.255.0")],
        "wlan1": [_addr(socket.AF_INET, "10.10.0.9", "255.255.0.0")],
    }
    stats = {name: SimpleNamespace(isup=True, flags="up,loopback,running" if name == "lo" else "up,running")
             for name in addrs}
    monkeypatch.setattr(psutil, "net_if_addrs", lambda: addrs)
    monkeypatch.setattr(psutil, "net_if_stats", lambda: stats)


def test_interfaces_area_marks_wireless(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _sysfs(tmp_path)
    _fake_psutil(monkeypatch)
    builder = collect_area(network.collect_interfaces, live_context(tmp_path))
    wireless = {i["name"]: i["wireless"] for i in builder.facts["interfaces"]}
    assert wireless == {"eth0": False, "lo": False, "wlan1": True, "wlp2s0": True}


def _with_interfaces(interfaces: list[dict[str, Any]] | None) -> Any:
    def area(builder: Any, ctx: Any) -> None:
        if interfaces is None:
            builder.add_error("interfaces", "psutil.net_if_addrs/net_if_stats: Permission denied")
        else:
            builder.set_fact("interfaces", interfaces)
    return area


def test_segments_from_the_merged_interfaces(fake_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _sysfs(tmp_path)
    _fake_psutil(monkeypatch)
    interfaces = collect_area(network.collect_interfaces, live_context(tmp_path)).facts["interfaces"]
    monkeypatch.setitem(AREAS, "interfaces", _with_interfaces(interfaces))
    bundle, timings = collect_timed(CollectOptions(root=fake_root, zones=ZONES, zones_file="zones.yaml"), today=TODAY)
    assert bundle["facts"]["segments"] == {
        "zones_file": "zones.yaml",
        "segments": ["external", "lgwan", "mynumber"],  # a terminal bridging two segments, and tethered
        "addresses": [
            {"interface": "eth0", "address": "10.20.4.7", "wireless": False, "zone": "lg-office", "segment": "lgwan"},
            {"interface": "wlan1", "address": "10.10.0.9", "wireless": True, "zone": "mn-office",
             "segment": "mynumber"},
            {"interface": "wlp2s0", "address": "192.168.43.20", "wireless": True, "zone": None,
             "segment": "external"},
        ]}
    assert "segments" in timings
    assert schema_problems(bundle) == {}


def test_no_segments_without_zones_and_an_error_without_interfaces(fake_root: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    bundle, timings = collect_timed(CollectOptions(root=fake_root), today=TODAY)
    assert "segments" not in bundle["facts"] and "segments" not in timings
    monkeypatch.setitem(AREAS, "interfaces", _with_interfaces(None))
    bundle, _ = collect_timed(CollectOptions(root=fake_root, zones=ZONES, zones_file="z.yaml"), today=TODAY)
    assert "segments" not in bundle["facts"]
    assert messages(bundle, "segments") == ["not written: the interfaces area was not collected"]


def test_whole_bundle_on_a_pretend_live_host(fake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every area run as on a live system (tools and processes faked) gives a valid bundle."""
    FakeHost({"/usr/sbin/sshd -T": "permitrootlogin no\n", "/usr/sbin/auditctl -l": "No rules\n",
              "/usr/sbin/auditctl -s": "enabled 1\n"},
             processes=["systemd", "sshd", "auditd", "clamd", "usbguard-daemon"]).install(monkeypatch)
    monkeypatch.setattr(collector, "make_context", lambda root, today=None: live_context(Path(root)))
    bundle, _ = collect_timed(CollectOptions(root=fake_root), today=TODAY)
    assert schema_problems(bundle) == {}
    assert not [e for e in bundle["errors"] if "internal error" in e["message"]]
    facts = bundle["facts"]
    assert facts["ssh_server"] == {"installed": True, "running": True, "settings": {"permitrootlogin": "no"}}
    assert facts["audit_daemon"] == {"installed": True, "active": True, "rule_count": 0, "immutable": False}
    assert facts["removable_media"]["mechanisms"] == ["modprobe-blacklist", "modprobe-install-disabled", "usbguard"]
    assert facts["antimalware"]["realtime_enabled"] is False
