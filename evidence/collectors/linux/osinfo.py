"""Area ``os``: distribution from os-release, kernel and boot time from the running system, and
the end of the release's security support from the dated table shipped in the package."""

from __future__ import annotations

import json
import os
from typing import Any

import psutil
from auditor.evidence.bundle import BundleBuilder
from auditor.evidence.eol import EolTableError, eol_for, load_table

from .common import Context, exists, iso_instant, not_live, parse_os_release, read_text

AREA = "os"


def os_release_facts(text: str) -> dict[str, str]:
    """The ``os`` keys os-release gives: name, id, version (absent when the file lacks them)."""
    values = parse_os_release(text)
    out: dict[str, str] = {}
    for key, field in (("name", "NAME"), ("id", "ID"), ("version", "VERSION_ID")):
        if values.get(field):
            out[key] = values[field]
    return out


def parse_hostname(text: str) -> str | None:
    """The host name from /etc/hostname (first non-comment line)."""
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            return line
    return None


def add_eol(builder: BundleBuilder, facts: dict[str, Any]) -> None:
    """``eol_date``/``eol_source`` for the release in ``facts`` (absent, with a note, when the
    table does not list it)."""
    if not facts.get("id") or not facts.get("version"):
        return
    try:
        answer = eol_for(facts["id"], facts["version"])
        table_date = load_table()["table_date"]
    except (EolTableError, OSError) as exc:
        builder.add_error(AREA, f"end-of-life table: {exc}")
        return
    if answer is None:
        builder.add_error(AREA, f"eol_date: {facts['id']} {facts['version']} is not in the end-of-life table "
                                f"of {table_date.isoformat()}")
        return
    facts["eol_date"], facts["eol_source"] = answer


def collect(builder: BundleBuilder, ctx: Context) -> None:
    """os-release always; uname and boot time only from the running system."""
    facts: dict[str, Any] = {"family": "linux"}
    # os-release(5): /etc/os-release takes precedence, /usr/lib/os-release is the fallback.
    path = "/usr/lib/os-release" if not exists(ctx, "/etc/os-release") and exists(
        ctx, "/usr/lib/os-release") else "/etc/os-release"
    text = read_text(builder, ctx, path, AREA, "linux.os_release")
    if text is not None:
        facts.update(os_release_facts(text))
        add_eol(builder, facts)

    if ctx.live:
        uname = os.uname()
        builder.add_source("os.uname()", "linux.uname", json.dumps(
            {"nodename": uname.nodename, "release": uname.release, "machine": uname.machine}).encode(), AREA)
        facts.update(hostname=uname.nodename, kernel=uname.release, architecture=uname.machine)
        try:
            boot = psutil.boot_time()
        except (OSError, psutil.Error) as exc:
            builder.add_error(AREA, f"psutil.boot_time: {exc}")
        else:
            builder.add_source("psutil.boot_time()", "linux.boot_time", repr(boot).encode(), AREA)
            facts["boot_time"] = iso_instant(boot)
    else:
        text = read_text(builder, ctx, "/etc/hostname", AREA, "linux.hostname")
        name = parse_hostname(text) if text is not None else None
        if name:
            facts["hostname"] = name
        not_live(builder, ctx, AREA, "kernel, architecture, boot_time")
    builder.set_fact(AREA, facts)
