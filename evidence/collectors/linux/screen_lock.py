"""Area ``screen_lock``: the desktop's idle lock (GNOME) and the shell's idle timeout (TMOUT).

Desktop: a graphical session is installed when /usr/share/xsessions or
/usr/share/wayland-sessions holds a session, or gnome-shell is installed.

GNOME: the system-wide value of each key is the first of (1) the dconf system databases the
``user`` profile lists (/etc/dconf/profile/user, in its order; their keyfiles under
/etc/dconf/db/<db>.d/, later files winning), (2) GSettings vendor overrides
(/usr/share/glib-2.0/schemas/*.gschema.override), (3) the schema's default. Keys:
org/gnome/desktop/session ``idle-delay`` (seconds to idle, 0 never), org/gnome/desktop/
screensaver ``lock-enabled`` and ``lock-delay`` (seconds from blanking to the lock). A user
may change a key in their own database unless a ``locks/`` file of a listed database names
it: ``enforced`` (not in docs/facts.md, an extra key) says whether all three are locked.
Other desktops' settings are not read (an error says which sessions were found).

TMOUT: assignments in /etc/profile, /etc/profile.d/*.sh, /etc/bash.bashrc and /etc/bashrc, in
that order; once ``readonly`` (``readonly``, ``declare -r``, ``typeset -r``) the value can no
longer change. ``shell_timeout_seconds`` is the value only when it is read-only, since a user
can otherwise unset it; null when it is not set read-only (``source`` tells which).
"""

from __future__ import annotations

import re
from typing import Any

from auditor.evidence.bundle import BundleBuilder

from .common import Context, exists, list_dir, parse_ini, read_optional, read_text

AREA = "screen_lock"
SESSION_DIRS = ("/usr/share/xsessions", "/usr/share/wayland-sessions")
GNOME_SHELL = ("/usr/bin/gnome-shell",)
DCONF_PROFILES = ("/etc/dconf/profile/user", "/usr/local/share/dconf/profile/user", "/usr/share/dconf/profile/user")
SCHEMA_DIR = "/usr/share/glib-2.0/schemas"
KEYS = {  # (dconf directory, key) -> schema id
    ("org/gnome/desktop/session", "idle-delay"): "org.gnome.desktop.session",
    ("org/gnome/desktop/screensaver", "lock-enabled"): "org.gnome.desktop.screensaver",
    ("org/gnome/desktop/screensaver", "lock-delay"): "org.gnome.desktop.screensaver",
}
SHELL_FILES = ("/etc/profile", "/etc/profile.d/*.sh", "/etc/bash.bashrc", "/etc/bashrc")
_TMOUT = re.compile(r"^(?:(export|readonly|declare|typeset)((?:\s+-[A-Za-z]+)*)\s+)?TMOUT(?:=(\S*))?$")


def gvariant(text: str) -> bool | int | str | None:
    """A GVariant text value as dconf keyfiles write it: ``true``, ``uint32 300``, ``300``, ``'x'``."""
    value = text.strip()
    if value in ("true", "false"):
        return value == "true"
    m = re.fullmatch(r"(?:u?int(?:16|32|64)\s+)?(-?\d+)", value)
    if m:
        return int(m.group(1))
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return None


def schema_default(xml: str, schema_id: str, key: str) -> bool | int | str | None:
    """The ``<default>`` of a key in a .gschema.xml text (read by pattern, not an XML parser)."""
    block = re.search(rf'<schema\b[^>]*\bid="{re.escape(schema_id)}"[^>]*>(.*?)</schema>', xml, re.S)
    if not block:
        return None
    m = re.search(rf'<key\b[^>]*\bname="{re.escape(key)}"[^>]*>.*?<default>(.*?)</default>', block.group(1), re.S)
    return gvariant(m.group(1)) if m else None


def dconf_profile_dbs(text: str) -> list[str]:
    """The system databases a dconf profile lists, highest priority first."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("system-db:"):
            out.append(line.split(":", 1)[1].strip())
    return out


def dconf_keyfile_values(texts: list[str]) -> dict[tuple[str, str], bool | int | str | None]:
    """The watched keys set in a database's keyfiles (later files win)."""
    out: dict[tuple[str, str], bool | int | str | None] = {}
    for text in texts:
        for section, values in parse_ini(text).items():
            for key, value in values.items():
                if (section.strip("/"), key) in KEYS:
                    out[(section.strip("/"), key)] = gvariant(value)
    return out


def dconf_locks(texts: list[str]) -> set[tuple[str, str]]:
    """The watched keys named in lock files (``/org/gnome/desktop/session/idle-delay``)."""
    out = set()
    for text in texts:
        for raw in text.splitlines():
            path = raw.strip()
            if path.startswith("/") and not path.startswith("#"):
                directory, _, key = path.strip("/").rpartition("/")
                if (directory, key) in KEYS:
                    out.add((directory, key))
    return out


def gnome_lock(values: dict[tuple[str, str], Any]) -> dict[str, Any] | None:
    """``enabled``, ``idle_timeout_seconds`` and ``password_on_resume`` from the three values,
    None when one of them is unknown."""
    idle = values.get(("org/gnome/desktop/session", "idle-delay"))
    lock = values.get(("org/gnome/desktop/screensaver", "lock-enabled"))
    delay = values.get(("org/gnome/desktop/screensaver", "lock-delay"))
    if not isinstance(idle, int) or isinstance(idle, bool) or not isinstance(lock, bool) \
            or not isinstance(delay, int) or isinstance(delay, bool):
        return None
    enabled = lock and idle > 0
    return {"enabled": enabled, "idle_timeout_seconds": idle + delay if enabled else None,
            "password_on_resume": lock}


def parse_tmout(files: list[tuple[str, str]]) -> dict[str, Any]:
    """``{value, readonly, file}`` of TMOUT over shell start-up files in order (simple
    statements only; conditions are not evaluated). A read-only TMOUT keeps its value."""
    state: dict[str, Any] = {"value": None, "readonly": False, "file": None}
    for path, text in files:
        for raw in text.splitlines():
            line = raw.split("#", 1)[0].strip()
            for statement in re.split(r";|&&|\|\|", line):
                m = _TMOUT.match(re.sub(r"^(?:then|else|do)\s+", "", statement.strip()))
                if not m:
                    continue
                command, flags, value = m.group(1), m.group(2) or "", m.group(3)
                makes_readonly = command == "readonly" or (command in ("declare", "typeset") and "r" in flags)
                if value is not None and not state["readonly"]:
                    number = value.strip("'\"")
                    state.update(value=int(number) if number.isdigit() else None, file=path)
                if makes_readonly and not state["readonly"]:
                    state.update(readonly=True, file=state["file"] or path)
    return state


def _texts(builder: BundleBuilder, ctx: Context, paths: list[str], parser: str) -> list[str] | None:
    texts = []
    for path in paths:
        text = read_text(builder, ctx, path, AREA, parser)
        if text is None:
            return None
        texts.append(text)
    return texts


def _gnome(builder: BundleBuilder, ctx: Context, sources: list[str]) -> dict[str, Any] | None:
    """The GNOME keys' system-wide values and whether they are locked; None when unreadable."""
    values: dict[tuple[str, str], Any] = {}
    for schema_id in sorted(set(KEYS.values())):
        text = read_optional(builder, ctx, f"{SCHEMA_DIR}/{schema_id}.gschema.xml", AREA, "linux.gschema")
        if text is None:
            continue
        for (directory, key), sid in KEYS.items():
            if sid == schema_id:
                default = schema_default(text, schema_id, key)
                if default is not None:
                    values[(directory, key)] = default
    overrides = _texts(builder, ctx, list_dir(builder, ctx, SCHEMA_DIR, AREA, "*.gschema.override"),
                       "linux.gschema_override")
    if overrides is None:
        return None
    for text in overrides:
        for section, items in parse_ini(text).items():
            for key, value in items.items():
                directory = section.replace(".", "/")
                if (directory, key) in KEYS and KEYS[(directory, key)] == section:
                    values[(directory, key)] = gvariant(value)
    profile_path = next((p for p in DCONF_PROFILES if exists(ctx, p)), None)
    dbs: list[str] = []
    if profile_path is not None:
        profile = read_text(builder, ctx, profile_path, AREA, "linux.dconf_profile")
        if profile is None:
            return None
        dbs = dconf_profile_dbs(profile)
    locked: set[tuple[str, str]] = set()
    for db in reversed(dbs):  # lowest priority first, so that higher ones overwrite
        keyfiles = _texts(builder, ctx, list_dir(builder, ctx, f"/etc/dconf/db/{db}.d", AREA), "linux.dconf_keyfile")
        locks = _texts(builder, ctx, list_dir(builder, ctx, f"/etc/dconf/db/{db}.d/locks", AREA),
                       "linux.dconf_locks")
        if keyfiles is None or locks is None:
            return None
        found = dconf_keyfile_values(keyfiles)
        if found:
            sources.append(f"dconf db {db} (/etc/dconf/db/{db}.d)")
        values.update(found)
        locked |= dconf_locks(locks)
    unused = [p.rsplit("/", 1)[-1] for p in _db_dirs(ctx)
              if p.rsplit("/", 1)[-1][:-2] not in dbs and p.rsplit("/", 1)[-1] != "gdm.d"]  # gdm: login screen
    if unused:
        builder.add_error(AREA, "dconf: " + ", ".join(unused) + " not listed in the user profile "
                          f"({profile_path or 'none found'}): their settings do not apply", "/etc/dconf/db")
    return {"values": values, "enforced": locked == set(KEYS)}


def _db_dirs(ctx: Context) -> list[str]:
    base = ctx.path("/etc/dconf/db")
    try:
        return sorted(f"/etc/dconf/db/{p.name}" for p in base.iterdir() if p.is_dir() and p.name.endswith(".d"))
    except OSError:
        return []


def _shell_files(builder: BundleBuilder, ctx: Context) -> list[tuple[str, str]] | None:
    files = []
    for pattern in SHELL_FILES:
        if "*" in pattern:
            directory, _, glob = pattern.rpartition("/")
            paths = list_dir(builder, ctx, directory, AREA, glob)
        else:
            paths = [pattern]
        for path in paths:
            text = read_optional(builder, ctx, path, AREA, "linux.shell_profile")
            if text is None and exists(ctx, path):
                return None
            if text is not None:
                files.append((path, text))
    return files


def collect(builder: BundleBuilder, ctx: Context) -> None:
    """Desktop presence, GNOME's lock settings, and TMOUT."""
    sessions = [p.rsplit("/", 1)[-1] for d in SESSION_DIRS for p in list_dir(builder, ctx, d, AREA, "*.desktop")]
    gnome = any(exists(ctx, p) for p in GNOME_SHELL)
    facts: dict[str, Any] = {"desktop": bool(sessions) or gnome}
    sources: list[str] = []
    if gnome:
        state = _gnome(builder, ctx, sources)
        lock = gnome_lock(state["values"]) if state is not None else None
        if lock is not None:
            facts.update(lock)
            facts["enforced"] = state["enforced"]
            sources.insert(0, "GNOME (GSettings defaults and overrides)")
        elif state is not None:
            builder.add_error(AREA, "GNOME: idle-delay, lock-enabled or lock-delay not found in the schemas "
                                    "or dconf settings", SCHEMA_DIR)
    elif sessions:
        builder.add_error(AREA, "screen lock of the installed sessions (" + ", ".join(sorted(sessions))
                          + ") is not read: only GNOME's settings are", SESSION_DIRS[0])

    shell = _shell_files(builder, ctx)
    if shell is not None:
        tmout = parse_tmout(shell)
        if tmout["readonly"] and tmout["value"]:
            facts["shell_timeout_seconds"] = tmout["value"]
            sources.append(f"TMOUT={tmout['value']} read-only ({tmout['file']})")
        else:
            facts["shell_timeout_seconds"] = None
            if tmout["value"]:
                sources.append(f"TMOUT={tmout['value']} not read-only ({tmout['file']})")
            else:
                sources.append("TMOUT not set (" + ", ".join(SHELL_FILES) + ")")
    facts["source"] = "; ".join(sources)
    builder.set_fact(AREA, facts)
