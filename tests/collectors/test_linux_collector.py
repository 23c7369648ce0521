"""The whole Linux collector: against the fake root tree (exact facts, errors, no secrets)
and once on this host (every area valid against FACT_SCHEMAS)."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import cerberus
import pytest
from auditor.evidence.collectors import CollectOptions, available
from auditor.evidence.collectors.linux.baseline import SYSCTLS
from auditor.evidence.collectors.linux.collector import AREAS, LinuxCollector, collect_timed
from auditor.evidence.collectors.linux.common import parse_login_defs
from auditor.evidence.collectors.linux.ssh_server import SSHD_PATHS
from linux_support import FIXTURES

from auditor.schemas.facts import FACT_SCHEMAS

TODAY = date(2026, 1, 15)


def _account(name: str, uid: int, gid: int, home: str, shell: str, *, system: bool, login: bool,
             state: str, changed: str | None, max_days: int | None, min_days: int | None = 0,
             warn: int | None = 7, inactive: int | None = None, expires: str | None = None, enabled: bool,
             groups: list[str] | None = None, admin: bool = False) -> dict[str, Any]:
    flags = {"set": (True, False, False), "locked": (False, False, True), "empty": (False, True, False)}[state]
    return {"name": name, "uid": uid, "gid": gid, "home": home, "shell": shell, "system": system,
            "login_allowed": login, "password_set": flags[0], "password_empty": flags[1], "locked": flags[2],
            "last_password_change": changed, "password_max_days": max_days, "password_min_days": min_days,
            "password_warn_days": warn, "inactive_days": inactive, "expires": expires, "enabled": enabled,
            "groups": groups or [], "admin": admin}


NOLOGIN = "/usr/sbin/nologin"
EXPECTED_ACCOUNTS = [
    _account("root", 0, 0, "/root", "/bin/bash", system=False, login=True, state="set", changed="2025-12-18",
             max_days=None, enabled=True, admin=True),
    _account("daemon", 1, 1, "/usr/sbin", NOLOGIN, system=True, login=False, state="locked",
             changed="2024-04-01", max_days=None, enabled=False),
    _account("bin", 2, 2, "/bin", NOLOGIN, system=True, login=False, state="locked", changed="2024-04-01",
             max_days=None, enabled=False),
    _account("sync", 4, 65534, "/bin", "/bin/sync", system=True, login=False, state="locked",
             changed="2024-04-01", max_days=None, enabled=False),
    _account("sshd", 100, 65534, "/run/sshd", NOLOGIN, system=True, login=False, state="locked",
             changed="2024-04-01", max_days=None, min_days=None, warn=None, enabled=False),
    _account("apache", 48, 48, "/usr/share/httpd", "/sbin/nologin", system=True, login=False, state="locked",
             changed="2024-04-01", max_days=None, min_days=None, warn=None, enabled=False),
    _account("sato", 1000, 1000, "/home/sato", "/bin/bash", system=False, login=True, state="set",
             changed="2025-12-18", max_days=90, min_days=1, warn=14, inactive=30, enabled=True,
             groups=["adm", "sudo"], admin=True),
    _account("suzuki", 1001, 1001, "/home/suzuki", "/bin/bash", system=False, login=True, state="set",
             changed="2025-06-01", max_days=180, enabled=True, groups=["ops", "users"]),
    _account("tanaka", 1002, 1002, "/home/tanaka", "/bin/bash", system=False, login=True, state="locked",
             changed="2025-10-01", max_days=None, enabled=False, groups=["users"]),
    _account("guest", 1003, 1003, "/home/guest", "", system=False, login=True, state="empty",
             changed="2025-12-01", max_days=None, enabled=True),
    _account("oldstaff", 1004, 1004, "/home/oldstaff", "/bin/bash", system=False, login=True, state="set",
             changed="2025-06-01", max_days=90, inactive=10, expires="2025-11-08", enabled=False),
    _account("opsbot", 1005, 1005, "/home/opsbot", "/bin/bash", system=False, login=True, state="set",
             changed=None, max_days=90, enabled=True, groups=["ops"], admin=True),
    _account("nobody", 65534, 65534, "/nonexistent", NOLOGIN, system=False, login=False, state="locked",
             changed="2024-04-01", max_days=None, enabled=False),
]

EXPECTED_FACTS = {
    "os": {"family": "linux", "name": "Debian GNU/Linux", "id": "debian", "version": "12",
           "eol_date": "2026-06-10",
           "eol_source": "Debian 12 (bookworm): https://www.debian.org/releases/bookworm/ (EOL table of 2026-11-26)",
           "hostname": "pc-soumu-001"},
    "accounts": EXPECTED_ACCOUNTS,
    "password_policy": {
        "max_age_days": 90, "min_age_days": 1, "warn_age_days": 14, "inactive_days": 30,
        "min_length": 12, "min_char_classes": 3, "complexity": True, "history": 5, "hash_algorithm": "YESCRYPT",
        "sources": [
            "/etc/login.defs", "/etc/default/useradd", "/etc/pam.d/common-password", "/etc/security/pwquality.conf",
            "min_length: pam_pwquality minlen=12 dcredit=-1 ucredit=-1 lcredit=-1 ocredit=0 minclass=3 "
            "(/etc/pam.d/common-password)",
            "min_length: pam_unix obscure built-in minimum 6 (/etc/pam.d/common-password)",
            "history: pam_unix remember=5",
            "hash_algorithm: pam_unix option (/etc/pam.d/common-password)",
        ],
    },
    "lockout_policy": {"enabled": True, "threshold": 5, "duration_minutes": 30, "window_minutes": 15,
                       "applies_to_root": False},
    "routing": {"ip_forward_v4": False, "ip_forward_v6": True, "default_gateways": ["192.168.10.1", "fe80::1"]},
    "updates": {"manager": "apt", "lists_updated_at": "2026-01-12T18:00:00+09:00"},
    "patches": {"last_installed_at": "2026-01-10T09:12:02+09:00", "installed_count": 3},
    "time_sync": {"servers": ["ntp1.example.lg.jp", "ntp2.example.lg.jp"], "timezone": "Asia/Tokyo"},
    "logging": {
        "journald": {"storage": "persistent", "persistent": True, "max_retention_days": 365, "max_use": "2G"},
        "syslog": {"installed": True, "daemon": "rsyslog", "forwarding": True,
                   "targets": ["udp://192.0.2.50:514", "tcp://log.example.lg.jp:6514"]},
        "forwarding": True,
        "logrotate": {"period_days": 7, "rotate_count": 4, "retention_days": 28},
        "retention_days": 365,
    },
    # Live-only parts (running daemons, sshd -T) are absent from a file tree; see the errors test.
    "removable_media": {"storage_blocked": True, "write_blocked": True,
                        "allowed_devices": ["1d6b:0002", "0781:5581", "046d:c31c", "046d:c534"],
                        "mechanisms": ["modprobe-blacklist", "modprobe-install-disabled"]},
    "disk_encryption": {
        "volumes": [
            {"mount": "/", "device": "/dev/mapper/vg0-root", "system": True, "encrypted": True, "method": "luks2",
             "protection_on": True},
            {"mount": "/home", "device": "/dev/mapper/vg0-home", "system": False, "encrypted": True,
             "method": "luks2", "protection_on": True},
            {"mount": "/srv/共有 データ", "device": "/dev/sdb1", "system": False, "encrypted": False, "method": None,
             "protection_on": False},
        ],
        "system_encrypted": True, "all_fixed_encrypted": False,
    },
    "antimalware": {"installed": True, "signature_updated_at": "2026-01-14T23:28:00+09:00",
                    "products": [{"name": "ClamAV", "signature_updated_at": "2026-01-14T23:28:00+09:00",
                                  "signature_version": "27880"}]},
    "software": [
        {"name": "bash", "version": "5.2.15-2+b7", "architecture": "amd64"},
        {"name": "htop", "version": "3.2.2-2", "architecture": "amd64"},
        {"name": "libssl3", "version": "3.0.15-1~deb12u1", "architecture": "amd64"},
        {"name": "libssl3", "version": "3.0.15-1~deb12u1", "architecture": "i386"},
    ],
    "ssh_server": {"installed": True},
    "local_admins": [
        {"name": "root", "kind": "user", "via": "uid0, sudoers"},  # one entry per administrator
        {"name": "sato", "kind": "user", "via": "sudo"},
        {"name": "opsbot", "kind": "user", "via": "sudoers"},
        {"name": "sudo", "kind": "group", "via": "sudoers"},
    ],
    "audit_daemon": {"installed": True, "rule_count": 7, "immutable": True},
    "screen_lock": {"desktop": True, "enabled": True, "idle_timeout_seconds": 600, "password_on_resume": True,
                    "enforced": True, "shell_timeout_seconds": 900,
                    "source": "GNOME (GSettings defaults and overrides); dconf db local (/etc/dconf/db/local.d); "
                              "TMOUT=900 read-only (/etc/profile.d/tmout.sh)"},
    "wifi_profiles": {"profiles": []},  # no NetworkManager keyfile or wpa_supplicant.conf in the tree
}


def _collect(root: Path, **options: Any) -> dict[str, Any]:
    bundle, _ = collect_timed(CollectOptions(root=root, **options), today=TODAY)
    return bundle


def _errors(bundle: dict[str, Any], area: str) -> list[str]:
    return [e["message"] for e in bundle["errors"] if e["area"] == area]


def test_registered_for_linux() -> None:
    collector = available()["linux"]()
    assert isinstance(collector, LinuxCollector) and collector.name == "linux"
    assert collector.supports() is sys.platform.startswith("linux")


def test_fake_root_exact_facts(fake_root: Path) -> None:
    bundle = _collect(fake_root, segment="lgwan", department="総務課", labels={"role": "pc"})
    baseline = bundle["facts"].pop("linux_baseline")  # modes and owners follow the checkout: test_linux_baseline.py
    assert baseline["passwd"] == {"duplicate_uids": [], "duplicate_names": [], "unshadowed": []}
    assert baseline["sysctl"] == {"net": {"ipv4": {"ip_forward": 0}}}
    assert bundle["facts"] == EXPECTED_FACTS
    assert bundle["target"] == {"id": "pc-soumu-001", "kind": "endpoint", "segment": "lgwan",
                                "department": "総務課", "labels": {"role": "pc"}}
    assert bundle["collector"]["name"] == "auditor-linux"


def test_fake_root_records_what_was_not_collected(fake_root: Path) -> None:
    bundle = _collect(fake_root)
    skipped = {e["area"] for e in bundle["errors"]}
    assert skipped == {"os", "listening", "interfaces", "updates", "time_sync", "firewall", "logging",
                       "removable_media", "antimalware", "ssh_server", "audit_daemon", "linux_baseline",
                       "services"}
    assert _errors(bundle, "linux_baseline") == [  # the tree holds one kernel switch of /proc/sys/net
        f"sysctl: not under {fake_root / 'proc/sys'}: " + ", ".join(
            n for n in (s.replace("/", ".") for s in SYSCTLS) if n != "net.ipv4.ip_forward")]
    assert all("file tree, not the running system" in e["message"] for e in bundle["errors"]
               if e["area"] not in ("linux_baseline", "services"))
    assert _errors(bundle, "services") == [  # the tree's /proc holds no process directories
        f"{fake_root / 'proc'}: no process directories, so which services run is unknown"]
    assert _errors(bundle, "updates") == [f"apt: not run, {fake_root} is a file tree, not the running system"]
    assert _errors(bundle, "ssh_server") == [
        f"running processes: not collected, {fake_root} is a file tree, not the running system",
        f"sshd -T: not run, {fake_root} is a file tree, not the running system"]


def test_fake_root_sources_are_hashed_and_attributed(fake_root: Path) -> None:
    bundle = _collect(fake_root)
    by_name = {(s["name"], s["area"]): s for s in bundle["sources"]}
    shadow = by_name[(str(fake_root / "etc/shadow"), "accounts")]
    assert shadow["parser"] == "linux.shadow" and len(shadow["sha256"]) == 64
    assert shadow["size"] == (fake_root / "etc/shadow").stat().st_size
    # login.defs feeds two areas and is cited by each
    assert (str(fake_root / "etc/login.defs"), "password_policy") in by_name
    assert (str(fake_root / "etc/login.defs"), "accounts") in by_name
    # sudo skips includedir files whose name contains a dot
    assert (str(fake_root / "etc/sudoers.d/old.bak"), "accounts") not in by_name
    assert all(s.get("area") for s in bundle["sources"])


def test_no_password_hash_reaches_the_bundle(fake_root: Path) -> None:
    text = json.dumps(_collect(fake_root), ensure_ascii=False)
    for marker in ("$y$", "$6$", "$1$", "$5$"):
        assert marker not in text
    for line in (FIXTURES / "root/etc/shadow").read_text().splitlines():
        field = line.split(":")[1]
        for part in field.lstrip("!").split("$"):
            if len(part) >= 4:
                assert part not in text, f"part of {line.split(':')[0]}'s hash leaked"


def test_missing_file_gives_an_error_and_no_fact_key(fake_root: Path) -> None:
    (fake_root / "proc/sys/net/ipv4/ip_forward").unlink()
    (fake_root / "etc/shadow").unlink()
    bundle = _collect(fake_root)
    assert "ip_forward_v4" not in bundle["facts"]["routing"]
    assert bundle["facts"]["routing"]["ip_forward_v6"] is True
    assert _errors(bundle, "routing") == [f"{fake_root / 'proc/sys/net/ipv4/ip_forward'}: not found"]
    assert f"{fake_root / 'etc/shadow'}: not found" in _errors(bundle, "accounts")
    sato = next(a for a in bundle["facts"]["accounts"] if a["name"] == "sato")
    for key in ("password_set", "password_empty", "locked", "last_password_change", "password_max_days",
                "inactive_days", "expires", "enabled"):
        assert key not in sato
    assert sato["admin"] is True and sato["groups"] == ["adm", "sudo"]


def test_unreadable_file_is_an_error_too(fake_root: Path) -> None:
    (fake_root / "etc/login.defs").unlink()
    (fake_root / "etc/login.defs").mkdir()  # reading a directory fails like a permission problem would
    bundle = _collect(fake_root)
    assert any("etc/login.defs: Is a directory" in m for m in _errors(bundle, "password_policy"))
    policy = bundle["facts"]["password_policy"]
    assert "max_age_days" not in policy and policy["min_length"] == 12
    assert "/etc/login.defs" not in policy["sources"]


def test_missing_passwd_leaves_accounts_out(fake_root: Path) -> None:
    (fake_root / "etc/passwd").unlink()
    bundle = _collect(fake_root)
    assert "accounts" not in bundle["facts"]
    assert _errors(bundle, "accounts") == [f"{fake_root / 'etc/passwd'}: not found"]


def test_uid_min_comes_from_login_defs(fake_root: Path) -> None:
    defs = fake_root / "etc/login.defs"
    defs.write_text(defs.read_text().replace("UID_MIN\t\t\t 1000", "UID_MIN\t\t\t 1002"))
    assert parse_login_defs(defs.read_text())["UID_MIN"] == "1002"
    accounts = {a["name"]: a for a in _collect(fake_root)["facts"]["accounts"]}
    assert accounts["suzuki"]["system"] is True and accounts["tanaka"]["system"] is False


def test_unknown_distribution_is_an_error(fake_root: Path) -> None:
    (fake_root / "etc/os-release").write_text('NAME="Example OS"\nID=exampleos\n')
    bundle = _collect(fake_root)
    assert "updates" not in bundle["facts"] and "patches" not in bundle["facts"]
    assert any("unsupported distribution family" in m for m in _errors(bundle, "patches"))


def test_fake_root_facts_match_the_schemas(fake_root: Path) -> None:
    facts = _collect(fake_root)["facts"]
    for area, value in facts.items():
        validator = cerberus.Validator({area: FACT_SCHEMAS[area]})
        assert validator.validate({area: value}), (area, validator.errors)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="runs the collector on this Linux host")
def test_this_host_every_area_is_valid_or_explained() -> None:
    if not Path("/etc/passwd").exists():
        pytest.skip("no /etc/passwd on this host")
    bundle, timings = collect_timed(CollectOptions())
    assert set(timings) == set(AREAS)
    assert not [e for e in bundle["errors"] if "internal error" in e["message"]]
    for area in AREAS:
        explained = any(e["area"] == area for e in bundle["errors"])
        if area == "ssh_server" and not any(Path(p).exists() for p in SSHD_PATHS):
            continue  # docs/facts.md: absent when sshd is not installed
        assert area in bundle["facts"] or explained, f"{area}: neither a fact nor an error"
    for area, value in bundle["facts"].items():
        validator = cerberus.Validator({area: FACT_SCHEMAS[area]})
        assert validator.validate({area: value}), (area, validator.errors)
    text = json.dumps(bundle)
    for marker in ("$y$", "$6$", "$1$", "$5$", "$2b$"):
        assert marker not in text



def test_journal_upload_counts_as_forwarding(fake_root: Path) -> None:
    (fake_root / "etc/rsyslog.d/60-forward.conf").unlink()
    (fake_root / "usr/lib/systemd").mkdir(parents=True)
    (fake_root / "usr/lib/systemd/systemd-journal-upload").write_text("")
    logging = _collect(fake_root)["facts"]["logging"]
    assert logging["syslog"]["forwarding"] is False and logging["forwarding"] is False
    (fake_root / "etc/systemd/journal-upload.conf").write_text("[Upload]\nURL=https://log.example.lg.jp:19532\n")
    logging = _collect(fake_root)["facts"]["logging"]
    assert logging["forwarding"] is True
    assert logging["journald"]["upload_url"] == "https://log.example.lg.jp:19532"
