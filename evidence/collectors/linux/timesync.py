"""Area ``time_sync``: which NTP client runs, whether the clock is synchronised, servers.

The running client is found from the process table (this works with or without
systemd). Whether the clock is synchronised comes from ``timedatectl show`` when it
answers; where it cannot reach D-Bus (containers, chroots, hosts without systemd as PID 1)
the running client answers instead: chrony (``chronyc -n tracking``), ntpd (``ntpq -pn``,
then ``ntpstat``) or systemd-timesyncd (its state files). ``sync_source`` names the source
that answered; chrony and ntpd also give the offset. Servers come from the running
client's configuration, refined by what chrony or timesyncd report live.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import psutil
from auditor.evidence.bundle import BundleBuilder

from .common import (
    Context,
    exists,
    iso_instant,
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
# systemd-timesyncd's state: touched on each successful synchronisation (systemd >= 239), its
# runtime directory (present while it runs), and the clock file (systemd < 239: on each sync).
TIMESYNCD_SYNCHRONIZED = "/run/systemd/timesync/synchronized"
TIMESYNCD_RUN_DIR = "/run/systemd/timesync"
TIMESYNCD_CLOCK = "/var/lib/systemd/timesync/clock"
TIMESYNCD_POLL_MAX_SECONDS = 2048.0  # PollIntervalMaxSec's default
CHRONY_SYNCED_LEAPS = ("Normal", "Insert second", "Delete second")
NTPQ_SYSTEM_PEER = ("*", "o")  # ntpq's tally codes of the peer ntpd is synchronised to (o: via PPS)
_DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_CHRONY_SYSTEM_TIME = re.compile(r"([0-9]+(?:\.[0-9]+)?) seconds (?:fast|slow) of NTP time")
_SPAN_UNITS = {
    "usec": 1e-6, "us": 1e-6, "µs": 1e-6, "msec": 1e-3, "ms": 1e-3,
    "seconds": 1, "second": 1, "sec": 1, "s": 1, "": 1,
    "minutes": 60, "minute": 60, "min": 60, "m": 60,
    "hours": 3600, "hour": 3600, "hr": 3600, "h": 3600,
    "days": 86400, "day": 86400, "d": 86400, "weeks": 604800, "week": 604800, "w": 604800,
    "months": 2629800, "month": 2629800, "M": 2629800, "years": 31557600, "year": 31557600, "y": 31557600,
}
_SPAN_TOKEN = re.compile(r"[0-9]+(?:\.[0-9]+)?|[A-Za-zµ]+|\S")
# Process name (as the kernel truncates it to 15 characters) -> service.
SERVICE_PROCESSES = (("chronyd", "chrony"), ("systemd-timesyn", "systemd-timesyncd"), ("ntpd", "ntpd"),
                     ("ntpsec", "ntpd"), ("openntpd", "ntpd"))


def service_from_processes(names: list[str]) -> str:
    """The time service a list of running process names shows, ``none`` when there is none."""
    for prefix, service in SERVICE_PROCESSES:
        if any(name.startswith(prefix) for name in names):
            return service
    return "none"


def _number(text: str, unit: int = 1) -> float | None:
    """A plain decimal (no exponent, nan or inf) divided by ``unit`` (1000: milliseconds to
    seconds, exactly, so 0.831 ms is 0.000831 s) as a finite float, else None."""
    if not _DECIMAL.fullmatch(text) or len(text) > 100:
        return None
    value = float(Decimal(text) / unit)
    return value if math.isfinite(value) else None


def parse_timedatectl(text: str) -> dict[str, Any]:
    """``timedatectl show``: NTPSynchronized, NTP and Timezone as facts (keys present and
    ``yes``/``no`` only: anything else leaves the key out, as unknown)."""
    values = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    out: dict[str, Any] = {}
    for key, fact in (("NTPSynchronized", "synchronized"), ("NTP", "ntp_enabled")):
        answer = values.get(key, "").strip()
        if answer in ("yes", "no"):
            out[fact] = answer == "yes"
    if values.get("Timezone", "").strip():
        out["timezone"] = values["Timezone"].strip()
    return out


def parse_chrony_tracking(text: str) -> dict[str, Any]:
    """``chronyc -n tracking`` (or its ``-c`` CSV form): ``synchronized`` from the leap status
    (Normal, Insert second, Delete second: yes; Not synchronised: no; else unknown, {}), and
    the absolute system-clock offset in seconds while synchronised (an unsynchronised chrony
    reports 0, which is no measurement)."""
    leap: str | None = None
    offset: float | None = None
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "Leap status":
            leap = value.strip()
        elif sep and key.strip() == "System time":
            m = _CHRONY_SYSTEM_TIME.fullmatch(value.strip())
            offset = _number(m.group(1)) if m else None
        else:
            fields = line.strip().split(",")
            if len(fields) >= 14 and leap is None:  # CSV: field 5 is the system time, 14 the leap status
                leap, offset = fields[13].strip(), _number(fields[4].strip())
    if leap in CHRONY_SYNCED_LEAPS:
        return {"synchronized": True, **({"offset_seconds": abs(offset)} if offset is not None else {})}
    if leap == "Not synchronised":
        return {"synchronized": False}
    return {}


def parse_ntpq_peers(text: str) -> dict[str, Any]:
    """``ntpq -pn`` (ntpd or ntpsec): synchronised when a peer carries the system-peer tally
    (``*``, or ``o`` through PPS), with that peer's offset (milliseconds in the table) in
    seconds; not synchronised when peers are listed but none is selected; {} when there is
    no peer table (ntpd not answering, no associations)."""
    peers: list[tuple[str, float | None]] = []
    in_table = False
    wrapped: tuple[str, str] | None = None  # a long remote address printed on a line of its own
    for line in text.splitlines():
        if line.startswith("==="):
            in_table = True
            continue
        if not in_table or not line.strip():
            continue
        tally, fields = line[0], line[1:].split()
        if wrapped is not None:
            (tally, remote), wrapped = wrapped, None
            fields = [remote, *fields]
        if len(fields) == 1:
            wrapped = (tally, fields[0])
            continue
        if len(fields) >= 10 and tally in " x.-+#*o":
            offset = _number(fields[8], 1000)
            peers.append((tally, None if offset is None else abs(offset)))
    if not peers:
        return {}
    selected = next((offset for tally, offset in peers if tally in NTPQ_SYSTEM_PEER), False)
    if selected is False:
        return {"synchronized": False}
    return {"synchronized": True, **({"offset_seconds": selected} if selected is not None else {})}


def parse_ntpstat(text: str) -> dict[str, Any]:
    """``ntpstat``'s first line: "synchronised to ..." or "unsynchronised"; {} for anything else
    (it cannot talk to ntpd: its exit status 2)."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if first.startswith(("synchronised to ", "synchronized to ")):
        return {"synchronized": True}
    if first.startswith(("unsynchronised", "unsynchronized")):
        return {"synchronized": False}
    return {}


def parse_timespan(text: str) -> float | None:
    """A systemd time span (``2048``, ``34min 8s``, ``1h30min``; bare numbers are seconds) in
    seconds, or None when it is not one."""
    total, number = 0.0, None
    tokens = _SPAN_TOKEN.findall(text)
    if not tokens:
        return None
    for token in tokens:
        if token[0].isascii() and token[0].isdigit():
            if number is not None:
                total += number  # "20 30": seconds twice
            number = float(token)
        elif token in _SPAN_UNITS and number is not None and token != "":
            total, number = total + number * _SPAN_UNITS[token], None
        else:
            return None
    total += number or 0.0
    return total if math.isfinite(total) else None


def timesyncd_state(synchronized_mtime: float | None, run_dir: bool, clock_mtime: float | None, now: float,
                    boot: float | None, fresh_seconds: float) -> dict[str, Any]:
    """What systemd-timesyncd's files say, {} when they say nothing.

    The ``synchronized`` file is touched on each successful synchronisation: synchronised when
    that happened within ``fresh_seconds`` (twice the longest poll interval), else not. Without
    it, a runtime directory means timesyncd runs and has not synchronised since it started.
    Without either (systemd < 239), the clock file's mtime, updated on each synchronisation,
    answers only when it is since boot and fresh: later versions also update it on a timer.
    """
    if synchronized_mtime is not None:
        return {"synchronized": now - synchronized_mtime <= fresh_seconds, **_synchronized_at(synchronized_mtime)}
    if run_dir:
        return {"synchronized": False}
    if clock_mtime is not None and boot is not None and clock_mtime > boot and now - clock_mtime <= fresh_seconds:
        return {"synchronized": True, **_synchronized_at(clock_mtime)}
    return {}


def _synchronized_at(mtime: float) -> dict[str, str]:
    """``last_synchronized_at`` of an mtime, or nothing for one no date can hold (a damaged file system)."""
    try:
        return {"last_synchronized_at": iso_instant(mtime)}
    except (ValueError, OverflowError, OSError):
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


def timesyncd_poll_max(texts: list[str]) -> float:
    """PollIntervalMaxSec= of timesyncd.conf and its drop-ins in seconds (the last valid one), else its default."""
    seconds = TIMESYNCD_POLL_MAX_SECONDS
    for text in texts:
        value = parse_ini(text).get("Time", {}).get("PollIntervalMaxSec")
        span = parse_timespan(value) if value else None
        if span:
            seconds = span
    return seconds


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


def _timesyncd_texts(builder: BundleBuilder, ctx: Context) -> list[str]:
    """timesyncd.conf and its drop-ins, in the order they apply."""
    texts = []
    main = read_optional(builder, ctx, TIMESYNCD_CONF, AREA, "linux.timesyncd_conf")
    if main is not None:
        texts.append(main)
    for path in list_dir(builder, ctx, TIMESYNCD_CONF + ".d", AREA, "*.conf"):
        text = read_text(builder, ctx, path, AREA, "linux.timesyncd_conf")
        if text is not None:
            texts.append(text)
    return texts


def _timesyncd_config_servers(texts: list[str]) -> list[str] | None:
    if not texts:
        return None
    ntp, fallback = parse_timesyncd(texts)
    return ntp or fallback or None


def _mtime(path: str) -> float | None:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def _timesyncd_answer(builder: BundleBuilder, ctx: Context, conf_texts: list[str]) -> dict[str, Any]:
    """systemd-timesyncd's state files, recorded as one stat source, judged by :func:`timesyncd_state`."""
    synchronized = _mtime(str(ctx.path(TIMESYNCD_SYNCHRONIZED)))
    run_dir = ctx.path(TIMESYNCD_RUN_DIR).is_dir()
    clock = _mtime(str(ctx.path(TIMESYNCD_CLOCK)))
    try:
        boot: float | None = psutil.boot_time()
    except (psutil.Error, OSError):
        boot = None
    now = time.time()
    listing = {"now": now, "boot_time": boot, TIMESYNCD_SYNCHRONIZED: synchronized,
               TIMESYNCD_RUN_DIR: run_dir, TIMESYNCD_CLOCK: clock}
    builder.add_source(f"stat: {TIMESYNCD_SYNCHRONIZED}, {TIMESYNCD_RUN_DIR}, {TIMESYNCD_CLOCK}",
                       "linux.timesyncd_state", json.dumps(listing).encode(), AREA)
    return timesyncd_state(synchronized, run_dir, clock, now, boot, 2 * timesyncd_poll_max(conf_texts))


def _daemon_answers(builder: BundleBuilder, ctx: Context, service: str | None, need_sync: bool,
                    conf_texts: Callable[[], list[str]]) -> tuple[dict[str, Any], list[str]]:
    """(facts, what was asked) from the running client itself: its synchronisation state (used
    when timedatectl did not answer) and its offset. ``service`` None: the process table was
    unreadable, so each client is asked in turn."""
    facts: dict[str, Any] = {}
    tried: list[str] = []

    def answered(found: dict[str, Any], source: str) -> None:
        if "offset_seconds" in found and "offset_seconds" not in facts:
            facts["offset_seconds"] = found["offset_seconds"]
        if "synchronized" in found and "synchronized" not in facts and need_sync:
            facts.update(synchronized=found["synchronized"], sync_source=source)
            if "last_synchronized_at" in found:
                facts["last_synchronized_at"] = found["last_synchronized_at"]

    if service in ("systemd-timesyncd", None) and need_sync:
        tried.append(f"systemd-timesyncd's {TIMESYNCD_SYNCHRONIZED} and {TIMESYNCD_CLOCK}")
        answered(_timesyncd_answer(builder, ctx, conf_texts()), "timesyncd-state")
    if service in ("chrony", None):
        tried.append("chronyc -n tracking")
        out = run(builder, ctx, ["chronyc", "-n", "tracking"], AREA, "linux.chronyc_tracking")
        answered(parse_chrony_tracking(out or ""), "chronyc")
    if service in ("ntpd", None):
        tried.append("ntpq -pn")
        out = run(builder, ctx, ["ntpq", "-pn"], AREA, "linux.ntpq_peers")
        answered(parse_ntpq_peers(out or ""), "ntpq")
        if need_sync and "synchronized" not in facts:
            tried.append("ntpstat")
            # exit status 0: synchronised, 1: not, 2: ntpd not answering (an error)
            out = run(builder, ctx, ["ntpstat"], AREA, "linux.ntpstat", ok_codes=(0, 1))
            answered(parse_ntpstat(out or ""), "ntpstat")
    if service == "none":
        tried.append("no time client runs (chronyd, ntpd, systemd-timesyncd)")
    return facts, tried


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
    memo: dict[str, list[str]] = {}

    def conf_texts() -> list[str]:
        if "timesyncd" not in memo:
            memo["timesyncd"] = _timesyncd_texts(builder, ctx)
        return memo["timesyncd"]

    if ctx.live:
        service = _running_service(builder, ctx)
        if service is not None:
            facts["service"] = service
        out = run(builder, ctx, ["timedatectl", "show"], AREA, "linux.timedatectl_show")
        if out is not None:
            facts.update(parse_timedatectl(out))
            if "synchronized" in facts:
                facts["sync_source"] = "timedatectl"
        found, tried = _daemon_answers(builder, ctx, service, "synchronized" not in facts, conf_texts)
        facts.update(found)
        if "synchronized" not in facts:
            builder.add_error(AREA, "synchronized: no source answered; tried "
                                    + ", ".join(["timedatectl show", *tried]))
    else:
        not_live(builder, ctx, AREA, "service, synchronized, ntp_enabled")

    live_servers = None
    if service == "chrony":
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
        readers = {"chrony": lambda: _chrony_config_servers(builder, ctx),
                   "ntpd": lambda: _ntp_config_servers(builder, ctx),
                   "systemd-timesyncd": lambda: _timesyncd_config_servers(conf_texts())}
        order = [readers[service]] if service in readers else list(readers.values())
        for reader in order:
            servers = reader()
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
