"""Area ``local_admins``: who holds root rights on the host, and through what.

Each principal is listed once; ``via`` names how it holds the right, comma-separated when
in several ways: ``uid0`` for uid-0 accounts, the group name for members of sudo / wheel / admin
(listed members and accounts whose primary group it is), and ``sudoers`` for users and
``%groups`` granted ALL commands as root in sudoers (includes followed as sudo does, aliases
expanded; a grant to every user, ``ALL``, is the entry ``{name: ALL, kind: unknown}``).
Netgroups (``+name``), non-Unix groups (``%:name``) and exclusions (``!name``) in a grant's
user list cannot be resolved from local files: they are not listed, and an error names them.

The list is only written when passwd, group and every sudoers file could be read: a list
missing the administrators of an unreadable source would look complete.
"""

from __future__ import annotations

from typing import Any

from auditor.evidence.bundle import BundleBuilder

from .accounts import ADMIN_GROUPS, PasswdEntry, SudoGrants, parse_group, parse_passwd, parse_sudoers, read_sudoers
from .common import Context, read_text

AREA = "local_admins"


def build_local_admins(passwd: list[PasswdEntry], groups: dict[str, tuple[int, list[str]]],
                       sudo: SudoGrants) -> list[dict[str, Any]]:
    """uid-0 accounts (passwd order), then admin-group members (group order of ADMIN_GROUPS,
    names sorted), then sudoers users and groups (sorted). Each principal is listed once, its
    ``via`` naming every way it holds the right (``uid0, sudoers``): a count of entries is a
    count of administrators."""
    out: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], dict[str, Any]] = {}

    def add(name: str, kind: str, via: str) -> None:
        entry = seen.get((name, kind))
        if entry is None:
            entry = seen[(name, kind)] = {"name": name, "kind": kind, "via": via}
            out.append(entry)
        elif via not in entry["via"].split(", "):
            entry["via"] += f", {via}"

    for entry in passwd:
        if entry.uid == 0:
            add(entry.name, "user", "uid0")
    for group in ADMIN_GROUPS:
        if group not in groups:
            continue
        gid, members = groups[group]
        names = set(members) | {e.name for e in passwd if e.gid == gid}
        for name in sorted(names):
            add(name, "user", group)
    by_uid = {e.uid: e.name for e in passwd}
    by_gid = {gid: name for name, (gid, _) in groups.items()}
    users = set(sudo.users) | {by_uid.get(uid, f"#{uid}") for uid in sudo.uids}
    group_names = set(sudo.groups) | {by_gid.get(gid, f"#{gid}") for gid in sudo.gids}
    for name in sorted(users):
        add(name, "user", "sudoers")
    for name in sorted(group_names):
        add(name, "group", "sudoers")
    if sudo.everyone:
        add("ALL", "unknown", "sudoers")
    return out


def collect(builder: BundleBuilder, ctx: Context) -> None:
    """passwd, group and sudoers; the area is left out when one of them is unreadable."""
    passwd_text = read_text(builder, ctx, "/etc/passwd", AREA, "linux.passwd")
    group_text = read_text(builder, ctx, "/etc/group", AREA, "linux.group")
    sudoers_text = read_sudoers(builder, ctx, AREA)
    if passwd_text is None or group_text is None or sudoers_text is None:
        builder.add_error(AREA, "not written: a source that can grant root rights could not be read")
        return
    sudo = parse_sudoers(sudoers_text)
    if sudo.skipped:
        builder.add_error(AREA, "sudoers: user-list entries of ALL grants not resolved from local files: "
                                + ", ".join(sudo.skipped), "/etc/sudoers")
    builder.set_fact(AREA, build_local_admins(parse_passwd(passwd_text), parse_group(group_text), sudo))
