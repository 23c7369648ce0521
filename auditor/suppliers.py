"""Which collector or importer supplies each fact area.

A check that cannot be evaluated because its evidence was never supplied (a Windows PC
imported from ``secedit`` alone has no ``software`` area) is a different matter from one whose
evidence is broken: the first is fixed by running the collector or import named here, the
second by repairing a file. Reports say which, so that a score of 100 on a tenth of the checks
is visibly that. ``tests/test_suppliers.py`` holds this table to what each collector and
importer really writes.
"""

from __future__ import annotations

LINUX = "auditor collect (Linux)"
WINDOWS = "auditor import windows-raw (collect-windows.ps1)"

SUPPLIERS: dict[str, tuple[str, ...]] = {
    "accounts": (LINUX,),
    "antimalware": (LINUX, WINDOWS),
    "audit_daemon": (LINUX,),
    "audit_policy": (WINDOWS, "auditor import auditpol"),
    "directory_accounts": ("auditor import ad-users",),
    "disk_encryption": (LINUX, WINDOWS),
    "exceptions_register": ("auditor import exceptions-register",),
    "firewall": (LINUX, WINDOWS, "auditor import fortigate", "auditor import iptables", "auditor import nftables"),
    "firewall_input_rules": ("auditor import iptables", "auditor import nftables"),
    "firewall_rules": ("auditor import fortigate", "auditor import iptables", "auditor import nftables"),
    "hr_roster": ("auditor import hr-roster",),
    "interfaces": (LINUX, WINDOWS, "auditor import fortigate"),
    "listening": (LINUX, WINDOWS),
    "local_admins": (LINUX, WINDOWS),
    "lockout_policy": (LINUX, WINDOWS, "auditor import secedit", "auditor import net-accounts",
                       "auditor import ad-password-policy"),
    "logging": (LINUX, WINDOWS),  # Windows: forwarding only (GL-A19)
    "os": (LINUX, WINDOWS, "auditor import secedit", "auditor import net-accounts", "auditor import hotfix",
           "auditor import auditpol"),
    "password_policy": (LINUX, WINDOWS, "auditor import secedit", "auditor import net-accounts",
                        "auditor import ad-password-policy"),
    "fine_grained_password_policies": ("auditor import ad-password-policy",),
    "patches": (LINUX, WINDOWS, "auditor import hotfix"),
    "remote_desktop": (WINDOWS,),
    "removable_media": (LINUX, WINDOWS),
    "routing": (LINUX,),
    "screen_lock": (LINUX, WINDOWS),
    "segments": (LINUX, WINDOWS, "auditor import fortigate"),
    "software": (LINUX, WINDOWS),
    "ssh_server": (LINUX,),
    "time_sync": (LINUX, WINDOWS),
    "training_records": ("auditor import training",),
    "updates": (LINUX,),
    "zones": ("--zones FILE with auditor import fortigate, iptables or nftables",),
    # issue #14: endpoint facts for GL-D09, GL-C07, GL-A14, GL-A17/A18 and GL-A19
    "linux_baseline": (LINUX,),
    "autorun": (WINDOWS,),
    "wifi_profiles": (LINUX, WINDOWS),
    "services": (LINUX, WINDOWS),
    # the organisation's registers (issue #14: GL-C15, E04, D14, F03, F05, F11, F12), and the run's own targets
    "asset_register": ("auditor import asset-register",),
    "backup_jobs": ("auditor import backup-log",),
    "cloud_services": ("auditor import cloud-register",),
    "vendor_accounts": ("auditor import vendor-contracts",),
    "self_inspections": ("auditor import self-inspection",),
    "audit_targets": ("auditor audit (the run's own targets, beside an organisation bundle)",),
}


def suppliers_of(area: str) -> list[str]:
    """The collectors and importers that write ``area`` (empty for an area no one writes)."""
    return list(SUPPLIERS.get(area, ()))
