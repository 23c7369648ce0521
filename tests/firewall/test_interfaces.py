"""Which interfaces face a zone, device by device: a zones file serving several firewalls (interfaces per
target id), and interfaces inferred from the device's own configuration where the file names none
(FortiGate interface addresses and static routes, a Linux gateway's ``ip route`` table)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from auditor.evidence.importers.fortigate import parse_config
from auditor.evidence.importers.fortigate_interfaces import device_networks, interface_networks
from auditor.evidence.importers.linux_routes import route_networks
from auditor.evidence.zones import load_zones, zones_for_device

from auditor.cli import main
from auditor.errors import InputError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "firewall"
ROUTED = FIXTURES / "fortigate-routed.conf"
ROUTED_ZONES = FIXTURES / "zones-routed.yaml"


def _bundle(tmp_path: Path, kind: str, files: list[Path], zones: Path, target: str) -> dict:
    out = tmp_path / f"{target}.json"
    assert main(["import", kind, *map(str, files), "--zones", str(zones), "--target", target, "--out", str(out)]) == 0
    return json.loads(out.read_text(encoding="utf-8"))


def _results(tmp_path: Path, bundle: dict, name: str) -> dict[str, dict]:
    path = tmp_path / f"{name}-bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    report = tmp_path / f"{name}-report.json"
    main(["audit", str(path), "--format", "json", "--out", str(report), "--lang", "en"])
    return {r["check"]: r for r in json.loads(report.read_text(encoding="utf-8"))["results"]}


def _findings(result: dict) -> list[str]:
    return [f"{f['item']} | {f['actual'].split(' (')[0]}" for f in result["findings"]]


def _without(text: str, section: str) -> str:
    """The configuration without one top-level ``config`` section (its own ``end`` is not indented)."""
    head, rest = text.split(f"config {section}\r\n", 1)
    return head + rest.split("\r\nend\r\n", 1)[1]


def _fortigate_only_policies(tmp_path: Path) -> Path:
    """The routed FortiGate without its interfaces and routes: only the zones file can say."""
    text = _without(ROUTED.read_bytes().decode(), "system interface")
    path = tmp_path / "cityhall.conf"
    path.write_bytes(_without(_without(text, "router static"), "router static6").encode())
    return path


def test_interfaces_are_inferred_from_a_fortigates_interface_addresses_and_static_routes(tmp_path):
    assert b"\r\nconfig system interface\r\n" in ROUTED.read_bytes()  # as FortiOS writes a backup
    bundle = _bundle(tmp_path, "fortigate", [ROUTED], ROUTED_ZONES, "fw-cityhall")
    zones = {z["name"]: z for z in bundle["facts"]["zones"]}
    faces = {name: (z["interfaces"], z.get("interfaces_from")) for name, z in zones.items()}
    assert faces == {
        "mynumber-office": (["port1"], "device configuration"),  # set ip 10.10.0.1 255.255.240.0 on port1
        "mn-archive": ([], None),  # routed to a blackhole: no port faces it
        "lgwan-office": (["LG"], "device configuration"),  # port2, a member of the system zone LG
        "lgwan-server": (["LG"], "device configuration"),
        "lgwan-sanitizer": (["LG"], "device configuration"),  # nested in the servers, inferred for itself
        "lgwan-backbone": (["port5"], "device configuration"),  # its /30 on port5 and the /14 route via port5
        "lgwan-hq": (["port5"], "device configuration"),  # a route to the address object HQ-net
        "internet-office": (["port4"], "device configuration"),
    }
    text = ROUTED.read_text(encoding="utf-8").splitlines()
    office = zones["mynumber-office"]["inferred"]
    assert [(r["inferred_from"], r["networks"]) for r in office] == [("system interface", ["10.10.0.0/20"])]
    assert text[office[0]["line"] - 1].strip() == 'edit "port1"'
    backbone = [(r["inferred_from"], text[r["line"] - 1].strip()) for r in zones["lgwan-backbone"]["inferred"]]
    assert backbone == [("system interface", 'edit "port5"'), ("router static", "edit 2")]
    assert zones["lgwan-office"]["inferred"][0]["port"] == "port2"
    records = bundle["facts"]["firewall_rules"]["interface_networks"]
    down = next(r for r in records if r["interface"] == "port6")
    assert down["ignored"] == "the interface is down (set status down)"
    assert bundle["facts"]["firewall_rules"]["external_zone"]["interfaces"] == ["wan1"]  # the default routes

    results = _results(tmp_path, bundle, "routed")
    assert _findings(results["mn-inbound-closed"]) == [
        'lgwan-sanitizer → mynumber-office | policy 5 "sanitizer to MN"',
        'internet-office → mynumber-office | policy 1 "IN to MN file share"',
        'internet-office → mn-archive | undetermined: policy 2 "IN direct out"',
    ]
    archive = results["mn-inbound-closed"]["findings"][-1]["actual"]
    assert "neither the zones file nor the device's configuration says which interface faces mn-archive" in archive
    assert _findings(results["internet-egress-via-security-cloud"]) == [
        'internet-office → external | policy 2 "IN direct out"']


def test_without_its_interfaces_and_routes_the_same_fortigate_leaves_the_paths_undetermined(tmp_path):
    bundle = _bundle(tmp_path, "fortigate", [_fortigate_only_policies(tmp_path)], ROUTED_ZONES, "fw-cityhall")
    assert all(z["interfaces"] == [] and "interfaces_from" not in z for z in bundle["facts"]["zones"])
    assert bundle["facts"]["firewall_rules"]["interface_networks"] == []
    inbound = _results(tmp_path, bundle, "bare")["mn-inbound-closed"]
    assert inbound["status"] == "error" and "cannot be decided" in inbound["message"]


DEVICES_ZONES = """format: auditor-zones/1
zones:
  - name: mynumber-office
    segment: mynumber
    role: office
    networks: [10.10.0.0/20]
    interfaces: {fw-cityhall: [port1], gw-linux: [ens224]}
  - name: lgwan-office
    segment: lgwan
    role: office
    networks: [10.20.0.0/16]
    interfaces: {fw-cityhall: [LG], gw-linux: [ens256]}
  - {name: lgwan-sanitizer, segment: lgwan, role: sanitizer, networks: [10.20.16.10/32]}   # inherits
  - name: internet-office
    segment: internet
    role: office
    networks: [10.30.0.0/16]
    interfaces: {fw-cityhall: [port4], gw-linux: [ens192]}
"""

GATEWAY_RULES = """# Generated by iptables-save v1.8.9 (nf_tables) on Mon Nov  2 09:40:01 2026\r
*filter\r
:INPUT DROP [0:0]\r
:FORWARD DROP [0:0]\r
:OUTPUT ACCEPT [0:0]\r
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\r
-A FORWARD -i ens192 -o ens224 -p tcp -m tcp --dport 445 -m comment --comment "IN to MN file share" -j ACCEPT\r
-A FORWARD -i ens256 -o ens224 -p tcp -m tcp --dport 443 -j ACCEPT\r
COMMIT\r
# Completed on Mon Nov  2 09:40:01 2026\r
"""


def test_one_zones_file_with_interfaces_per_device_serves_a_fortigate_and_an_iptables_gateway(tmp_path):
    zones = tmp_path / "zones.yaml"
    zones.write_text(DEVICES_ZONES, encoding="utf-8")
    rules = tmp_path / "gw-linux.rules"
    rules.write_bytes(GATEWAY_RULES.encode())
    fortigate = _bundle(tmp_path, "fortigate", [_fortigate_only_policies(tmp_path)], zones, "fw-cityhall")
    gateway = _bundle(tmp_path, "iptables", [rules], zones, "gw-linux")
    assert {z["name"]: z["interfaces"] for z in gateway["facts"]["zones"]} == {
        "mynumber-office": ["ens224"], "lgwan-office": ["ens256"], "lgwan-sanitizer": ["ens256"],
        "internet-office": ["ens192"]}
    sanitizer = next(z for z in fortigate["facts"]["zones"] if z["name"] == "lgwan-sanitizer")
    assert (sanitizer["interfaces"], sanitizer["interfaces_from"], sanitizer["within"]) == \
        (["LG"], "parent", ["lgwan-office"])
    on_fortigate = _results(tmp_path, fortigate, "fortigate")["mn-inbound-closed"]
    on_gateway = _results(tmp_path, gateway, "gateway")["mn-inbound-closed"]
    assert on_fortigate["status"] == on_gateway["status"] == "fail"
    assert _findings(on_fortigate) == ['lgwan-sanitizer → mynumber-office | policy 5 "sanitizer to MN"',
                                       'internet-office → mynumber-office | policy 1 "IN to MN file share"']
    assert _findings(on_gateway) == ["lgwan-office → mynumber-office | rule FORWARD#3",
                                     "lgwan-sanitizer → mynumber-office | rule FORWARD#3",
                                     'internet-office → mynumber-office | rule FORWARD#2 "IN to MN file share"']

    # The same names as one flat list for both devices: every interface-limited rule is undetermined.
    flat = tmp_path / "flat.yaml"
    flat.write_text(DEVICES_ZONES.replace("{fw-cityhall: [port1], gw-linux: [ens224]}", "[port1, ens224]")
                    .replace("{fw-cityhall: [port4], gw-linux: [ens192]}", "[port4, ens192]"), encoding="utf-8")
    merged = _results(tmp_path, _bundle(tmp_path, "iptables", [rules], flat, "gw-linux"), "flat")
    assert merged["mn-inbound-closed"]["status"] == "error"
    assert "3 flow(s) cannot be decided" in merged["mn-inbound-closed"]["message"]
    assert "internet-office → mynumber-office: undetermined: rule FORWARD#2" in merged["mn-inbound-closed"]["message"]
    assert "faced by several interfaces (port1, ens224)" in merged["mn-inbound-closed"]["message"]


IP_ROUTE = """default via 198.51.100.1 dev ens160 proto static metric 100
10.10.0.0/20 dev ens224 proto kernel scope link src 10.10.0.1 metric 101
10.20.0.0/16 dev ens256 proto kernel scope link src 10.20.0.1 metric 102
10.30.0.0/16 dev ens192 proto kernel scope link src 10.30.0.1 metric 103
198.51.100.0/30 dev ens160 proto kernel scope link src 198.51.100.2 metric 100
blackhole 10.40.0.0/16 proto static
"""


@pytest.mark.parametrize("kind", ["iptables", "nftables"])
def test_a_linux_gateways_ip_route_table_says_which_interface_faces_each_zone(tmp_path, kind):
    zones = tmp_path / "zones.yaml"
    zones.write_text("format: auditor-zones/1\nzones:\n"
                     "  - {name: mynumber-office, segment: mynumber, role: office, networks: [10.10.0.0/20]}\n"
                     "  - {name: mn-archive, segment: mynumber, role: server, networks: [10.40.0.0/16]}\n"
                     "  - {name: lgwan-office, segment: lgwan, role: office, networks: [10.20.0.0/16]}\n"
                     "  - {name: internet-office, segment: internet, role: office, networks: [10.30.0.0/16]}\n",
                     encoding="utf-8")
    routes = tmp_path / "ip-route.txt"
    routes.write_bytes(IP_ROUTE.replace("\n", "\r\n").encode())
    if kind == "iptables":
        rules = tmp_path / "gw.rules"
        rules.write_bytes(GATEWAY_RULES.encode())
    else:
        rules = tmp_path / "gw.nft"
        rules.write_text('table inet filter {\n\tchain forward {\n\t\ttype filter hook forward priority filter; '
                         'policy drop;\n\t\tiifname "ens192" oifname "ens224" tcp dport 445 accept\n\t}\n}\n',
                         encoding="utf-8")
    bundle = _bundle(tmp_path, kind, [routes, rules], zones, "gw-linux")  # the routes first: order does not matter
    faces = {z["name"]: (z["interfaces"], z.get("interfaces_from")) for z in bundle["facts"]["zones"]}
    assert faces == {"mynumber-office": (["ens224"], "device configuration"), "mn-archive": ([], None),
                     "lgwan-office": (["ens256"], "device configuration"),
                     "internet-office": (["ens192"], "device configuration")}
    assert next(z for z in bundle["facts"]["zones"] if z["name"] == "internet-office")["inferred"] == [
        {"interface": "ens192", "networks": ["10.30.0.0/16"], "inferred_from": "ip route", "file": str(routes),
         "line": 4}]
    assert bundle["facts"]["firewall_rules"]["external_zone"]["interfaces"] == ["ens160"]
    parsers = {(s["name"], s["parser"].split(" (")[0]) for s in bundle["sources"]}
    assert (str(routes), "ip route") in parsers
    assert (str(rules), {"iptables": "iptables-save", "nftables": "nft list ruleset"}[kind]) in parsers
    inbound = _results(tmp_path, bundle, kind)["mn-inbound-closed"]
    assert [f["item"] for f in inbound["findings"] if not f["actual"].startswith("undetermined")] == \
        ["lgwan-office → mynumber-office"] * (kind == "iptables") + ["internet-office → mynumber-office"]


def test_policy_routes_and_dynamic_routing_keep_the_inference_from_guessing():
    text = ROUTED.read_bytes().decode()
    with_policy = text + ("config router policy\r\n    edit 1\r\n        set input-device \"port4\"\r\n"
                          "        set output-device \"port5\"\r\n    next\r\nend\r\n")
    tree = parse_config(with_policy, "fw.conf")
    records = device_networks(tree, tree, "fw.conf")
    assert records and all(r.get("ignored") for r in records)  # port6 keeps its own reason: it is down
    assert all("policy routes (config router policy" in r["ignored"] for r in records if r["interface"] != "port6")
    with_bgp = text + "config router bgp\r\n    set as 64512\r\n    set router-id 172.20.0.2\r\nend\r\n"
    tree = parse_config(with_bgp, "fw.conf")
    records = device_networks(tree, tree, "fw.conf")
    defaults = [r for r in records if r["networks"] in (["0.0.0.0/0"], ["::/0"])]
    assert defaults and all(r["ignored"].startswith("BGP is configured") for r in defaults)
    assert not any("ignored" in r for r in records if r["interface"] == "port1")


MULTI_VDOM = """config vdom
edit root
next
edit city
next
end
config global
config system interface
    edit "port1"
        set vdom "root"
        set ip 192.168.1.99 255.255.255.0
    next
    edit "port2"
        set vdom "city"
        set ip 10.10.0.1 255.255.240.0
    next
end
end
config vdom
edit city
config router static
    edit 1
        set dst 172.20.0.0 255.252.0.0
        set device "port2"
    next
end
config firewall policy
end
next
end
"""


def test_a_multi_vdom_unit_gives_each_vdom_its_own_interfaces_and_routes():
    tree = parse_config(MULTI_VDOM, "fw.conf")
    city = tree.configs["vdom"].edits["city"]
    records = interface_networks(tree.configs["global"].configs["system interface"], city, "fw.conf", "city")
    assert [(r["interface"], r["networks"], r["inferred_from"], r["vdom"]) for r in records] == [
        ("port2", ["10.10.0.0/20"], "system interface", "city"), ("port2", ["172.20.0.0/14"], "router static", "city")]
    assert [r["interface"] for r in device_networks(tree, city, "fw.conf")] == ["port2", "port2"]


@pytest.mark.parametrize(("text", "line", "problem"), [
    ("default via 192.0.2.1 dev eth0\n10.0.0.0/8 dev eth1 bogus 3\n", 2, "unexpected 'bogus'"),
    ("10.0.0.0/8 dev\n", 1, "'dev' needs a value"),
    ("10.0.0.0/8 dev eth1 metric ²\n", 1, "bad metric"),
    ("\tnexthop via 10.0.0.1 dev eth0 weight 1\n", 1, "'nexthop' without a route"),
])
def test_a_broken_ip_route_listing_is_refused_naming_the_line(text, line, problem):
    with pytest.raises(InputError) as exc:
        route_networks(text, "ip-route.txt")
    assert exc.value.line == line and problem in exc.value.problem


def test_ip_route_multipath_blackholes_and_other_tables():
    records = route_networks("default proto static metric 20\n\tnexthop via 10.0.0.1 dev eth0 weight 1\n"
                             "\tnexthop via 10.0.1.1 dev eth1 weight 1\n"
                             "unreachable 10.9.0.0/16\n"
                             "10.8.0.0/16 via 10.0.0.9 dev eth2 table 100\n"
                             "fe80::/64 dev eth0 proto kernel metric 256 pref medium\n", "r.txt")
    assert [(r["interface"], r["networks"], r.get("blackhole"), "ignored" in r) for r in records] == [
        ("eth0", ["0.0.0.0/0"], None, False), ("eth1", ["0.0.0.0/0"], None, False),
        (None, ["10.9.0.0/16"], True, False), ("eth2", ["10.8.0.0/16"], None, True),
        ("eth0", ["fe80::/64"], None, False)]


def test_each_vdom_of_a_multi_vdom_unit_is_judged_by_its_own_routes(tmp_path):
    zones = tmp_path / "zones.yaml"
    zones.write_text("format: auditor-zones/1\nzones:\n"
                     "  - {name: mynumber-office, segment: mynumber, role: office, networks: [10.10.0.0/20]}\n"
                     "  - {name: internet-office, segment: internet, role: office, networks: [10.30.0.0/16]}\n",
                     encoding="utf-8")
    bundle = _bundle(tmp_path, "fortigate", [FIXTURES / "fortigate-vdoms-routed.conf"], zones, "fw-cityhall")
    office = next(z for z in bundle["facts"]["zones"] if z["name"] == "mynumber-office")
    # VDOM city has it on port1; VDOM root, on its own routes, sends it to its default route on wan1
    assert [(r["vdom"], r["interface"], r["inferred_from"]) for r in office["inferred"]] == [
        ("root", "wan1", "router static"), ("city", "port1", "system interface")]
    assert office["interfaces"] == ["wan1", "port1"]
    inbound = _results(tmp_path, bundle, "vdoms")["mn-inbound-closed"]
    assert _findings(inbound) == ['internet-office → mynumber-office | policy 1 "IN to MN file share"']
    # one routing table for both VDOMs would have put the office behind port1 alone, wrong for VDOM root
    merged = [{k: v for k, v in r.items() if k != "vdom"}
              for r in bundle["facts"]["firewall_rules"]["interface_networks"]]
    alone = zones_for_device(load_zones(zones), "fw-cityhall", merged).zones
    assert next(z for z in alone if z["name"] == "mynumber-office")["interfaces"] == ["port1"]
