"""The Linux host collector: runs every area concurrently and assembles one bundle.

Each area writes into its own BundleBuilder so that areas stay independent and can run
in parallel threads (the slow parts are subprocesses, which release the GIL); the
results are merged in a fixed area order so the bundle does not depend on timing.
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

from auditor.evidence.bundle import BundleBuilder
from auditor.evidence.collectors import CollectOptions
from auditor.evidence.segments import segments_fact

from . import (
    accounts,
    antimalware,
    audit_daemon,
    baseline,
    disk_encryption,
    early,
    firewall,
    local_admins,
    lockout,
    logging_,
    network,
    osinfo,
    passwords,
    removable_media,
    screen_lock,
    services,
    software,
    ssh_server,
    timesync,
    updates,
    wifi,
)
from .common import Context, make_context

COLLECTOR_NAME = "auditor-linux"

AREAS: dict[str, Callable[[BundleBuilder, Context], None]] = {
    "os": osinfo.collect,
    "accounts": accounts.collect,
    "password_policy": passwords.collect,
    "lockout_policy": lockout.collect,
    "listening": network.collect_listening,
    "interfaces": network.collect_interfaces,
    "routing": network.collect_routing,
    "updates": updates.collect_updates,
    "patches": updates.collect_patches,
    "time_sync": timesync.collect,
    "firewall": firewall.collect,
    "logging": logging_.collect,
    "removable_media": removable_media.collect,
    "disk_encryption": disk_encryption.collect,
    "antimalware": antimalware.collect,
    "software": software.collect,
    "ssh_server": ssh_server.collect,
    "local_admins": local_admins.collect,
    "audit_daemon": audit_daemon.collect,
    "screen_lock": screen_lock.collect,
    "linux_baseline": baseline.collect,
    "wifi_profiles": wifi.collect,
    "services": services.collect,
}


def _run_area(area: str, fn: Callable[[BundleBuilder, Context], None], ctx: Context,
              template: BundleBuilder) -> tuple[BundleBuilder, float]:
    sub = BundleBuilder(target_id=template.target_id, kind=template.kind,
                        collector_name=template.collector_name)
    start = time.perf_counter()
    try:
        fn(sub, ctx)
    except Exception as exc:  # a parser bug must not lose the other areas, nor pass silently
        sub.add_error(area, f"internal error: {type(exc).__name__}: {exc}")
        sub.facts.pop(area, None)
    return sub, time.perf_counter() - start


def collect_timed(options: CollectOptions, today: date | None = None) -> tuple[dict[str, Any], dict[str, float]]:
    """Collect a full bundle and how long each area took, in seconds (for benchmarks;
    timings are deliberately not part of the bundle)."""
    started = early.start(options.root)  # the slowest tools first: everything below overlaps them
    ctx = make_context(options.root, today)
    ctx.shared["early"] = started
    builder = BundleBuilder(target_id=options.target_id or socket.gethostname(), kind="endpoint",
                            collector_name=COLLECTOR_NAME, segment=options.segment,
                            department=options.department, labels=dict(options.labels))
    with ThreadPoolExecutor(max_workers=len(AREAS), thread_name_prefix="collect") as pool:
        futures = {area: pool.submit(_run_area, area, fn, ctx, builder) for area, fn in AREAS.items()}
        results = {area: future.result() for area, future in futures.items()}

    timings: dict[str, float] = {}
    seen: set[tuple[tuple[str, Any], ...]] = set()
    for area in AREAS:
        sub, seconds = results[area]
        timings[area] = seconds
        for source in sub.sources:
            key = tuple(sorted(source.items()))
            if key not in seen:  # the same input read twice for one area is listed once
                seen.add(key)
                builder.sources.append(source)
        builder.errors.extend(sub.errors)
        builder.facts.update(sub.facts)
    if options.zones is not None:
        start = time.perf_counter()
        _add_segments(builder, options)
        timings["segments"] = time.perf_counter() - start
    hostname = builder.facts.get("os", {}).get("hostname")
    if options.target_id is None and not ctx.live and hostname:
        builder.target_id = hostname  # a captured tree names its own host
    return builder.build(), timings


def _add_segments(builder: BundleBuilder, options: CollectOptions) -> None:
    """The ``segments`` area from the merged ``interfaces`` (it needs them, so it runs last)."""
    interfaces = builder.facts.get("interfaces")
    if interfaces is None:
        builder.add_error("segments", "not written: the interfaces area was not collected")
        return
    builder.set_fact("segments", segments_fact(interfaces, options.zones or [], options.zones_file or ""))


class LinuxCollector:
    """Collects `auditor-evidence/1` facts about the Linux host it runs on."""

    name = "linux"

    def supports(self) -> bool:
        """True on Linux."""
        return sys.platform.startswith("linux")

    def collect(self, options: CollectOptions) -> dict[str, Any]:
        """A full bundle for the host (or the tree at ``options.root``)."""
        return collect_timed(options)[0]
