"""Decoding exports as Windows, Excel and PowerShell write them.

Order: a byte-order mark (UTF-8, UTF-16 LE/BE) decides; otherwise strict UTF-8; otherwise
CP932 (Shift_JIS as Japanese Windows and Excel write it). The encoding found is recorded
with the source, and a file that none of them decodes is refused naming the line.

Two ways in: :func:`decode` takes the whole file's bytes (small exports: secedit, net
accounts); :class:`TextStream` reads a file block by block and gives the same text in pieces,
so that a 1-million-row export is never held as bytes and as text at once. The stream makes
the UTF-8 / CP932 decision as the file goes: while every byte read so far is ASCII (valid in
both) nothing is decided, and the first byte UTF-8 refuses sends the rest to CP932 exactly as
decoding the whole file would. Only a file whose non-ASCII text is valid UTF-8 for a whole block
(256 KiB) and then is not (two encodings in one file) is read differently: refused, naming both
lines, where decoding it whole would read all of it as CP932 mojibake.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Iterator
from typing import BinaryIO

from auditor.errors import InputError

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Bytes read and decoded at a time: large enough that the per-block work is noise, small enough that a
# block's text, rows and records stay in the processor's cache (1 MiB blocks made a 100,000-row import
# 10-20% slower).
BLOCK_SIZE = 1 << 18


def decode(data: bytes, name: str) -> tuple[str, str]:
    """(text with universal newlines, encoding name) of an export's bytes."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as exc:
                # utf-8-sig counts its offsets after the BOM, utf-16 from the file's first byte
                start = exc.start + (len(bom) if encoding == "utf-8-sig" else 0)
                raise InputError(name, f"invalid {encoding} after its byte-order mark",
                                 line=_line(data, start, encoding)) from None
            return _newlines(text), "utf-16-le" if bom == codecs.BOM_UTF16_LE else (
                "utf-16-be" if bom == codecs.BOM_UTF16_BE else "utf-8-sig")
    try:
        return _newlines(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            return _newlines(data.decode("cp932")), "cp932"
        except UnicodeDecodeError as exc:
            raise InputError(name, _neither(_line(data, utf8_error.start)), line=_line(data, exc.start)) from None


def _neither(utf8_line: int) -> str:
    return ("neither UTF-8 nor CP932 (Shift_JIS) text; save the export as UTF-8 or "
            f"as Excel's CSV (UTF-8) (UTF-8 fails on line {utf8_line})")


def _line(data: bytes, offset: int, encoding: str = "ascii") -> int:
    if encoding == "utf-16":
        return data[:offset].decode("utf-16", "replace").count("\n") + 1
    return data[:offset].count(b"\n") + 1


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


class Digest:
    """Size and SHA-256 of a file's exact bytes, taken as they are read."""

    def __init__(self) -> None:
        self.size = 0
        self._hash = hashlib.sha256()

    def update(self, block: bytes) -> None:
        self.size += len(block)
        self._hash.update(block)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def digest_file(file: BinaryIO, block_size: int = BLOCK_SIZE) -> Digest:
    """The digest of everything left in ``file`` (read to its end)."""
    digest = Digest()
    while block := file.read(block_size):
        digest.update(block)
    return digest


class TextStream:
    """A binary file's text, decoded block by block as :func:`decode` decodes it whole.

    :meth:`pieces` yields the text with ``\\n`` newlines in pieces that each end at a line end
    (the last piece excepted), so a line is never split between two pieces. The file's size and
    SHA-256 (``digest``), whether every byte was ASCII (``ascii``) and the encoding found
    (``encoding``) are known once the pieces are exhausted; the encoding is known after the
    first piece. Errors name the file's line as :func:`decode` names it.
    """

    def __init__(self, file: BinaryIO, name: str, block_size: int = BLOCK_SIZE) -> None:
        self.file = file
        self.name = name
        self.block_size = block_size
        self.digest = Digest()
        self.ascii = True
        self.encoding = ""
        self._codec = ""  # the codec the decoder runs: utf-8, utf-16-le/-be or cp932
        self._decoder: codecs.IncrementalDecoder = codecs.getincrementaldecoder("utf-8")()
        self._started = False
        self._newlines_before = 0  # '\n' characters decoded so far: the line of an error
        self._utf8_line: int | None = None  # where UTF-8 failed, once the stream has moved to CP932
        self._exhausted = False

    def _read(self) -> bytes:
        block = self.file.read(self.block_size)
        self.digest.update(block)
        return block

    def _start(self) -> bytes:
        """The first block (at least 4 bytes unless the file is shorter), its byte-order mark decided and cut."""
        self._started = True
        block = self._read()
        while 0 < len(block) < 4 and (more := self._read()):
            block += more
        self.ascii = block.isascii()
        for bom, label, codec in ((codecs.BOM_UTF8, "utf-8-sig", "utf-8"),
                                  (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
                                  (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be")):
            if block.startswith(bom):
                self.encoding, self._codec = label, codec
                block = block[len(bom):]
                break
        else:
            self.encoding = self._codec = "utf-8"
        self._decoder = codecs.getincrementaldecoder(self._codec)()
        return block

    def _decode(self, block: bytes, final: bool, ascii_before: bool) -> str:
        pending = self._decoder.getstate()[0]
        try:
            text = self._decoder.decode(block, final)
        except UnicodeDecodeError as exc:
            line = self._error_line(pending + block, exc.start)
            if self.encoding == "utf-8" and ascii_before:
                # Nothing but ASCII before this block: the whole file is not UTF-8, and CP932 reads what
                # was read so far as the same text, so CP932 takes over from here as decode() would.
                self.encoding = self._codec = "cp932"
                self._utf8_line = line
                self._decoder = codecs.getincrementaldecoder("cp932")()
                return self._decode(pending + block, final, ascii_before)
            if self.encoding == "utf-8":
                raise InputError(self.name, "not UTF-8 on this line, although the text before it is: the file "
                                 "mixes encodings; save it again in one encoding (Excel: CSV UTF-8)",
                                 line=line) from None
            if self.encoding == "cp932":
                raise InputError(self.name, _neither(self._utf8_line or line), line=line) from None
            shown = "utf-16" if self._codec.startswith("utf-16") else self.encoding
            raise InputError(self.name, f"invalid {shown} after its byte-order mark", line=line) from None
        self._newlines_before += text.count("\n")
        return text

    def _error_line(self, buffer: bytes, offset: int) -> int:
        before = buffer[:offset]
        if self._codec.startswith("utf-16"):
            return self._newlines_before + before.decode(self._codec, "replace").count("\n") + 1
        return self._newlines_before + before.count(b"\n") + 1

    def pieces(self) -> Iterator[str]:
        """The text in pieces ending at line ends; read once."""
        if self._started:
            raise RuntimeError("a TextStream is read once")
        block = self._start()
        prior_ascii = True  # every byte before ``block`` is ASCII
        partial: list[str] = []  # the start of a line whose end is in a later block
        carry_cr = False  # a piece that ended with '\r': its '\n' may begin the next one
        while True:
            following = self._read()
            final = not following
            self.ascii = self.ascii and following.isascii()
            text = self._decode(block, final, prior_ascii)
            prior_ascii = prior_ascii and block.isascii()
            if carry_cr:
                text = "\r" + text
            carry_cr = not final and text.endswith("\r")
            if carry_cr:
                text = text[:-1]
            if "\r" in text:
                text = _newlines(text)
            if final:
                partial.append(text)
                self._exhausted = True
                if last := "".join(partial):
                    yield last
                return
            end = text.rfind("\n") + 1
            if end:
                partial.append(text[:end])
                yield "".join(partial)
                partial = [text[end:]] if end < len(text) else []
            elif text:
                partial.append(text)
            block = following

    def rest_is_ascii(self) -> bool:
        """Whether every byte of the file the stream has not read yet is ASCII: read ahead, and the file put
        back where it was, so that the stream goes on unchanged (for a decision that depends on the whole
        file, made before it is read to its end: the ASCII-export rule of ad-users)."""
        position = self.file.tell()
        try:
            while block := self.file.read(self.block_size):
                if not block.isascii():
                    return False
            return True
        finally:
            self.file.seek(position)

    def finish(self) -> Digest:
        """Read (and hash) whatever the pieces were not asked for; the file's digest."""
        if not self._exhausted:
            if not self._started:
                self._start()
            while self._read():
                pass
            self._exhausted = True
        return self.digest

    def text(self) -> str:
        """All of the text at once."""
        return "".join(self.pieces())
