"""``os.json`` (Win32_OperatingSystem and the CurrentVersion key), ``timezone.json`` (Get-TimeZone)
and ``w32tm.txt`` (``w32tm /query /status``).

``OSArchitecture`` is localised (``64-bit``, ``64 ビット``, ``ARM 64-bit Processor``): only the
digits and ``ARM`` are read. ``Caption`` is ``Microsoft Windows 11 Pro`` in every language;
the ``name`` fact drops the vendor (``Windows 11 Pro``), as docs/facts.md shows it. The
build is ``BuildNumber.UBR`` (``22631.4460``), the "OS build" winver shows.

``w32tm /query /status`` prints one ``Label: value`` line per item in the console's code page,
labels translated (``閏インジケーター`` / ``Leap Indicator``, ``階層`` / ``Stratum``, ``ソース`` /
``Source``) in the same order in every language. The facts read the leap indicator (3: not
synchronised), the stratum (0: unspecified) and the source: a host name or address (``,0x9``
flags dropped) is an NTP server; a source with a space in it is a clock or provider, not a
server (``Local CMOS Clock``, ``Free-running System Clock`` — the service is running but
nothing synchronises it — or ``VM IC Time Synchronization Provider``, a Hyper-V host).
``/status`` gives no offset, so ``offset_seconds`` is absent. A line given twice (say two
``Source`` lines) is refused naming both.
"""

from __future__ import annotations

import unicodedata
from datetime import timezone
from typing import Any

from auditor.evidence.importers.windows import psjson

from auditor.errors import InputError, duplicate_key
from auditor.limits import MAX_INT_DIGITS

LOCAL_CLOCKS = ("local cmos clock", "free-running system clock")
W32TM_LABELS = {  # label (folded) → key; Japanese as Windows prints it, English as the default output
    "leap indicator": "leap", "閏インジケーター": "leap", "閏インジケータ": "leap",
    "stratum": "stratum", "階層": "stratum",
    "source": "source", "ソース": "source",
}


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _architecture(text: str | None) -> str | None:
    if not text:
        return None
    folded = _fold(text)
    if "arm" in folded and "64" in folded:
        return "aarch64"
    if "64" in folded:
        return "x86_64"
    if "32" in folded:
        return "x86"
    return None


def os_fact(doc: Any, name: str, zone: timezone) -> dict[str, Any]:
    """The ``os`` area of ``os.json``."""
    data = psjson.record(doc, name)
    fact: dict[str, Any] = {"family": "windows", "id": "windows"}
    caption = psjson.text(data.get("Caption"))
    if caption:
        fact["name"] = caption.removeprefix("Microsoft ").strip()
    if version := psjson.text(data.get("Version")):
        fact["version"] = version
    if build := psjson.text(data.get("BuildNumber")):
        ubr = psjson.integer(data.get("UBR"), name, "UBR")
        fact["build"] = f"{build}.{ubr}" if ubr is not None else build
    if host := psjson.text(data.get("CSName")):
        fact["hostname"] = host
    if architecture := _architecture(psjson.text(data.get("OSArchitecture"))):
        fact["architecture"] = architecture
    boot = psjson.instant(data.get("LastBootUpTime"), zone, name, "LastBootUpTime")
    if boot is not None:
        fact["boot_time"] = boot
    return fact


def has_desktop(doc: Any, name: str) -> bool | None:
    """False on Server Core (no graphical shell), True on other installations, None when unknown."""
    installation = psjson.text(psjson.record(doc, name).get("InstallationType"))
    if installation is None:
        return None
    return _fold(installation) != "server core"


def timezone_id(doc: Any, name: str) -> str:
    """Windows' time-zone id (``Tokyo Standard Time``), the same in every language."""
    zone_id = psjson.text(psjson.record(doc, name).get("Id"))
    if zone_id is None:
        raise InputError(name, "no Id: not the output of Get-TimeZone")
    return zone_id


def _leading_int(value: str) -> int | None:
    """The ASCII number a value starts with (``4 (secondary reference ...)``); None if none or too long."""
    digits = ""
    for char in unicodedata.normalize("NFKC", value).strip():
        if char in "0123456789" or (char == "-" and not digits):
            digits += char
        else:
            break
    if not digits.lstrip("-") or len(digits.lstrip("-")) > MAX_INT_DIGITS:
        return None
    return int(digits)


def time_sync(text: str, name: str) -> dict[str, Any]:
    """The ``time_sync`` facts of one ``w32tm /query /status`` output (``\\n`` newlines)."""
    found: dict[str, tuple[str, int]] = {}
    for number, raw in enumerate(text.split("\n"), start=1):
        label, sep, value = unicodedata.normalize("NFKC", raw).partition(":")
        key = W32TM_LABELS.get(_fold(label)) if sep else None
        if key is not None:
            if key in found:  # w32tm prints each once: which one holds cannot be told
                raise duplicate_key(name, label.strip(), found[key][1], number, what="line")
            found[key] = (value.strip(), number)
    missing = [key for key in ("leap", "stratum", "source") if key not in found]
    if missing:
        raise InputError(name, "not w32tm /query /status output: no "
                         + ", ".join({"leap": "Leap Indicator (閏インジケーター)", "stratum": "Stratum (階層)",
                                      "source": "Source (ソース)"}[k] for k in missing) + " line")
    leap = _leading_int(found["leap"][0])
    stratum = _leading_int(found["stratum"][0])
    for key, value in (("leap", leap), ("stratum", stratum)):
        if value is None:
            raise InputError(name, f"expected a number, found {found[key][0]!r}", line=found[key][1])
    source = found["source"][0]
    server = source.split(",", 1)[0].strip()
    is_server = bool(server) and not any(c.isspace() for c in server)
    local_clock = _fold(source) in LOCAL_CLOCKS
    return {
        "synchronized": leap != 3 and stratum != 0 and not local_clock,
        "ntp_enabled": is_server,
        "service": "w32time",
        "servers": [server] if is_server else [],
    }
