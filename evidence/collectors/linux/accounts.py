"""Area ``accounts``: local accounts from passwd, shadow, group and sudoers.

Only metadata leaves this module. The shadow password field is reduced to three
booleans the moment it is read; no hash, nor any part of one, is ever stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from auditor.evidence.bundle import BundleBuilder

from .common import Context, exists, list_dir, parse_login_defs, read_text, to_int

AREA = "accounts"
EPOCH = date(1970, 1, 1)
ADMIN_GROUPS = ("sudo", "wheel", "admin")
# Shells that end the session instead of giving an interactive login.
NO_LOGIN_SHELLS = {"nologin", "false", "sync", "shutdown", "halt"}
# shadow(5) and chage(1) write 99999 (or -1) for "no maximum age".
NO_MAXIMUM = 99999


def password_state(field_value: str) -> dict[str, bool]:
    """Whether a password field holds a usable password, is empty, or is locked.

    ``!``/``*`` prefixes (``!``, ``!!``, ``*``, ``!<hash>``) lock the password; an empty
    field lets the account log in without one. The field itself is not returned.
    """
    if field_value == "":
        return {"password_set": False, "password_empty": True, "locked": False}
    if field_value[0] in "!*":
        return {"password_set": False, "password_empty": False, "locked": True}
    return {"password_set": True, "password_empty": False, "locked": False}


@dataclass
class PasswdEntry:
    """One /etc/passwd line; the password field itself is not kept."""

    name: str
    uid: int
    gid: int
    home: str
    shell: str
    shadowed: bool  # password field "x": the password lives in /etc/shadow
    state: dict[str, bool] | None  # password flags when not shadowed


def parse_passwd(text: str) -> list[PasswdEntry]:
    """Entries of /etc/passwd; NIS ``+``/``-`` lines and malformed lines are skipped."""
    out = []
    for raw in text.splitlines():
        parts = raw.rstrip("\n").split(":")
        if len(parts) < 7 or not parts[0] or parts[0][0] in "+-#":
            continue
        uid, gid = to_int(parts[2]), to_int(parts[3])
        if uid is None or gid is None:
            continue
        shadowed = parts[1] == "x"
        out.append(PasswdEntry(name=parts[0], uid=uid, gid=gid, home=parts[5], shell=parts[6],
                               shadowed=shadowed, state=None if shadowed else password_state(parts[1])))
    return out


def _days(value: str) -> int | None:
    return to_int(value) if value.strip() else None


def _day_to_date(value: int) -> str:
    return (EPOCH + timedelta(days=value)).isoformat()


def parse_shadow(text: str) -> dict[str, dict[str, Any]]:
    """Per account: password flags and aging fields of /etc/shadow, without the hash.

    Empty aging fields mean "not set" and become None; ``last_change`` 0 (change forced
    at next login) is None too, as is a maximum of 99999 or -1.
    """
    out: dict[str, dict[str, Any]] = {}
    for raw in text.splitlines():
        parts = raw.split(":")
        if len(parts) < 2 or not parts[0] or parts[0][0] in "+-#":
            continue
        parts += [""] * (9 - len(parts))
        entry: dict[str, Any] = dict(password_state(parts[1]))
        parts[1] = ""  # drop the hash right here
        lastchg = _days(parts[2])
        entry["last_change_day"] = lastchg
        entry["last_password_change"] = _day_to_date(lastchg) if lastchg else None
        entry["password_min_days"] = _days(parts[3])
        max_days = _days(parts[4])
        entry["password_max_days"] = None if max_days is None or max_days < 0 or max_days >= NO_MAXIMUM \
            else max_days
        entry["password_warn_days"] = _days(parts[5])
        inactive = _days(parts[6])
        entry["inactive_days"] = None if inactive is None or inactive < 0 else inactive
        expire = _days(parts[7])
        entry["expires"] = None if expire is None or expire < 0 else _day_to_date(expire)
        out[parts[0]] = entry
    return out


def parse_group(text: str) -> dict[str, tuple[int, list[str]]]:
    """Group name -> (gid, member names) from /etc/group."""
    out: dict[str, tuple[int, list[str]]] = {}
    for raw in text.splitlines():
        parts = raw.strip().split(":")
        if len(parts) < 4 or not parts[0] or parts[0][0] in "+-#":
            continue
        gid = to_int(parts[2])
        if gid is None:
            continue
        out[parts[0]] = (gid, [m.strip() for m in parts[3].split(",") if m.strip()])
    return out


@dataclass
class SudoGrants:
    """Who may run any command as root according to sudoers."""

    users: set[str] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)
    uids: set[int] = field(default_factory=set)
    gids: set[int] = field(default_factory=set)
    everyone: bool = False
    # User-list entries of ALL grants that cannot be resolved from local files (netgroups,
    # non-Unix groups) or that exclude someone (``!name``): not counted, but worth a note.
    skipped: list[str] = field(default_factory=list)


_SUDO_TAGS = re.compile(r"^(?:[A-Z_]+:\s*)+")
_INCLUDE = re.compile(r"^[#@](include|includedir)\s+(\S+)")


def sudoers_includes(text: str) -> list[tuple[str, str]]:
    """``(include|includedir, path)`` directives of one sudoers file, in order."""
    out = []
    for raw in text.splitlines():
        m = _INCLUDE.match(raw.strip())
        if m:
            out.append((m.group(1), m.group(2)))
    return out


def _logical_lines(text: str) -> list[str]:
    lines, buf = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if _INCLUDE.match(stripped):
            continue
        if re.match(r"#(?!\d)", stripped):
            continue  # '#' starts a comment unless a uid ("#1000") follows it
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        line = (buf + stripped)
        buf = ""
        line = re.sub(r"\s#(?!\d).*$", "", line).strip()
        if line:
            lines.append(line)
    return lines


def _split_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _runas_is_root(spec: str | None) -> bool:
    if spec is None:
        return True  # no runas list: root is the default target user
    users = spec.split(":", 1)[0].strip()
    if not users:
        return spec.strip() == ""  # "(:group)" keeps the invoking user
    return any(u in ("ALL", "root", "#0") for u in _split_list(users))


def parse_sudoers(text: str) -> SudoGrants:
    """Grants of ALL commands as root in sudoers text (all files concatenated, in order).

    Aliases are expanded; host lists are not evaluated, so a rule written for another
    host counts too (over-reporting an administrator is the safe side for an audit).
    """
    aliases: dict[str, dict[str, list[str]]] = {"User_Alias": {}, "Cmnd_Alias": {}, "Runas_Alias": {}}
    grants = SudoGrants()
    for line in _logical_lines(text):
        word = line.split(None, 1)[0]
        if word.startswith("Defaults"):
            continue
        if word in ("User_Alias", "Cmnd_Alias", "Cmd_Alias", "Runas_Alias", "Host_Alias"):
            kind = "Cmnd_Alias" if word == "Cmd_Alias" else word
            for definition in line.split(None, 1)[1].split(":"):
                name, _, members = definition.partition("=")
                if kind in aliases:
                    aliases[kind][name.strip()] = _split_list(members)
            continue
        left, eq, rest = line.partition("=")
        if not eq:
            continue
        left_parts = left.rsplit(None, 1)
        if len(left_parts) != 2:
            continue
        if _grants_all(rest, aliases):
            _add_users(grants, _split_list(left_parts[0]), aliases["User_Alias"], depth=0)
    return grants


def _grants_all(rest: str, aliases: dict[str, dict[str, list[str]]]) -> bool:
    runas: str | None = None
    for item in rest.split(","):
        item = item.strip()
        if item.startswith("("):
            close = item.find(")")
            if close < 0:
                return False
            runas = item[1:close]
            for alias, members in aliases["Runas_Alias"].items():
                runas = re.sub(rf"\b{re.escape(alias)}\b", ",".join(members), runas)
            item = item[close + 1:].strip()
        item = _SUDO_TAGS.sub("", item).strip()
        item = re.sub(r"^(?:\w+=\S+\s+)+", "", item)
        if _command_is_all(item, aliases["Cmnd_Alias"], 0) and _runas_is_root(runas):
            return True
    return False


def _command_is_all(item: str, cmnd_aliases: dict[str, list[str]], depth: int) -> bool:
    if item == "ALL":
        return True
    if depth < 8 and item in cmnd_aliases:
        return any(_command_is_all(c, cmnd_aliases, depth + 1) for c in cmnd_aliases[item])
    return False


def _add_users(grants: SudoGrants, users: list[str], user_aliases: dict[str, list[str]], depth: int) -> None:
    for user in users:
        if user.startswith("!") or user.startswith("+") or user.startswith("%:"):
            if user not in grants.skipped:
                grants.skipped.append(user)
            continue
        if user == "ALL":
            grants.everyone = True
        elif user.startswith("%#"):
            gid = to_int(user[2:])
            if gid is not None:
                grants.gids.add(gid)
        elif user.startswith("%"):
            grants.groups.add(user[1:])
        elif user.startswith("#"):
            uid = to_int(user[1:])
            if uid is not None:
                grants.uids.add(uid)
        elif user in user_aliases and depth < 8:
            _add_users(grants, user_aliases[user], user_aliases, depth + 1)
        else:
            grants.users.add(user)


def login_allowed(shell: str) -> bool:
    """False for shells that refuse an interactive session (nologin, false, ...); empty means /bin/sh."""
    if not shell:
        return True
    return shell != "/dev/null" and shell.rsplit("/", 1)[-1] not in NO_LOGIN_SHELLS


def build_accounts(passwd: list[PasswdEntry], shadow: dict[str, dict[str, Any]] | None,
                   groups: dict[str, tuple[int, list[str]]] | None, sudo: SudoGrants | None,
                   uid_min: int, today: date) -> list[dict[str, Any]]:
    """The ``accounts`` list. ``None`` for shadow, groups or sudo means that source could not be
    read: the keys that depend on it are left out rather than guessed."""
    out = []
    for entry in passwd:
        acct: dict[str, Any] = {
            "name": entry.name, "uid": entry.uid, "gid": entry.gid, "home": entry.home, "shell": entry.shell,
            "system": entry.uid != 0 and entry.uid < uid_min,
            "login_allowed": login_allowed(entry.shell),
        }
        sh = shadow.get(entry.name) if shadow is not None else None
        if not entry.shadowed and entry.state is not None:
            acct.update(entry.state)
        elif sh is not None:
            acct.update(password_set=sh["password_set"], password_empty=sh["password_empty"], locked=sh["locked"])
        if sh is not None:
            for key in ("last_password_change", "password_max_days", "password_min_days",
                        "password_warn_days", "inactive_days", "expires"):
                acct[key] = sh[key]
            acct["enabled"] = not acct["locked"] and not _expired(sh, today)
        elif shadow is not None and "locked" in acct:
            acct["enabled"] = not acct["locked"]  # no shadow entry: no aging or expiry applies
        if groups is not None:
            acct["groups"] = sorted(g for g, (_, members) in groups.items() if entry.name in members)
        admin = _admin(entry, groups, sudo)
        if admin is not None:
            acct["admin"] = admin
        out.append(acct)
    return out


def _expired(sh: dict[str, Any], today: date) -> bool:
    """Account expired, or disabled after its password expired and the inactive period ran out."""
    if sh["expires"] is not None and today >= date.fromisoformat(sh["expires"]):
        return True
    last, max_days, inactive = sh["last_change_day"], sh["password_max_days"], sh["inactive_days"]
    if last and max_days is not None and inactive is not None:
        return (today - EPOCH).days > last + max_days + inactive
    return False


def _admin(entry: PasswdEntry, groups: dict[str, tuple[int, list[str]]] | None,
           sudo: SudoGrants | None) -> bool | None:
    member_of: set[str] = set()
    member_gids = {entry.gid}
    if groups is not None:
        for name, (gid, members) in groups.items():
            if entry.name in members or gid == entry.gid:
                member_of.add(name)
                member_gids.add(gid)
    if entry.uid == 0 or member_of & set(ADMIN_GROUPS):
        return True
    if sudo is not None and (sudo.everyone or entry.name in sudo.users or entry.uid in sudo.uids
                             or member_of & sudo.groups or member_gids & sudo.gids):
        return True
    if groups is None or sudo is None:
        return None  # a source that could grant rights was unreadable
    return False


def read_sudoers(builder: BundleBuilder, ctx: Context, area: str = AREA) -> str | None:
    """All sudoers text in the order sudo reads it, following include and includedir.

    sudo is optional: without /etc/sudoers nobody holds rights through it, so absence is
    not an error; an unreadable file is, and then None is returned.
    """
    if not exists(ctx, "/etc/sudoers"):
        return ""
    texts: list[str] = []
    seen: set[str] = set()
    ok = True

    def visit(path: str, depth: int) -> None:
        """Read one sudoers file and the files it includes, depth-first as sudo does."""
        nonlocal ok
        if path in seen or depth > 8:
            return
        seen.add(path)
        text = read_text(builder, ctx, path, area, "linux.sudoers")
        if text is None:
            ok = False
            return
        texts.append(text)
        for kind, target in sudoers_includes(text):
            target = target if target.startswith("/") else path.rsplit("/", 1)[0] + "/" + target
            if kind == "include":
                visit(target, depth + 1)
            else:
                # sudo skips names that end in '~' or contain a '.' in an includedir.
                for sub in list_dir(builder, ctx, target, area):
                    base = sub.rsplit("/", 1)[-1]
                    if not base.endswith("~") and "." not in base:
                        visit(sub, depth + 1)

    visit("/etc/sudoers", 0)
    return "\n".join(texts) if ok else None


def collect(builder: BundleBuilder, ctx: Context) -> None:
    """passwd is required; shadow, group and sudoers each add keys when readable."""
    passwd_text = read_text(builder, ctx, "/etc/passwd", AREA, "linux.passwd")
    if passwd_text is None:
        return
    shadow_text = read_text(builder, ctx, "/etc/shadow", AREA, "linux.shadow")
    group_text = read_text(builder, ctx, "/etc/group", AREA, "linux.group")
    defs_text = read_text(builder, ctx, "/etc/login.defs", AREA, "linux.login_defs")
    uid_min = to_int(parse_login_defs(defs_text).get("UID_MIN")) if defs_text else None
    sudoers_text = read_sudoers(builder, ctx)

    passwd = parse_passwd(passwd_text)
    shadow = parse_shadow(shadow_text) if shadow_text is not None else None
    del shadow_text
    if shadow is not None:
        for entry in passwd:
            if entry.shadowed and entry.name not in shadow:
                builder.add_error(AREA, f"{entry.name}: no entry in /etc/shadow", "/etc/shadow")
    accounts = build_accounts(
        passwd, shadow, parse_group(group_text) if group_text is not None else None,
        parse_sudoers(sudoers_text) if sudoers_text is not None else None,
        uid_min if uid_min is not None else 1000, ctx.today)
    builder.set_fact(AREA, accounts)
