"""The segments area: a host's addresses mapped through the zones file."""

from auditor.evidence.segments import segments_fact

ZONES = [
    {"name": "lg-office", "segment": "lgwan", "role": "office", "intervals": [["10.20.0.0", "10.20.255.255"]]},
    {"name": "mn-office", "segment": "mynumber", "role": "office", "intervals": [["10.10.0.0", "10.10.255.255"]]},
    {"name": "in-v6", "segment": "internet", "role": "office",
     "intervals": [["2001:db8:30::", "2001:db8:30:ffff:ffff:ffff:ffff:ffff"]]},
]


def _iface(name, *addresses, wireless=False, loopback=False):
    return {"name": name, "wireless": wireless, "loopback": loopback,
            "addresses": [{"family": "ipv6" if ":" in a else "ipv4", "address": a} for a in addresses]}


def test_dual_homed_host_lists_both_segments_and_external_tethering():
    interfaces = [
        _iface("lo", "127.0.0.1", "::1", loopback=True),
        _iface("eth0", "10.20.4.7", "fe80::1%eth0"),
        _iface("eth1", "10.10.0.9"),
        _iface("wlan0", "192.168.43.2", wireless=True),
    ]
    fact = segments_fact(interfaces, ZONES, "zones.yaml")
    assert fact["segments"] == ["external", "lgwan", "mynumber"]
    assert [(a["interface"], a["zone"], a["segment"]) for a in fact["addresses"]] == [
        ("eth0", "lg-office", "lgwan"), ("eth1", "mn-office", "mynumber"), ("wlan0", None, "external")]
    assert fact["addresses"][2]["wireless"] is True


def test_ipv6_address_and_zone_boundaries():
    fact = segments_fact([_iface("eth0", "2001:db8:30::5", "10.20.255.255"), _iface("eth1", "10.21.0.0")],
                         ZONES, "z.yaml")
    assert [a["segment"] for a in fact["addresses"]] == ["internet", "lgwan", "external"]
    assert fact["segments"] == ["external", "internet", "lgwan"]
