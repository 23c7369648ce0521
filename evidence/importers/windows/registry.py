"""Registry snapshots (``removable-storage.json``, ``screen-lock.json``, ``remote-desktop.json``)
and the endpoint areas read from them: ``removable_media``, ``screen_lock``, ``remote_desktop``.

The script writes one record per key it was asked for::

    {"Hive": "HKLM", "Path": "SOFTWARE\\\\Policies\\\\...", "View": "Registry64", "Exists": true,
     "Values": [{"Name": "Deny_All", "Kind": "DWord", "Data": 1}]}

A key that does not exist is ``Exists: false``: the policy is not configured, which is an
answer (Windows' default applies), not a failure. The meanings follow docs/facts.md
("Endpoint protection areas"); a policy DWORD may also be a string (``"1"``), as the
screen-saver policies are (REG_SZ).

Registry key paths and value names are case-insensitive. A key written twice in one snapshot,
or a value name twice in one key, is refused naming both places: the script writes each once,
and which of two values Windows holds cannot be told (keeping either could weaken a policy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditor.evidence.importers.windows import psjson

from auditor.errors import InputError, duplicate_key

POLICIES = r"SOFTWARE\Policies\Microsoft\Windows"
USBSTOR = r"SYSTEM\CurrentControlSet\Services\USBSTOR"
REMOVABLE = POLICIES + r"\RemovableStorageDevices"
REMOVABLE_DISK_CLASS = "{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}"
RESTRICTIONS = POLICIES + r"\DeviceInstall\Restrictions"
MACHINE_SYSTEM_POLICY = r"SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System"
DESKTOP_POLICY = POLICIES + r"\Control Panel\Desktop"
TERMINAL_SERVER = r"SYSTEM\CurrentControlSet\Control\Terminal Server"
TS_POLICY = r"SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services"
USBSTOR_DISABLED = 4  # the driver's Start type "disabled"


@dataclass(frozen=True)
class Key:
    hive: str
    path: str
    exists: bool
    values: dict[str, Any]  # by value name, case-folded

    def get(self, name: str) -> Any:
        return self.values.get(name.casefold())

    def number(self, name: str, file: str) -> int | None:
        return psjson.integer(self.get(name), file, f"{self.hive}\\{self.path}\\{name}")


class Snapshot:
    """The keys of one snapshot file by (hive, path), both compared case-insensitively."""

    def __init__(self, doc: Any, name: str) -> None:
        self.name = name
        self.keys: dict[tuple[str, str], Key] = {}
        places: dict[tuple[str, str], int] = {}
        for index, entry in enumerate(psjson.records(doc, name)):
            hive, path = psjson.text(entry.get("Hive")), psjson.text(entry.get("Path"))
            if hive is None or path is None or not isinstance(entry.get("Exists"), bool):
                raise InputError(name, "expected registry keys as collect-windows.ps1 writes them (Hive, Path, "
                                 f"Exists, Values), found {sorted(entry)}")
            where = f"{hive}\\{path}"
            values: dict[str, Any] = {}
            value_places: dict[str, int] = {}
            for number, value in enumerate(psjson.records(entry.get("Values"), name)):
                if not isinstance(value.get("Name"), str):
                    raise InputError(name, f"{where}: a value without a Name")
                folded = value["Name"].casefold()
                if folded in value_places:
                    raise duplicate_key(name, value["Name"], None, None, what="registry value",
                                        where=f"{where}, Values[{value_places[folded]}] and Values[{number}]")
                value_places[folded] = number
                values[folded] = value.get("Data")
            place = (hive.upper(), path.casefold())
            if place in places:
                raise duplicate_key(name, where, None, None, what="registry key",
                                    where=f"keys [{places[place]}] and [{index}]")
            places[place] = index
            self.keys[place] = Key(hive.upper(), path, entry["Exists"], values)

    def key(self, hive: str, path: str) -> Key:
        """A key the script was asked to read; one it did not write is refused (not taken for absent)."""
        found = self.keys.get((hive, path.casefold()))
        if found is None:
            raise InputError(self.name, f"{hive}\\{path} is not in the snapshot: the file was not written by "
                             "this version of collect-windows.ps1")
        return found


def _listed(key: Key) -> list[str]:
    """The entries of a list policy (values named 1, 2, ...), in their numeric order."""
    def order(item: tuple[str, Any]) -> tuple[int, int, str, str]:
        digits = item[0].lstrip("0")  # numeric order without int(): by length, then digit by digit
        if item[0].isascii() and item[0].isdigit():
            return (0, len(digits), digits, item[0])
        return (1, 0, "", item[0])
    return [str(data).strip() for _name, data in sorted(key.values.items(), key=order)
            if isinstance(data, str) and data.strip()]


def removable_media(snapshot: Snapshot) -> dict[str, Any]:
    """USB mass storage: blocked, write-blocked, allowlist, and what enforces it."""
    name = snapshot.name
    start = snapshot.key("HKLM", USBSTOR).number("Start", name)
    policy = snapshot.key("HKLM", REMOVABLE)
    disk_class = snapshot.key("HKLM", REMOVABLE + "\\" + REMOVABLE_DISK_CLASS)
    restrictions = snapshot.key("HKLM", RESTRICTIONS)
    mechanisms: list[str] = []
    if start == USBSTOR_DISABLED:
        mechanisms.append("usbstor-disabled")
    deny_all = policy.number("Deny_All", name) == 1
    deny_read = disk_class.number("Deny_Read", name) == 1
    deny_write = disk_class.number("Deny_Write", name) == 1
    for flag, mechanism in ((deny_all, "removable-deny-all"), (deny_read, "removable-deny-read"),
                            (deny_write, "removable-deny-write")):
        if flag:
            mechanisms.append(mechanism)
    deny_unspecified = restrictions.number("DenyUnspecified", name) == 1
    if deny_unspecified or restrictions.number("DenyRemovableDevices", name) == 1:
        mechanisms.append("device-install-restrictions")
    allowed = [*_listed(snapshot.key("HKLM", RESTRICTIONS + r"\AllowDeviceIDs")),
               *_listed(snapshot.key("HKLM", RESTRICTIONS + r"\AllowInstanceIDs"))]
    storage_blocked = start == USBSTOR_DISABLED or deny_all or deny_read
    return {
        "storage_blocked": storage_blocked,
        "write_blocked": storage_blocked or deny_write,  # nothing is written where nothing can be used
        "allowlist_enforced": deny_unspecified,
        "allowed_devices": allowed,
        "mechanisms": mechanisms,
    }


def screen_lock(snapshot: Snapshot, desktop: bool | None) -> dict[str, Any]:
    """Idle lock: the machine inactivity limit if set, else the screen-saver policy of the user."""
    name = snapshot.name
    machine = snapshot.key("HKLM", MACHINE_SYSTEM_POLICY)
    user = snapshot.key("HKCU", DESKTOP_POLICY)
    fact: dict[str, Any] = {} if desktop is None else {"desktop": desktop}
    limit = machine.number("InactivityTimeoutSecs", name)
    timeout = user.number("ScreenSaveTimeOut", name)
    secure = user.number("ScreenSaverIsSecure", name)
    active = user.number("ScreenSaveActive", name)
    if limit is not None and limit > 0:
        fact.update(enabled=True, idle_timeout_seconds=limit, password_on_resume=True,
                    source=f"{name}: HKLM\\{MACHINE_SYSTEM_POLICY}\\InactivityTimeoutSecs")
        return fact
    where = f"{name}: HKCU\\{DESKTOP_POLICY} (ScreenSaveTimeOut, ScreenSaverIsSecure, ScreenSaveActive)"
    if timeout is not None and timeout > 0 and secure == 1 and active != 0:
        fact.update(enabled=True, idle_timeout_seconds=timeout, password_on_resume=True, source=where)
        return fact
    # Nothing enforces a lock: Windows' defaults apply (no screen saver, and none that asks for the password).
    fact.update(enabled=False, idle_timeout_seconds=None, password_on_resume=secure == 1)
    fact["source"] = (f"{name}: no InactivityTimeoutSecs (HKLM\\{MACHINE_SYSTEM_POLICY}) and no locking "
                      f"screen-saver policy (HKCU\\{DESKTOP_POLICY})")
    return fact


REDIRECTIONS = (  # fact, policy value, the value that disables the redirection
    ("clipboard_redirection", "fDisableClip", 1),
    ("drive_redirection", "fDisableCdm", 1),
    ("printer_redirection", "fDisableCpm", 1),
    ("com_port_redirection", "fDisableCcm", 1),
    ("lpt_port_redirection", "fDisableLPT", 1),
    ("pnp_redirection", "fDisablePNPRedir", 1),
)


def remote_desktop(snapshot: Snapshot) -> dict[str, Any]:
    """Whether remote desktop connections are accepted and which redirections are allowed.

    The Group Policy value of fDenyTSConnections wins over the local one; a redirection whose
    policy is not set is Windows' default, allowed. Remote desktop itself is off by default
    (fDenyTSConnections = 1) when neither is set.
    """
    name = snapshot.name
    local = snapshot.key("HKLM", TERMINAL_SERVER)
    policy = snapshot.key("HKLM", TS_POLICY)
    deny = policy.number("fDenyTSConnections", name)
    if deny is None:
        deny = local.number("fDenyTSConnections", name)
    fact: dict[str, Any] = {"enabled": deny == 0}
    for key, value, disabled in REDIRECTIONS:
        fact[key] = policy.number(value, name) != disabled
    smart_card = policy.number("fEnableSmartCard", name)
    fact["smart_card_redirection"] = smart_card is None or smart_card == 1
    return fact
