from pathlib import Path

import pytest
from auditor.evidence.addresses import complement, intersect, parse_network, to_text
from auditor.evidence.zones import load_zones, parse_zones

from auditor.errors import InputError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "zones.yaml"


def test_example_zones_of_kakuu_city_load():
    zones = {z["name"]: z for z in load_zones(EXAMPLE)}
    assert {"juki", "chukan", "jlis"} <= {n for n, z in zones.items() if z["role"] == "specified-destination"}
    roles = {z["role"] for z in zones.values()}
    assert {"sanitizer", "mail-relay", "screen-transfer", "proxy", "lgwan-backbone", "security-cloud"} <= roles
    assert zones["jlis"]["intervals"] == [["172.16.30.10", "172.16.30.20"]]
    assert zones["internet-office"]["interfaces"] == ["port4"]
    assert zones["mynumber-server"]["interfaces"] == ["port1"]  # every example zone names its interfaces


def _zones(body: str) -> bytes:
    return ("format: auditor-zones/1\nzones:\n" + body).encode()


def test_networks_are_exact_intervals_merged():
    zones = parse_zones(_zones("  - {name: a, segment: lgwan, role: office,\n"
                               "     networks: [10.0.0.0/25, 10.0.0.128/25, '2001:db8::/64', 10.0.1.5]}\n"), "z.yaml")
    assert zones[0]["intervals"] == [["10.0.0.0", "10.0.0.255"], ["10.0.1.5", "10.0.1.5"],
                                     ["2001:db8::", "2001:db8::ffff:ffff:ffff:ffff"]]


@pytest.mark.parametrize(("body", "line", "problem"), [
    ("  - name: a\n    segment: lgwan\n    role: office\n    networks: [10.0.0.0/16]\n"
     "  - name: b\n    segment: internet\n    role: office\n    networks: [10.0.5.0/24]\n",
     10, "zones 'a' and 'b' overlap (10.0.5.0 is in both)"),
    ("  - name: a\n    segment: lgwan\n    role: office\n    networks: [10.0.0.0/8, 10.1.0.0/24]\n"
     "  - name: b\n    segment: lgwan\n    role: office\n    networks: [10.2.0.0/24]\n",
     10, "zones 'a' and 'b' overlap (10.2.0.0 is in both)"),
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
