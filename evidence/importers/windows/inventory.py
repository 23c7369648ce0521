"""``software.json`` (the Uninstall registry keys) → ``software``; ``local-admins.json``
(Get-LocalGroupMember -SID S-1-5-32-544) or ``local-admins.txt`` (``net localgroup``) →
``local_admins``.

Software: entries without ``DisplayName`` and those with ``SystemComponent`` = 1 are skipped,
as Apps & Features does. ``architecture`` names the registry view the entry is in
(``64-bit``, ``32-bit``); per-user installs (the user's own Uninstall key) have none.
``InstallDate`` is free text written by each installer, normally ``yyyyMMdd``; a value that
is not a date is ``installed_on: null`` and counted in the bundle's errors.

Administrators: ``ObjectClass`` is localised (``User`` / ``ユーザー``, ``Group`` / ``グループ``);
anything else is ``unknown``. ``net localgroup`` output is read by its structure — the
members are the lines between the line of dashes and the completion message (English or
Japanese) — so its localised header lines do not matter; it does not say which member is a
user and which a group, so every member is ``unknown``.
"""

from __future__ import annotations

from typing import Any

from auditor.evidence.importers.csvrows import parse_date
from auditor.evidence.importers.net_accounts import COMPLETION, fold
from auditor.evidence.importers.windows import psjson

from auditor.errors import InputError

VIA = "Administrators"
KINDS = {"user": "user", "ユーザー": "user", "group": "group", "グループ": "group"}
VIEWS = {"machine-64": "64-bit", "machine-32": "32-bit"}


def software(doc: Any, name: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The installed programs, and the names of those whose InstallDate is not a date."""
    found: list[dict[str, Any]] = []
    undated: list[str] = []
    for entry in psjson.records(doc, name):
        display = psjson.text(entry.get("DisplayName"))
        if display is None or psjson.integer(entry.get("SystemComponent"), name, "SystemComponent") == 1:
            continue
        raw_date = psjson.text(entry.get("InstallDate"))
        installed_on = None
        if raw_date is not None:
            try:
                installed_on = parse_date(raw_date).isoformat()
            except ValueError:
                undated.append(f"{display} ({raw_date!r})")
        record: dict[str, Any] = {
            "name": display,
            "version": psjson.text(entry.get("DisplayVersion")),
            "publisher": psjson.text(entry.get("Publisher")),
            "installed_on": installed_on,
        }
        scope = psjson.text(entry.get("Scope"))
        if scope in VIEWS:
            record["architecture"] = VIEWS[scope]
        elif scope != "user":
            raise InputError(name, f"{display}: Scope {scope!r}; expected machine-64, machine-32 or user")
        found.append(record)
    return found, undated


def admins_from_json(doc: Any, name: str) -> list[dict[str, Any]]:
    admins = []
    for entry in psjson.records(doc, name):
        member = psjson.text(entry.get("Name")) or psjson.text(entry.get("SID"))
        if member is None:
            raise InputError(name, "a member without Name or SID: not the output of Get-LocalGroupMember")
        kind = KINDS.get(fold(psjson.text(entry.get("ObjectClass")) or ""), "unknown")
        admins.append({"name": member, "kind": kind, "via": VIA})
    return admins


def admins_from_net(text: str, name: str) -> list[dict[str, Any]]:
    """Members listed by ``net localgroup <Administrators>`` (``\\n`` newlines)."""
    lines = text.split("\n")
    dashes = next((i for i, line in enumerate(lines) if len(line.strip()) >= 10 and not line.strip().strip("-")),
                  None)
    if dashes is None:
        raise InputError(name, "not net localgroup output: no line of dashes above the members")
    members: list[str] = []
    for number in range(dashes + 1, len(lines)):
        line = lines[number].strip()
        if not line:
            continue
        if fold(line) in COMPLETION:
            return [{"name": member, "kind": "unknown", "via": VIA} for member in members]
        members.append(line)
    raise InputError(name, "not complete net localgroup output: no \"The command completed successfully.\" / "
                     "\"コマンドは正常に終了しました。\" after the members", line=len(lines))
