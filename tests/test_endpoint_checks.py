"""The endpoint checks of issue #6 on hand-written bundles, one Linux-shaped and one Windows-shaped.

The bundles follow docs/facts.md ("Endpoint protection areas"). Each check family is judged
compliant, failing (with the findings' item, actual and expected), not applicable where its
scope says so, and `error` when the area it reads is missing.
"""

from __future__ import annotations

import copy
import io
import json
from contextlib import redirect_stdout
from datetime import date
from typing import Any

import pytest
from support import core

from auditor import bundles
from auditor.cli import main
from auditor.engine import Engine
from auditor.policy import load_policy
from auditor.selection import load_tailoring, resolve

POLICY = load_policy()
COLLECTED_AT = "2026-11-02T09:00:00+09:00"
USB_STICK = "USB\\VID_0781&PID_5581\\4C530001230101115163"  # a registered encrypted USB memory (Windows instance id)

ENDPOINT_CHECKS = {
    "mn-removable-storage-blocked", "removable-media-restricted", "removable-devices-registered",
    "mn-no-wireless", "single-segment", "screen-transfer-no-redirection",
    "screen-lock-timeout", "screen-lock-password", "shell-idle-timeout",
    "disk-encryption-system", "disk-encryption-all-fixed", "software-approved", "os-supported",
    "antimalware-installed", "antimalware-realtime", "antimalware-signatures-fresh",
    "antimalware-signatures-fresh-mynumber", "windows-firewall-profiles", "linux-audit-daemon",
    "local-admin-count", "sshd-root-login", "sshd-no-empty-passwords", "sshd-password-authentication",
    "sshd-max-auth-tries", "security-update-age",
}


def _bundle(target_id: str, facts: dict[str, Any], segment: str = "lgwan") -> dict[str, Any]:
    return {"format": "auditor-evidence/1",
            "target": {"id": target_id, "kind": "endpoint", "segment": segment, "department": "情報政策課",
                       "labels": {"role": "terminal"}},
            "collected_at": COLLECTED_AT,
            "collector": {"name": "test", "version": "0", "host": target_id},
            "facts": facts, "sources": [], "errors": []}


LINUX = _bundle("lg-deb-01", {
    "os": {"family": "linux", "name": "Debian GNU/Linux", "id": "debian", "version": "12", "kernel": "6.1.0-26-amd64",
           "hostname": "lg-deb-01", "architecture": "x86_64", "boot_time": "2026-11-01T08:00:00+09:00",
           "eol_date": "2028-06-30", "eol_source": "https://www.debian.org/security/faq (table of 2026-10-01)"},
    "interfaces": [
        {"name": "lo", "up": True, "loopback": True, "wireless": False, "mac": None,
         "addresses": [{"family": "ipv4", "address": "127.0.0.1", "prefixlen": 8}]},
        {"name": "eth0", "up": True, "loopback": False, "wireless": False, "mac": "52:54:00:12:34:56",
         "addresses": [{"family": "ipv4", "address": "10.20.1.15", "prefixlen": 24}]},
        {"name": "wlan0", "up": False, "loopback": False, "wireless": True, "mac": "3c:a9:f4:00:11:22",
         "addresses": []},
    ],
    "routing": {"ip_forward_v4": False, "ip_forward_v6": False, "default_gateways": ["10.20.1.1"]},
    "segments": {"zones_file": "zones.yaml", "segments": ["lgwan"],
                 "addresses": [{"interface": "eth0", "address": "10.20.1.15", "wireless": False,
                                "zone": "lg-office", "segment": "lgwan"}]},
    "firewall": {"enabled": True, "backend": "nftables", "input_policy": "drop", "forward_policy": "drop",
                 "output_policy": "accept", "rule_count": 12},
    "updates": {"manager": "apt", "pending": 2, "pending_security": 0, "packages_pending_security": [],
                "lists_updated_at": "2026-11-01T03:00:00+09:00"},
    "patches": {"last_installed_at": "2026-10-28T03:10:00+09:00", "installed_count": 1204},
    "removable_media": {"storage_blocked": True, "write_blocked": True, "allowlist_enforced": False,
                        "allowed_devices": [], "mechanisms": ["modprobe-blacklist", "modprobe-install-disabled"]},
    "disk_encryption": {"volumes": [
        {"mount": "/", "device": "/dev/mapper/vg0-root", "system": True, "encrypted": True, "method": "luks2",
         "protection_on": True},
        {"mount": "/home", "device": "/dev/mapper/vg0-home", "system": False, "encrypted": True, "method": "luks2",
         "protection_on": True}],
        "system_encrypted": True, "all_fixed_encrypted": True},
    "antimalware": {"installed": True, "realtime_enabled": True, "signature_updated_at": "2026-11-01T22:14:00+09:00",
                    "products": [{"name": "ClamAV", "running": True, "realtime": True,
                                  "signature_updated_at": "2026-11-01T22:14:00+09:00", "signature_version": "27445"}]},
    "screen_lock": {"desktop": True, "enabled": True, "idle_timeout_seconds": 300, "password_on_resume": True,
                    "shell_timeout_seconds": None, "source": "dconf org.gnome.desktop.screensaver"},
    "software": [
        {"name": "firefox-esr", "version": "128.4.0esr-1~deb12u1", "publisher": None, "installed_on": None,
         "architecture": "amd64"},
        {"name": "libreoffice-writer", "version": "4:7.4.7-1+deb12u5", "publisher": None, "installed_on": None,
         "architecture": "amd64"}],
    "local_admins": [{"name": "root", "kind": "user", "via": "uid0"},
                     {"name": "%sudo", "kind": "group", "via": "sudoers"},
                     {"name": "sato", "kind": "user", "via": "sudo"}],
    "ssh_server": {"installed": True, "running": True,
                   "settings": {"permitrootlogin": "no", "passwordauthentication": "no",
                                "permitemptypasswords": "no", "maxauthtries": "4",
                                "hostkey": "/etc/ssh/ssh_host_ed25519_key"}},
    "audit_daemon": {"installed": True, "active": True, "rule_count": 42, "immutable": False},
})

WINDOWS = _bundle("lg-win-01", {
    "os": {"family": "windows", "name": "Windows 11 Enterprise", "id": "windows", "version": "10.0.22631",
           "build": "22631", "hostname": "LG-WIN-01", "architecture": "x86_64",
           "eol_date": "2026-11-10",
           "eol_source": "Microsoft lifecycle, Windows 11 Enterprise 23H2 (table of 2026-10-01)"},
    "interfaces": [
        {"name": "Ethernet", "up": True, "loopback": False, "wireless": False, "mac": "00:15:5d:01:02:03",
         "addresses": [{"family": "ipv4", "address": "10.20.2.31", "prefixlen": 24}]},
        {"name": "Wi-Fi", "up": True, "loopback": False, "wireless": True, "mac": "a4:c3:f0:44:55:66",
         "addresses": []},
    ],
    "routing": {"ip_forward_v4": False, "ip_forward_v6": False, "default_gateways": ["10.20.2.1"]},
    "segments": {"zones_file": "zones.yaml", "segments": ["lgwan"],
                 "addresses": [{"interface": "Ethernet", "address": "10.20.2.31", "wireless": False,
                                "zone": "lg-office", "segment": "lgwan"}]},
    "firewall": {"enabled": True, "backend": "windows",
                 "profiles": [{"name": "Domain", "enabled": True, "inbound_default": "Block"},
                              {"name": "Private", "enabled": True, "inbound_default": "Block"},
                              {"name": "Public", "enabled": True, "inbound_default": "Block"}]},
    "updates": {"manager": "windows-update", "pending": 0, "pending_security": 0, "packages_pending_security": []},
    "patches": {"last_installed_at": "2026-10-16T03:00:00+09:00",
                "last_security_installed_at": "2026-10-16T03:00:00+09:00", "installed_count": 14},
    "removable_media": {"storage_blocked": False, "write_blocked": False, "allowlist_enforced": True,
                        "allowed_devices": [USB_STICK], "mechanisms": ["device-install-restrictions"]},
    "disk_encryption": {"volumes": [
        {"mount": "C:", "device": "\\\\?\\Volume{6a1c2f0e-0000-0000-0000-100000000000}\\", "system": True,
         "encrypted": True, "method": "XtsAes256", "protection_on": True},
        {"mount": "D:", "device": "\\\\?\\Volume{6a1c2f0e-0000-0000-0000-200000000000}\\", "system": False,
         "encrypted": True, "method": "XtsAes256", "protection_on": True}],
        "system_encrypted": True, "all_fixed_encrypted": True},
    "antimalware": {"installed": True, "realtime_enabled": True, "signature_updated_at": "2026-11-02T06:31:00+09:00",
                    "products": [{"name": "Microsoft Defender Antivirus", "running": True, "realtime": True,
                                  "signature_updated_at": "2026-11-02T06:31:00+09:00",
                                  "signature_version": "1.421.311.0"}]},
    "screen_lock": {"desktop": True, "enabled": True, "idle_timeout_seconds": 600, "password_on_resume": True,
                    "source": "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System "
                              "InactivityTimeoutSecs"},
    "software": [
        {"name": "Microsoft Edge", "version": "130.0.2849.68", "publisher": "Microsoft Corporation",
         "installed_on": "2026-10-30", "architecture": "x64"},
        {"name": "7-Zip 24.08 (x64)", "version": "24.08", "publisher": "Igor Pavlov", "installed_on": "2026-04-02",
         "architecture": "x64"}],
    "local_admins": [{"name": "LG-WIN-01\\Administrator", "kind": "user", "via": "Administrators"},
                     {"name": "KAKUU\\Domain Admins", "kind": "group", "via": "Administrators"},
                     {"name": "LG-WIN-01\\kanri", "kind": "user", "via": "Administrators"}],
    "remote_desktop": {"enabled": True, "clipboard_redirection": False, "drive_redirection": False,
                       "printer_redirection": False, "com_port_redirection": False, "lpt_port_redirection": False,
                       "pnp_redirection": False, "smart_card_redirection": True},
})

BUNDLES = {"linux": LINUX, "windows": WINDOWS}

# Statuses of the new checks on the compliant bundles (LGWAN segment, role terminal).
COMPLIANT = {
    "linux": {
        "mn-removable-storage-blocked": "notapplicable", "removable-media-restricted": "pass",
        "removable-devices-registered": "pass", "mn-no-wireless": "notapplicable", "single-segment": "pass",
        "screen-transfer-no-redirection": "notapplicable", "screen-lock-timeout": "pass",
        "screen-lock-password": "pass", "shell-idle-timeout": "notapplicable", "disk-encryption-system": "pass",
        "disk-encryption-all-fixed": "pass", "software-approved": "notapplicable", "os-supported": "pass",
        "antimalware-installed": "pass", "antimalware-realtime": "pass", "antimalware-signatures-fresh": "pass",
        "antimalware-signatures-fresh-mynumber": "notapplicable", "windows-firewall-profiles": "notapplicable",
        "linux-audit-daemon": "pass", "local-admin-count": "pass", "sshd-root-login": "pass",
        "sshd-no-empty-passwords": "pass", "sshd-password-authentication": "pass", "sshd-max-auth-tries": "pass",
        "security-update-age": "notapplicable",
    },
    "windows": {
        "mn-removable-storage-blocked": "notapplicable", "removable-media-restricted": "pass",
        "removable-devices-registered": "pass", "mn-no-wireless": "notapplicable", "single-segment": "pass",
        "screen-transfer-no-redirection": "notapplicable", "screen-lock-timeout": "pass",
        "screen-lock-password": "pass", "shell-idle-timeout": "notapplicable", "disk-encryption-system": "pass",
        "disk-encryption-all-fixed": "pass", "software-approved": "notapplicable", "os-supported": "pass",
        "antimalware-installed": "pass", "antimalware-realtime": "pass", "antimalware-signatures-fresh": "pass",
        "antimalware-signatures-fresh-mynumber": "notapplicable", "windows-firewall-profiles": "pass",
        "linux-audit-daemon": "notapplicable", "local-admin-count": "pass", "sshd-root-login": "notapplicable",
        "sshd-no-empty-passwords": "notapplicable", "sshd-password-authentication": "notapplicable",
        "sshd-max-auth-tries": "notapplicable", "security-update-age": "pass",
    },
}


def variant(os_name: str, edits: dict[str, Any] | None = None, segment: str | None = None,
            labels: dict[str, str] | None = None, delete: tuple[str, ...] = ()) -> dict[str, Any]:
    """A copy of the OS's bundle with ``{"area.key": value}`` edits (list items by index) and areas deleted."""
    bundle = copy.deepcopy(BUNDLES[os_name])
    facts = bundle["facts"]
    for dotted, value in (edits or {}).items():
        *parents, last = dotted.split(".")
        node = facts
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    for dotted in delete:
        *parents, last = dotted.split(".")
        node = facts
        for part in parents:
            node = node[part]
        del node[last]
    if segment is not None:
        bundle["target"]["segment"] = segment
    if labels is not None:
        bundle["target"]["labels"] = labels
    return bundle


def tailoring(tmp_path, **params: Any):
    path = tmp_path / "tailoring.yaml"
    body = {"format": "auditor-tailoring/1", "id": "test", "profile": "national-alpha",
            "parameters": {k: {"value": v, "reason": "試験用"} for k, v in params.items()}}
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")  # JSON is YAML
    return load_tailoring(path)


@pytest.fixture
def audit(write_bundle, tmp_path):
    """Judge one bundle with the default policy; the registered USB stick is in usb_allowlist unless overridden."""
    counter = iter(range(1000))

    def run(bundle: dict[str, Any], as_of: date | None = None, **params: Any) -> dict[str, Any]:
        params.setdefault("usb_allowlist", [USB_STICK])
        selection = resolve(POLICY, None, tailoring(tmp_path, **params))
        path = write_bundle(f"b{next(counter)}/{bundle['target']['id']}.json", bundle)
        return {r.check.id: r for r in Engine(selection, as_of=as_of).run(bundles.stream(bundles.index([path])))}

    return run


def findings(result) -> list[tuple[str, Any, str]]:
    return [(f.item, f.actual, f.expected) for f in result.findings]


# ---------------------------------------------------------------------------------------------
# the compliant bundles, and the policy's wiring of the new checks


def test_new_checks_are_in_the_default_profile_with_their_controls_and_severities():
    selected = {c.id: c for c in resolve(POLICY).checks}
    assert set(selected) >= ENDPOINT_CHECKS
    assert selected["mn-removable-storage-blocked"].controls == ["GL-A06"]
    assert selected["mn-no-wireless"].controls == ["GL-A07"]
    assert selected["single-segment"].controls == ["GL-A13"]
    assert selected["screen-transfer-no-redirection"].controls == ["GL-A12"]
    critical = {c for c in ENDPOINT_CHECKS if selected[c].severity == "critical"}
    assert critical == {"mn-removable-storage-blocked", "mn-no-wireless", "single-segment"}
    for check_id in ENDPOINT_CHECKS:
        assert selected[check_id].applies_to["kind"] == ["endpoint"], check_id
    for check_id in ("linux-audit-daemon", "sshd-root-login", "sshd-no-empty-passwords",
                     "sshd-password-authentication", "sshd-max-auth-tries"):
        assert selected[check_id].applies_to["os"] == ["linux"]
    assert selected["windows-firewall-profiles"].applies_to["os"] == ["windows"]


def test_profile_parameters_of_the_endpoint_checks():
    params = resolve(POLICY).params
    assert params["screen_lock_idle_seconds"] == params["screen_lock_idle_minutes"] * 60
    assert (params["av_signature_max_age_days"], params["av_signature_max_age_days_mynumber"]) == (3, 7)
    assert params["usb_allowlist"] == [] and params["approved_software_pattern"] == ""
    assert params["sshd_permit_root_login"] == ["no", "prohibit-password", "without-password"]
    assert params["sshd_max_auth_tries_allowed"] == ["1", "2", "3", "4"]
    for profile in POLICY.profiles:  # every profile resolves, so every check finds its parameters
        assert {c.id for c in resolve(POLICY, profile).checks} >= ENDPOINT_CHECKS


@pytest.mark.parametrize("os_name", ["linux", "windows"])
def test_compliant_bundle(audit, os_name):
    results = audit(BUNDLES[os_name])
    assert {c: results[c].status for c in ENDPOINT_CHECKS} == COMPLIANT[os_name]
    assert all(not results[c].findings for c in ENDPOINT_CHECKS)


def test_through_the_command_line_json_report(write_bundle, tmp_path):
    paths = [write_bundle("fleet/linux.json", variant("linux", {"screen_lock.idle_timeout_seconds": 900})),
             write_bundle("fleet/windows.json", variant("windows", {"firewall.profiles.2.enabled": False}))]
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(["audit", *map(str, paths), "--format", "json", "--lang", "en"])
    doc = json.loads(buf.getvalue())
    assert code == 0 and doc["gate"]["passed"]  # failures, but no critical one
    got = {(r["target"], r["check"]): r for r in doc["results"] if r["check"] in ENDPOINT_CHECKS}
    lock = got[("lg-deb-01", "screen-lock-timeout")]
    assert lock["status"] == "fail"
    assert core(lock["findings"]) == [{"item": "screen_lock.idle_timeout_seconds", "actual": 900, "expected": "<= 600"}]
    assert lock["message"] == ("The screen lock does not meet the limit of 600 seconds "
                               "(screen_lock.idle_timeout_seconds = 900)")
    fw = got[("lg-win-01", "windows-firewall-profiles")]
    assert fw["status"] == "fail"
    assert core(fw["findings"]) == [{"item": "Public", "actual": False, "expected": "enabled == true"}]
    # with the default (empty) usb_allowlist, the Windows stick is not registered
    usb = got[("lg-win-01", "removable-devices-registered")]
    assert usb["status"] == "fail"
    assert core(usb["findings"]) == [{"item": "removable_media.allowed_devices[0]", "actual": USB_STICK,
                                "expected": "no item with none of []"}]
    assert got[("lg-deb-01", "removable-devices-registered")]["status"] == "pass"  # it allows nothing


# ---------------------------------------------------------------------------------------------
# a missing area is error, never pass

MISSING = [
    ("linux", "removable_media", {"removable-media-restricted", "removable-devices-registered"}),
    ("windows", "removable_media", {"removable-media-restricted", "removable-devices-registered"}),
    ("linux", "segments", {"single-segment"}),
    ("windows", "segments", {"single-segment"}),
    ("linux", "screen_lock", {"screen-lock-timeout", "screen-lock-password", "shell-idle-timeout"}),
    ("windows", "screen_lock", {"screen-lock-timeout", "screen-lock-password", "shell-idle-timeout"}),
    ("linux", "disk_encryption", {"disk-encryption-system", "disk-encryption-all-fixed"}),
    ("windows", "disk_encryption", {"disk-encryption-system", "disk-encryption-all-fixed"}),
    ("linux", "antimalware", {"antimalware-installed", "antimalware-realtime", "antimalware-signatures-fresh"}),
    ("windows", "antimalware", {"antimalware-installed", "antimalware-realtime", "antimalware-signatures-fresh"}),
    ("linux", "local_admins", {"local-admin-count"}),
    ("windows", "local_admins", {"local-admin-count"}),
    ("linux", "audit_daemon", {"linux-audit-daemon"}),
    ("windows", "firewall", {"windows-firewall-profiles"}),
    ("windows", "patches", {"security-update-age"}),
    ("linux", "os.eol_date", {"os-supported"}),
    ("windows", "os.eol_date", {"os-supported"}),
]


@pytest.mark.parametrize(("os_name", "area", "checks"), MISSING)
def test_missing_area_is_error(audit, os_name, area, checks):
    results = audit(variant(os_name, delete=(area,)))
    assert {c: results[c].status for c in checks} == dict.fromkeys(checks, "error")
    for check_id in checks:
        assert f"fact {area}" in results[check_id].message["en"], check_id
    unaffected = {c for c in ENDPOINT_CHECKS - checks if COMPLIANT[os_name][c] != "notapplicable"}
    assert {c for c in unaffected if results[c].status != "pass"} == set()


def test_missing_area_in_my_number_is_error_for_the_mn_checks(audit):
    for os_name in ("linux", "windows"):
        results = audit(variant(os_name, segment="mynumber", delete=("removable_media", "interfaces", "antimalware")))
        for check_id in ("mn-removable-storage-blocked", "mn-no-wireless", "antimalware-signatures-fresh-mynumber"):
            assert results[check_id].status == "error", (os_name, check_id)


def test_a_missing_key_inside_an_area_is_error_too(audit):
    results = audit(variant("linux", delete=("ssh_server.settings.maxauthtries", "audit_daemon.rule_count",
                                             "screen_lock.password_on_resume")))
    assert results["sshd-max-auth-tries"].status == "error"
    assert results["linux-audit-daemon"].status == "error"
    assert results["screen-lock-password"].status == "error"
    results = audit(variant("linux", {"screen_lock.desktop": False}, delete=("screen_lock.shell_timeout_seconds",)))
    assert results["shell-idle-timeout"].status == "error"


def test_eol_release_missing_from_the_table_is_error_quoting_the_collector(audit):
    bundle = variant("linux", {"os.version": "14"}, delete=("os.eol_date", "os.eol_source"))
    bundle["errors"] = [{"area": "os", "message": "end-of-life table has no entry for debian 14 (Debian GNU/Linux)"}]
    result = audit(bundle)["os-supported"]
    assert result.status == "error"
    assert "fact os.eol_date is missing" in result.message["en"]
    assert "no entry for debian 14" in result.message["en"]


# ---------------------------------------------------------------------------------------------
# removable media (GL-A06, GL-C06)


def test_my_number_removable_storage(audit):
    # Linux blocks mass storage; Windows allows only registered devices: both pass
    for os_name in ("linux", "windows"):
        assert audit(variant(os_name, segment="mynumber"))["mn-removable-storage-blocked"].status == "pass"
    # write-protection alone does not satisfy GL-A06, which forbids unregistered media altogether
    open_usb = {"removable_media.storage_blocked": False, "removable_media.write_blocked": True,
                "removable_media.allowlist_enforced": False}
    result = audit(variant("windows", open_usb, segment="mynumber"))["mn-removable-storage-blocked"]
    assert result.status == "fail" and result.check.severity == "critical"
    assert findings(result) == [("removable_media.storage_blocked", False,
                                 "storage_blocked == true or allowlist_enforced == true")]
    # outside My Number the same host is compliant with GL-C06 (writes blocked)
    results = audit(variant("windows", open_usb))
    assert results["removable-media-restricted"].status == "pass"
    assert results["mn-removable-storage-blocked"].status == "notapplicable"
    # and in My Number GL-C06 is left to the stricter GL-A06 check
    assert audit(variant("windows", open_usb, segment="mynumber"))["removable-media-restricted"].status == \
        "notapplicable"


@pytest.mark.parametrize("os_name", ["linux", "windows"])
def test_removable_media_open(audit, os_name):
    edits = {"removable_media.storage_blocked": False, "removable_media.write_blocked": False,
             "removable_media.allowlist_enforced": False, "removable_media.mechanisms": []}
    result = audit(variant(os_name, edits))["removable-media-restricted"]
    assert result.status == "fail"
    assert findings(result) == [("removable_media.storage_blocked", False,
                                 "storage_blocked == true or write_blocked == true or allowlist_enforced == true")]
    unsegmented = variant(os_name, edits)
    unsegmented["target"]["segment"] = None
    assert audit(unsegmented)["removable-media-restricted"].status == "fail"


def test_removable_devices_must_be_registered(audit):
    usbguard = {"removable_media.storage_blocked": True, "removable_media.allowlist_enforced": True,
                "removable_media.allowed_devices": ["id 0781:5581", "id 0930:6545"], "removable_media.mechanisms":
                ["usbguard"]}
    results = audit(variant("linux", usbguard, segment="mynumber"), usb_allowlist=["id 0781:5581"])
    assert results["mn-removable-storage-blocked"].status == "pass"
    result = results["removable-devices-registered"]
    assert result.status == "fail"
    assert findings(result) == [("removable_media.allowed_devices[1]", "id 0930:6545",
                                 "no item with none of [id 0781:5581]")]
    assert audit(variant("linux", usbguard), usb_allowlist=["id 0781:5581", "id 0930:6545"])[
        "removable-devices-registered"].status == "pass"
    # a host that does not list allowed devices has nothing to compare
    assert audit(variant("linux", delete=("removable_media.allowed_devices",)))[
        "removable-devices-registered"].status == "notapplicable"


# ---------------------------------------------------------------------------------------------
# separation on the endpoint (GL-A07, GL-A13, GL-A12)


def test_my_number_wireless(audit):
    assert audit(variant("linux", segment="mynumber"))["mn-no-wireless"].status == "pass"  # wlan0 is down
    result = audit(variant("windows", segment="mynumber"))["mn-no-wireless"]
    assert result.status == "fail" and result.check.severity == "critical"
    assert findings(result) == [("Wi-Fi", {"wireless": True, "up": True},
                                 "no item with wireless == true and up == true")]
    assert result.message["en"] == "Active wireless interfaces: Wi-Fi"
    up = audit(variant("linux", {"interfaces.2.up": True}, segment="mynumber"))["mn-no-wireless"]
    assert [f.item for f in up.findings] == ["wlan0"]


@pytest.mark.parametrize("os_name", ["linux", "windows"])
def test_addresses_in_two_segments(audit, os_name):
    edits = {"segments.segments": ["external", "lgwan"]}
    result = audit(variant(os_name, edits))["single-segment"]
    assert result.status == "fail" and result.check.severity == "critical"
    assert findings(result) == [("segments.segments", 2, "number of items with any item <= 1")]
    assert "addresses in 2 segments" in result.message["en"]
    boundary = audit(variant(os_name, edits, labels={"role": "boundary"}))["single-segment"]
    assert boundary.status == "notapplicable"
    assert audit(variant(os_name, {"segments.segments": []}))["single-segment"].status == "pass"


def test_screen_transfer_redirection(audit):
    host = {"role": "screen-transfer"}
    assert audit(variant("windows", labels=host))["screen-transfer-no-redirection"].status == "pass"
    result = audit(variant("windows", {"remote_desktop.clipboard_redirection": True,
                                       "remote_desktop.drive_redirection": True}, labels=host))[
        "screen-transfer-no-redirection"]
    assert result.status == "fail"
    assert findings(result) == [("remote_desktop.clipboard_redirection", True, "== false"),
                                ("remote_desktop.drive_redirection", True, "== false")]
    assert result.message["en"].startswith("2 redirection(s) are allowed on this screen-transfer host: "
                                           "remote_desktop.clipboard_redirection, remote_desktop.drive_redirection")
    # a Linux screen-transfer host without xrdp facts cannot be proven
    assert audit(variant("linux", labels=host))["screen-transfer-no-redirection"].status == "error"
    xrdp = variant("linux", labels=host)
    xrdp["facts"]["remote_desktop"] = {**WINDOWS["facts"]["remote_desktop"], "printer_redirection": True}
    result = audit(xrdp)["screen-transfer-no-redirection"]
    assert findings(result) == [("remote_desktop.printer_redirection", True, "== false")]


# ---------------------------------------------------------------------------------------------
# screen lock (GL-C04)


@pytest.mark.parametrize("os_name", ["linux", "windows"])
def test_screen_lock_limits(audit, os_name):
    result = audit(variant(os_name, {"screen_lock.idle_timeout_seconds": 900}))["screen-lock-timeout"]
    assert findings(result) == [("screen_lock.idle_timeout_seconds", 900, "<= 600")]
    never = audit(variant(os_name, {"screen_lock.enabled": False, "screen_lock.idle_timeout_seconds": None}))
    assert findings(never["screen-lock-timeout"]) == [("screen_lock.enabled", False, "== true"),
                                                      ("screen_lock.idle_timeout_seconds", None, "<= 600")]
    nopass = audit(variant(os_name, {"screen_lock.password_on_resume": False}))
    assert nopass["screen-lock-password"].status == "fail"
    assert findings(nopass["screen-lock-password"]) == [("screen_lock.password_on_resume", False, "== true")]
    # the limit follows the profile
    assert audit(variant(os_name, {"screen_lock.idle_timeout_seconds": 900}),
                 screen_lock_idle_seconds=900)["screen-lock-timeout"].status == "pass"


def test_console_only_host_is_judged_by_the_shell_timeout(audit):
    console = {"screen_lock.desktop": False, "screen_lock.enabled": False, "screen_lock.idle_timeout_seconds": None,
               "screen_lock.password_on_resume": False, "screen_lock.shell_timeout_seconds": 600}
    results = audit(variant("linux", console))
    assert {c: results[c].status for c in ("screen-lock-timeout", "screen-lock-password", "shell-idle-timeout")} == {
        "screen-lock-timeout": "notapplicable", "screen-lock-password": "notapplicable", "shell-idle-timeout": "pass"}
    unset = audit(variant("linux", {**console, "screen_lock.shell_timeout_seconds": None}))["shell-idle-timeout"]
    assert unset.status == "fail"
    assert findings(unset) == [("screen_lock.shell_timeout_seconds", None, "<= 600")]


# ---------------------------------------------------------------------------------------------
# disk encryption (GL-C01)


def test_unencrypted_linux_home(audit):
    results = audit(variant("linux", {"disk_encryption.volumes.1.encrypted": False,
                                      "disk_encryption.volumes.1.protection_on": False,
                                      "disk_encryption.volumes.1.method": None,
                                      "disk_encryption.all_fixed_encrypted": False}))
    assert results["disk-encryption-system"].status == "pass"
    assert findings(results["disk-encryption-all-fixed"]) == [
        ("disk_encryption.all_fixed_encrypted", False, "== true"),
        ("/home (/dev/mapper/vg0-home)", False, "protection_on == true")]


def test_unencrypted_windows_system_and_suspended_bitlocker(audit):
    results = audit(variant("windows", {"disk_encryption.volumes.0.encrypted": False,
                                        "disk_encryption.volumes.0.protection_on": False,
                                        "disk_encryption.system_encrypted": False,
                                        "disk_encryption.all_fixed_encrypted": False}))
    assert findings(results["disk-encryption-system"]) == [("disk_encryption.system_encrypted", False, "== true")]
    assert results["disk-encryption-all-fixed"].status == "fail"
    # BitLocker suspended on D: -- encrypted, but the key is in the clear
    suspended = audit(variant("windows", {"disk_encryption.volumes.1.protection_on": False}))
    device = WINDOWS["facts"]["disk_encryption"]["volumes"][1]["device"]
    assert findings(suspended["disk-encryption-all-fixed"]) == [(f"D: ({device})", False, "protection_on == true")]


# ---------------------------------------------------------------------------------------------
# software allowlist (GL-C05)


def test_software_allowlist_is_not_applicable_until_configured(audit):
    result = audit(BUNDLES["windows"])["software-approved"]
    assert result.status == "notapplicable"
    assert "approved_software_pattern not empty does not hold" in result.message["en"]


@pytest.mark.parametrize(("os_name", "pattern", "extra"), [
    ("linux", "^(firefox-esr|libreoffice-.*)$", "x11vnc"),
    ("windows", "^(Microsoft Edge|7-Zip .*)$", "TeamViewer"),
])
def test_software_allowlist(audit, os_name, pattern, extra):
    assert audit(BUNDLES[os_name], approved_software_pattern=pattern)["software-approved"].status == "pass"
    bundle = variant(os_name)
    bundle["facts"]["software"].append({"name": extra, "version": "1.0", "publisher": None, "installed_on": None,
                                        "architecture": "x64"})
    result = audit(bundle, approved_software_pattern=pattern)["software-approved"]
    assert result.status == "fail"
    assert findings(result) == [(extra, extra, f"name matches /{pattern}/")]
    assert result.message["en"] == f"1 installed programs are not approved: {extra}"


# ---------------------------------------------------------------------------------------------
# end of support (GL-D02)


def test_end_of_life_is_judged_as_of_collection(audit):
    assert audit(BUNDLES["windows"])["os-supported"].status == "pass"  # 2026-11-10, collected 2026-11-02
    late = variant("windows")
    late["collected_at"] = "2026-12-01T09:00:00+09:00"
    result = audit(late)["os-supported"]
    assert result.status == "fail"
    assert findings(result) == [("os.eol_date", "2026-11-10 (21 days before 2026-12-01)",
                                 "at most 0 days old or == null")]
    assert audit(BUNDLES["windows"], as_of=date(2026, 11, 10))["os-supported"].status == "pass"  # the last day
    assert audit(BUNDLES["windows"], as_of=date(2026, 11, 11))["os-supported"].status == "fail"
    windows10 = audit(variant("windows", {"os.name": "Windows 10 Pro", "os.eol_date": "2025-10-14"}))
    assert windows10["os-supported"].status == "fail"
    # null: the vendor has announced no end
    assert audit(variant("linux", {"os.eol_date": None}))["os-supported"].status == "pass"


# ---------------------------------------------------------------------------------------------
# anti-malware (GL-D03, GL-D04, GL-D05)


@pytest.mark.parametrize("os_name", ["linux", "windows"])
def test_antimalware_missing_or_stopped(audit, os_name):
    none = audit(variant(os_name, {"antimalware.installed": False, "antimalware.realtime_enabled": False,
                                   "antimalware.signature_updated_at": None, "antimalware.products": []}))
    assert findings(none["antimalware-installed"]) == [
        ("antimalware.installed", False, "== true"),
        ("antimalware.products", "none of 0 items", "at least one item with running == true")]
    assert findings(none["antimalware-realtime"]) == [("antimalware.realtime_enabled", False, "== true")]
    # no product, no signatures to date: that is antimalware-installed's finding alone
    assert none["antimalware-signatures-fresh"].status == "notapplicable"
    never = audit(variant(os_name, {"antimalware.signature_updated_at": None}))["antimalware-signatures-fresh"]
    assert findings(never) == [("antimalware.signature_updated_at", None, "at most 3 days old")]
    stopped = audit(variant(os_name, {"antimalware.products.0.running": False}))["antimalware-installed"]
    assert findings(stopped) == [("antimalware.products", "none of 1 items", "at least one item with running == true")]


@pytest.mark.parametrize("os_name", ["linux", "windows"])
def test_signature_age_differs_in_my_number(audit, os_name):
    five_days = {"antimalware.signature_updated_at": "2026-10-28T09:00:00+09:00"}
    lg = audit(variant(os_name, five_days))
    assert lg["antimalware-signatures-fresh"].status == "fail"
    assert findings(lg["antimalware-signatures-fresh"]) == [
        ("antimalware.signature_updated_at", "2026-10-28T09:00:00+09:00 (5 days before 2026-11-02)",
         "at most 3 days old")]
    assert lg["antimalware-signatures-fresh-mynumber"].status == "notapplicable"
    mn = audit(variant(os_name, five_days, segment="mynumber"))
    assert mn["antimalware-signatures-fresh"].status == "notapplicable"
    assert mn["antimalware-signatures-fresh-mynumber"].status == "pass"
    old = audit(variant(os_name, {"antimalware.signature_updated_at": "2026-10-20T09:00:00+09:00"},
                        segment="mynumber"))["antimalware-signatures-fresh-mynumber"]
    assert old.status == "fail"
    assert old.message["en"] == ("Malware signatures are older than 7 days "
                                 "(last update: 2026-10-20T09:00:00+09:00 (13 days before 2026-11-02))")


# ---------------------------------------------------------------------------------------------
# host firewall and audit (GL-D08, GL-D15)


def test_windows_firewall_every_profile(audit):
    results = audit(variant("windows", {"firewall.profiles.1.enabled": False}))
    assert results["windows-firewall-profiles"].status == "fail"
    assert findings(results["windows-firewall-profiles"]) == [("Private", False, "enabled == true")]
    assert results["host-firewall-enabled"].status == "pass"  # the summary flag alone would not see it
    bundle = variant("windows")
    del bundle["facts"]["firewall"]["profiles"][2]
    result = audit(bundle)["windows-firewall-profiles"]
    assert findings(result) == [("firewall.profiles", 2, "number of items with any item >= 3")]


def test_linux_audit_daemon(audit):
    stopped = audit(variant("linux", {"audit_daemon.active": False, "audit_daemon.rule_count": 0}))
    assert findings(stopped["linux-audit-daemon"]) == [("audit_daemon.active", False, "== true"),
                                                       ("audit_daemon.rule_count", 0, "> 0")]
    absent = audit(variant("linux", {"audit_daemon.installed": False, "audit_daemon.active": False}))
    assert absent["linux-audit-daemon"].status == "fail"


# ---------------------------------------------------------------------------------------------
# local administrators (GL-B06, GL-B07)


def test_local_admins_count_users_not_group_grants(audit):
    linux = variant("linux")
    linux["facts"]["local_admins"] += [{"name": "suzuki", "kind": "user", "via": "wheel"},
                                       {"name": "opsbot", "kind": "user", "via": "sudoers"}]
    result = audit(linux)["local-admin-count"]
    assert result.status == "fail"
    assert findings(result) == [("local_admins", 4, "number of items with kind != group <= 3")]
    assert result.message["en"] == "4 accounts hold administrator rights (allowed: 3)"
    windows = variant("windows")
    windows["facts"]["local_admins"] += [{"name": "KAKUU\\PC-Admins", "kind": "group", "via": "Administrators"},
                                         {"name": "S-1-5-21-1-2-3-1109", "kind": "unknown", "via": "Administrators"}]
    assert audit(windows)["local-admin-count"].status == "pass"  # 3 users or unknown members, 2 groups
    windows["facts"]["local_admins"].append({"name": "KAKUU\\tanaka", "kind": "user", "via": "Administrators"})
    assert audit(windows)["local-admin-count"].status == "fail"


# ---------------------------------------------------------------------------------------------
# sshd (Linux)


@pytest.mark.parametrize(("setting", "value", "check_id", "expected"), [
    ("permitrootlogin", "yes", "sshd-root-login", "one of [no, prohibit-password, without-password]"),
    ("permitemptypasswords", "yes", "sshd-no-empty-passwords", "== no"),
    ("passwordauthentication", "yes", "sshd-password-authentication", "== no"),
    ("maxauthtries", "6", "sshd-max-auth-tries", "one of [1, 2, 3, 4]"),
])
def test_sshd_settings(audit, setting, value, check_id, expected):
    results = audit(variant("linux", {f"ssh_server.settings.{setting}": value}))
    assert {c for c in ENDPOINT_CHECKS if results[c].status == "fail"} == {check_id}
    assert findings(results[check_id]) == [(f"ssh_server.settings.{setting}", value, expected)]


def test_sshd_root_login_with_keys_only_is_accepted(audit):
    results = audit(variant("linux", {"ssh_server.settings.permitrootlogin": "prohibit-password"}))
    assert results["sshd-root-login"].status == "pass"
    strict = audit(variant("linux", {"ssh_server.settings.permitrootlogin": "prohibit-password"}),
                   sshd_permit_root_login=["no"])
    assert strict["sshd-root-login"].status == "fail"


def test_sshd_checks_apply_only_where_sshd_is_installed(audit):
    sshd = ("sshd-root-login", "sshd-no-empty-passwords", "sshd-password-authentication", "sshd-max-auth-tries")
    for bundle in (variant("linux", delete=("ssh_server",)),  # docs/facts.md: absent when not installed
                   variant("linux", {"ssh_server": {"installed": False, "running": False, "settings": {}}})):
        results = audit(bundle)
        assert {results[c].status for c in sshd} == {"notapplicable"}
    allowed = audit(variant("linux", {"ssh_server.settings.passwordauthentication": "yes"}),
                    sshd_password_authentication_allowed=True)
    assert allowed["sshd-password-authentication"].status == "notapplicable"


# ---------------------------------------------------------------------------------------------
# patch age (GL-D01): security-update-age now also judges Linux where the history knows security installs


def test_security_update_age_on_windows(audit):
    old = audit(variant("windows", {"patches.last_security_installed_at": "2026-08-11T03:00:00+09:00"}))
    assert findings(old["security-update-age"]) == [
        ("patches.last_security_installed_at", "2026-08-11T03:00:00+09:00 (83 days before 2026-11-02)",
         "at most 30 days old")]


def test_security_update_age_on_linux(audit):
    rhel = {"os.id": "rocky", "os.name": "Rocky Linux", "updates.manager": "dnf", "updates.pending_security": 2,
            "updates.packages_pending_security": ["openssl", "kernel"]}
    bundle = variant("linux", rhel)
    bundle["facts"]["patches"]["last_security_installed_at"] = "2026-08-20T03:00:00+09:00"
    result = audit(bundle)["security-update-age"]
    assert result.status == "fail"
    assert findings(result)[0][0] == "patches.last_security_installed_at"
    # nothing pending: current, whatever the age of the last security install
    bundle["facts"]["updates"]["pending_security"] = 0
    assert audit(bundle)["security-update-age"].status == "notapplicable"
    # Debian's history does not say which installs were security updates: security-updates-recent judges
    debian = audit(variant("linux", {"updates.pending_security": 1}))
    assert debian["security-update-age"].status == "notapplicable"
    assert debian["no-pending-security-updates"].status == "fail"


@pytest.mark.parametrize("os_name", ["linux", "windows"])
def test_dual_homing_without_zones_is_error_in_a_segment_and_not_applicable_outside(audit, os_name):
    declared = variant(os_name, delete=("segments",))
    assert declared["target"]["segment"] is not None
    assert audit(declared)["single-segment"].status == "error"
    loose = variant(os_name, delete=("segments",))
    loose["target"]["segment"] = None
    assert audit(loose)["single-segment"].status == "notapplicable"
    mapped = variant(os_name, {"segments.segments": ["internet", "lgwan"]})
    mapped["target"]["segment"] = None
    assert audit(mapped)["single-segment"].status == "fail"  # zones given: judged even without a declared segment
