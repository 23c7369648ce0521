"""``autorun.json`` (registry snapshot of the Explorer policies): the ``autorun`` area (GL-C07).

``NoDriveTypeAutoRun`` is a bit mask of drive types on which AutoRun/AutoPlay is off (0x04
removable, 0x08 fixed, 0x10 network, 0x20 CD-ROM, 0x40 RAM disk, 0x01 and 0x80 unknown types);
0xFF turns it off on every type. ``NoAutorun`` = 1 stops autorun.inf commands from running at
all. The machine policy (HKLM) wins over the user's (HKCU) where both are set. Neither set is
Windows' own default, 0x91, which leaves removable, fixed, network and CD-ROM drives on.
"""

from __future__ import annotations

from typing import Any

from auditor.evidence.importers.windows.registry import Snapshot

EXPLORER_POLICY = r"SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer"
WINDOWS_DEFAULT = 0x91
ALL_DRIVE_TYPES = 0xFF


def autorun(snapshot: Snapshot) -> dict[str, Any]:
    """The effective autorun policy and where it came from."""
    name = snapshot.name
    fact: dict[str, Any] = {}
    places = []
    for value, key in (("NoDriveTypeAutoRun", "no_drive_type_autorun"), ("NoAutorun", "no_autorun")):
        found = None
        for hive in ("HKLM", "HKCU"):
            number = snapshot.key(hive, EXPLORER_POLICY).number(value, name)
            if number is not None:
                found = number
                places.append(f"{hive}\\{EXPLORER_POLICY}\\{value}")
                break
        fact[key] = found
    mask = WINDOWS_DEFAULT if fact["no_drive_type_autorun"] is None else fact["no_drive_type_autorun"]
    fact["all_drives_disabled"] = mask & ALL_DRIVE_TYPES == ALL_DRIVE_TYPES
    fact["autorun_commands_disabled"] = fact["no_autorun"] == 1
    fact["source"] = f"{name}: " + (", ".join(places) if places else
                                     f"no NoDriveTypeAutoRun or NoAutorun policy (HKLM or HKCU\\{EXPLORER_POLICY})")
    return fact
