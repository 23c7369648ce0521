"""How one target's results are packed into its history row, and read back.

A fleet run is 100,000 targets × 76 checks: one row per result would be 7.6 million rows a month.
So a target's row holds its checks packed, in the order of its check set (the run's list of
check ids that this target's results came in, stored once per run):

- ``statuses``: one letter per check (``p`` pass, ``f`` fail, ``e`` error, ``n`` not applicable,
  ``w`` waived, ``m`` manual), upper case when the result has findings;
- ``digests``: for each upper-case letter in turn, an 8-byte BLAKE2b digest of its findings
  (item, actual and expected of each: what was found, not where, so that a row moved in an
  export does not read as a new finding);
- ``streaks``: for each ``f``/``F`` in turn, in how many runs in a row (this one included) the
  check has failed on this target, as little-endian unsigned 16-bit numbers.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from array import array
from collections.abc import Iterable
from itertools import accumulate
from operator import itemgetter
from typing import Any

import orjson

CODES = {"pass": "p", "fail": "f", "error": "e", "notapplicable": "n", "waived": "w", "manual": "m"}
STATUSES = {code: status for status, code in CODES.items()}
DIGEST_BYTES = 8
MAX_STREAK = 0xFFFF
_FAILS = re.compile("[fF]")
# "r.hitachi (exports/ad-users.csv:11)": the file and row say where, not what (a text's end in the JSON)
_SOURCE_SUFFIX = re.compile(rb'\s*\([^()"]+:\d+\)"')
_WHAT = itemgetter("item", "actual", "expected")
_BLAKE2B = hashlib.blake2b(digest_size=DIGEST_BYTES)
_SORTED = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def status_of(code: str) -> str:
    """The status a packed letter stands for."""
    return STATUSES[code.lower()]


def findings_digest(findings: list[dict[str, Any]]) -> bytes:
    """The 8-byte digest of what a result found: each finding's item, actual and expected (keys sorted),
    where a text's ``(file:row)`` suffix, which only says where it was found, is left out."""
    try:
        data = orjson.dumps(list(map(_WHAT, findings)), option=_SORTED)
    except KeyError:  # a finding without one of the three
        data = orjson.dumps([(f.get("item"), f.get("actual"), f.get("expected")) for f in findings], option=_SORTED)
    except TypeError:  # a lone surrogate, an integer beyond 64 bits
        data = json.dumps([(f.get("item"), f.get("actual"), f.get("expected")) for f in findings], sort_keys=True,
                          default=str).encode("ascii")
    if b')"' in data:
        data = _SOURCE_SUFFIX.sub(b'"', data)
    digest = _BLAKE2B.copy()  # a copy of a made hash object costs half of making one
    digest.update(data)
    return digest.digest()


def findings_digest_chunked(chunks: Iterable[list[dict[str, Any]]]) -> bytes | None:
    """:func:`findings_digest` of findings given a chunk at a time (a result with 100,000 findings is not
    held whole to be hashed): the same bytes hashed piece by piece. None where a chunk needs the slow
    way (a finding without one of the three, a lone surrogate): the caller then hashes the whole list."""
    digest = _BLAKE2B.copy()
    digest.update(b"[")
    first = True
    for chunk in chunks:
        try:
            data = orjson.dumps(list(map(_WHAT, chunk)), option=_SORTED)
        except (KeyError, TypeError):
            return None
        if len(data) <= 2:
            continue
        if b')"' in data:  # a match lies within one string, so chunks are cut between matches
            data = _SOURCE_SUFFIX.sub(b'"', data)
        digest.update((b"" if first else b",") + data[1:-1])
        first = False
    digest.update(b"]")
    return digest.digest()


def pack_streaks(streaks: list[int]) -> bytes:
    try:
        packed = array("H", streaks)
    except OverflowError:
        packed = array("H", [min(n, MAX_STREAK) for n in streaks])
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def first_streaks(count: int) -> bytes:
    """The streaks of ``count`` failures that did not fail in the run before: 1 each."""
    return b"\x01\x00" * count


def unpack_streaks(raw: bytes) -> array:
    packed = array("H")
    packed.frombytes(bytes(raw))
    if sys.byteorder == "big":
        packed.byteswap()
    return packed


def fail_positions(statuses: str) -> list[int]:
    """The positions of the failed checks (``f`` or ``F``)."""
    return [m.start() for m in _FAILS.finditer(statuses)]


def digest_at(statuses: str, digests: bytes) -> dict[int, bytes]:
    """Each position that has findings, with its digest."""
    before = list(accumulate(map(str.isupper, statuses), initial=0))
    return {i: bytes(digests[before[i] * DIGEST_BYTES:(before[i] + 1) * DIGEST_BYTES])
            for i, code in enumerate(statuses) if code.isupper()}


def db_text(value: Any) -> Any:
    """Text a database can store: a lone surrogate (read from a file name that is not UTF-8) as its escape."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value
