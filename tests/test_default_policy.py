"""The embedded policy: catalogue completeness, profiles, and each check's logic on Linux facts."""

import copy
import re
from collections import Counter

import pytest

from auditor import bundles
from auditor.engine import Engine
from auditor.policy import load_policy
from auditor.selection import resolve

POLICY = load_policy()

ACCOUNT = {"name": "tanaka", "uid": 1001, "gid": 1001, "home": "/home/tanaka", "shell": "/bin/bash", "system": False,
           "login_allowed": True, "enabled": True, "password_set": True, "password_empty": False, "locked": False,
           "last_password_change": "2026-09-01", "password_max_days": 365, "password_min_days": 1,
           "password_warn_days": 7, "inactive_days": 30, "expires": None, "groups": ["users"], "admin": False}

COMPLIANT = {
    "format": "auditor-evidence/1",
    "target": {"id": "lg-pc-01", "kind": "endpoint", "segment": "lgwan", "department": "情報政策課", "labels": {}},
    "collected_at": "2026-11-02T09:00:00+09:00",
    "collector": {"name": "test", "version": "0", "host": "lg-pc-01"},
    "facts": {
        "os": {"family": "linux", "name": "Debian GNU/Linux", "id": "debian", "version": "12", "kernel": "6.1.0",
               "hostname": "lg-pc-01", "architecture": "x86_64", "boot_time": "2026-11-01T08:00:00+09:00",
               "eol_date": "2028-06-30"},
        "accounts": [
            {**ACCOUNT, "name": "root", "uid": 0, "gid": 0, "home": "/root", "admin": True, "groups": []},
            {**ACCOUNT, "name": "daemon", "uid": 1, "gid": 1, "shell": "/usr/sbin/nologin", "system": True,
             "login_allowed": False, "password_set": False, "locked": True, "password_max_days": None},
            ACCOUNT,
        ],
        "password_policy": {"min_length": 12, "min_char_classes": 3, "complexity": True, "max_age_days": 365,
                            "min_age_days": 1, "warn_age_days": 7, "history": 5, "hash_algorithm": "YESCRYPT",
                            "inactive_days": 30, "sources": ["/etc/security/pwquality.conf"]},
        "lockout_policy": {"enabled": True, "threshold": 5, "duration_minutes": 15, "window_minutes": 15,
                           "applies_to_root": False},
        "listening": [{"protocol": "tcp", "address": "0.0.0.0", "port": 22, "family": "ipv4", "loopback": False,
                       "pid": 500, "process": "sshd", "user": "root"},
                      {"protocol": "tcp", "address": "127.0.0.1", "port": 631, "family": "ipv4", "loopback": True,
                       "pid": 501, "process": "cupsd", "user": "root"}],
        "interfaces": [{"name": "eth0", "up": True, "loopback": False, "wireless": False, "mac": "52:54:00:12:34:56",
                        "addresses": [{"family": "ipv4", "address": "10.20.1.15", "prefixlen": 24}]}],
        "routing": {"ip_forward_v4": False, "ip_forward_v6": False, "default_gateways": ["10.20.1.1"]},
        "updates": {"manager": "apt", "pending": 2, "pending_security": 0, "packages_pending_security": [],
                    "lists_updated_at": "2026-11-01T03:00:00+09:00"},
        "patches": {"last_installed_at": "2026-10-28T03:10:00+09:00", "installed_count": 812},
        "time_sync": {"synchronized": True, "ntp_enabled": True, "service": "chrony", "servers": ["10.20.0.5"],
                      "offset_seconds": 0.004, "timezone": "Asia/Tokyo"},
        "firewall": {"enabled": True, "backend": "nftables", "input_policy": "drop", "forward_policy": "drop",
                     "output_policy": "accept", "rule_count": 12},
        "logging": {"journald": {"active": True, "storage": "persistent", "persistent": True,
                                 "max_retention_days": None, "max_use": None},
                    "syslog": {"installed": True, "active": True, "daemon": "rsyslog", "forwarding": True,
                               "targets": ["10.20.0.9:514"]},
                    "forwarding": True},
        # endpoint protection areas (docs/facts.md; checks of issue #6)
        "segments": {"zones_file": "zones.yaml", "segments": ["lgwan"],
                     "addresses": [{"interface": "eth0", "address": "10.20.1.15", "wireless": False,
                                    "zone": "lg-office", "segment": "lgwan"}]},
        "removable_media": {"storage_blocked": True, "write_blocked": True, "allowlist_enforced": False,
                            "allowed_devices": [], "mechanisms": ["modprobe-blacklist", "modprobe-install-disabled"]},
        "disk_encryption": {"volumes": [{"mount": "/", "device": "/dev/mapper/root", "system": True,
                                         "encrypted": True, "method": "luks2", "protection_on": True}],
                            "system_encrypted": True, "all_fixed_encrypted": True},
        "antimalware": {"installed": True, "realtime_enabled": True,
                        "signature_updated_at": "2026-11-01T22:00:00+09:00",
                        "products": [{"name": "ClamAV", "running": True, "realtime": True,
                                      "signature_updated_at": "2026-11-01T22:00:00+09:00"}]},
        "screen_lock": {"desktop": True, "enabled": True, "idle_timeout_seconds": 300, "password_on_resume": True,
                        "shell_timeout_seconds": None},
        "software": [{"name": "firefox-esr", "version": "128.4.0esr-1~deb12u1", "publisher": None,
                      "installed_on": None, "architecture": "amd64"}],
        "local_admins": [{"name": "root", "kind": "user", "via": "uid0"},
                         {"name": "%sudo", "kind": "group", "via": "sudoers"}],
        "ssh_server": {"installed": True, "running": True,
                       "settings": {"permitrootlogin": "no", "passwordauthentication": "no",
                                    "permitemptypasswords": "no", "maxauthtries": "4"}},
        "audit_daemon": {"installed": True, "active": True, "rule_count": 20, "immutable": False},
        "wifi_profiles": {"profiles": []},  # no wireless profile (GL-A14)
    },
    "sources": [],
    "errors": [],
}


def audit(bundle, write_bundle, profile=None):
    path = write_bundle("b.json", bundle)
    selection = resolve(POLICY, profile)
    results = Engine(selection).run(bundles.stream(bundles.index([path])))
    return {r.check.id: r for r in results}


def test_catalogue_has_the_100_requirements():
    groups = Counter(c.group for c in POLICY.controls.values())
    assert groups == {"A": 23, "B": 17, "C": 15, "D": 17, "E": 13, "F": 15}
    critical = {c.id for c in POLICY.controls.values() if c.severity == "critical"}
    assert critical == {"GL-A02", "GL-A03", "GL-A04", "GL-A08", "GL-A13", "GL-A15", "GL-A16"}
    for control in POLICY.controls.values():
        assert control.reference and control.title["ja"] and control.rationale["en"] and control.remediation["ja"]


def test_every_profile_resolves_and_the_model_decides_group_a():
    chosen = {p: set(resolve(POLICY, p).controls) for p in POLICY.profiles}
    assert "GL-A16" not in chosen["national-alpha"] and "GL-A16" in chosen["national-alpha-prime"]
    assert {"GL-A18", "GL-A21"} <= chosen["national-beta"] and "GL-A18" not in chosen["national-alpha"]
    assert chosen["ishioka"] == chosen["national-alpha"]


def test_every_check_cites_a_guideline_control_and_renders_its_messages():
    placeholder = re.compile(r"\{([a-z_]+)\}")
    params = resolve(POLICY).params
    for check in POLICY.checks.values():
        assert all(c.startswith("GL-") for c in check.controls)
        for text in (check.message or {}).values():
            for name in placeholder.findall(text):
                assert name in params or name in {"actual", "expected", "item", "items", "count", "title"}, check.id


def test_default_profile_has_at_least_25_linux_endpoint_checks_and_all_pass_when_compliant(write_bundle):
    results = audit(COMPLIANT, write_bundle)
    applicable = {k: r for k, r in results.items() if r.status != "notapplicable"}
    assert len(applicable) >= 25
    assert {k: r.status for k, r in applicable.items() if r.status != "pass"} == {}


def change(facts, edits):
    """Apply {"a.b.0.c": value} edits; a key ending in "+" appends the value to that list."""
    for dotted, value in edits.items():
        *parents, last = dotted.rstrip("+").split(".")
        node = facts
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if dotted.endswith("+"):
            node[last].extend(value)
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value


SSH = COMPLIANT["facts"]["listening"][0]


@pytest.mark.parametrize(
    ("edits", "failing"),
    [
        ({"password_policy.min_length": 6}, {"password-min-length"}),
        ({"password_policy.min_char_classes": 1}, {"password-complexity"}),
        ({"password_policy.max_age_days": None}, {"password-max-age"}),
        ({"password_policy.hash_algorithm": "MD5"}, {"password-hash-algorithm"}),
        ({"password_policy.history": 0}, {"password-history"}),
        ({"password_policy.inactive_days": None}, {"inactive-lock-default"}),
        ({"lockout_policy.enabled": False, "lockout_policy.threshold": 0}, {"lockout-enabled", "lockout-threshold"}),
        ({"lockout_policy.duration_minutes": 5}, {"lockout-duration"}),
        ({"accounts.2.password_empty": True}, {"no-empty-passwords"}),
        ({"accounts.2.uid": 0}, {"single-superuser"}),
        ({"local_admins+": [{"name": f"adm{i}", "kind": "user", "via": "sudo"} for i in range(3)]},
         {"local-admin-count"}),
        ({"accounts.2.password_max_days": None}, {"password-age-accounts"}),
        ({"accounts.2.last_password_change": "2025-06-01"}, {"stale-passwords"}),
        ({"accounts.1.login_allowed": True, "accounts.1.password_set": True, "accounts.1.locked": False,
          "accounts.1.password_max_days": 90}, {"system-accounts-no-login"}),
        ({"accounts.2.name": "guest"}, {"no-generic-accounts"}),
        ({"updates.pending_security": 3}, {"no-pending-security-updates"}),
        ({"patches.last_installed_at": "2026-06-01T00:00:00+09:00"}, {"updates-applied-recently"}),
        ({"updates.pending_security": 1, "patches.last_installed_at": "2026-09-01T00:00:00+09:00"},
         {"no-pending-security-updates", "security-updates-recent"}),
        ({"updates.lists_updated_at": "2026-08-01T00:00:00+09:00"}, {"package-index-fresh"}),
        ({"listening+": [{**SSH, "port": 8080}]}, {"listening-ports-allowed"}),
        ({"listening+": [{**SSH, "port": 23}]}, {"listening-ports-allowed", "no-insecure-services"}),
        ({"routing.ip_forward_v4": True}, {"no-ip-forwarding"}),
        ({"firewall.enabled": False}, {"host-firewall-enabled"}),
        ({"firewall.input_policy": "accept"}, {"host-firewall-default-deny"}),
        ({"firewall.forward_policy": "accept"}, {"host-firewall-forward-deny"}),
        ({"time_sync.synchronized": False}, {"time-synchronized"}),
        ({"time_sync.ntp_enabled": False}, {"ntp-enabled"}),
        ({"time_sync.offset_seconds": 300.0}, {"time-offset"}),
        ({"logging.journald.active": False, "logging.syslog.active": False}, {"system-logging-active"}),
        ({"logging.journald.persistent": False, "logging.syslog.active": False}, {"logs-persistent"}),
        ({"logging.journald.max_retention_days": 30}, {"journal-retention"}),
        ({"logging.forwarding": False}, {"log-forwarding"}),
    ],
)
def test_each_check_fails_on_its_own_violation(write_bundle, edits, failing):
    bundle = copy.deepcopy(COMPLIANT)
    change(bundle["facts"], edits)
    results = audit(bundle, write_bundle)
    got = {k for k, r in results.items() if r.status == "fail"}
    assert got == failing
    for check_id in failing:
        assert results[check_id].findings, check_id


def test_boundary_label_makes_forwarding_checks_not_applicable(write_bundle):
    bundle = copy.deepcopy(COMPLIANT)
    bundle["target"]["labels"] = {"role": "boundary"}
    bundle["facts"]["routing"]["ip_forward_v4"] = True
    results = audit(bundle, write_bundle)
    assert results["no-ip-forwarding"].status == "notapplicable"
    assert results["host-firewall-forward-deny"].status == "notapplicable"


def test_no_forced_change_profile_skips_password_age(write_bundle, tmp_path):
    tailoring = tmp_path / "t.yaml"
    tailoring.write_text("format: auditor-tailoring/1\nid: t\nprofile: national-alpha\n"
                         "parameters: {password_max_age_days: {value: 0, reason: 定期変更を求めない方針}}\n",
                         encoding="utf-8")
    from auditor.selection import load_tailoring

    selection = resolve(POLICY, None, load_tailoring(tailoring))
    bundle = copy.deepcopy(COMPLIANT)
    bundle["facts"]["accounts"][2]["password_max_days"] = None
    results = {r.check.id: r for r in Engine(selection).run(
        bundles.stream(bundles.index([write_bundle("b.json", bundle)])))}
    assert {results[c].status for c in ("password-max-age", "password-age-accounts", "stale-passwords")} == {
        "notapplicable"}


def test_applies_if_is_decided_before_the_facts_it_spares_are_required(write_bundle):
    bundle = copy.deepcopy(COMPLIANT)
    bundle["facts"]["lockout_policy"] = {"enabled": False, "threshold": 0}
    results = audit(bundle, write_bundle)
    assert results["lockout-duration"].status == "notapplicable"
    del bundle["facts"]["lockout_policy"]
    bundle["errors"] = [{"area": "lockout_policy", "message": "/etc/pam.d/common-auth: Permission denied"}]
    results = audit(bundle, write_bundle)
    assert results["lockout-duration"].status == "error"
    assert "fact lockout_policy is missing" in results["lockout-duration"].message["en"]
    assert "Permission denied" in results["lockout-duration"].message["en"]
