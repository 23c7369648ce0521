"""Loading a city's zones file (``auditor-zones/1``) into exact address intervals.

An address in no zone is ``external`` (guideline §3.1). Two zones that share an address
would make the segment of that address ambiguous, so an overlap is refused naming both
zones rather than resolved by file order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditor.evidence.addresses import Interval, normalise, parse_network, to_text
from auditor.evidence.bundle import BundleBuilder

from auditor.schemas import validated
from auditor.schemas.zones import ZONES
from auditor.yamldoc import YamlDoc, load_yaml, parse_yaml


def load_zones(path: str | Path) -> list[dict[str, Any]]:
    """The zones of a file, each with ``intervals`` (``[lo, hi]`` address strings) added."""
    return zones_from(load_yaml(path))


def parse_zones(raw: bytes, name: str) -> list[dict[str, Any]]:
    """As :func:`load_zones`, from bytes already read."""
    return zones_from(parse_yaml(raw, name))


def zones_from(doc: YamlDoc) -> list[dict[str, Any]]:
    """Validate a parsed zones file; every problem is an InputError naming its key and line."""
    data = validated(doc.data, ZONES, doc.path, doc.line_of)
    zones: list[dict[str, Any]] = []
    owners: list[tuple[Interval, str, int]] = []
    seen: dict[str, int] = {}
    for index, raw_zone in enumerate(data["zones"]):
        zone = {**raw_zone, "interfaces": list(raw_zone.get("interfaces", []))}
        name = zone["name"]
        if name in seen:
            raise doc.error(("zones", index, "name"), f"zone {name!r} is already defined (zones[{seen[name]}])")
        seen[name] = index
        intervals: list[Interval] = []
        for n, text in enumerate(zone["networks"]):
            try:
                interval = parse_network(text)
            except ValueError as exc:
                raise doc.error(("zones", index, "networks", n),
                                f"not an IPv4/IPv6 prefix or range a-b: {exc}") from None
            intervals.append(interval)
            owners.append((interval, name, index))
        zone["intervals"] = to_text(normalise(intervals))
        zones.append(zone)
    owners.sort(key=lambda o: o[0])
    reach: tuple[Interval, str] | None = None  # the interval seen so far that ends last, in this family
    for interval, zone_name, zone_index in owners:
        if reach is not None and reach[0][0] == interval[0] and interval[1] <= reach[0][2] \
                and reach[1] != zone_name:
            raise doc.error(("zones", zone_index, "networks"),
                            f"zones {reach[1]!r} and {zone_name!r} overlap ({to_text([interval])[0][0]} is in both)")
        if reach is None or reach[0][0] != interval[0] or interval[2] > reach[0][2]:
            reach = (interval, zone_name)
    return zones


def store_zones(builder: BundleBuilder, zones: list[dict[str, Any]] | None, path: str | None) -> None:
    """The ``zones`` area and its source, written by every network importer given ``--zones``."""
    if zones is not None and path is not None:
        builder.add_source(path, "auditor-zones/1", Path(path).read_bytes(), "zones")
        builder.set_fact("zones", zones)


class ZonedImporter:
    """What the rule-set importers share: ``--zones``, read before any configuration so that a bad
    zones file fails first, and stored with the rules (see :func:`store_zones`)."""

    def __init__(self) -> None:
        self.zones: list[dict[str, Any]] | None = None
        self.zones_path: str | None = None

    def configure(self, options: Any) -> None:
        if options.zones:
            self.zones, self.zones_path = load_zones(options.zones), options.zones
