from pathlib import Path

import pytest
from auditor.evidence.addresses import complement, intersect, parse_network, to_text
from auditor.evidence.segments import ZoneIndex
from auditor.evidence.zones import load_zones, parse_zones, zones_for_device

from auditor.errors import InputError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "zones.yaml"


def test_example_zones_of_kakuu_city_load():
    zones = {z["name"]: z for z in load_zones(EXAMPLE)}
    assert {"juki", "chukan", "jlis"} <= {n for n, z in zones.items() if z["role"] == "specified-destination"}
    roles = {z["role"] for z in zones.values()}
    assert {"sanitizer", "mail-relay", "screen-transfer", "proxy", "lgwan-backbone", "security-cloud"} <= roles
    assert zones["jlis"]["intervals"] == [["172.16.30.10", "172.16.30.20"]]
    # written nested: the servers inside the office networks, the special hosts inside the server networks
    assert zones["mynumber-server"]["within"] == ["mynumber-office"]
    assert zones["lgwan-sanitizer"]["within"] == ["lgwan-server"]
    assert zones["lgwan-server"]["within"] == ["lgwan-office"]
    assert zones["internet-proxy"]["within"] == ["internet-office"]
    faces = {z["name"]: z["interfaces"] for z in zones_for_device(list(zones.values()), "kakuu-fw01").zones}
    assert faces["internet-office"] == faces["internet-proxy"] == ["port4"]
    assert faces["mynumber-server"] == ["port1"] and faces["lgwan-sanitizer"] == ["port3"]
    assert all(faces.values())  # every example zone is faced by named interfaces, its own or inherited


def _zones(body: str) -> bytes:
    return ("format: auditor-zones/1\nzones:\n" + body).encode()


def test_networks_are_exact_intervals_merged():
    zones = parse_zones(_zones("  - {name: a, segment: lgwan, role: office,\n"
                               "     networks: [10.0.0.0/25, 10.0.0.128/25, '2001:db8::/64', 10.0.1.5]}\n"), "z.yaml")
    assert zones[0]["intervals"] == [["10.0.0.0", "10.0.0.255"], ["10.0.1.5", "10.0.1.5"],
                                     ["2001:db8::", "2001:db8::ffff:ffff:ffff:ffff"]]


@pytest.mark.parametrize(("body", "line", "problem"), [
    ("  - name: a\n    segment: lgwan\n    role: office\n    networks: [10.0.0.0-10.0.0.200]\n"
     "  - name: b\n    segment: internet\n    role: office\n    networks: [10.0.0.100-10.0.1.50]\n",
     10, "zones 'a' and 'b' overlap (10.0.0.100 is in both) without one lying inside the other"),
    ("  - name: a\n    segment: lgwan\n    role: office\n    networks: [10.0.0.0/8, 10.1.0.0/24]\n"
     "  - name: b\n    segment: lgwan\n    role: office\n    networks: [10.1.0.0/24]\n",
     10, "zones 'a' and 'b' both have the network 10.1.0.0/24"),
    ("  - name: a\n    segment: lgwan\n    role: office\n    networks: [10.1.0.0/24]\n"
     "  - name: b\n    segment: lgwan\n    role: office\n    networks: [10.1.0.0-10.1.0.255]\n",
     10, "zones 'a' and 'b' both have the network 10.1.0.0-10.1.0.255 ('a' writes it 10.1.0.0/24)"),
    ("  - name: a\n    segment: lgwan\n    role: office\n    networks: [10.0.0.0-10.0.0.100, 10.0.0.50-10.0.0.200]\n"
     "  - name: b\n    segment: lgwan\n    role: office\n    networks: [10.0.0.150-10.0.0.250]\n",
     10, "zones 'a' and 'b' overlap (10.0.0.150 is in both)"),
    ("  - name: a\n    segment: lgwan\n    role: office\n    networks: [10.0.0.0/24]\n"
     "    interfaces: {fw-cityhall: port2}\n", 7, "expected the list of fw-cityhall's interfaces facing the zone"),
    ("  - name: a\n    segment: lgwan\n    role: office\n    networks: [10.0.0.0/24]\n"
     "    interfaces: [port2, 3]\n", 7, "expected an interface name (text), got 3"),
    ("  - name: a\n    segment: lgwan\n    role: office\n    networks: [10.0.0.0/24]\n"
     "    interfaces: port2\n", 7, "expected list or dict"),
    ("  - name: a\n    segment: lgwan\n    role: office\n    networks: [10.0.0.300/16]\n", 6, "not an IPv4/IPv6"),
    ("  - name: a\n    segment: lgwan\n    role: office\n    networks: [10.0.0.9-10.0.0.1]\n", 6, "ends before"),
    ("  - name: a\n    segment: lgwan\n    role: desk\n    networks: [10.0.0.0/16]\n", 5, "unallowed value 'desk'"),
    ("  - name: a\n    segment: lgwan\n    role: office\n    networks: [10.0.0.0/16]\n    vlan: 3\n",
     7, "unknown key"),
    ("  - name: a\n    segment: lgwan\n    role: office\n    networks: [10.0.0.0/16]\n"
     "  - name: a\n    segment: lgwan\n    role: office\n    networks: [10.1.0.0/16]\n", 7, "already defined"),
    ("  - name: a\n    segment: lgwan\n    role: office\n", 3, "required field"),
])
def test_bad_zone_files_name_the_line(body, line, problem):
    with pytest.raises(InputError) as exc:
        parse_zones(_zones(body), "z.yaml")
    assert exc.value.line == line and problem in exc.value.problem and exc.value.file == "z.yaml"


def test_interval_algebra():
    net = [parse_network("10.0.0.0/8")]
    assert to_text(complement(net)) == [["0.0.0.0", "9.255.255.255"], ["11.0.0.0", "255.255.255.255"]]
    assert to_text(intersect(net, [parse_network("10.1.2.3-11.0.0.1")])) == [["10.1.2.3", "10.255.255.255"]]
    with pytest.raises(ValueError):
        parse_network("10.0.0.1-::1")


NESTED = _zones("""\
  - {name: lgwan-office, segment: lgwan, role: office, networks: [10.20.0.0/16], interfaces: [port2]}
  - {name: lgwan-floor3, segment: lgwan, role: office, networks: [10.20.5.0/24]}
  - name: lgwan-servers
    segment: lgwan
    role: server
    networks: [10.20.5.0/26]
    interfaces: {fw-cityhall: [port3], gw-linux: [ens224]}
  - {name: sanitizer, segment: lgwan, role: sanitizer, networks: [10.20.5.10/32]}
  - {name: internet-office, segment: internet, role: office, networks: [10.30.0.0/16, 10.20.7.0/24]}
""")


def test_zones_nest_three_deep_the_most_specific_owning_its_addresses():
    zones = {z["name"]: z for z in parse_zones(NESTED, "z.yaml")}
    assert zones["lgwan-office"]["intervals"] == [["10.20.0.0", "10.20.4.255"], ["10.20.6.0", "10.20.6.255"],
                                                  ["10.20.8.0", "10.20.255.255"]]
    assert zones["lgwan-floor3"]["intervals"] == [["10.20.5.64", "10.20.5.255"]]
    assert zones["lgwan-servers"]["intervals"] == [["10.20.5.0", "10.20.5.9"], ["10.20.5.11", "10.20.5.63"]]
    assert zones["sanitizer"]["intervals"] == [["10.20.5.10", "10.20.5.10"]]
    assert [zones[n].get("within") for n in ("lgwan-office", "lgwan-floor3", "lgwan-servers", "sanitizer")] == \
        [None, ["lgwan-office"], ["lgwan-floor3"], ["lgwan-servers"]]
    assert "within" not in zones["internet-office"]  # one of its networks lies in another zone, not all of them
    index = ZoneIndex(list(zones.values()))
    owner = {a: index.zone_of(a)["name"] for a in ("10.20.0.1", "10.20.5.100", "10.20.5.63", "10.20.5.10",
                                                    "10.20.7.9", "10.30.1.1")}
    assert owner == {"10.20.0.1": "lgwan-office", "10.20.5.100": "lgwan-floor3", "10.20.5.63": "lgwan-servers",
                     "10.20.5.10": "sanitizer", "10.20.7.9": "internet-office", "10.30.1.1": "internet-office"}


def test_a_nested_zone_inherits_the_interfaces_of_its_enclosing_zone_for_each_device():
    zones = parse_zones(NESTED, "z.yaml")
    seen = {device: {z["name"]: (z["interfaces"], z.get("interfaces_from"))
                     for z in zones_for_device(zones, device).zones}
            for device in ("fw-cityhall", "gw-linux", "fw-branch")}
    assert seen["fw-cityhall"] == {
        "lgwan-office": (["port2"], "zones file"), "lgwan-floor3": (["port2"], "parent"),
        "lgwan-servers": (["port3"], "zones file"), "sanitizer": (["port3"], "parent"), "internet-office": ([], None)}
    assert seen["gw-linux"]["lgwan-servers"] == (["ens224"], "zones file")
    assert seen["gw-linux"]["sanitizer"] == (["ens224"], "parent")
    # a device the mapping does not name: the servers inherit the flat list of the office, through the floor
    assert seen["fw-branch"]["sanitizer"] == (["port2"], "parent")
    assert zones_for_device(zones, "fw-branch").notes == []  # the flat list names the office for every device


def test_a_device_no_mapping_names_is_noted_so_a_mistyped_target_is_seen():
    zones = parse_zones(_zones("  - {name: a, segment: lgwan, role: office, networks: [10.0.0.0/24],\n"
                               "     interfaces: {fw-cityhall: [port2], gw-linux: [ens224]}}\n"), "z.yaml")
    device = zones_for_device(zones, "fw-cityhal")
    assert device.zones[0]["interfaces"] == [] and "interfaces_from" not in device.zones[0]
    assert device.notes and "'fw-cityhal'" in device.notes[0] and "'fw-cityhall', 'gw-linux'" in device.notes[0]


def test_a_zone_s_own_network_inside_a_nested_zone_is_its_own_again():
    zones = {z["name"]: z for z in parse_zones(_zones(
        "  - {name: a, segment: lgwan, role: office, networks: [10.0.0.0/16, 10.0.5.128/25]}\n"
        "  - {name: b, segment: lgwan, role: server, networks: [10.0.5.0/24]}\n"
        "  - {name: c, segment: lgwan, role: server, networks: [10.1.0.0-10.1.0.100, 10.1.0.50-10.1.0.200]}\n"
        "  - {name: d, segment: lgwan, role: server, networks: [10.1.0.60-10.1.0.180]}\n"), "z.yaml")}
    assert zones["b"]["intervals"] == [["10.0.5.0", "10.0.5.127"]]
    assert zones["a"]["intervals"] == [["10.0.0.0", "10.0.4.255"], ["10.0.5.128", "10.0.255.255"]]
    assert zones["c"]["intervals"] == [["10.1.0.0", "10.1.0.59"], ["10.1.0.181", "10.1.0.200"]]  # its ranges joined
    assert zones["d"]["within"] == ["c"]
