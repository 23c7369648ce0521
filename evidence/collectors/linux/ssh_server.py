"""Area ``ssh_server``: whether sshd is installed and running, and its effective settings.

The settings come only from ``sshd -T``, which prints the configuration sshd would really
use (defaults, Include files and all); it needs root, because sshd loads its host keys to
check them. Without it no settings are given: sshd_config alone is not the effective
configuration (defaults, Include order and first-match-wins would have to be guessed).
Host key paths are kept as printed; no key material is read.

``running``: an sshd process, or, where sshd is socket-activated (Ubuntu's ssh.socket starts
sshd only when a client connects), the enabled socket unit being active in systemd.
"""

from __future__ import annotations

from typing import Any

from auditor.evidence.bundle import BundleBuilder

from .common import Context, exists, run, running

AREA = "ssh_server"
SSHD_PATHS = ("/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd")
PROCESS = "sshd"
SOCKET_UNITS = ("ssh.socket", "sshd.socket")
SOCKET_WANTS = "/etc/systemd/system/sockets.target.wants"


def parse_sshd_t(text: str) -> dict[str, str]:
    """``keyword value`` lines of ``sshd -T``; a keyword printed several times (hostkey,
    listenaddress, port, acceptenv, subsystem) keeps every value, one per line, in order."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        key, _, value = line.partition(" ")
        key = key.lower()
        value = value.strip()
        out[key] = f"{out[key]}\n{value}" if key in out else value
    return out


def numeric_settings(settings: dict[str, str]) -> dict[str, int]:
    """ClientAliveInterval and ClientAliveCountMax as numbers, so that a check can compare them
    with a limit (``sshd -T`` prints them as whole seconds and a count)."""
    out = {}
    for key, name in (("clientaliveinterval", "client_alive_interval"),
                      ("clientalivecountmax", "client_alive_count_max")):
        value = settings.get(key, "").strip()
        if value.isascii() and value.isdigit():
            out[name] = int(value)
    return out


def socket_active(builder: BundleBuilder, ctx: Context, units: list[str]) -> bool | None:
    """Whether one of the enabled sshd socket units is active (``systemctl is-active``), None
    when systemd cannot say."""
    out = run(builder, ctx, ["systemctl", "is-active", *units], AREA, "linux.systemctl_is_active",
              ok_codes=(0, 3, 4))
    states = [line.strip() for line in (out or "").splitlines() if line.strip()]
    if out is None or len(states) != len(units):
        if out is not None:
            builder.add_error(AREA, "systemctl is-active: unexpected answer for " + ", ".join(units))
        return None
    return "active" in states


def collect(builder: BundleBuilder, ctx: Context) -> None:
    """Absent when sshd is not installed; else installed, running and (as root) the settings."""
    binary = next((p for p in SSHD_PATHS if exists(ctx, p)), None)
    if binary is None:
        return
    facts: dict[str, Any] = {"installed": True}
    procs = running(builder, ctx, AREA, [PROCESS])
    if procs is not None:
        facts["running"] = procs[PROCESS]
        sockets = [unit for unit in SOCKET_UNITS if exists(ctx, f"{SOCKET_WANTS}/{unit}")]
        if not procs[PROCESS] and sockets:
            active = socket_active(builder, ctx, sockets)
            if active is None:
                del facts["running"]  # an enabled socket unit may be listening: not known
            else:
                facts["running"] = active
    if not ctx.live:
        builder.add_error(AREA, f"sshd -T: not run, {ctx.root} is a file tree, not the running system",
                          f"command: {binary} -T")
    elif not ctx.root_user:
        builder.add_error(AREA, "sshd -T: not run, it needs root (sshd loads the host keys); "
                                "no settings are given", f"command: {binary} -T")
    else:
        out = run(builder, ctx, [binary, "-T"], AREA, "linux.sshd_t")
        if out is not None:
            settings = parse_sshd_t(out)
            if settings:
                facts["settings"] = settings
                facts.update(numeric_settings(settings))
            else:
                builder.add_error(AREA, "sshd -T printed no settings", f"command: {binary} -T")
    builder.set_fact(AREA, facts)
