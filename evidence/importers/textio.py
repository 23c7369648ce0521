"""Decoding exports as Windows, Excel and PowerShell write them.

Order: a byte-order mark (UTF-8, UTF-16 LE/BE) decides; otherwise strict UTF-8; otherwise
CP932 (Shift_JIS as Japanese Windows and Excel write it). The encoding found is recorded
with the source, and a file that none of them decodes is refused naming the line.
"""

from __future__ import annotations

import codecs

from auditor.errors import InputError

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode(data: bytes, name: str) -> tuple[str, str]:
    """(text with universal newlines, encoding name) of an export's bytes."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise InputError(name, f"invalid {encoding} after its byte-order mark",
                                 line=_line(data, exc.start, encoding)) from None
            return _newlines(text), "utf-16-le" if bom == codecs.BOM_UTF16_LE else (
                "utf-16-be" if bom == codecs.BOM_UTF16_BE else "utf-8-sig")
    try:
        return _newlines(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            return _newlines(data.decode("cp932")), "cp932"
        except UnicodeDecodeError as exc:
            raise InputError(name, "neither UTF-8 nor CP932 (Shift_JIS) text; save the export as UTF-8 or "
                             f"as Excel's CSV (UTF-8) (UTF-8 fails on line {_line(data, utf8_error.start)})",
                             line=_line(data, exc.start)) from None


def _line(data: bytes, offset: int, encoding: str = "ascii") -> int:
    if encoding == "utf-16":
        return data[:offset].decode("utf-16", "replace").count("\n") + 1
    return data[:offset].count(b"\n") + 1


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
