"""Loading a city's zones file (``auditor-zones/1``) into exact address intervals.

An address in no zone is ``external`` (guideline §3.1). Zones are written as administrators
write them: a network, and the special hosts in it (the sanitisation server inside the LGWAN
office network). A zone whose network lies inside another zone's is the more specific one and
owns those addresses, as the longest prefix wins in routing; the enclosing zone keeps the rest.
So the zones still partition the address space, and every address has one segment. What would
make an address's zone a matter of file order is refused, naming both zones and the address: the
same network in two zones, and two zones' networks that partly overlap without one holding the
other.

``interfaces`` says which firewall interfaces face a zone: a list (one device, or names every
device shares), or a mapping from the imported target id to its list (``{fw-cityhall: [port2],
gw-linux: [ens224]}``), so that one zones file serves every firewall. :func:`zones_for_device`
settles each zone's interfaces for the device being imported: the zone's own, else those of the
zones it is nested in (when every network of the zone lies in one), else what the device's own
configuration says (:mod:`auditor.evidence.routes`), and records which of these it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.evidence.addresses import Interval, complement, from_text, normalise, parse_network, to_text
from auditor.evidence.bundle import BundleBuilder
from auditor.evidence.routes import Faces, RouteMap

from auditor.schemas import validated
from auditor.schemas.zones import ZONES
from auditor.yamldoc import YamlDoc, load_yaml, parse_yaml

RULE_AREAS = ("firewall_rules", "firewall_input_rules")
EXTERNAL = "external"
FROM_FILE, FROM_PARENT, FROM_DEVICE = "zones file", "parent", "device configuration"


def load_zones(path: str | Path) -> list[dict[str, Any]]:
    """The zones of a file, each with ``intervals`` (``[lo, hi]`` address strings) added."""
    return zones_from(load_yaml(path))


def parse_zones(raw: bytes, name: str) -> list[dict[str, Any]]:
    """As :func:`load_zones`, from bytes already read."""
    return zones_from(parse_yaml(raw, name))


@dataclass(eq=False)
class _Net:
    """One network of a zone in the nesting tree."""

    family: int
    lo: int
    hi: int
    zone: int
    where: tuple[Any, ...]  # its key path in the file, for messages
    text: str  # as written
    children: list[_Net] = field(default_factory=list)
    foreign: _Net | None = None  # the nearest enclosing network of another zone
    joined: bool = False  # joined into an enclosing network of its zone that it overlapped


def zones_from(doc: YamlDoc) -> list[dict[str, Any]]:
    """Validate a parsed zones file; every problem is an InputError naming its key and line.

    Each zone gets ``intervals``: the addresses it owns (its networks without those of the zones
    nested in them) and, when every network of it lies inside other zones' networks, ``within``:
    the names of those zones, whose interfaces it inherits.
    """
    data = validated(doc.data, ZONES, doc.path, doc.line_of)
    zones: list[dict[str, Any]] = []
    nets: list[_Net] = []
    seen: dict[str, int] = {}
    for index, raw_zone in enumerate(data["zones"]):
        zone = {**raw_zone, "interfaces": _interfaces(doc, index, raw_zone.get("interfaces", []))}
        name = zone["name"]
        if name in seen:
            raise doc.error(("zones", index, "name"), f"zone {name!r} is already defined (zones[{seen[name]}])")
        seen[name] = index
        for n, text in enumerate(zone["networks"]):
            try:
                family, lo, hi = parse_network(text)
            except ValueError as exc:
                raise doc.error(("zones", index, "networks", n),
                                f"not an IPv4/IPv6 prefix or range a-b: {exc}") from None
            nets.append(_Net(family, lo, hi, index, ("zones", index, "networks", n), text.strip()))
        zones.append(zone)
    kept = _nest(doc, zones, nets)
    owned: dict[int, list[Interval]] = {index: [] for index in range(len(zones))}
    outer: dict[int, dict[str, None] | None] = {index: {} for index in range(len(zones))}
    for net in kept:
        owned[net.zone] += _without_children(net)
        enclosing = outer[net.zone]
        if enclosing is not None:
            if net.foreign is None:
                outer[net.zone] = None  # a network of its own: the zone is not nested as a whole
            else:
                enclosing[zones[net.foreign.zone]["name"]] = None
    for index, zone in enumerate(zones):
        zone["intervals"] = to_text(normalise(owned[index]))
        if outer[index]:
            zone["within"] = list(outer[index] or ())
    return zones


def _nest(doc: YamlDoc, zones: list[dict[str, Any]], nets: list[_Net]) -> list[_Net]:
    """The networks as a forest, each inside the smallest network holding it (a zone's own networks that
    overlap are joined); the networks kept, in address order. Refuses what does not nest."""
    nets.sort(key=lambda n: (n.family, n.lo, -n.hi, n.zone))
    kept: list[_Net] = []
    stack: list[_Net] = []  # the chain of networks holding the current address, outermost first
    for net in nets:
        while stack and (stack[-1].family != net.family or stack[-1].hi < net.lo):
            stack.pop()
        top = stack[-1] if stack else None
        if top is not None and (top.lo, top.hi) == (net.lo, net.hi):
            if top.zone != net.zone:
                first, second = zones[top.zone]["name"], zones[net.zone]["name"]
                written = f" ({first!r} writes it {top.text})" if top.text != net.text else ""
                raise doc.error(net.where, f"zones {first!r} and {second!r} both have the network {net.text}"
                                f"{written}: the same addresses cannot be in two zones")
            continue  # written twice in one zone
        if top is not None and top.hi < net.hi:  # begins inside ``top`` and ends beyond it
            if top.zone != net.zone:
                raise _partial(doc, zones, top, net)
            top.hi = net.hi  # one zone's ranges that overlap: one range
            while len(stack) > 1 and stack[-2].hi < top.hi:
                holder = stack[-2]
                if holder.zone != top.zone:
                    raise _partial(doc, zones, holder, net)
                holder.children.pop()  # ``top``, its last child: joined into it
                holder.children += top.children
                holder.hi = top.hi
                top.joined = True
                stack.pop()
                top = holder
            if len(stack) > 1 and (stack[-2].lo, stack[-2].hi) == (top.lo, top.hi):
                raise doc.error(net.where, f"zones {zones[stack[-2].zone]['name']!r} and {zones[top.zone]['name']!r} "
                                f"both have the addresses {stack[-2].text}: the same addresses cannot be in two zones")
            continue
        if top is not None:
            top.children.append(net)
            net.foreign = top if top.zone != net.zone else top.foreign
        stack.append(net)
        kept.append(net)
    return [net for net in kept if not net.joined]


def _partial(doc: YamlDoc, zones: list[dict[str, Any]], first: _Net, second: _Net) -> Exception:
    return doc.error(second.where, f"zones {zones[first.zone]['name']!r} and {zones[second.zone]['name']!r} overlap "
                     f"({to_text([(second.family, second.lo, second.lo)])[0][0]} is in both) without one lying "
                     "inside the other: a zone's network must be wholly inside another zone's network (a more "
                     "specific zone, such as a host in its office network) or apart from it")


def _without_children(net: _Net) -> list[Interval]:
    """The addresses of a network that no network nested in it takes (children are in address order)."""
    out: list[Interval] = []
    position = net.lo
    for child in net.children:
        if child.lo > position:
            out.append((net.family, position, child.lo - 1))
        position = max(position, child.hi + 1)
    if position <= net.hi:
        out.append((net.family, position, net.hi))
    return out


def _interfaces(doc: YamlDoc, index: int, value: Any) -> list[str] | dict[str, list[str]]:
    """A zone's ``interfaces`` as written: a list of names, or a mapping of target id to a list."""
    where = ("zones", index, "interfaces")
    if isinstance(value, list):
        return _names(doc, where, value)
    out: dict[str, list[str]] = {}
    for device, names in value.items():
        if not isinstance(device, str) or not device.strip():
            raise doc.error(where, f"a device is named by its target id (text), got {device!r}")
        if not isinstance(names, list):
            raise doc.error(where + (device,), f"expected the list of {device}'s interfaces facing the zone, "
                            "such as [port2]")
        out[device] = _names(doc, where + (device,), names)
    return out


def _names(doc: YamlDoc, where: tuple[Any, ...], names: list[Any]) -> list[str]:
    for n, name in enumerate(names):
        if not isinstance(name, str) or not name.strip():
            raise doc.error(where + (n,), f"expected an interface name (text), got {name!r}")
    return list(names)


@dataclass
class DeviceZones:
    """The zones as one device sees them: the ``zones`` area, the pseudo-zone ``external`` when its
    interfaces were inferred (``external_zone`` in the rule areas), and notes for the bundle's errors."""

    zones: list[dict[str, Any]]
    external: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


def zones_for_device(zones: list[dict[str, Any]], device: str,
                     networks: list[dict[str, Any]] | None = None) -> DeviceZones:
    """Each zone with the interfaces facing it on ``device`` (its target id) and where they come from:
    the zone's own (``zones file``), else its enclosing zones' (``parent``), else the device's
    configuration (``device configuration``, from the ``interface_networks`` records)."""
    named: dict[str, list[str]] = {}
    for zone in zones:
        given = zone.get("interfaces") or []
        own = given.get(device, []) if isinstance(given, dict) else given
        if own:
            named[zone["name"]] = list(own)
    how = dict.fromkeys(named, FROM_FILE)
    for name, interfaces in _inherited(zones, named).items():
        named[name], how[name] = interfaces, FROM_PARENT
    maps = _route_maps(networks or [])
    inferred: dict[str, _Inferred] = {}
    for zone in zones:
        if zone["name"] not in named:
            found = _infer(maps, from_text(zone["intervals"]))
            if found is not None:
                named[zone["name"]], how[zone["name"]] = found.interfaces, FROM_DEVICE
                inferred[zone["name"]] = found
    out = DeviceZones([])
    for zone in zones:
        name = zone["name"]
        record = {k: zone[k] for k in ("name", "segment", "role", "networks", "intervals")}
        record["interfaces"] = named.get(name, [])
        if name in how:
            record["interfaces_from"] = how[name]
        if zone.get("within"):
            record["within"] = list(zone["within"])
        if name in inferred:
            record.update(inferred[name].fact())
        out.zones.append(record)
    if maps and not any(named.get(z["name"]) for z in zones if z["segment"] == EXTERNAL):
        taken = [iv for z in zones for iv in from_text(z["intervals"])]
        found = _infer(maps, taken, outside=True)
        if found is not None:
            out.external = {"interfaces": found.interfaces, "interfaces_from": FROM_DEVICE, **found.fact()}
    mapped = [z for z in zones if isinstance(z.get("interfaces"), dict) and z["interfaces"]]
    if mapped and FROM_FILE not in how.values():
        devices = sorted({d for z in mapped for d in z["interfaces"]})
        out.notes.append(f"no zone names interfaces for the device {device!r} (the zones file names them for "
                         f"{', '.join(map(repr, devices[:5]))}{' …' if len(devices) > 5 else ''}): import with "
                         "--target set to the id the zones file uses")
    return out


def _inherited(zones: list[dict[str, Any]], named: dict[str, list[str]]) -> dict[str, list[str]]:
    """The interfaces of nested zones that name none, from the zones they lie in, outermost first: a
    zone inherits once every zone it lies in has interfaces (a zone nested in one that has none, or in
    a cycle of zones nested in each other's networks, inherits nothing)."""
    waiting: dict[str, int] = {}
    children: dict[str, list[str]] = {}
    for zone in zones:
        if zone["name"] not in named and zone.get("within"):
            waiting[zone["name"]] = len(zone["within"])
            for parent in zone["within"]:
                children.setdefault(parent, []).append(zone["name"])
    parents = {z["name"]: z.get("within", []) for z in zones}
    known = dict(named)
    ready = list(named)
    done: dict[str, list[str]] = {}
    failed = [z["name"] for z in zones if z["name"] not in named and not z.get("within")]
    while ready or failed:
        name = ready.pop() if ready else failed.pop()
        for child in children.get(name, ()):
            waiting[child] -= 1
            if waiting[child] == 0:
                if all(p in known for p in parents[child]):
                    known[child] = done[child] = list(dict.fromkeys(i for p in parents[child] for i in known[p]))
                    ready.append(child)
                else:
                    failed.append(child)
    return done


@dataclass
class _Inferred:
    interfaces: list[str]
    records: list[dict[str, Any]]

    def fact(self) -> dict[str, Any]:
        return {"inferred": [_cited(r) for r in self.records]}


def _route_maps(networks: list[dict[str, Any]]) -> dict[str | None, RouteMap]:
    """One routing table per VDOM (each VDOM of a FortiGate routes on its own), or one for the device."""
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for record in networks:
        groups.setdefault(record.get("vdom"), []).append(record)
    return {vdom: RouteMap(records) for vdom, records in groups.items()}


def _infer(maps: dict[str | None, RouteMap], intervals: list[Interval], outside: bool = False) -> _Inferred | None:
    """The interfaces ``intervals`` are routed through (``outside``: every address not in them). A
    multi-VDOM unit routes in each VDOM on its own: the interfaces of each VDOM that routes all of them,
    together (an interface belongs to one VDOM, and the analysis judges a VDOM's rules by its own; a VDOM
    that does not route them all has none of them, so its interface-limited rules stay undetermined)."""
    known: list[Faces] = []
    for routes in maps.values():
        if outside:
            six = any(":" in text for r in routes.records if not r.get("ignored") for text in r["networks"])
            found = routes.faces(complement(intervals, (4, 6) if six else (4,)))
        else:
            found = routes.faces(intervals)
        if found is not None:
            known.append(found)
    if not known:
        return None
    return _Inferred(list(dict.fromkeys(i for f in known for i in f.interfaces)), [r for f in known for r in f.records])


def _cited(record: dict[str, Any]) -> dict[str, Any]:
    """The part of an ``interface_networks`` record a zone's ``inferred`` list repeats."""
    return {k: record[k] for k in ("interface", "port", "networks", "inferred_from", "vdom", "file", "line")
            if k in record}


def store_zones(builder: BundleBuilder, zones: list[dict[str, Any]] | None, path: str | None,
                networks: list[dict[str, Any]] | None = None) -> None:
    """The ``zones`` area (the zones as this device sees them) and its source, written by every network
    importer given ``--zones``; and ``interface_networks`` in the rule areas when the importer read
    what lies behind the device's interfaces. Called again after each file of an import: the last
    call sees every file."""
    rule_areas = [area for area in RULE_AREAS if isinstance(builder.facts.get(area), dict)]
    if networks is not None:
        for area in rule_areas:
            builder.facts[area]["interface_networks"] = networks
    if zones is None or path is None:
        return
    device = zones_for_device(zones, builder.target_id, networks)
    if not any(s.get("area") == "zones" and s["name"] == path for s in builder.sources):
        builder.add_source(path, "auditor-zones/1", Path(path).read_bytes(), "zones")
    builder.set_fact("zones", device.zones)
    for area in rule_areas:
        if device.external is not None:
            builder.facts[area]["external_zone"] = device.external
        else:
            builder.facts[area].pop("external_zone", None)
    for note in device.notes:
        if not any(e["area"] == "zones" and e["message"] == note for e in builder.errors):
            builder.add_error("zones", note, path)


class ZonedImporter:
    """What the rule-set importers share: ``--zones``, read before any configuration so that a bad
    zones file fails first, and stored with the rules (see :func:`store_zones`); ``networks``, the
    ``interface_networks`` records of the device read so far (None: the files do not say)."""

    def __init__(self) -> None:
        self.zones: list[dict[str, Any]] | None = None
        self.zones_path: str | None = None
        self.networks: list[dict[str, Any]] | None = None

    def configure(self, options: Any) -> None:
        if options.zones:
            self.zones, self.zones_path = load_zones(options.zones), options.zones
