"""Area ``time_sync``: which NTP client runs, whether the clock is synchronised, servers.

The running client is found from the process table (this works with or without
systemd); ``timedatectl show`` gives synchronisation and the NTP switch when systemd
is PID 1, ``chronyc`` gives the offset when chrony runs. Servers come from the running
client's configuration, refined by what chrony or timesyncd report live.
"""

from __future__ import annotations

import json
import os
from typing import Any

from auditor.evidence.bundle import BundleBuilder

from .common import (
    Context,
    exists,
    list_dir,
    not_live,
    parse_ini,
    process_names,
    read_optional,
    read_text,
    run,
    strip_comment,
)

AREA = "time_sync"
CHRONY_CONFS = ("/etc/chrony/chrony.conf", "/etc/chrony.conf")
NTP_CONFS = ("/etc/ntpsec/ntp.conf", "/etc/ntp.conf", "/etc/openntpd/ntpd.conf")
TIMESYNCD_CONF = "/etc/systemd/timesyncd.conf"
# Process name (as the kernel truncates it to 15 characters) -> service.
SERVICE_PROCESSES = (("chronyd", "chrony"), ("systemd-timesyn", "systemd-timesyncd"), ("ntpd", "ntpd"),
                     ("ntpsec", "ntpd"), ("openntpd", "ntpd"))


def service_from_processes(names: list[str]) -> str:
    """The time service a list of running process names shows, ``none`` when there is none."""
    for prefix, service in SERVICE_PROCESSES:
        if any(name.startswith(prefix) for name in names):
            return service
    return "none"


def parse_timedatectl(text: str) -> dict[str, Any]:
    """``timedatectl show``: NTPSynchronized, NTP and Timezone as facts (present keys only)."""
    values = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    out: dict[str, Any] = {}
    if "NTPSynchronized" in values:
        out["synchronized"] = values["NTPSynchronized"].strip() == "yes"
    if "NTP" in values:
        out["ntp_enabled"] = values["NTP"].strip() == "yes"
    if values.get("Timezone", "").strip():
        out["timezone"] = values["Timezone"].strip()
    return out


def parse_chrony_tracking(text: str) -> dict[str, Any]:
    """``chronyc -c tracking``: absolute system-clock offset in seconds, and whether chrony
    is synchronised (leap status other than "Not synchronised")."""
    for line in text.splitlines():
        fields = line.strip().split(",")
        if len(fields) >= 14:
            try:
                offset = abs(float(fields[4]))
            except ValueError:
                return {}
            return {"offset_seconds": offset, "synchronized": fields[13].strip() != "Not synchronised"}
    return {}


def parse_chrony_sources(text: str) -> list[str]:
    """Servers and peers (modes ``^`` and ``=``) in ``chronyc -c sources``; reference clocks are not servers."""
    out = []
    for line in text.splitlines():
        fields = line.strip().split(",")
        if len(fields) >= 3 and fields[0] in ("^", "=") and fields[2] not in out:
            out.append(fields[2])
    return out


def parse_ntp_servers(text: str) -> list[str]:
    """``server``/``pool``/``peer`` hosts of a chrony.conf, ntp.conf or a chrony .sources file."""
    out = []
    for raw in text.splitlines():
        parts = strip_comment(raw).split()
        if len(parts) >= 2 and parts[0] in ("server", "pool", "peer", "servers") and parts[1] not in out:
            out.append(parts[1])
    return out


def chrony_directories(text: str) -> list[tuple[str, str]]:
    """``(directory, pattern)`` of confdir (*.conf) and sourcedir (*.sources) directives in chrony.conf."""
    out = []
    for raw in text.splitlines():
        parts = strip_comment(raw).split()
        if len(parts) >= 2 and parts[0] in ("confdir", "sourcedir"):
            pattern = "*.conf" if parts[0] == "confdir" else "*.sources"
            out.extend((d, pattern) for d in parts[1:])
    return out


def parse_timesyncd(texts: list[str]) -> tuple[list[str], list[str]]:
    """(NTP=, FallbackNTP=) server lists of timesyncd.conf and its drop-ins; a later
    assignment replaces an earlier one, an empty one clears it."""
    ntp: list[str] = []
    fallback: list[str] = []
    for text in texts:
        section = parse_ini(text).get("Time", {})
        if "NTP" in section:
            ntp = section["NTP"].split()
        if "FallbackNTP" in section:
            fallback = section["FallbackNTP"].split()
    return ntp, fallback


def parse_show_timesync(text: str) -> list[str]:
    """Servers timesyncd uses, from ``timedatectl show-timesync``: system and link servers,
    or the fallback list when neither is set."""
    values = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    servers = []
    for key in ("SystemNTPServers", "LinkNTPServers"):
        for name in values.get(key, "").split():
            if name not in servers:
                servers.append(name)
    return servers or values.get("FallbackNTPServers", "").split()


def parse_timezone_file(text: str) -> str | None:
    """The zone name in /etc/timezone."""
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    return line or None


def zone_from_link(target: str) -> str | None:
    """The zone name in an /etc/localtime symlink target (``.../zoneinfo/Asia/Tokyo``)."""
    marker = "zoneinfo/"
    idx = target.find(marker)
    return target[idx + len(marker):] if idx >= 0 and target[idx + len(marker):] else None


def _running_service(builder: BundleBuilder, ctx: Context) -> str | None:
    table = process_names(builder, ctx, AREA)  # the process table shared by the areas
    if table is None:
        return None
    names = [name for name in table if any(name.startswith(prefix) for prefix, _ in SERVICE_PROCESSES)]
    builder.add_source("psutil.process_iter(['name']) time-service processes", "linux.time_processes",
                       json.dumps(sorted(names)).encode(), AREA)
    return service_from_processes(names)


def _chrony_config_servers(builder: BundleBuilder, ctx: Context) -> list[str] | None:
    path = next((p for p in CHRONY_CONFS if exists(ctx, p)), None)
    if path is None:
        return None
    text = read_text(builder, ctx, path, AREA, "linux.chrony_conf")
    if text is None:
        return None
    servers = parse_ntp_servers(text)
    for directory, pattern in chrony_directories(text):
        if not directory.startswith("/etc/"):
            continue  # /run directories hold DHCP-provided sources, not configuration
        for sub in list_dir(builder, ctx, directory, AREA, pattern):
            sub_text = read_text(builder, ctx, sub, AREA, "linux.chrony_conf")
            servers.extend(s for s in parse_ntp_servers(sub_text or "") if s not in servers)
    return servers


def _timesyncd_config_servers(builder: BundleBuilder, ctx: Context) -> list[str] | None:
    texts = []
    main = read_optional(builder, ctx, TIMESYNCD_CONF, AREA, "linux.timesyncd_conf")
    if main is not None:
        texts.append(main)
    for path in list_dir(builder, ctx, TIMESYNCD_CONF + ".d", AREA, "*.conf"):
        text = read_text(builder, ctx, path, AREA, "linux.timesyncd_conf")
        if text is not None:
            texts.append(text)
    if not texts:
        return None
    ntp, fallback = parse_timesyncd(texts)
    return ntp or fallback or None


def _ntp_config_servers(builder: BundleBuilder, ctx: Context) -> list[str] | None:
    path = next((p for p in NTP_CONFS if exists(ctx, p)), None)
    if path is None:
        return None
    text = read_text(builder, ctx, path, AREA, "linux.ntp_conf")
    return parse_ntp_servers(text) if text is not None else None


def _timezone(builder: BundleBuilder, ctx: Context) -> str | None:
    text = read_optional(builder, ctx, "/etc/timezone", AREA, "linux.timezone")
    if text is not None and parse_timezone_file(text):
        return parse_timezone_file(text)
    link = ctx.path("/etc/localtime")
    if link.is_symlink():
        target = os.readlink(link)
        builder.add_source("readlink: /etc/localtime", "linux.localtime_link", target.encode(), AREA)
        return zone_from_link(target)
    builder.add_error(AREA, "timezone: neither /etc/timezone nor an /etc/localtime symlink names it",
                      "/etc/localtime")
    return None


def collect(builder: BundleBuilder, ctx: Context) -> None:
    """Service and state from the live system; servers from the running service's configuration."""
    facts: dict[str, Any] = {}
    service = None
    if ctx.live:
        service = _running_service(builder, ctx)
        if service is not None:
            facts["service"] = service
        out = run(builder, ctx, ["timedatectl", "show"], AREA, "linux.timedatectl_show")
        if out is not None:
            facts.update(parse_timedatectl(out))
    else:
        not_live(builder, ctx, AREA, "service, synchronized, ntp_enabled")

    live_servers = None
    if service == "chrony":
        tracking = run(builder, ctx, ["chronyc", "-c", "tracking"], AREA, "linux.chronyc_tracking")
        if tracking is not None:
            chrony = parse_chrony_tracking(tracking)
            if "offset_seconds" in chrony:
                facts["offset_seconds"] = chrony["offset_seconds"]
            if "synchronized" not in facts and "synchronized" in chrony:
                facts["synchronized"] = chrony["synchronized"]
        sources = run(builder, ctx, ["chronyc", "-c", "sources"], AREA, "linux.chronyc_sources")
        if sources is not None:
            live_servers = parse_chrony_sources(sources)
    elif service == "systemd-timesyncd":
        shown = run(builder, ctx, ["timedatectl", "show-timesync"], AREA, "linux.timedatectl_show_timesync")
        if shown is not None:
            live_servers = parse_show_timesync(shown)

    if service == "none":
        facts["servers"] = []
    elif live_servers:
        facts["servers"] = live_servers
    else:
        readers = {"chrony": _chrony_config_servers, "ntpd": _ntp_config_servers,
                   "systemd-timesyncd": _timesyncd_config_servers}
        order = [readers[service]] if service in readers else list(readers.values())
        for reader in order:
            servers = reader(builder, ctx)
            if servers is not None:
                facts["servers"] = servers
                break

    if "ntp_enabled" not in facts and service is not None:
        facts["ntp_enabled"] = service != "none"
    if "timezone" not in facts:
        zone = _timezone(builder, ctx)
        if zone:
            facts["timezone"] = zone
    builder.set_fact(AREA, facts)
