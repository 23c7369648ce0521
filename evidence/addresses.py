"""Exact address sets as sorted, disjoint intervals, for zones and firewall rules.

A firewall rule's address set is a union of prefixes, ranges and negations; sampling it
would let the reachability analysis miss a single allowed host. Every set is therefore
kept as inclusive intervals ``(family, lo, hi)`` of integers while parsing, and written to
a bundle as ``[lo, hi]`` pairs of address strings (JSON has no 128-bit integers that every
reader accepts; ``ipaddress`` turns the strings back into integers exactly).
"""

from __future__ import annotations

import functools
import ipaddress

Interval = tuple[int, int, int]  # (family 4 or 6, first address, last address)

MAX = {4: (1 << 32) - 1, 6: (1 << 128) - 1}
ANY4: list[Interval] = [(4, 0, MAX[4])]
ANY6: list[Interval] = [(6, 0, MAX[6])]
MAX_PREFIX_TEXT = 39  # the longest prefix after a '/': an IPv6 netmask written out; "/128" is 3
MAX_ADDRESS_TEXT = 200  # two IPv6 addresses in full with scope ids and a '-' are under 200


def parse_network(text: str) -> Interval:
    """``10.0.0.0/16``, ``10.0.0.5``, ``10.0.0.1-10.0.0.9`` or an IPv6 form; ValueError otherwise."""
    text = text.strip()
    prefix = text.partition("/")[2].strip()
    if len(prefix) > MAX_PREFIX_TEXT:  # ipaddress would int() it: 4,300 digits are a ValueError, slow before
        raise ValueError(f"a prefix length or netmask of {len(prefix):,} characters")
    if len(text) > MAX_ADDRESS_TEXT:  # ipaddress would quote it whole in its message
        raise ValueError(f"{len(text):,} characters are no address, prefix or range")
    if "-" in text:
        first_text, _, last_text = text.partition("-")
        first = ipaddress.ip_address(first_text.strip())
        last = ipaddress.ip_address(last_text.strip())
        if first.version != last.version:
            raise ValueError(f"{text!r}: the range mixes IPv4 and IPv6")
        if int(first) > int(last):
            raise ValueError(f"{text!r}: the range ends before it starts")
        return (first.version, int(first), int(last))
    network = ipaddress.ip_network(text, strict=False)
    return (network.version, int(network.network_address), int(network.broadcast_address))


def normalise(intervals: list[Interval]) -> list[Interval]:
    """Sorted, merged (overlapping or adjacent intervals joined), per family."""
    out: list[Interval] = []
    for family, lo, hi in sorted(intervals):
        if out and out[-1][0] == family and lo <= out[-1][2] + 1:
            if hi > out[-1][2]:
                out[-1] = (family, out[-1][1], hi)
        else:
            out.append((family, lo, hi))
    return out


def complement(intervals: list[Interval], families: tuple[int, ...] = (4,)) -> list[Interval]:
    """Every address of ``families`` not in the set (iptables ``! -s``: IPv4 only)."""
    out: list[Interval] = []
    merged = normalise(intervals)
    for family in families:
        nxt = 0
        for fam, lo, hi in merged:
            if fam != family:
                continue
            if lo > nxt:
                out.append((family, nxt, lo - 1))
            nxt = hi + 1
        if nxt <= MAX[family]:
            out.append((family, nxt, MAX[family]))
    return out


def intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    """Addresses in both sets."""
    out: list[Interval] = []
    for fa, la, ha in normalise(a):
        for fb, lb, hb in normalise(b):
            if fa == fb and max(la, lb) <= min(ha, hb):
                out.append((fa, max(la, lb), min(ha, hb)))
    return normalise(out)


def to_text(intervals: list[Interval]) -> list[list[str]]:
    """The bundle form: ``[["10.0.0.0", "10.0.255.255"], ...]``.

    Large groups are used by thousands of rules, so each distinct set is merged and formatted
    once and the same list is returned for it: a bundle is read, never modified in place.
    """
    return _text_pairs(tuple(intervals))


@functools.lru_cache(maxsize=4096)
def _text_pairs(intervals: tuple[Interval, ...]) -> list[list[str]]:
    return [[_address(f, lo), _address(f, hi)] for f, lo, hi in normalise(list(intervals))]


def _address(family: int, value: int) -> str:
    if family == 4:
        return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"
    return str(ipaddress.IPv6Address(value))


def from_text(pairs: list[list[str]]) -> list[Interval]:
    """The inverse of :func:`to_text`."""
    out: list[Interval] = []
    for lo_text, hi_text in pairs:
        lo, hi = ipaddress.ip_address(lo_text), ipaddress.ip_address(hi_text)
        out.append((lo.version, int(lo), int(hi)))
    return normalise(out)
