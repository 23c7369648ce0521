"""JSON for the tool's own documents (evidence bundles, results), through orjson.

An imported directory or roster is a bundle of 100,000 records (tens of megabytes) that
``auditor import`` writes and ``auditor audit`` reads back; with the standard library's
encoder and decoder that was a third of the run, and orjson does it in a fraction of the
time. Where orjson refuses what the standard library accepts (a lone surrogate, a ``NaN``
literal in a file) or would read it inexactly (an integer beyond 64 bits, as a float), the
standard library does the job, so nothing readable or writable before is refused or
altered now, and parse errors keep the messages users know, with line and column. Two
differences remain, both towards valid JSON: a float is written in its shortest
round-trip form (``1e16`` for ``1e+16``), and a
NaN or infinity, which JSON does not have, is written as ``null``.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_PRETTY = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE
_BOM = b"\xef\xbb\xbf"
# orjson reads an integer beyond 64 bits (19 digits or more) as a float; a run of 19 digits
# anywhere in the text (found by mapping every digit to 0 and everything else to a space)
# sends the document to the standard library, which keeps it exact.
_DIGITS = bytes(ord("0") if chr(i).isdigit() and i < 128 else ord(" ") for i in range(256))
_LONG_RUN = b"0" * 19


def encode(doc: Any) -> bytes:
    """The document indented by two spaces, UTF-8, ending with a newline (as ``json.dumps``
    with ``ensure_ascii=False, indent=2`` lays it out)."""
    try:
        return orjson.dumps(doc, option=_PRETTY)
    except TypeError:  # a lone surrogate, an integer beyond 64 bits, a type orjson does not know
        text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate has no UTF-8 form: write it as the escape it was read from
        return (json.dumps(doc, indent=2) + "\n").encode("ascii")


def compact(doc: Any) -> bytes:
    """Compact UTF-8 JSON, keys in the document's order: what a document made in memory is hashed
    as (anyone holding it as a file gets the same bytes by parsing it and writing it compactly)."""
    try:
        return orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return json.dumps(doc, separators=(",", ":")).encode("ascii")


def decode(raw: bytes) -> Any:
    """The parsed document (a UTF-8 byte-order mark allowed).

    Raises UnicodeDecodeError or json.JSONDecodeError as ``json.loads(raw.decode("utf-8-sig"))``
    does, with the same messages.
    """
    if _LONG_RUN not in raw.translate(_DIGITS):
        try:
            return orjson.loads(raw[3:] if raw.startswith(_BOM) else raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(raw.decode("utf-8-sig"))
