"""Areas ``updates`` (pending from the package manager) and ``patches`` (what was installed).

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

from .common import Context, exists, iso_instant, parse_os_release, read_optional, read_text, run

DEBIAN_IDS = {"debian", "ubuntu", "linuxmint", "raspbian"}
RHEL_IDS = {"rhel", "fedora", "centos", "rocky", "almalinux", "ol", "amzn"}
APT_LISTS = "/var/lib/apt/lists"
DNF_METADATA = ("/var/cache/dnf/*/repodata/repomd.xml", "/var/cache/libdnf5/*/repodata/repomd.xml",
                "/var/cache/yum/*/*/*/repomd.xml")
_APT_LINE = re.compile(r"^(?P<name>[^/\s]+)/(?P<suites>\S+)\s+(?P<version>\S+)\s+(?P<arch>\S+)\s+\[upgradable from:")
_DPKG_EVENT = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (install|upgrade) ")
_NEVRA = re.compile(r"^(?P<name>.+)-(?:\d+:)?[^-]+-[^-]+\.(?P<arch>x86_64|noarch|aarch64|i686|ppc64le|s390x)$")


def distro_family(os_release: dict[str, str]) -> str | None:
    """``debian`` or ``rhel`` from os-release ID and ID_LIKE, else None."""
    ids = {os_release.get("ID", "").lower(), *os_release.get("ID_LIKE", "").lower().split()}
    if ids & DEBIAN_IDS:
        return "debian"
    if ids & RHEL_IDS:
        return "rhel"
    return None


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


def last_dpkg_install(texts: list[str]) -> datetime | None:
    """The newest install or upgrade in dpkg.log text (local wall-clock time, naive)."""
    newest = None
    for text in texts:
        for line in text.splitlines():
            m = _DPKG_EVENT.match(line)
            if m:
                when = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")
                newest = when if newest is None or when > newest else newest
    return newest


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
        out = run(builder, ctx, ["apt", "list", "--upgradable", "-o", "Apt::Cmd::Disable-Script-Warning=true"],
                  area, "linux.apt_upgradable", timeout=60)
        if out is not None:
            facts.update(parse_apt_upgradable(out))
        newest = _mtime_listing(builder, ctx, area, (APT_LISTS + "/*Release",), APT_LISTS)
    elif family == "rhel":
        manager = "dnf" if exists(ctx, "/usr/bin/dnf") else "yum"
        facts["manager"] = manager
        # check-update exits 100 when updates are available, 0 when none.
        out = run(builder, ctx, [manager, "-q", "check-update"], area, "linux.dnf_check_update",
                  ok_codes=(0, 100), timeout=120)
        sec = run(builder, ctx, [manager, "-q", "updateinfo", "list", "--security"], area,
                  "linux.dnf_updateinfo", timeout=120)
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


def collect_patches(builder: BundleBuilder, ctx: Context) -> None:
    """The newest install or upgrade and the number of installed packages."""
    area = "patches"
    family = _family(builder, ctx, area)
    facts: dict[str, Any] = {}
    if family == "debian":
        logs = []
        current = read_text(builder, ctx, "/var/log/dpkg.log", area, "linux.dpkg_log")
        if current is not None:
            logs.append(current)
        rotated = read_optional(builder, ctx, "/var/log/dpkg.log.1", area, "linux.dpkg_log")
        if rotated is not None:
            logs.append(rotated)
        if logs:
            when = last_dpkg_install(logs)
            if when is None:
                builder.add_error(area, "no install or upgrade recorded in /var/log/dpkg.log(.1)",
                                  "/var/log/dpkg.log")
            else:
                facts["last_installed_at"] = when.astimezone().isoformat(timespec="seconds")
        status = read_text(builder, ctx, "/var/lib/dpkg/status", area, "linux.dpkg_status")
        if status is not None:
            facts["installed_count"] = count_dpkg_installed(status)
    elif family == "rhel":
        out = run(builder, ctx, ["rpm", "-qa", "--qf", "%{INSTALLTIME} %{NAME}\\n"], area,
                  "linux.rpm_installtime", timeout=60)
        if out is not None:
            count, newest = parse_rpm_installtimes(out)
            facts["installed_count"] = count
            if newest is not None:
                facts["last_installed_at"] = iso_instant(newest)
    else:
        return
    builder.set_fact(area, facts)
