"""Area ``logging``: journald storage and retention, the syslog daemon and remote forwarding
(syslog forwarding actions, or systemd-journal-upload with a URL), logrotate's global default
and how long the host keeps its local logs.

Whether a daemon is active comes from ``systemctl is-active``; where systemd is not
PID 1 that fails (recorded as an error) and the process table answers instead.
"""

from __future__ import annotations

import json
import re
from typing import Any

from auditor.evidence.bundle import BundleBuilder

from .common import Context, exists, list_dir, not_live, parse_ini, process_names, read_optional, read_text, run

AREA = "logging"
JOURNALD_CONF = "/etc/systemd/journald.conf"
JOURNALD_DROPIN_DIRS = ("/usr/lib/systemd/journald.conf.d", "/etc/systemd/journald.conf.d")
JOURNAL_UPLOAD_BINARIES = ("/usr/lib/systemd/systemd-journal-upload", "/lib/systemd/systemd-journal-upload")
JOURNAL_UPLOAD_CONF = "/etc/systemd/journal-upload.conf"
LOGROTATE_CONF = "/etc/logrotate.conf"
LOGROTATE_PERIODS = {"daily": 1, "weekly": 7, "monthly": 30, "yearly": 365}
DAEMONS = {  # name -> (binary, unit, process name, main config, drop-in directory)
    "rsyslog": ("/usr/sbin/rsyslogd", "rsyslog.service", "rsyslogd", "/etc/rsyslog.conf", "/etc/rsyslog.d"),
    "syslog-ng": ("/usr/sbin/syslog-ng", "syslog-ng.service", "syslog-ng", "/etc/syslog-ng/syslog-ng.conf",
                  "/etc/syslog-ng/conf.d"),
}
_UNITS = [  # systemd.time(7); months and years are the averages systemd uses
    (("usec", "us", "µs"), 1e-6), (("msec", "ms"), 1e-3), (("seconds", "second", "sec", "s"), 1.0),
    (("minutes", "minute", "min", "m"), 60.0), (("hours", "hour", "hr", "h"), 3600.0),
    (("days", "day", "d"), 86400.0), (("weeks", "week", "w"), 604800.0),
    (("months", "month", "M"), 2629800.0), (("years", "year", "y"), 31557600.0),
]
_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*([A-Za-zµ]*)")


def parse_timespan(value: str) -> float | None:
    """A systemd time span (``1month``, ``2w 3d``, ``3600``) in seconds; bare numbers are seconds."""
    value = value.strip()
    if not value:
        return None
    total = 0.0
    pos = 0
    for m in _SPAN.finditer(value):
        if value[pos:m.start()].strip():
            return None
        pos = m.end()
        unit = m.group(2)
        factor = 1.0 if unit == "" else next((f for names, f in _UNITS if unit in names), None)
        if factor is None:
            return None
        total += float(m.group(1)) * factor
    return total if not value[pos:].strip() else None


def journald_settings(texts: list[str]) -> dict[str, str]:
    """The [Journal] settings of journald.conf and its drop-ins, later files overriding."""
    out: dict[str, str] = {}
    for text in texts:
        out.update(parse_ini(text).get("Journal", {}))
    return out


def journald_facts(settings: dict[str, str], journal_dir_exists: bool) -> dict[str, Any]:
    """``logging.journald`` without ``active``: Storage (default ``auto``), whether logs
    survive a reboot, MaxRetentionSec in whole days (null when unset or 0), SystemMaxUse."""
    storage = settings.get("Storage", "").strip().lower() or "auto"
    retention = parse_timespan(settings.get("MaxRetentionSec", ""))
    return {
        "storage": storage,
        "persistent": storage == "persistent" or (storage == "auto" and journal_dir_exists),
        "max_retention_days": int(retention // 86400) if retention else None,
        "max_use": settings.get("SystemMaxUse", "").strip() or None,
    }


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    lines = []
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#"):
            continue
        lines.append(re.sub(r"\s#.*$", "", raw))
    return "\n".join(lines)


def _target(proto: str, host: str, port: str | None, default_port: int) -> str:
    host = host.strip("[]")
    host = f"[{host}]" if ":" in host else host
    return f"{proto}://{host}:{port or default_port}"


def rsyslog_targets(text: str) -> list[str]:
    """Remote destinations in rsyslog configuration: legacy ``@host`` (UDP), ``@@host``
    (TCP), ``:omrelp:host:port`` and RainerScript ``action(type="omfwd"|"omrelp" ...)``."""
    text = _strip_comments(text)
    out: list[str] = []
    for m in re.finditer(r"(?:^|\s)(@@?)(?:\([^)]*\))?(\[[^\]]+\]|[A-Za-z0-9_.\-]+)(?::(\d+))?", text, re.M):
        out.append(_target("tcp" if m.group(1) == "@@" else "udp", m.group(2), m.group(3), 514))
    for m in re.finditer(r":omrelp:([^:\s;]+):(\d+)", text):
        out.append(_target("relp", m.group(1), m.group(2), 514))
    for m in re.finditer(r"\baction\s*\((.*?)\)", text, re.S):
        params = dict(re.findall(r'(\w+)\s*=\s*"([^"]*)"', m.group(1)))
        kind = params.get("type", "").lower()
        if kind == "omfwd" and params.get("target"):
            out.append(_target(params.get("protocol", "udp").lower(), params["target"], params.get("port"), 514))
        elif kind == "omrelp" and params.get("target"):
            out.append(_target("relp", params["target"], params.get("port"), 514))
    return list(dict.fromkeys(out))


def syslog_ng_targets(text: str) -> list[str]:
    """Remote destinations in syslog-ng configuration: network(), syslog(), tcp()/udp() drivers
    with a quoted host (sources name their address with ip(), so they do not match)."""
    text = _strip_comments(text)
    out: list[str] = []
    for m in re.finditer(r"\b(network|syslog|tcp6?|udp6?)\s*\(\s*\"([^\"]+)\"([^;]*)", text):
        driver, host, options = m.groups()
        transport = re.search(r'transport\s*\(\s*"?(\w+)"?\s*\)', options)
        port = re.search(r"port\s*\(\s*(\d+)\s*\)", options)
        proto = transport.group(1).lower() if transport else (
            "tcp" if driver in ("syslog", "tcp", "tcp6") else "udp")
        out.append(_target(proto, host, port.group(1) if port else None, 601 if driver == "syslog" else 514))
    return list(dict.fromkeys(out))


def journal_upload_url(texts: list[str]) -> str | None:
    """The ``[Upload] URL=`` systemd-journal-upload sends the journal to, from its configuration files."""
    url = None
    for text in texts:
        url = parse_ini(text).get("Upload", {}).get("URL", url)
    return url or None


def parse_logrotate(text: str) -> dict[str, Any]:
    """The global default of logrotate.conf (directives outside ``{ }`` blocks; included files
    are not read): ``period_days`` (null when no period is set), ``rotate_count`` (logrotate's
    default 0 when not set; null for ``rotate -1``, never removed) and ``retention_days``
    (period × count; null when nothing is removed; absent when no period is set or the
    period is ``hourly``, which whole days cannot express)."""
    depth = 0
    period: str | None = None
    count: int | None = 0
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        opens, closes = line.count("{"), line.count("}")
        if depth == 0 and not opens:
            words = line.split()
            if words[0] in LOGROTATE_PERIODS or words[0] == "hourly":
                period = words[0]
            elif words[0] == "rotate" and len(words) > 1:
                try:
                    value = int(words[1])
                except ValueError:
                    continue
                count = None if value < 0 else value
        depth = max(0, depth + opens - closes)
    facts: dict[str, Any] = {"period_days": LOGROTATE_PERIODS.get(period) if period else None,
                             "rotate_count": count}
    if period == "hourly":
        del facts["period_days"]
    elif period is not None:
        facts["retention_days"] = None if count is None else LOGROTATE_PERIODS[period] * count
    return facts


def local_retention(journald: dict[str, Any] | None, logrotate: dict[str, Any] | None,
                    logrotate_installed: bool, syslog_installed: bool) -> tuple[bool, int | None]:
    """(known, days): how long the host keeps local logs, the larger of a persistent journal's
    retention and logrotate's (None: unlimited). Unknown when a deciding part is unknown."""
    values: list[int | None] = []
    if journald is None or "persistent" not in journald:
        return False, None
    if journald["persistent"]:
        values.append(journald.get("max_retention_days"))
    if logrotate_installed:
        if logrotate is None or "retention_days" not in logrotate:
            return False, None
        values.append(logrotate["retention_days"])
    elif syslog_installed:
        return False, None  # syslog files without logrotate: what removes them is not known here
    if any(v is None for v in values):
        return True, None
    return True, max([v for v in values if v is not None], default=0)


def parse_is_active(text: str, units: list[str]) -> dict[str, bool]:
    """``systemctl is-active u1 u2 ...``: one state per line, in the order asked."""
    states = [line.strip() for line in text.splitlines() if line.strip()]
    if len(states) != len(units):
        return {}
    return {unit: state == "active" for unit, state in zip(units, states, strict=True)}


def _journald_texts(builder: BundleBuilder, ctx: Context) -> list[str] | None:
    texts = []
    main = read_text(builder, ctx, JOURNALD_CONF, AREA, "linux.journald_conf")
    if main is None:
        return None
    texts.append(main)
    dropins: dict[str, str] = {}
    for directory in JOURNALD_DROPIN_DIRS:  # /etc masks a vendor drop-in of the same name
        for path in list_dir(builder, ctx, directory, AREA, "*.conf"):
            dropins[path.rsplit("/", 1)[-1]] = path
    for name in sorted(dropins):
        text = read_text(builder, ctx, dropins[name], AREA, "linux.journald_conf")
        if text is None:
            return None
        texts.append(text)
    return texts


def _process_states(builder: BundleBuilder, ctx: Context, wanted: dict[str, str]) -> dict[str, bool] | None:
    """unit -> whether a process with the daemon's name runs (fallback without systemd)."""
    names = process_names(builder, ctx, AREA)  # the process table shared by the areas
    if names is None:
        return None
    found = {unit: any(n.startswith(proc) for n in names) for unit, proc in wanted.items()}
    builder.add_source("psutil.process_iter(['name']) logging daemons", "linux.logging_processes",
                       json.dumps(found, sort_keys=True).encode(), AREA)
    return found


def collect(builder: BundleBuilder, ctx: Context) -> None:
    """journald settings, the installed syslog daemon's forwarding, and which of them run."""
    facts: dict[str, Any] = {}
    daemon = next((name for name, spec in DAEMONS.items() if exists(ctx, spec[0])), None)

    units = {"systemd-journald.service": "systemd-journal"}
    if daemon:
        units[DAEMONS[daemon][1]] = DAEMONS[daemon][2]
    states: dict[str, bool] | None = None
    if ctx.live:
        out = run(builder, ctx, ["systemctl", "is-active", *units], AREA, "linux.systemctl_is_active",
                  ok_codes=(0, 3, 4))
        states = parse_is_active(out, list(units)) if out is not None else None
        if not states:
            states = _process_states(builder, ctx, units)
    else:
        not_live(builder, ctx, AREA, "journald and syslog daemon state")

    texts = _journald_texts(builder, ctx)
    if texts is not None:
        journald = journald_facts(journald_settings(texts), ctx.path("/var/log/journal").is_dir())
        if states is not None:
            journald = {"active": states["systemd-journald.service"], **journald}
        facts["journald"] = journald

    syslog: dict[str, Any] = {"installed": daemon is not None, "daemon": daemon}
    if daemon is None:
        syslog.update(active=False, forwarding=False, targets=[])
    else:
        if states is not None:
            syslog["active"] = states[DAEMONS[daemon][1]]
        targets = _daemon_targets(builder, ctx, daemon)
        if targets is not None:
            syslog.update(forwarding=bool(targets), targets=targets)
    facts["syslog"] = syslog
    upload = _journal_upload(builder, ctx)
    if upload and "journald" in facts:
        facts["journald"]["upload_url"] = upload
    if upload or syslog.get("forwarding"):
        facts["forwarding"] = True
    elif "forwarding" in syslog:
        facts["forwarding"] = False
    _add_retention(builder, ctx, facts, daemon is not None)
    builder.set_fact(AREA, facts)


def _add_retention(builder: BundleBuilder, ctx: Context, facts: dict[str, Any], syslog_installed: bool) -> None:
    """``logrotate`` and ``retention_days`` (docs/facts.md), each left out when not decidable."""
    installed = exists(ctx, LOGROTATE_CONF)
    logrotate = None
    if installed:
        text = read_text(builder, ctx, LOGROTATE_CONF, AREA, "linux.logrotate_conf")
        if text is not None:
            logrotate = parse_logrotate(text)
            if "period_days" not in logrotate:
                builder.add_error(AREA, "logrotate: hourly rotation cannot be written in whole days",
                                  LOGROTATE_CONF)
            elif "retention_days" not in logrotate:
                builder.add_error(AREA, "logrotate: no rotation period in the global default, "
                                        "so its retention is not known", LOGROTATE_CONF)
            facts["logrotate"] = logrotate
    known, days = local_retention(facts.get("journald"), logrotate, installed, syslog_installed)
    if known:
        facts["retention_days"] = days
    elif not installed and syslog_installed:
        builder.add_error(AREA, f"retention_days: a syslog daemon is installed but no {LOGROTATE_CONF}; "
                                "how its files are removed is not known", LOGROTATE_CONF)


def _journal_upload(builder: BundleBuilder, ctx: Context) -> str | None:
    """The URL systemd-journal-upload is configured to send to, when it is installed."""
    if not any(exists(ctx, path) for path in JOURNAL_UPLOAD_BINARIES):
        return None
    texts = []
    for path in [JOURNAL_UPLOAD_CONF, *list_dir(builder, ctx, JOURNAL_UPLOAD_CONF + ".d", AREA, "*.conf")]:
        text = read_optional(builder, ctx, path, AREA, "linux.journal_upload_conf")
        if text is not None:
            texts.append(text)
    return journal_upload_url(texts)


def _daemon_targets(builder: BundleBuilder, ctx: Context, daemon: str) -> list[str] | None:
    _, _, _, main, dropin_dir = DAEMONS[daemon]
    parse = rsyslog_targets if daemon == "rsyslog" else syslog_ng_targets
    text = read_text(builder, ctx, main, AREA, f"linux.{daemon}_conf")
    if text is None:
        return None
    targets = parse(text)
    for path in list_dir(builder, ctx, dropin_dir, AREA, "*.conf"):
        sub = read_optional(builder, ctx, path, AREA, f"linux.{daemon}_conf")
        if sub is None:
            return None
        targets.extend(t for t in parse(sub) if t not in targets)
    return targets
