"""Areas ``updates`` (pending from the package manager) and ``patches`` (when updates were installed).

Debian family: apt and dpkg; RHEL family: dnf (or yum) and rpm. The family comes from
os-release ID / ID_LIKE; any other family is recorded as an error, not guessed.
"""

from __future__ import annotations

import glob
import os
import re
from datetime import datetime
from typing import Any

from auditor.evidence.bundle import BundleBuilder

from .common import Context, exists, iso_instant, parse_os_release, read_text, run
from .early import APT_TIMEOUT, APT_UPGRADABLE, DNF_TIMEOUT, dnf_check_update, dnf_manager, dnf_security
from .osrelease import DEBIAN_IDS as DEBIAN_IDS
from .osrelease import RHEL_IDS as RHEL_IDS
from .osrelease import distro_family as distro_family
from .rotated import read_rotated

APT_LISTS = "/var/lib/apt/lists"
DNF_METADATA = ("/var/cache/dnf/*/repodata/repomd.xml", "/var/cache/libdnf5/*/repodata/repomd.xml",
                "/var/cache/yum/*/*/*/repomd.xml")
DNF_RPM_LOG = "/var/log/dnf.rpm.log"
_APT_LINE = re.compile(r"^(?P<name>[^/\s]+)/(?P<suites>\S+)\s+(?P<version>\S+)\s+(?P<arch>\S+)\s+\[upgradable from:")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CLOCK = re.compile(r"[0-9]{2}:[0-9]{2}:[0-9]{2}")
# dnf.rpm.log: "2026-02-14T09:30:12+0000 SUBDEBUG Upgrade: openssl-libs-1:3.2.2-6.el9.x86_64"
_DNF_LINE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)) "
                       r"SUBDEBUG ([A-Za-z]+): \S")
_NEVRA = re.compile(r"^(?P<name>.+)-(?:\d+:)?[^-]+-[^-]+\.(?P<arch>x86_64|noarch|aarch64|i686|ppc64le|s390x)$")


def parse_apt_upgradable(text: str) -> dict[str, Any]:
    """``apt list --upgradable``: one line per package and architecture.

    A package is a security update when one of the suites it comes from (``suite`` or
    ``suite1,suite2`` after the slash) is a security suite, e.g. bookworm-security.
    """
    pending = 0
    security: set[str] = set()
    for line in text.splitlines():
        m = _APT_LINE.match(line.strip())
        if not m:
            continue
        pending += 1
        if any("security" in suite for suite in m.group("suites").split(",")):
            security.add(m.group("name"))
    return {"pending": pending, "pending_security": len(security),
            "packages_pending_security": sorted(security)}


def parse_dnf_check_update(text: str) -> int:
    """Number of updates in ``dnf -q check-update`` (name.arch version repo rows; long
    names wrap onto a second line; the Obsoleting Packages section is not counted)."""
    count = 0
    pending_tokens: list[str] = []
    for line in text.splitlines():
        if line.startswith("Obsoleting Packages"):
            break
        if not line.strip() or line.startswith(("Last metadata", "Security:")):
            continue
        pending_tokens.extend(line.split())
        if len(pending_tokens) >= 3:
            count += 1
            pending_tokens = []
    return count


def parse_dnf_security(text: str) -> list[str]:
    """Package names with a pending security advisory in ``dnf updateinfo list --security``."""
    names: set[str] = set()
    for line in text.splitlines():
        for token in line.split():
            m = _NEVRA.match(token)
            if m:
                names.add(m.group("name"))
    return sorted(names)


def newest_mtime(listing: str) -> float | None:
    """The newest time in an ``<mtime> <path>`` listing, else None."""
    times = [float(line.split(None, 1)[0]) for line in listing.splitlines() if line.strip()]
    return max(times) if times else None


def _wall_clock(day: str, clock: str) -> datetime | None:
    """``YYYY-MM-DD`` and ``HH:MM:SS`` as a naive local time, or None when either is not one."""
    if not (_DAY.fullmatch(day) and _CLOCK.fullmatch(clock)):
        return None
    try:
        return datetime.strptime(f"{day} {clock}", "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def last_dpkg_upgrade(texts: list[str]) -> datetime | None:
    """The newest upgrade of an already-installed package that dpkg completed, from dpkg.log
    texts given oldest first (local wall-clock time, naive); None when they record none.

    Installing a package new to the host is no update, so ``install`` lines never count: a
    host with security updates pending must not look patched because someone installed htop.
    An ``upgrade PKG OLD NEW`` line counts once dpkg logs ``status installed PKG NEW`` (in the
    same run, a later one or a later file) and is dated by the upgrade line. Not counted: an
    upgrade to the same version (a reinstall) and one left unpacked or half-configured.
    """
    pending: dict[str, tuple[datetime, str]] = {}  # package -> (upgrade line's time, new version)
    newest: datetime | None = None
    for text in texts:
        for line in text.splitlines():
            parts = line.split()
            if len(parts) < 4:
                continue
            action = parts[2]
            if action == "upgrade" and len(parts) == 6:
                _, _, _, package, old, new = parts
                when = _wall_clock(parts[0], parts[1])
                if when is not None and old not in (new, "<none>"):
                    pending[package] = (when, new)
                else:
                    pending.pop(package, None)
            elif action in ("install", "remove", "purge"):
                pending.pop(parts[3], None)
            elif action == "status" and len(parts) == 6 and parts[3] == "installed":
                _, _, _, _, package, version = parts
                started = pending.get(package)
                if started is not None and started[1] == version:
                    del pending[package]
                    newest = started[0] if newest is None or started[0] > newest else newest
    return newest


def _apt_upgrades(value: str) -> bool:
    """Whether an ``Upgrade:`` list (``name:arch (old, new), ...``) names a package whose version changed."""
    for item in value.split("),"):
        name, sep, versions = item.partition(" (")
        old, comma, new = versions.rstrip().removesuffix(")").partition(", ")
        if sep and comma and name.strip() and old and new and old != new and " " not in old + new:
            return True
    return False


def last_apt_upgrade(texts: list[str]) -> datetime | None:
    """The newest ``End-Date`` of an apt history.log entry that upgraded installed packages and
    finished without an ``Error:`` (local wall-clock time, naive); None when no entry did.

    ``Install:`` entries are new packages, not updates; an entry without an End-Date was
    interrupted. An entry with both Install: and Upgrade: (a new package pulling a newer
    library) counts by its upgrades.
    """
    newest: datetime | None = None
    for text in texts:
        upgraded: bool | None = None  # None: outside an entry
        failed = False
        for line in text.splitlines():
            key, sep, value = line.partition(":")
            if not sep:
                continue
            if key == "Start-Date":
                upgraded, failed = False, False
            elif upgraded is None:
                continue
            elif key == "Upgrade":
                upgraded = upgraded or _apt_upgrades(value)
            elif key == "Error":
                failed = True
            elif key == "End-Date":
                fields = value.split()
                when = _wall_clock(fields[0], fields[1]) if len(fields) == 2 else None
                if when is not None and upgraded and not failed:
                    newest = when if newest is None or when > newest else newest
                upgraded = None
    return newest


def last_dnf_upgrade(texts: list[str]) -> datetime | None:
    """The newest ``SUBDEBUG Upgrade:`` line of dnf.rpm.log texts (an aware time: dnf writes its
    offset); None when there is none. ``Installed:`` (a first install), ``Reinstall:`` and
    ``Downgrade:`` are not updates; rpm's own INSTALLTIME reads the same for all of them."""
    newest: datetime | None = None
    for text in texts:
        for line in text.splitlines():
            m = _DNF_LINE.match(line)
            if not m or m.group(2) != "Upgrade":
                continue
            try:
                when = datetime.fromisoformat(m.group(1))
            except ValueError:
                continue
            newest = when if newest is None or when > newest else newest
    return newest


def local_instant(when: datetime) -> str | None:
    """An ISO instant in the collector's local offset (a naive time is local wall-clock time),
    or None for a time the local zone cannot express (year 1 in a damaged log)."""
    try:
        return when.astimezone().isoformat(timespec="seconds")
    except (ValueError, OverflowError, OSError):
        return None


def count_dpkg_installed(text: str) -> int:
    """Packages in /var/lib/dpkg/status whose status is ``install ok installed``."""
    return sum(1 for line in text.splitlines() if line.strip() == "Status: install ok installed")


def parse_rpm_installtimes(text: str) -> tuple[int, float | None]:
    """(package count, newest install time) from ``rpm -qa --qf '%{INSTALLTIME} %{NAME}\\n'``.
    gpg-pubkey entries are imported keys, not packages."""
    count, newest = 0, None
    for line in text.splitlines():
        parts = line.split(None, 1)
        if len(parts) != 2 or parts[1].strip() == "gpg-pubkey":
            continue
        try:
            ts = float(parts[0])
        except ValueError:
            continue
        count += 1
        newest = ts if newest is None or ts > newest else newest
    return count, newest


def _family(builder: BundleBuilder, ctx: Context, area: str) -> str | None:
    text = read_text(builder, ctx, "/etc/os-release", area, "linux.os_release")
    if text is None:
        return None
    values = parse_os_release(text)
    family = distro_family(values)
    if family is None:
        builder.add_error(area, f"unsupported distribution family: ID={values.get('ID', '')!r} "
                                f"ID_LIKE={values.get('ID_LIKE', '')!r}", "/etc/os-release")
    return family


def _mtime_listing(builder: BundleBuilder, ctx: Context, area: str, patterns: tuple[str, ...],
                   label: str) -> float | None:
    """Newest mtime of the files matching the patterns, recorded as one stat source."""
    rows = []
    for pattern in patterns:
        for path in sorted(glob.glob(str(ctx.path(pattern)))):
            try:
                rows.append(f"{os.stat(path).st_mtime!r} {path}")
            except OSError as exc:
                builder.add_error(area, f"{path}: {exc.strerror or exc}", path)
    if not rows:
        builder.add_error(area, f"{label}: no package index files found (never refreshed?)",
                          ", ".join(patterns))
        return None
    listing = "\n".join(rows) + "\n"
    builder.add_source("stat: " + ", ".join(patterns), "linux.mtime_listing", listing.encode(), area)
    return newest_mtime(listing)


def collect_updates(builder: BundleBuilder, ctx: Context) -> None:
    """Pending updates (live only) and when the package index was last refreshed."""
    area = "updates"
    family = _family(builder, ctx, area)
    facts: dict[str, Any] = {}
    if family == "debian":
        facts["manager"] = "apt"
        # started before the other areas (see early.py): this waits for it
        out = run(builder, ctx, APT_UPGRADABLE, area, "linux.apt_upgradable", timeout=APT_TIMEOUT)
        if out is not None:
            facts.update(parse_apt_upgradable(out))
        newest = _mtime_listing(builder, ctx, area, (APT_LISTS + "/*Release",), APT_LISTS)
    elif family == "rhel":
        manager = dnf_manager(ctx.root)
        facts["manager"] = manager
        # check-update exits 100 when updates are available, 0 when none.
        out = run(builder, ctx, dnf_check_update(manager), area, "linux.dnf_check_update",
                  ok_codes=(0, 100), timeout=DNF_TIMEOUT)
        sec = run(builder, ctx, dnf_security(manager), area, "linux.dnf_updateinfo", timeout=DNF_TIMEOUT)
        if out is not None:
            facts["pending"] = parse_dnf_check_update(out)
        if sec is not None:
            names = parse_dnf_security(sec)
            facts.update(pending_security=len(names), packages_pending_security=names)
        newest = _mtime_listing(builder, ctx, area, DNF_METADATA, "dnf metadata cache")
    else:
        return
    if newest is not None:
        facts["lists_updated_at"] = iso_instant(newest)
    builder.set_fact(area, facts)


def _debian_last_update(builder: BundleBuilder, ctx: Context, area: str) -> tuple[bool, datetime | None]:
    """(history read?, newest upgrade) from dpkg.log and apt's history.log with their rotations."""
    dpkg = read_rotated(builder, ctx, "/var/log/dpkg.log", area, "linux.dpkg_log")
    apt = read_rotated(builder, ctx, "/var/log/apt/history.log", area, "linux.apt_history", required=False)
    found = [when for when in (last_dpkg_upgrade(dpkg), last_apt_upgrade(apt)) if when is not None]
    return bool(dpkg or apt), max(found, default=None)


def _dnf_last_update(builder: BundleBuilder, ctx: Context, area: str) -> tuple[bool, datetime | None]:
    """(history read?, newest upgrade) from dnf.rpm.log and its rotations."""
    if not exists(ctx, DNF_RPM_LOG):
        builder.add_error(area, f"last_installed_at: {DNF_RPM_LOG} not found, so no update history is known "
                                "(yum.log and dnf5's history are not read; rpm's install times do not tell an "
                                "update from a first install)", DNF_RPM_LOG)
        return False, None
    texts = read_rotated(builder, ctx, DNF_RPM_LOG, area, "linux.dnf_rpm_log")
    return bool(texts), last_dnf_upgrade(texts)


def collect_patches(builder: BundleBuilder, ctx: Context) -> None:
    """When installed packages were last updated, and how many packages are installed.

    ``last_installed_at`` is the newest update (an upgrade of a package already installed),
    never a first install: installing a new package does not patch the host. It is null when
    the package history was read and records no update at all.
    """
    area = "patches"
    family = _family(builder, ctx, area)
    facts: dict[str, Any] = {}
    if family == "debian":
        known, newest = _debian_last_update(builder, ctx, area)
        status = read_text(builder, ctx, "/var/lib/dpkg/status", area, "linux.dpkg_status")
        if status is not None:
            facts["installed_count"] = count_dpkg_installed(status)
    elif family == "rhel":
        known, newest = _dnf_last_update(builder, ctx, area)
        out = run(builder, ctx, ["rpm", "-qa", "--qf", "%{INSTALLTIME} %{NAME}\\n"], area,
                  "linux.rpm_installtime", timeout=60)
        if out is not None:
            facts["installed_count"] = parse_rpm_installtimes(out)[0]
    else:
        return
    if known:
        instant = None if newest is None else local_instant(newest)
        if newest is not None and instant is None:
            builder.add_error(area, f"last_installed_at: {newest} cannot be expressed in the local time zone")
        else:
            facts["last_installed_at"] = instant
    builder.set_fact(area, facts)
