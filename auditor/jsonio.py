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

Reading refuses what would make a document other than what its reader sees (see
:func:`decode`): a key given twice in one object (both parsers keep the last one silently:
``min_length`` 6 then 14 would read as 14), nesting deeper than
:data:`auditor.limits.MAX_JSON_DEPTH` and integers longer than
:data:`auditor.limits.MAX_INT_DIGITS`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import orjson

from auditor.limits import MAX_INT_DIGITS, MAX_JSON_DEPTH

_PRETTY = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE
_BOM = b"\xef\xbb\xbf"
# orjson reads an integer beyond 64 bits (19 digits or more) as a float; a run of 19 digits
# anywhere in the text (found by mapping every digit to 0 and everything else to a space)
# sends the document to the standard library, which keeps it exact.
_DIGITS = bytes(ord("0") if chr(i).isdigit() and i < 128 else ord(" ") for i in range(256))
_LONG_RUN = b"0" * 19
_SPACED_KEY = re.compile(rb'"[ \t\r\n]+:')  # a key with space before its colon (see _surely_unique)


class Refused(ValueError):
    """Well-formed JSON this program will not read: a duplicate key, too deep, too long an integer."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line


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


def encode_item(doc: Any, indent: int) -> bytes:
    """:func:`encode` of one item of a list that sits ``indent`` columns in, without the final newline:
    the bytes that item has in the whole document's :func:`encode` (results spooled item by item are
    joined into the document as it would have been written whole)."""
    pad = b" " * indent
    return pad + encode(doc)[:-1].replace(b"\n", b"\n" + pad)


def encode_items(items: list[Any], indent: int) -> bytes:
    """``b",\n".join(encode_item(item, indent) for item in items)``, in one call of the encoder where it
    can (a list is laid out as its items are, two columns further in): a register's 100,000
    findings are encoded a chunk at a time rather than one by one."""
    if not items or indent < 2:
        return b",\n".join(encode_item(item, indent) for item in items)
    try:
        whole = orjson.dumps(items, option=_PRETTY)
    except TypeError:  # encoded one by one, each the way encode writes it
        return b",\n".join(encode_item(item, indent) for item in items)
    body = whole[2:-3]  # within "[\n" and "\n]\n": the items, two columns in
    if indent == 2:
        return body
    pad = b" " * (indent - 2)
    return pad + body.replace(b"\n", b"\n" + pad)


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
    does, with the same messages, and :class:`Refused` (with the line) for a duplicate key, nesting
    beyond MAX_JSON_DEPTH or an integer beyond MAX_INT_DIGITS.
    """
    body = raw[3:] if raw.startswith(_BOM) else raw
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc):  # orjson stops at 1,024 levels
            raise Refused(f"nested more than {MAX_JSON_DEPTH} levels deep", _deep_line(body)) from None
        return _strict(body)  # the standard library's message for what is not JSON
    if _canonical(body, doc):
        return doc
    if _LONG_RUN in body.translate(_DIGITS):
        return _strict(body)
    if depth(doc) > MAX_JSON_DEPTH:
        raise Refused(f"nested more than {MAX_JSON_DEPTH} levels deep", _deep_line(body))
    if not _surely_unique(body, doc):
        _strict(body)
    return doc


_DEEP_INDENT = b"\n" + b" " * (2 * MAX_JSON_DEPTH - 1)


def _canonical(body: bytes, doc: Any) -> bool:
    """True only if ``body`` is exactly what :func:`encode` writes of ``doc`` (with or without the final
    newline), as the collectors and importers write bundles: then no key was given twice (orjson
    writes every key it kept, so a dropped one would make the texts differ), every integer was read
    exactly (one read as a float is written otherwise), and the nesting shows in the indentation
    (the items of a container at depth d are indented 2d columns; an empty one is written inline):
    no line indented 2 * MAX_JSON_DEPTH - 1 columns or more means no deeper nesting than allowed.
    A cheap test for the usual bundle; any other text is checked the slow way."""
    try:
        again = orjson.dumps(doc, option=orjson.OPT_INDENT_2)
    except TypeError:
        return False
    extra = len(body) - len(again)
    return (extra == 0 or (extra == 1 and body.endswith(b"\n"))) and body.startswith(again) \
        and _DEEP_INDENT not in body


def _strict(body: bytes) -> Any:
    """The standard library's parse, refusing duplicate keys and long integers exactly (the slow way)."""
    text = body.decode("utf-8")

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(items)
        if len(obj) != len(items):
            raise _Duplicate
        return obj

    def integer(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_INT_DIGITS:
            raise Refused(f"an integer of {len(digits.lstrip('-')):,} digits; at most {MAX_INT_DIGITS} are allowed",
                          _line_of(text, digits))
        return int(digits)

    try:
        doc = json.loads(text, object_pairs_hook=pairs, parse_int=integer)
    except _Duplicate:
        raise _duplicate(text) from None
    except RecursionError:
        raise Refused(f"nested more than {MAX_JSON_DEPTH} levels deep", _deep_line(body)) from None
    if depth(doc) > MAX_JSON_DEPTH:
        raise Refused(f"nested more than {MAX_JSON_DEPTH} levels deep", _deep_line(body))
    return doc


class _Duplicate(Exception):
    pass


def depth(doc: Any) -> int:
    """The nesting depth of parsed JSON (1 for a scalar or an empty container), iteratively; it stops
    counting once past MAX_JSON_DEPTH."""
    deepest = 0
    pending = [(doc, 1)]
    pop, push = pending.pop, pending.append
    while pending:
        node, level = pop()
        if level > deepest:
            deepest = level
            if level > MAX_JSON_DEPTH:
                return level
        for value in node.values() if type(node) is dict else node if type(node) is list else ():
            kind = type(value)
            if kind is dict or kind is list:
                push((value, level + 1))
    return deepest


def _surely_unique(body: bytes, doc: Any) -> bool:
    r"""True only if no object of ``body`` has a key twice: an exact test, cheap for the usual bundle.

    Where the text has no escaped quote, no ``\u`` escape and no space between a key and its
    colon, every occurrence of ``":`` is a key's end or the start of a string beginning with
    ``:`` (``"::1"``), and the same holds of orjson's compact form of what was parsed, which
    writes every key and string it kept. The two counts are equal exactly when nothing was
    dropped, that is when no key was given twice. Otherwise the caller checks the slow way.
    """
    escaped = b"\\" in body and (b'\\"' in body or b"\\u" in body)  # separate scans: an alternation is slower
    if escaped or _SPACED_KEY.search(body):
        return False
    try:
        again = orjson.dumps(doc)
    except TypeError:
        return False
    return body.count(b'":') == again.count(b'":')


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]')


def first_duplicate(text: str, fold: Callable[[str], str] | None = None) -> tuple[str, int, str, int] | None:
    """The first key of ``text`` given twice in one object, as (first key, its line, key, its line);
    keys are compared after ``fold`` (``str.casefold`` for PowerShell's case-insensitive names).

    Run only once a duplicate is known to exist: the text up to it is valid JSON, so strings,
    brackets, colons and commas are all the tokens there are.
    """
    stack: list[dict[str, tuple[str, int]] | None] = []
    expect_key = False
    line, last = 1, 0
    for match in _TOKENS.finditer(text):
        piece = match.group()
        if piece == "{":
            stack.append({})
            expect_key = True
        elif piece == "[":
            stack.append(None)
        elif piece in "]}":
            if stack:
                stack.pop()
            expect_key = False
        elif piece == ",":
            expect_key = bool(stack) and stack[-1] is not None
        elif piece != ":" and expect_key:
            expect_key = False
            line += text.count("\n", last, match.start())
            last = match.start()
            key = json.loads(piece)
            keys = stack[-1]
            if keys is not None:
                compared = fold(key) if fold is not None else key
                if compared in keys:
                    first, first_line = keys[compared]
                    return first, first_line, key, line
                keys[compared] = (key, line)
    return None


def _duplicate(text: str) -> Refused:
    """The first key given twice in one object, with both lines (run only once one is known to exist)."""
    found = first_duplicate(text)
    if found is None:
        return Refused("a key is given twice in one object: give each once")
    _, first_line, key, line = found
    return Refused(f"duplicate key {key!r} (first on line {first_line}): give it once", line)


def _deep_line(body: bytes) -> int | None:
    return deep_line(body.decode("utf-8", "replace"))


def deep_line(text: str) -> int | None:
    """The line where nesting first goes beyond MAX_JSON_DEPTH (run only once it is known to)."""
    level = 0
    for match in _TOKENS.finditer(text):
        piece = match.group()
        if piece in "[{":
            level += 1
            if level > MAX_JSON_DEPTH:
                return text.count("\n", 0, match.start()) + 1
        elif piece in "]}":
            level -= 1
    return None


def _line_of(text: str, digits: str) -> int | None:
    at = text.find(digits)
    return text.count("\n", 0, at) + 1 if at >= 0 else None
