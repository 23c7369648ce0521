"""The Windows collector: a PowerShell script run on the terminal, not Python.

Windows terminals in a municipality rarely have Python, so ``collect-windows.ps1`` (Windows
PowerShell 5.1, nothing to install) writes the raw outputs of Windows' own tools into a
folder and a zip, and ``auditor import windows-raw`` turns them into a bundle elsewhere.
``auditor collect --windows-script FILE`` writes the script out for copying to a terminal.
Nothing is registered as a collector: this package does not collect from the host it runs on.
"""

from __future__ import annotations

from importlib.resources import files

SCRIPT_NAME = "collect-windows.ps1"
RAW_FORMAT = "auditor-windows-raw/1"  # the manifest's format, which the importer checks


def script_text() -> str:
    """The collection script as shipped in the package (``\\n`` newlines)."""
    return files(__name__).joinpath(SCRIPT_NAME).read_text(encoding="utf-8").replace("\r\n", "\n")


def script_bytes() -> bytes:
    """The script as Windows PowerShell 5.1 needs it: UTF-8 with a byte-order mark and CRLF.

    Without the mark, 5.1 reads a script in the ANSI code page, which garbles any non-ASCII text.
    """
    return script_text().replace("\n", "\r\n").encode("utf-8-sig")
