"""Cerberus rules for the value of each known fact area (docs/facts.md).

``FACT_SCHEMAS[area]`` validates ``facts[area]``. Every key is optional because a value
the source does not give is absent, never guessed; ``nullable`` marks the keys whose
``null`` has a documented meaning. Unknown keys inside an area are allowed so that a
collector can add detail without breaking validation.
"""

from __future__ import annotations

from typing import Any

from auditor.schemas.bundle import INSTANT

DATE = r"\d{4}-\d{2}-\d{2}"

Rule = dict[str, Any]


def _not_boolean(field: str, value: Any, error: Any) -> None:
    """Cerberus counts True/False as integers; a boolean where a count belongs is a collector bug."""
    if isinstance(value, bool):
        error(field, "expected integer, got bool")


_not_boolean.rejects_bool = True  # type: ignore[attr-defined]  # compiled.py folds it into its type check


def _integer(minimum: int | None = 0, maximum: int | None = None, nullable: bool = False) -> Rule:
    rule: Rule = {"type": "integer", "check_with": _not_boolean, "nullable": nullable}
    if minimum is not None:
        rule["min"] = minimum
    if maximum is not None:
        rule["max"] = maximum
    return rule


STRING: Rule = {"type": "string"}
BOOLEAN: Rule = {"type": "boolean"}
COUNT: Rule = _integer()
DAYS_OR_NULL: Rule = _integer(nullable=True)
DATE_OR_NULL: Rule = {"type": "string", "regex": DATE, "nullable": True}
INSTANT_RULE: Rule = {"type": "string", "regex": INSTANT}
STRINGS: Rule = {"type": "list", "schema": {"type": "string"}}


def _record(schema: dict[str, Rule]) -> Rule:
    return {"type": "dict", "allow_unknown": True, "schema": schema}


def _list_of(schema: dict[str, Rule]) -> Rule:
    return {"type": "list", "schema": _record(schema)}


def _one_of(*values: str, nullable: bool = False) -> Rule:
    return {"type": "string", "allowed": list(values), "nullable": nullable}


OS = _record({
    "family": _one_of("linux", "windows"),
    "name": STRING, "id": STRING, "version": STRING, "build": STRING, "kernel": STRING,
    "hostname": STRING, "architecture": STRING,
    "boot_time": INSTANT_RULE,
    "eol_date": DATE_OR_NULL, "eol_source": STRING,
})

ACCOUNTS = _list_of({
    "name": {"type": "string", "empty": False, "required": True},
    "uid": COUNT, "gid": COUNT,
    "home": STRING, "shell": STRING,
    "system": BOOLEAN, "login_allowed": BOOLEAN, "enabled": BOOLEAN,
    "password_set": BOOLEAN, "password_empty": BOOLEAN, "locked": BOOLEAN,
    "last_password_change": DATE_OR_NULL,
    "password_max_days": DAYS_OR_NULL, "password_min_days": DAYS_OR_NULL,
    "password_warn_days": DAYS_OR_NULL, "inactive_days": DAYS_OR_NULL,
    "expires": DATE_OR_NULL,
    "groups": STRINGS,
    "admin": BOOLEAN,
})

PASSWORD_POLICY = _record({
    "min_length": COUNT,
    "min_char_classes": _integer(0, 4),
    "complexity": BOOLEAN,
    "max_age_days": DAYS_OR_NULL, "min_age_days": DAYS_OR_NULL, "warn_age_days": DAYS_OR_NULL,
    "history": COUNT,
    "hash_algorithm": {"type": "string", "regex": r"[A-Z0-9_]+"},
    "reversible_encryption": BOOLEAN,
    "inactive_days": DAYS_OR_NULL,
    "sources": STRINGS,
})

LOCKOUT_POLICY = _record({
    "enabled": BOOLEAN, "threshold": COUNT, "duration_minutes": COUNT, "window_minutes": COUNT,
    "applies_to_root": BOOLEAN,
})

LISTENING = _list_of({
    "protocol": {**_one_of("tcp", "udp"), "required": True},
    "address": STRING,
    "port": {**_integer(0, 65535), "required": True},
    "family": _one_of("ipv4", "ipv6"),
    "loopback": BOOLEAN,
    "pid": _integer(nullable=True),
    "process": {"type": "string", "nullable": True},
    "user": {"type": "string", "nullable": True},
})

INTERFACES = _list_of({
    "name": {"type": "string", "empty": False, "required": True},
    "up": BOOLEAN, "loopback": BOOLEAN, "wireless": BOOLEAN,
    "mac": {"type": "string", "nullable": True},
    "addresses": _list_of({
        "family": _one_of("ipv4", "ipv6"),
        "address": STRING,
        "prefixlen": _integer(0, 128),
    }),
})

ROUTING = _record({"ip_forward_v4": BOOLEAN, "ip_forward_v6": BOOLEAN, "default_gateways": STRINGS})

UPDATES = _record({
    "manager": _one_of("apt", "dnf", "yum", "zypper", "windows-update"),
    "pending": COUNT, "pending_security": COUNT,
    "packages_pending_security": STRINGS,
    "lists_updated_at": INSTANT_RULE,
})

# last_installed_at: the newest update (null: the package history records none), never a first install.
PATCHES = _record({
    "last_installed_at": {**INSTANT_RULE, "nullable": True}, "last_security_installed_at": INSTANT_RULE,
    "installed_count": COUNT,
})

TIME_SYNC = _record({
    "synchronized": BOOLEAN, "ntp_enabled": BOOLEAN,
    "service": _one_of("chrony", "systemd-timesyncd", "ntpd", "w32time", "none"),
    "servers": STRINGS,
    "offset_seconds": {"type": "number", "min": 0, "check_with": _not_boolean},
    "timezone": STRING,
    # which source answered `synchronized` (Linux), and when timesyncd last synchronised
    "sync_source": _one_of("timedatectl", "timesyncd-state", "chronyc", "ntpq", "ntpstat"),
    "last_synchronized_at": INSTANT_RULE,
})

_POLICY = _one_of("accept", "drop", "reject")
FIREWALL = _record({
    "enabled": BOOLEAN,
    "backend": _one_of("nftables", "iptables", "windows", "none"),
    "input_policy": _POLICY, "forward_policy": _POLICY, "output_policy": _POLICY,
    "rule_count": COUNT,
    "profiles": _list_of({"name": STRING, "enabled": BOOLEAN, "inbound_default": STRING}),
})

LOGGING = _record({
    "journald": _record({
        "active": BOOLEAN,
        "storage": _one_of("persistent", "volatile", "auto", "none"),
        "persistent": BOOLEAN,
        "max_retention_days": DAYS_OR_NULL,
        "max_use": {"type": "string", "nullable": True},
    }),
    "syslog": _record({
        "installed": BOOLEAN, "active": BOOLEAN,
        "daemon": {"type": "string", "nullable": True},
        "forwarding": BOOLEAN, "targets": STRINGS,
    }),
    "forwarding": BOOLEAN,
    "logrotate": _record({
        "period_days": DAYS_OR_NULL, "rotate_count": DAYS_OR_NULL, "retention_days": DAYS_OR_NULL,
    }),
    "retention_days": DAYS_OR_NULL,
})

# Endpoint areas of issue #6 (docs/facts.md "Endpoint protection areas"): one shape for
# both operating systems, so that one check reads either collector's output.
REMOVABLE_MEDIA = _record({
    "storage_blocked": BOOLEAN, "write_blocked": BOOLEAN, "allowlist_enforced": BOOLEAN,
    "allowed_devices": STRINGS, "mechanisms": STRINGS,
})

DISK_ENCRYPTION = _record({
    "volumes": _list_of({
        "mount": {"type": "string", "empty": False, "required": True},
        "device": STRING, "system": BOOLEAN, "encrypted": BOOLEAN,
        "method": {"type": "string", "nullable": True}, "protection_on": BOOLEAN,
    }),
    "system_encrypted": BOOLEAN, "all_fixed_encrypted": BOOLEAN,
})

ANTIMALWARE = _record({
    "installed": BOOLEAN, "realtime_enabled": BOOLEAN,
    "signature_updated_at": {"type": "string", "regex": INSTANT, "nullable": True},
    "products": _list_of({
        "name": {"type": "string", "empty": False, "required": True},
        "running": BOOLEAN, "realtime": BOOLEAN,
        "signature_updated_at": {"type": "string", "regex": INSTANT, "nullable": True},
        "signature_version": STRING,
    }),
})

SCREEN_LOCK = _record({
    "desktop": BOOLEAN, "enabled": BOOLEAN,
    "idle_timeout_seconds": _integer(nullable=True), "password_on_resume": BOOLEAN,
    "shell_timeout_seconds": _integer(nullable=True), "source": STRING,
})

SOFTWARE = _list_of({
    "name": {"type": "string", "empty": False, "required": True},
    "version": {"type": "string", "nullable": True}, "publisher": {"type": "string", "nullable": True},
    "installed_on": DATE_OR_NULL, "architecture": STRING,
})

LOCAL_ADMINS = _list_of({
    "name": {"type": "string", "empty": False, "required": True},
    "kind": _one_of("user", "group", "unknown"), "via": STRING,
})

SSH_SERVER = _record({
    "installed": BOOLEAN, "running": BOOLEAN,
    "client_alive_interval": COUNT, "client_alive_count_max": COUNT,
    "settings": {"type": "dict", "keysrules": {"type": "string"}, "valuesrules": {"type": "string"}},
})

AUDIT_DAEMON = _record({
    "installed": BOOLEAN, "active": BOOLEAN, "rule_count": COUNT, "immutable": BOOLEAN,
})

REMOTE_DESKTOP = _record({
    "enabled": BOOLEAN,
    "clipboard_redirection": BOOLEAN, "drive_redirection": BOOLEAN, "printer_redirection": BOOLEAN,
    "com_port_redirection": BOOLEAN, "lpt_port_redirection": BOOLEAN, "pnp_redirection": BOOLEAN,
    "smart_card_redirection": BOOLEAN,
})

SEGMENTS = _record({
    "zones_file": STRING,
    "segments": STRINGS,
    "addresses": _list_of({
        "interface": STRING, "address": STRING, "wireless": BOOLEAN,
        "zone": {"type": "string", "nullable": True},
        "segment": _one_of("mynumber", "lgwan", "internet", "external"),
    }),
})

# Imported directory and organisation areas: every record names the export row it came from.
INSTANT_OR_NULL: Rule = {"type": "string", "regex": INSTANT, "nullable": True}
STRING_OR_NULL: Rule = {"type": "string", "nullable": True}
SOURCE_ROW: Rule = {**_record({
    "file": {"type": "string", "empty": False, "required": True},
    "line": {**_integer(1), "required": True},
    "sheet": STRING,
}), "required": True}

DIRECTORY_ACCOUNTS = _list_of({
    "name": {"type": "string", "empty": False, "required": True},
    "display_name": STRING_OR_NULL, "employee_id": STRING_OR_NULL, "department": STRING_OR_NULL,
    "enabled": BOOLEAN,
    "created_at": INSTANT_OR_NULL, "last_logon_at": INSTANT_OR_NULL, "password_last_set_at": INSTANT_OR_NULL,
    "password_never_expires": BOOLEAN, "password_not_required": BOOLEAN, "reversible_encryption": BOOLEAN,
    "expires_at": INSTANT_OR_NULL,
    "groups": STRINGS,
    "rid": COUNT,
    "source": SOURCE_ROW,
})

# The domain's fine-grained password policies (auditor import ad-password-policy, issue #17): the
# settings under password_policy's and lockout_policy's keys, with the subjects each is in effect for.
FINE_GRAINED_PASSWORD_POLICIES = _list_of({
    "name": {"type": "string", "empty": False, "required": True},
    "precedence": {**_integer(1), "required": True},
    "applies_to": STRINGS, "applies_to_dn": STRINGS, "effective_for": STRINGS,
    **{key: PASSWORD_POLICY["schema"][key] for key in ("min_length", "min_char_classes", "complexity", "max_age_days",
                                                       "min_age_days", "history", "reversible_encryption")},
    "lockout_threshold": COUNT, "lockout_duration_minutes": COUNT, "lockout_window_minutes": COUNT,
    "source": SOURCE_ROW,
})

HR_ROSTER = _list_of({
    "employee_id": {"type": "string", "empty": False, "required": True},
    "name": STRING_OR_NULL, "department": STRING_OR_NULL,
    "status": _one_of("active", "left", "leave", "other"),
    "status_label": STRING_OR_NULL,
    "effective_date": DATE_OR_NULL,
    # where the export has them (issue #14): the transfer and new-staff checks read them
    "previous_department": STRING_OR_NULL,
    "event": _one_of("hire", "transfer", "left", "leave", "other", nullable=True),
    "event_label": STRING_OR_NULL,
    "hired_on": DATE_OR_NULL,
    "source": SOURCE_ROW,
})

# The exceptions ledger (例外措置台帳, auditor import exceptions-register): one record per entry.
EXCEPTIONS_REGISTER = _list_of({
    "number": STRING_OR_NULL, "approval_number": STRING_OR_NULL,
    "scope": STRING_OR_NULL, "reason": STRING_OR_NULL, "approver": STRING_OR_NULL, "controls": STRING_OR_NULL,
    "approved_on": DATE_OR_NULL, "starts_on": DATE_OR_NULL, "ends_on": DATE_OR_NULL,
    "status": _one_of("active", "closed", "other"),
    "status_label": STRING_OR_NULL,
    "source": SOURCE_ROW,
})

TRAINING_RECORDS = _list_of({
    "employee_id": {"type": "string", "empty": False, "required": True},
    "course": {"type": "string", "empty": False, "required": True},
    "completed_on": DATE_OR_NULL,
    "completed": BOOLEAN,
    "source": SOURCE_ROW,
})

# Imported Windows areas. Get-HotFix's updates extend `patches`, whose rules are above the
# row-source rule they need, so the area is rebuilt here with the extra key.
HOTFIXES = _list_of({
    "id": {"type": "string", "empty": False, "required": True},
    "description": STRING_OR_NULL,
    "installed_on": INSTANT_OR_NULL,
    "source": SOURCE_ROW,
})
PATCHES = _record({**PATCHES["schema"], "hotfixes": HOTFIXES})

AUDIT_GUID = r"\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}"
AUDIT_POLICY = _record({
    "subcategories": _list_of({
        "guid": {"type": "string", "regex": AUDIT_GUID, "required": True},
        "name": STRING,
        "success": BOOLEAN, "failure": BOOLEAN,
        "source": SOURCE_ROW,
    }),
})

# Network targets (docs/facts.md: firewall_rules, zones). Addresses are [first, last] pairs of
# address strings; ports [lo, hi] pairs of integers.
_ADDRESS_PAIRS: Rule = {"type": "list", "schema": {"type": "list", "minlength": 2,
                                                   "schema": {"type": "string", "empty": False}}}
_PORT_PAIRS: Rule = {"type": "list", "schema": {"type": "list", "minlength": 2,
                                                "schema": _integer(0, 65535)}}
_REQUIRED_BOOLEAN: Rule = {"type": "boolean", "required": True}
_INFERENCE_SOURCES = ("system interface", "router static", "router static6", "ip route")
_INTERFACE_NETWORKS = _list_of({  # what the device's configuration says lies behind each interface
    "interface": {"type": "string", "nullable": True, "required": True},  # null: a blackhole route
    "port": STRING, "vdom": STRING,
    "networks": {**STRINGS, "required": True},
    "inferred_from": {**_one_of(*_INFERENCE_SOURCES), "required": True},
    "file": STRING, "line": _integer(1),
    "distance": COUNT, "priority": COUNT, "blackhole": BOOLEAN, "ignored": STRING, "note": STRING,
})
_INFERRED = _list_of({  # the records that decided a zone's interfaces (a subset of their keys)
    "interface": STRING, "port": STRING, "vdom": STRING, "networks": STRINGS,
    "inferred_from": _one_of(*_INFERENCE_SOURCES), "file": STRING, "line": _integer(1),
})
_INTERFACES_FROM = _one_of("zones file", "parent", "device configuration")
FIREWALL_RULES = _record({
    "device": _one_of("fortigate", "iptables", "nftables"),
    "chain": STRING,
    "default_action": {**_one_of("accept", "deny"), "required": True},
    "rules": {"type": "list", "required": True, "schema": _record({
        "index": {**COUNT, "required": True},
        "origin": {**_record({
            "kind": {**_one_of("fortigate-policy", "iptables-rule", "nftables-rule"), "required": True},
            "id": {"type": "string", "required": True},
            "name": STRING, "chain": STRING, "file": STRING,
            "line": {**_integer(1), "required": True},
            "vdom": STRING,  # FortiGate multi-VDOM: the VDOM whose rule set holds the policy
        }), "required": True},
        "enabled": _REQUIRED_BOOLEAN,
        "action": {**_one_of("accept", "deny", "skip", "log"), "required": True},
        "skip_to": COUNT,
        "sources": {**_ADDRESS_PAIRS, "required": True},
        "destinations": {**_ADDRESS_PAIRS, "required": True},
        "unresolved_sources": STRINGS, "unresolved_destinations": STRINGS,
        "services": {"type": "list", "required": True, "schema": _record({
            "protocol": {**_one_of("tcp", "udp", "sctp", "icmp", "icmpv6", "ip", "any"), "required": True},
            "ports": _PORT_PAIRS, "source_ports": _PORT_PAIRS,
            "number": _integer(0, 255),
        })},
        "new_connections": _REQUIRED_BOOLEAN,
        "states": STRINGS,
        "source_interfaces": STRINGS, "destination_interfaces": STRINGS,
        "source_interfaces_negated": BOOLEAN, "destination_interfaces_negated": BOOLEAN,
        "schedule": STRING, "log": BOOLEAN,
        "log_mode": STRING, "av_profile": {"type": "string", "nullable": True},  # FortiGate (GL-D17, GL-D06)
        "error": {"type": "string", "nullable": True},
        "error_parts": {"type": "list", "schema": _one_of("sources", "destinations", "services")},
    })},
    # FortiGate (issue #17): the VDOMs, each its own rule set, their interfaces, and the predefined services used
    "vdoms": STRINGS,
    "vdom_interfaces": {"type": "dict", "keysrules": {"type": "string"}, "valuesrules": STRINGS},
    "predefined_services": STRINGS,
    "interface_networks": _INTERFACE_NETWORKS,
    "external_zone": _record({"interfaces": STRINGS, "interfaces_from": _INTERFACES_FROM, "inferred": _INFERRED}),
})

ZONES = _list_of({
    "name": {"type": "string", "empty": False, "required": True},
    "segment": {**_one_of("mynumber", "lgwan", "internet", "external"), "required": True},
    "role": {"type": "string", "required": True},
    "networks": STRINGS,
    "intervals": {**_ADDRESS_PAIRS, "required": True},
    "interfaces": STRINGS,
    "interfaces_from": _INTERFACES_FROM,
    "within": STRINGS,
    "inferred": _INFERRED,
})

# Endpoint facts of issue #14 (GL-D09 server baseline, GL-C07, GL-A14, GL-A17/A18, GL-A19).
_PERMISSIONS = {"mode": {"type": "string", "regex": r"[0-7]{4}"}, "uid": COUNT, "gid": COUNT,
                "group_write": BOOLEAN, "other_read": BOOLEAN, "other_write": BOOLEAN, "other_exec": BOOLEAN}
_SYSCTL_TREE: Rule = {"type": "dict", "keysrules": {"type": "string", "regex": r"[a-z0-9_]+"},
                      "valuesrules": {"anyof": [{"type": "dict"}, {"type": "integer"}]}}
LINUX_BASELINE = _record({
    "login_defs": _record({"umask": {"type": "string", "regex": r"[0-7]{4}"}, "umask_set": BOOLEAN,
                           "umask_masks_group_write": BOOLEAN, "umask_masks_other": BOOLEAN}),
    "passwd": _record({"duplicate_uids": _list_of({"uid": COUNT, "names": STRINGS}),
                       "duplicate_names": STRINGS, "unshadowed": STRINGS}),
    "home_directories": _list_of({"user": STRING, "path": STRING, "exists": BOOLEAN, "owned_by_user": BOOLEAN,
                                  **_PERMISSIONS}),
    "account_files": {"type": "dict", "keysrules": {"type": "string"}, "valuesrules": _record(_PERMISSIONS)},
    "mounts": _list_of({"path": {"type": "string", "required": True}, "separate": BOOLEAN, "fstype": STRING,
                        "nodev": BOOLEAN, "nosuid": BOOLEAN, "noexec": BOOLEAN}),
    "ipv6_enabled": BOOLEAN,
    "sysctl": _SYSCTL_TREE,
    "network_protocols": _list_of({"name": {"type": "string", "required": True}, "disabled": BOOLEAN,
                                   "how": {"type": "string", "nullable": True}, "loaded": BOOLEAN,
                                   "available": {"type": "boolean", "nullable": True}, "builtin": BOOLEAN}),
    "file_integrity": _record({"installed": BOOLEAN, "tools": STRINGS}),
    "logrotate": _record({"installed": BOOLEAN, "configured": BOOLEAN, "dropin_count": COUNT,
                          "scheduled": BOOLEAN}),
})
AUTORUN = _record({
    "no_drive_type_autorun": _integer(nullable=True), "no_autorun": _integer(nullable=True),
    "all_drives_disabled": BOOLEAN, "autorun_commands_disabled": BOOLEAN, "source": STRING,
})
WIFI_PROFILES = _record({  # GL-A14: authentication in the English names netsh prints; null = not known
    "wlan_service": BOOLEAN,
    "profiles": {"type": "list", "required": True, "schema": _record({
        "name": {"type": "string", "required": True}, "ssid": STRING_OR_NULL,
        "authentication": {**_one_of("Open", "Shared", "WEP", "OWE", "WPA-Personal", "WPA-Enterprise",
                                     "WPA2-Personal", "WPA2-Enterprise", "WPA3-Personal", "WPA3-Enterprise",
                                     nullable=True), "required": True},
        "authentication_label": STRING, "eap": STRINGS, "ciphers": STRINGS, "source": STRING,
    })},
})
SERVICES = _list_of({  # GL-A17/A18/A19: Win32_Service, or the running systemd services with their processes
    "name": {"type": "string", "required": True}, "display_name": STRING_OR_NULL,
    "state": {**_one_of("running", "stopped", "other"), "required": True}, "state_label": STRING_OR_NULL,
    "start_mode": _one_of("boot", "system", "auto", "manual", "disabled", nullable=True),
    "processes": {"type": "list", "required": True, "schema": {"type": "string"}},
})
ISSUE14_SCHEMAS: dict[str, Rule] = {
    "linux_baseline": LINUX_BASELINE,
    "autorun": AUTORUN,
    "wifi_profiles": WIFI_PROFILES,
    "services": SERVICES,
}

FACT_SCHEMAS: dict[str, Rule] = {
    "os": OS,
    "accounts": ACCOUNTS,
    "password_policy": PASSWORD_POLICY,
    "lockout_policy": LOCKOUT_POLICY,
    "listening": LISTENING,
    "interfaces": INTERFACES,
    "routing": ROUTING,
    "updates": UPDATES,
    "patches": PATCHES,
    "time_sync": TIME_SYNC,
    "firewall": FIREWALL,
    "logging": LOGGING,
    "removable_media": REMOVABLE_MEDIA,
    "disk_encryption": DISK_ENCRYPTION,
    "antimalware": ANTIMALWARE,
    "screen_lock": SCREEN_LOCK,
    "software": SOFTWARE,
    "local_admins": LOCAL_ADMINS,
    "ssh_server": SSH_SERVER,
    "audit_daemon": AUDIT_DAEMON,
    "remote_desktop": REMOTE_DESKTOP,
    "segments": SEGMENTS,
    "directory_accounts": DIRECTORY_ACCOUNTS,
    "fine_grained_password_policies": FINE_GRAINED_PASSWORD_POLICIES,
    "hr_roster": HR_ROSTER,
    "training_records": TRAINING_RECORDS,
    "exceptions_register": EXCEPTIONS_REGISTER,
    "audit_policy": AUDIT_POLICY,
    "firewall_rules": FIREWALL_RULES,
    "firewall_input_rules": FIREWALL_RULES,
    "zones": ZONES,
    **ISSUE14_SCHEMAS,
}

# The organisation's registers (issue #14): asset, backup, cloud, vendor and self-inspection
# records, each citing its row; and the run's own targets, which the audit adds (auditor/inventory.py).
_CLASS_LEVEL: Rule = _integer(1, 3, nullable=True)
_TEXT: Rule = {"type": "string", "empty": False, "required": True}
ASSET_REGISTER = _list_of({
    "asset_id": _TEXT,
    "host_name": STRING_OR_NULL, "kind": STRING_OR_NULL, "department": STRING_OR_NULL, "owner": STRING_OR_NULL,
    "location": STRING_OR_NULL,
    "confidentiality": _CLASS_LEVEL, "integrity": _CLASS_LEVEL, "availability": _CLASS_LEVEL,
    "confidentiality_label": STRING_OR_NULL, "integrity_label": STRING_OR_NULL, "availability_label": STRING_OR_NULL,
    "status": _one_of("active", "disposed", "stored", "other"), "status_label": STRING_OR_NULL,
    "source": SOURCE_ROW,
})
BACKUP_JOBS = _list_of({
    "job": _TEXT, "system": STRING_OR_NULL,
    "last_success": DATE_OR_NULL, "last_restore_test": DATE_OR_NULL,
    "source": SOURCE_ROW,
})
CLOUD_SERVICES = _list_of({
    "service": _TEXT, "provider": STRING_OR_NULL,
    "confidentiality": _CLASS_LEVEL, "confidentiality_label": STRING_OR_NULL,
    "approved_by": STRING_OR_NULL, "approved_on": DATE_OR_NULL, "ismap_id": STRING_OR_NULL,
    "source": SOURCE_ROW,
})
VENDOR_ACCOUNTS = _list_of({
    "account": STRING_OR_NULL, "vendor": _TEXT, "contract": STRING_OR_NULL,
    "contract_start": DATE_OR_NULL, "contract_end": DATE_OR_NULL,
    "source": SOURCE_ROW,
})
SELF_INSPECTIONS = _list_of({
    "department": STRING_OR_NULL, "system": STRING_OR_NULL,
    "performed_on": DATE_OR_NULL, "reported": BOOLEAN,
    "finding": STRING_OR_NULL, "finding_status": _one_of("open", "closed", nullable=True),
    "due_date": DATE_OR_NULL, "closed_on": DATE_OR_NULL,
    "source": SOURCE_ROW,
})
AUDIT_TARGETS = _list_of({
    "id": _TEXT,
    "kind": {**_one_of("endpoint", "directory", "network", "organization"), "required": True},
    "segment": STRING_OR_NULL, "department": STRING_OR_NULL,
    "collected_at": {**INSTANT_RULE, "required": True},
})
FACT_SCHEMAS.update({
    "asset_register": ASSET_REGISTER,
    "backup_jobs": BACKUP_JOBS,
    "cloud_services": CLOUD_SERVICES,
    "vendor_accounts": VENDOR_ACCOUNTS,
    "self_inspections": SELF_INSPECTIONS,
    "audit_targets": AUDIT_TARGETS,
})
