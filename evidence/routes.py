"""Which interface of a firewall a zone lies behind, from the device's own configuration.

A policy limited to interfaces (FortiGate ``srcintf``/``dstintf``, iptables ``-i``/``-o``) can only
be judged for a zone when it is known which interfaces face the zone. The zones file may say so;
where it does not, the device's configuration often does: the networks of its interface addresses
(connected), its static routes and, for a Linux gateway, its ``ip route`` table. The importers turn
what they read into ``interface_networks`` records (docs/facts.md, ``firewall_rules``), one per
line of the configuration, and :class:`RouteMap` answers, for a zone's addresses, which interfaces
the device would route them through: the most specific network wins, as routing does (longest
prefix); at the same network the lower distance, then the lower priority; what is left equal is
equal-cost multipath, and the zone is faced by each of those interfaces.

A zone is inferred only when every one of its addresses is routed: an address no route covers, or
one routed to a blackhole, leaves the zone's interfaces unknown, so that the rules limited to
interfaces stay *undetermined* for it rather than being judged against a guess. A record the
inference must not use (an interface that is down, a route to a named object it cannot read, a
default route on a unit that learns routes at run time) carries ``ignored`` with the reason.
"""

from __future__ import annotations

import bisect
import heapq
from dataclasses import dataclass
from typing import Any

from auditor.evidence.addresses import Interval, parse_network

SOURCES = ("system interface", "router static", "router static6", "ip route")


def network_record(interface: str | None, networks: list[str], inferred_from: str, file: str, line: int,
                   distance: int = 0, **extra: Any) -> dict[str, Any]:
    """One ``interface_networks`` record: ``interface`` None for a blackhole (traffic there is dropped)."""
    return {"interface": interface, "networks": networks, "inferred_from": inferred_from, "file": file,
            "line": line, "distance": distance, **{k: v for k, v in extra.items() if v is not None}}


def ignore_all(records: list[dict[str, Any]], reason: str) -> None:
    """Mark every record as not to be used (the configuration cannot say where traffic goes)."""
    for record in records:
        record.setdefault("ignored", reason)


@dataclass(frozen=True)
class Faces:
    """The interfaces a set of addresses is routed through, and the records that decided it."""

    interfaces: list[str]
    records: list[dict[str, Any]]


Winner = tuple[tuple[str | None, int], ...]  # (interface or None for a blackhole, record index)


class RouteMap:
    """The address space cut where the winning route changes, built once per device."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records
        best: dict[Interval, tuple[tuple[int, int], list[tuple[str | None, int]]]] = {}
        for index, record in enumerate(records):
            if record.get("ignored"):
                continue
            rank = (int(record.get("distance", 0)), int(record.get("priority", 0)))
            for text in record["networks"]:
                interval = parse_network(text)
                found = best.get(interval)
                if found is None or rank < found[0]:
                    best[interval] = (rank, [(record["interface"], index)])
                elif rank == found[0]:
                    found[1].append((record["interface"], index))
        self._segments = _segments({iv: tuple(winners) for iv, (_, winners) in best.items()})
        self._starts = [(family, lo) for family, lo, _hi, _w in self._segments]

    def faces(self, intervals: list[Interval]) -> Faces | None:
        """The interfaces ``intervals`` are routed through; None unless every address is routed to one."""
        names: dict[str, None] = {}
        used: dict[int, None] = {}
        segments = self._segments
        for family, lo, hi in intervals:
            at = bisect.bisect_right(self._starts, (family, lo)) - 1
            position = lo
            while True:
                if at < 0 or at >= len(segments):
                    return None
                seg_family, seg_lo, seg_hi, winners = segments[at]
                if seg_family != family or not seg_lo <= position <= seg_hi:
                    return None  # a gap: these addresses are routed nowhere
                for interface, index in winners:
                    if interface is None:
                        return None  # dropped by a blackhole route: no interface faces them
                    names[interface] = None
                    used[index] = None
                if seg_hi >= hi:
                    break
                position, at = seg_hi + 1, at + 1
        if not names:
            return None
        return Faces(list(names), [self.records[i] for i in sorted(used)])


def _segments(winners: dict[Interval, Winner]) -> list[tuple[int, int, int, Winner]]:
    """Disjoint (family, lo, hi, winners), sorted: at each address the smallest network covering it."""
    out: list[tuple[int, int, int, Winner]] = []
    for family in (4, 6):
        items = sorted((lo, hi, w) for (f, lo, hi), w in winners.items() if f == family)
        points = sorted({lo for lo, _, _ in items} | {hi + 1 for _, hi, _ in items})
        heap: list[tuple[int, int, int]] = []  # (size, lo, item index): the smallest active network on top
        k = 0
        for start, end in zip(points, points[1:], strict=False):
            while k < len(items) and items[k][0] <= start:
                heapq.heappush(heap, (items[k][1] - items[k][0], items[k][0], k))
                k += 1
            while heap and items[heap[0][2]][1] < start:
                heapq.heappop(heap)
            if not heap:
                continue
            won = items[heap[0][2]][2]
            if out and out[-1][0] == family and out[-1][2] + 1 == start and out[-1][3] == won:
                out[-1] = (family, out[-1][1], end - 1, won)
            else:
                out.append((family, start, end - 1, won))
    return out
