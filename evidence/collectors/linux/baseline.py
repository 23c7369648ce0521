"""Area ``linux_baseline``: the server-hardening facts that Lynis and OpenSCAP judge (GL-D09).

Everything is read from files under the collection root, so a captured tree gives the same
answer as the live host: login.defs' UMASK, /etc/passwd's uniqueness and shadowing (the
password field is reduced to "is a hash here" on reading; no part of it is kept), the mounts
of /proc/mounts, kernel network switches under /proc/sys, whether uncommon network protocols
can be loaded (modprobe.d, /proc/modules, the kernel's module list), file-integrity tools,
logrotate, and the permissions of home directories and of the account files.

Each part is collected on its own: one that cannot be read is an ``errors`` entry and is left
out, the others are still written. PASS_MIN_DAYS is in ``password_policy.min_age_days`` and the
sshd settings in ``ssh_server``; they are not repeated here.
"""

from __future__ import annotations

import os
import re
import stat
from collections import defaultdict
from typing import Any

from auditor.evidence.bundle import BundleBuilder

from .accounts import login_allowed
from .common import Context, exists, list_dir, parse_login_defs, read_optional, read_text, to_int

AREA = "linux_baseline"
LOGIN_DEFS = "/etc/login.defs"
DEFAULT_UMASK = 0o022  # login.defs(5): used when UMASK is not set
DEFAULT_UID_MIN = 1000
NOBODY_UID = 65534
SYSCTLS = (  # /proc/sys paths: kernel network switches of the CIS / Lynis baselines
    "net/ipv4/ip_forward",
    "net/ipv4/conf/all/accept_redirects", "net/ipv4/conf/default/accept_redirects",
    "net/ipv4/conf/all/secure_redirects", "net/ipv4/conf/default/secure_redirects",
    "net/ipv4/conf/all/send_redirects", "net/ipv4/conf/default/send_redirects",
    "net/ipv4/conf/all/accept_source_route", "net/ipv4/conf/default/accept_source_route",
    "net/ipv4/conf/all/rp_filter", "net/ipv4/conf/default/rp_filter",
    "net/ipv4/conf/all/log_martians", "net/ipv4/conf/default/log_martians",
    "net/ipv4/tcp_syncookies", "net/ipv4/icmp_echo_ignore_broadcasts",
    "net/ipv6/conf/all/accept_redirects", "net/ipv6/conf/default/accept_redirects",
    "net/ipv6/conf/all/accept_source_route", "net/ipv6/conf/default/accept_source_route",
)
# the target's directories whose mounts are reported, never files this program writes
MOUNT_POINTS = ("/tmp", "/var", "/var/tmp", "/var/log", "/var/log/audit", "/home", "/dev/shm")  # noqa: S108
PROTOCOLS = ("dccp", "sctp", "rds", "tipc")
MODPROBE_DIRS = ("/lib/modprobe.d", "/usr/lib/modprobe.d", "/run/modprobe.d", "/etc/modprobe.d")
DISABLING_COMMANDS = {"/bin/true", "/bin/false", "/usr/bin/true", "/usr/bin/false", "true", "false"}
FIM_TOOLS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # name -> (binaries, dpkg packages)
    "aide": (("/usr/bin/aide", "/usr/sbin/aide"), ("aide",)),
    "tripwire": (("/usr/sbin/tripwire", "/usr/bin/tripwire"), ("tripwire",)),
    "ossec": (("/var/ossec/bin/ossec-control",), ("ossec-hids", "ossec-hids-agent")),
    "wazuh": (("/var/ossec/bin/wazuh-control",), ("wazuh-agent", "wazuh-manager")),
    "samhain": (("/usr/sbin/samhain", "/usr/local/sbin/samhain"), ("samhain",)),
}
DPKG_INFO = "/var/lib/dpkg/info"
LOGROTATE_BINARIES = ("/usr/sbin/logrotate", "/usr/bin/logrotate", "/sbin/logrotate")
LOGROTATE_SCHEDULES = ("/etc/cron.daily/logrotate", "/etc/cron.hourly/logrotate",
                       "/etc/systemd/system/timers.target.wants/logrotate.timer",
                       "/usr/lib/systemd/system/logrotate.timer", "/lib/systemd/system/logrotate.timer")
ACCOUNT_FILES = ("passwd", "shadow", "group", "gshadow")
NON_HASHES = {"x", "*", "!", "!!", "!*", ""}  # passwd field 2 values that hold no password hash


def umask_facts(login_defs: dict[str, str]) -> dict[str, Any] | None:
    """``umask`` as four octal digits and which bits it masks; None for a value that is not octal."""
    raw = login_defs.get("UMASK")
    if raw is None:
        value = DEFAULT_UMASK
    elif re.fullmatch(r"[0-7]{1,4}", raw.strip()):
        value = int(raw.strip(), 8)
    else:
        return None
    return {"umask": f"{value:04o}", "umask_set": raw is not None,
            "umask_masks_group_write": bool(value & 0o020), "umask_masks_other": value & 0o007 == 0o007}


def passwd_facts(text: str) -> dict[str, Any]:
    """Duplicate UIDs and names, and the accounts whose password hash is in /etc/passwd itself."""
    by_uid: dict[int, list[str]] = defaultdict(list)
    names: dict[str, int] = defaultdict(int)
    unshadowed: list[str] = []
    for raw in text.splitlines():
        parts = raw.split(":")
        if len(parts) < 7 or not parts[0] or parts[0][0] in "+-#":
            continue
        names[parts[0]] += 1
        uid = to_int(parts[2])
        if uid is not None:
            by_uid[uid].append(parts[0])
        if parts[1] not in NON_HASHES:
            unshadowed.append(parts[0])
    return {
        "duplicate_uids": [{"uid": uid, "names": sorted(set(who))} for uid, who in sorted(by_uid.items())
                           if len(who) > 1],
        "duplicate_names": sorted(name for name, count in names.items() if count > 1),
        "unshadowed": sorted(set(unshadowed)),
    }


def _unescape_mount(path: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), path)


def mount_facts(text: str) -> list[dict[str, Any]]:
    """Whether each of MOUNT_POINTS is a mount of its own, with its type and nodev/nosuid/noexec."""
    mounted: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 4:
            mounted[_unescape_mount(parts[1])] = (parts[2], parts[3].split(","))  # the last mount wins
    out = []
    for point in MOUNT_POINTS:
        record: dict[str, Any] = {"path": point, "separate": point in mounted}
        if point in mounted:
            fstype, options = mounted[point]
            record["fstype"] = fstype
            record.update({flag: flag in options for flag in ("nodev", "nosuid", "noexec")})
        out.append(record)
    return out


def _module(name: str) -> str:
    return name.replace("-", "_")


def modprobe_rules(texts: list[str]) -> dict[str, str]:
    """For each module, how modprobe.d turns it off: ``install /bin/false`` style or ``blacklist``
    (an ``install`` to another command, e.g. a real loader, does not disable it)."""
    out: dict[str, str] = {}
    for text in texts:
        joined = re.sub(r"\\\n", " ", text)
        for raw in joined.splitlines():
            parts = raw.split("#", 1)[0].split()
            if len(parts) >= 3 and parts[0] == "install":
                command = parts[2]
                if command in DISABLING_COMMANDS:
                    out[_module(parts[1])] = f"install {command}"
                else:
                    out.pop(_module(parts[1]), None)
            elif len(parts) >= 2 and parts[0] == "blacklist":
                out.setdefault(_module(parts[1]), "blacklist")
    return out


def loaded_modules(text: str) -> set[str]:
    """Module names of /proc/modules."""
    return {_module(line.split()[0]) for line in text.splitlines() if line.split()}


def available_modules(dep: str, builtin: str | None) -> tuple[set[str], set[str]]:
    """Loadable and built-in module names from modules.dep and modules.builtin."""
    def names(text: str) -> set[str]:
        out = set()
        for line in text.splitlines():
            path = line.split(":", 1)[0].strip()
            if path:
                base = path.rsplit("/", 1)[-1]
                out.add(_module(base.split(".ko", 1)[0]))
        return out
    return names(dep), names(builtin or "")


def protocol_facts(rules: dict[str, str], loaded: set[str] | None,
                   modules: tuple[set[str], set[str]] | None) -> list[dict[str, Any]]:
    """One record per protocol of PROTOCOLS: loaded, disabled by modprobe.d (and how), and whether
    the kernel has it at all (null when its module list was not found)."""
    out = []
    for name in PROTOCOLS:
        record: dict[str, Any] = {"name": name, "disabled": name in rules, "how": rules.get(name)}
        if loaded is not None:
            record["loaded"] = name in loaded
        if modules is None:
            record["available"] = None
        else:
            loadable, builtin = modules
            record["available"] = name in loadable or name in builtin
            record["builtin"] = name in builtin
        out.append(record)
    return out


def _mode(st: os.stat_result) -> dict[str, Any]:
    mode = stat.S_IMODE(st.st_mode)
    return {"mode": f"{mode:04o}", "uid": st.st_uid, "gid": st.st_gid,
            "group_write": bool(mode & stat.S_IWGRP), "other_read": bool(mode & stat.S_IROTH),
            "other_write": bool(mode & stat.S_IWOTH), "other_exec": bool(mode & stat.S_IXOTH)}


def _stat(builder: BundleBuilder, ctx: Context, absolute: str, what: str) -> os.stat_result | None:
    try:
        return os.stat(ctx.path(absolute))
    except FileNotFoundError:
        return None
    except OSError as exc:
        builder.add_error(AREA, f"{what}: {ctx.path(absolute)}: {exc.strerror or exc}", str(ctx.path(absolute)))
        return None


def home_directories(builder: BundleBuilder, ctx: Context, passwd: str, uid_min: int) -> list[dict[str, Any]]:
    """Permissions of the home directory of every login account at or above UID_MIN."""
    out = []
    seen: set[str] = set()
    for raw in passwd.splitlines():
        parts = raw.split(":")
        if len(parts) < 7 or not parts[0] or parts[0][0] in "+-#":
            continue
        uid = to_int(parts[2])
        home = parts[5]
        if uid is None or uid < uid_min or uid == NOBODY_UID or not login_allowed(parts[6]) or not home.startswith("/"):
            continue
        if home in seen:
            continue
        seen.add(home)
        record: dict[str, Any] = {"user": parts[0], "path": home}
        st = _stat(builder, ctx, home, f"home directory of {parts[0]}")
        record["exists"] = st is not None and stat.S_ISDIR(st.st_mode)
        if st is not None:
            record.update(_mode(st))
            record["owned_by_user"] = st.st_uid == uid
        out.append(record)
    return out


def account_files(builder: BundleBuilder, ctx: Context) -> dict[str, Any]:
    """Mode and owner of /etc/passwd, shadow, group and gshadow; a missing file is left out."""
    out: dict[str, Any] = {}
    for name in ACCOUNT_FILES:
        st = _stat(builder, ctx, f"/etc/{name}", "account file")
        if st is not None:
            out[name] = _mode(st)
    return out


def _dpkg_has(ctx: Context, package: str) -> bool:
    return any(exists(ctx, f"{DPKG_INFO}/{package}{suffix}.list") for suffix in ("", ":amd64", ":arm64", ":i386"))


def fim_facts(ctx: Context) -> dict[str, Any]:
    """The file-integrity tools found as a binary or an installed Debian package."""
    tools = sorted(name for name, (binaries, packages) in FIM_TOOLS.items()
                   if any(exists(ctx, b) for b in binaries) or any(_dpkg_has(ctx, p) for p in packages))
    return {"installed": bool(tools), "tools": tools}


def logrotate_facts(ctx: Context, dropins: list[str]) -> dict[str, Any]:
    """Whether logrotate is installed, has its main configuration and drop-ins, and is scheduled."""
    return {"installed": any(exists(ctx, b) for b in LOGROTATE_BINARIES) or _dpkg_has(ctx, "logrotate"),
            "configured": exists(ctx, "/etc/logrotate.conf"),
            "dropin_count": len(dropins),
            "scheduled": any(exists(ctx, p) for p in LOGROTATE_SCHEDULES)}


def _sysctls(builder: BundleBuilder, ctx: Context, facts: dict[str, Any]) -> None:
    ipv6 = ctx.path("/proc/sys/net/ipv6").is_dir()
    if not ctx.path("/proc/sys/net").is_dir():
        builder.add_error(AREA, f"sysctl: {ctx.path('/proc/sys/net')} is not there: no kernel network settings")
        return
    tree: dict[str, Any] = {}
    missing = []
    for path in SYSCTLS:
        if path.startswith("net/ipv6/") and not ipv6:
            continue
        text = read_optional(builder, ctx, f"/proc/sys/{path}", AREA, "linux.sysctl")
        if text is None and not exists(ctx, f"/proc/sys/{path}"):
            missing.append(path.replace("/", "."))
        value = to_int(text) if text is not None else None
        if text is not None and value is None:
            builder.add_error(AREA, f"sysctl {path.replace('/', '.')}: not a number: {text.strip()[:40]!r}")
        if value is None:
            continue
        node = tree
        *parents, leaf = path.split("/")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    if missing:
        builder.add_error(AREA, f"sysctl: not under {ctx.path('/proc/sys')}: {', '.join(missing)}")
    facts["ipv6_enabled"] = ipv6
    facts["sysctl"] = tree


def _protocols(builder: BundleBuilder, ctx: Context, facts: dict[str, Any]) -> None:
    texts = []
    for folder in MODPROBE_DIRS:
        for path in list_dir(builder, ctx, folder, AREA, "*.conf"):
            text = read_optional(builder, ctx, path, AREA, "linux.modprobe_d")
            if text is not None:
                texts.append(text)
    proc = read_optional(builder, ctx, "/proc/modules", AREA, "linux.proc_modules")
    if proc is None and ctx.live:
        builder.add_error(AREA, "/proc/modules is not readable: which protocols are loaded is not known")
    modules = None
    release = _kernel_release(ctx)
    if release is not None:
        dep = read_optional(builder, ctx, f"/lib/modules/{release}/modules.dep", AREA, "linux.modules_dep")
        builtin = read_optional(builder, ctx, f"/lib/modules/{release}/modules.builtin", AREA,
                                "linux.modules_builtin")
        if dep is not None:
            modules = available_modules(dep, builtin)
    facts["network_protocols"] = protocol_facts(modprobe_rules(texts),
                                                loaded_modules(proc) if proc is not None else None, modules)


def _kernel_release(ctx: Context) -> str | None:
    """The running kernel's release (live), or the only one a captured tree has modules for."""
    if ctx.live:
        return os.uname().release
    try:
        releases = [e.name for e in os.scandir(ctx.path("/lib/modules")) if e.is_dir()]
    except OSError:
        return None
    return releases[0] if len(releases) == 1 else None


def collect(builder: BundleBuilder, ctx: Context) -> None:
    """Every part that could be read; the rest are errors."""
    facts: dict[str, Any] = {}
    uid_min = DEFAULT_UID_MIN
    defs_text = read_optional(builder, ctx, LOGIN_DEFS, AREA, "linux.login_defs")
    if defs_text is None:
        builder.add_error(AREA, f"{LOGIN_DEFS} is missing: the default umask is not known")
    else:
        defs = parse_login_defs(defs_text)
        uid_min = to_int(defs.get("UID_MIN")) or DEFAULT_UID_MIN
        umask = umask_facts(defs)
        if umask is None:
            builder.add_error(AREA, f"{LOGIN_DEFS}: UMASK is not an octal number: {defs.get('UMASK', '')[:20]!r}",
                              LOGIN_DEFS)
        else:
            facts["login_defs"] = umask
    passwd = read_text(builder, ctx, "/etc/passwd", AREA, "linux.passwd")
    if passwd is not None:
        facts["passwd"] = passwd_facts(passwd)
        facts["home_directories"] = home_directories(builder, ctx, passwd, uid_min)
    facts["account_files"] = account_files(builder, ctx)
    mounts = read_text(builder, ctx, "/proc/mounts", AREA, "linux.proc_mounts")
    if mounts is not None:
        facts["mounts"] = mount_facts(mounts)
    _sysctls(builder, ctx, facts)
    _protocols(builder, ctx, facts)
    facts["file_integrity"] = fim_facts(ctx)
    facts["logrotate"] = logrotate_facts(ctx, list_dir(builder, ctx, "/etc/logrotate.d", AREA))
    builder.set_fact(AREA, facts)
