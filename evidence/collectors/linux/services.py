"""Area ``services``: the systemd system services that are running, with their processes (GL-A17/A18).

Read from ``/proc/<pid>/cgroup`` and ``/proc/<pid>/comm`` under the collection root, so a
captured tree gives the same answer as the live host and no tool has to run: a process in
the cgroup ``/system.slice/falcon-sensor.service`` belongs to the running service
``falcon-sensor``. ``comm`` is cut at 15 characters by the kernel; a name of that length is
completed from ``cmdline``'s first word when that starts with it, as ps and psutil do.
Processes outside any system service (user sessions, a host without systemd) are not
services; the area then lists only what systemd runs. ``start_mode`` is ``auto`` when the
unit is enabled by a ``*.wants`` link in /etc/systemd/system, else null (static or started by
another unit). Both operating systems write the same shape (see the Windows importer), so an
EDR check reads either.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from auditor.evidence.bundle import BundleBuilder

from .common import Context

AREA = "services"
COMM_LENGTH = 15  # TASK_COMM_LEN - 1
_UNIT = re.compile(r"^[A-Za-z0-9:_.\\@-]+\.service$")


def service_of(cgroup: str) -> str | None:
    """The system service a process runs in, from its /proc/<pid>/cgroup text (the unified
    hierarchy ``0::``, or systemd's own ``name=systemd`` one); None outside one."""
    for line in cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3 or parts[1] not in ("", "name=systemd") or not parts[2].startswith("/system.slice/"):
            continue
        for part in parts[2].split("/")[2:]:
            if _UNIT.match(part):
                return part.removesuffix(".service")
    return None


def process_name(comm: str, cmdline: bytes) -> str:
    """The process name: ``comm``, completed from argv[0] when the kernel cut it short."""
    name = comm.rstrip("\n")
    if len(name) == COMM_LENGTH and cmdline:
        first = os.path.basename(cmdline.split(b"\0", 1)[0].split(b" ", 1)[0].decode("utf-8", "replace"))
        if first.startswith(name):
            return first
    return name


def _read(path: os.PathLike[str] | str, size: int = 1 << 16) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read(size)
    except OSError:  # the process ended between the listing and the read, or it is not ours to read
        return None


def _enabled(ctx: Context) -> set[str]:
    base = ctx.path("/etc/systemd/system")
    found: set[str] = set()
    try:
        wants = [e.path for e in os.scandir(base) if e.name.endswith(".wants") and e.is_dir()]
    except OSError:
        return found
    for folder in wants:
        try:
            found |= {e.name.removesuffix(".service") for e in os.scandir(folder) if e.name.endswith(".service")}
        except OSError:
            continue
    return found


def collect(builder: BundleBuilder, ctx: Context) -> None:
    """The running system services; an error when /proc lists no process at all."""
    proc = ctx.path("/proc")
    try:
        pids = sorted((e.name for e in os.scandir(proc) if e.name.isdigit()), key=int)
    except OSError as exc:
        builder.add_error(AREA, f"{proc}: {exc.strerror or exc}", str(proc))
        return
    if not pids:
        builder.add_error(AREA, f"{proc}: no process directories, so which services run is unknown", str(proc))
        return
    running: dict[str, set[str]] = {}
    for pid in pids:
        cgroup = _read(proc / pid / "cgroup")
        comm = _read(proc / pid / "comm")
        if cgroup is None or comm is None:
            continue
        unit = service_of(cgroup.decode("utf-8", "replace"))
        if unit is None:
            continue
        name = process_name(comm.decode("utf-8", "replace"), _read(proc / pid / "cmdline") or b"")
        running.setdefault(unit, set()).add(name)
    enabled = _enabled(ctx)
    services: list[dict[str, Any]] = [
        {"name": unit, "display_name": None, "state": "running", "start_mode": "auto" if unit in enabled else None,
         "processes": sorted(names)} for unit, names in sorted(running.items())]
    builder.add_source(f"{proc}/*/cgroup, comm ({len(pids)} processes)", "linux.proc_services",
                       json.dumps(services, sort_keys=True).encode(), AREA)
    builder.set_fact(AREA, services)
