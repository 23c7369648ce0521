"""Writing a bundle whose list areas are too large to hold: records are encoded as they come.

``auditor import ad-users big.csv --out b.json`` of a 1,000,000-row export held every record
as Python objects (1 KB each) and then their whole JSON encoding (666 MB) before writing a
byte. Here each batch of records an importer makes (:meth:`BundleBuilder.add_records`) is
encoded at once into a temporary spool file, one per area, and dropped; once the export is
read, the rest of the bundle (header, other facts, sources, errors: known only at the end) is
encoded with a placeholder where each list goes, and the output is that frame with the
spooled lists copied in. Memory grows with a batch, not with the file.

The bytes are exactly :func:`auditor.jsonio.encode`'s of the whole bundle:

- orjson indents by two spaces and never writes a raw newline inside a string, so a batch
  encoded inside two levels of objects (``{"a": {"b": [...]}}``) is laid out as the records
  of a top-level fact area are, and batches join with ``,\\n``;
- where orjson refuses a batch (an integer beyond 64 bits), the standard library writes it,
  as ``jsonio.encode`` falls back for the whole document: the same bytes, for documents
  without floats (``tests/test_bundle_writing.py``), and records hold none;
- a lone surrogate anywhere (a file name that is not UTF-8) makes ``jsonio.encode`` write the
  whole document as ASCII with ``\\u`` escapes; then the frame is written so, and every
  spooled batch is escaped as it is copied (raw text outside ASCII, and DEL, appears only
  inside strings, and escaping it there is what the standard library's ASCII output does).
"""

from __future__ import annotations

import codecs
import contextlib
import json
import os
import re
import secrets
import shutil
import stat
import tempfile
from types import TracebackType
from typing import IO, Any, BinaryIO

import orjson

from auditor import jsonio
from auditor.errors import InputError

_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
# A batch is encoded as the list of a top-level fact area: {"facts": {"area": [records]}}.
_WRAP_START = b'{\n  "a": {\n    "b": [\n'
_WRAP_END = b"\n    ]\n  }\n}"
_AREA_INDENT = b"    "  # a top-level fact area's key line; its records are two spaces further in
_COPY_BLOCK = 1 << 20
_NOT_PRINTABLE_ASCII = re.compile("[^\x00-\x7e]")


def _escaped(match: re.Match[str]) -> str:
    """One character as the standard library's ASCII JSON writes it (astral ones as a surrogate pair)."""
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | (code >> 10) & 0x3FF:04x}\\u{0xDC00 | code & 0x3FF:04x}"


def _batch(records: list[dict[str, Any]]) -> tuple[memoryview, bool]:
    """The records as the items of a top-level fact area's list, and whether they were written in ASCII
    (they hold a lone surrogate, which UTF-8 cannot write)."""
    wrapped = {"a": {"b": records}}
    ascii_only = False
    try:
        data = orjson.dumps(wrapped, option=_OPTIONS)
    except TypeError:  # as jsonio.encode: the standard library, in UTF-8 if it can be, else in ASCII
        text = json.dumps(wrapped, ensure_ascii=False, indent=2)
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            data = json.dumps(wrapped, indent=2).encode("ascii")
            ascii_only = True
    if not (data.startswith(_WRAP_START) and data.endswith(_WRAP_END)):
        raise RuntimeError("a batch of records was not laid out as a fact area's list")
    return memoryview(data)[len(_WRAP_START):-len(_WRAP_END)], ascii_only


def _needs_ascii(doc: Any) -> bool:
    """Whether :func:`jsonio.encode` writes ``doc`` in ASCII (it holds a lone surrogate)."""
    try:
        orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS)
        return False
    except TypeError:
        pass
    try:
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class _AreaFile:
    """One list area's records, encoded, in an anonymous temporary file."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.count = 0
        self.ascii_only = False

    def add(self, records: list[dict[str, Any]]) -> None:
        data, ascii_only = _batch(records)
        if self.count:
            self.file.write(b",\n")
        self.file.write(data)
        self.count += len(records)
        self.ascii_only = self.ascii_only or ascii_only

    def copy_to(self, stream: BinaryIO, ascii_only: bool) -> None:
        """The area's list (``[...]`` with its records) into ``stream``; escaped to ASCII if asked."""
        if not self.count:
            stream.write(b"[]")
            return
        stream.write(b"[\n")
        self.file.flush()
        self.file.seek(0)
        if ascii_only:
            decoder = codecs.getincrementaldecoder("utf-8")()
            while block := self.file.read(_COPY_BLOCK):
                stream.write(_NOT_PRINTABLE_ASCII.sub(_escaped, decoder.decode(block)).encode("ascii"))
            stream.write(_NOT_PRINTABLE_ASCII.sub(_escaped, decoder.decode(b"", True)).encode("ascii"))
        else:
            shutil.copyfileobj(self.file, stream, _COPY_BLOCK)
        stream.write(b"\n" + _AREA_INDENT + b"]")


class BundleSpool:
    """The spooled list areas of one bundle being written (attach it as ``BundleBuilder.spool``).

    ``directory``: where the temporary files go (the output's folder, which must hold the bundle
    anyway; None: the system's temporary folder); ``out`` names the output in errors. A context
    manager: the files are anonymous and closed (so removed) when it ends, whatever happens.
    """

    def __init__(self, directory: str | None, out: str) -> None:
        self.directory = directory
        self.out = out
        self.areas: dict[str, _AreaFile] = {}
        self._files = contextlib.ExitStack()

    def __enter__(self) -> BundleSpool:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.areas.clear()
        self._files.close()

    def __contains__(self, area: object) -> bool:
        return area in self.areas

    def __len__(self) -> int:
        return len(self.areas)

    def add(self, area: str, records: list[dict[str, Any]]) -> None:
        """Encode a batch of records of ``area`` now (an area with no records is written ``[]``)."""
        try:
            spooled = self.areas.get(area)
            if spooled is None:
                file = tempfile.TemporaryFile(dir=self.directory, prefix=".auditor-spool-")  # noqa: SIM115
                spooled = self.areas[area] = _AreaFile(self._files.enter_context(file))  # closed by __exit__
            if records:
                spooled.add(records)
        except OSError as exc:  # the folder cannot be written, or the disk is full
            raise InputError(self.out, f"cannot write: {exc.strerror or exc}") from None

    def write(self, builder: Any, stream: BinaryIO) -> None:
        """The whole bundle into ``stream``: ``jsonio.encode`` of the bundle the builder would build,
        byte for byte, with the spooled areas copied in."""
        if not self.areas:
            stream.write(jsonio.encode(builder.build()))
            return
        nonce = secrets.token_hex(16)
        placeholders = {area: f"auditor-spooled-{nonce}-{area}" for area in self.areas}
        facts = dict(builder.facts)
        for area, placeholder in placeholders.items():
            if area in facts:
                raise RuntimeError(f"{area}: both set whole and spooled")
            facts[area] = placeholder
        frame = builder.document(facts)
        ascii_only = any(a.ascii_only for a in self.areas.values()) or _needs_ascii(frame)
        text = (json.dumps(frame, indent=2) + "\n").encode("ascii") if ascii_only else jsonio.encode(frame)
        places = []
        for area, placeholder in placeholders.items():
            quoted = json.dumps(placeholder).encode("ascii")
            at = text.find(quoted)
            line = text[text.rfind(b"\n", 0, at) + 1:at] if at >= 0 else b""
            if not line.startswith(_AREA_INDENT + b'"') or text.find(quoted, at + 1) >= 0:
                raise RuntimeError(f"{area}: not a top-level fact area of the bundle's frame")
            places.append((at, len(quoted), area))
        written = 0
        for at, length, area in sorted(places):
            stream.write(text[written:at])
            self.areas[area].copy_to(stream, ascii_only)
            written = at + length
        stream.write(text[written:])


def spool_directory(out: str | None) -> str | None:
    """Where the spool of a bundle written to ``out`` goes: beside a file, on the disk that will hold
    it; in the system's temporary folder for standard output or a device (``/dev/stdout``)."""
    if out is None:
        return None
    real = os.path.realpath(out)
    try:
        if not stat.S_ISREG(os.stat(real).st_mode):
            return None
    except OSError:
        pass  # not there yet: written beside it (a missing folder is reported as the output would be)
    return os.path.dirname(real) or "."
