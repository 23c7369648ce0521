"""Area ``software``: the installed packages, from dpkg or rpm.

Debian family: /var/lib/dpkg/status is parsed directly (the same data ``dpkg-query`` prints,
without starting it; it works on a captured tree too). dpkg records no install date and no
vendor, so ``installed_on`` and ``publisher`` are absent. RHEL family: ``rpm -qa`` with a
query format giving name, epoch, version-release, architecture, vendor and install time;
``gpg-pubkey`` entries are imported signing keys, not software.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from auditor.evidence.bundle import BundleBuilder

from .common import Context, parse_os_release, read_text, run
from .updates import distro_family

AREA = "software"
DPKG_STATUS = "/var/lib/dpkg/status"
RPM_QUERY = "%{NAME}\\t%{EPOCH}\\t%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{VENDOR}\\t%{INSTALLTIME}\\n"
_INSTALLED_STATES = {"installed"}  # dpkg's third status word; half-installed, config-files... are not


def parse_dpkg_status(text: str) -> list[dict[str, Any]]:
    """Installed packages of a dpkg status file: ``{name, version, architecture}`` sorted by
    name and architecture (a multi-arch package installed twice is listed twice)."""
    out = []
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if not line or line[0] in " \t":
                continue  # continuation lines (Description, Conffiles) are not needed
            key, sep, value = line.partition(":")
            if sep and key in ("Package", "Status", "Version", "Architecture"):
                fields[key] = value.strip()
        status = fields.get("Status", "").split()
        if not fields.get("Package") or len(status) != 3 or status[2] not in _INSTALLED_STATES:
            continue
        out.append({"name": fields["Package"], "version": fields.get("Version") or None,
                    "architecture": fields.get("Architecture", "")})
    out.sort(key=lambda p: (p["name"], p["architecture"]))
    return out


def _none(value: str) -> str | None:
    return None if value in ("", "(none)") else value


def parse_rpm_packages(text: str) -> list[dict[str, Any]]:
    """Packages of ``rpm -qa --qf RPM_QUERY``: name, ``[epoch:]version-release``, architecture,
    vendor (null when rpm has none) and the install date in the collector's local time."""
    out = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 6 or not parts[0] or parts[0] == "gpg-pubkey":
            continue
        name, epoch, version, arch, vendor, installed = parts
        epoch_value = _none(epoch)
        record: dict[str, Any] = {
            "name": name, "version": f"{epoch_value}:{version}" if epoch_value else version,
            "publisher": _none(vendor), "architecture": "" if arch == "(none)" else arch,
        }
        if installed.strip().isdigit():
            record["installed_on"] = datetime.fromtimestamp(int(installed)).date().isoformat()
        out.append(record)
    out.sort(key=lambda p: (p["name"], p["architecture"], p["version"] or ""))
    return out


def collect(builder: BundleBuilder, ctx: Context) -> None:
    """dpkg's status file on the Debian family, rpm on the RHEL family."""
    os_text = read_text(builder, ctx, "/etc/os-release", AREA, "linux.os_release")
    if os_text is None:
        return
    values = parse_os_release(os_text)
    family = distro_family(values)
    if family == "debian":
        status = read_text(builder, ctx, DPKG_STATUS, AREA, "linux.dpkg_status")
        if status is not None:
            builder.set_fact(AREA, parse_dpkg_status(status))
    elif family == "rhel":
        out = run(builder, ctx, ["rpm", "-qa", "--qf", RPM_QUERY], AREA, "linux.rpm_packages", timeout=60)
        if out is not None:
            builder.set_fact(AREA, parse_rpm_packages(out))
    else:
        builder.add_error(AREA, f"unsupported distribution family: ID={values.get('ID', '')!r} "
                                f"ID_LIKE={values.get('ID_LIKE', '')!r}", "/etc/os-release")
