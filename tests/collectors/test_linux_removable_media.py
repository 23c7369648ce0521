"""``removable_media``: modprobe.d for usb-storage, and usbguard."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from auditor.evidence.collectors.linux.removable_media import (
    build_fact,
    collect,
    parse_modprobe,
    parse_usbguard_rules,
)
from linux_support import FakeHost, area_problems, collect_area, file_context, live_context, messages

AREA = "removable_media"
ALLOWED = ["1d6b:0002", "0781:5581", "046d:c31c", "046d:c534"]


def test_blacklist_alone_does_not_block() -> None:
    assert parse_modprobe(["blacklist usb-storage\n"]) == {"blacklisted": True, "install_disabled": False}
    assert parse_modprobe(["blacklist usb_storage\ninstall usb_storage /usr/bin/true\n"]) == {
        "blacklisted": True, "install_disabled": True}
    assert parse_modprobe(["# blacklist usb-storage\ninstall usb-storage /bin/echo disabled\n"]) == {
        "blacklisted": False, "install_disabled": False}
    # modprobe uses the first install command for a module
    assert parse_modprobe(["install usb-storage /sbin/modprobe --ignore-install usb-storage\n",
                           "install usb-storage /bin/false\n"])["install_disabled"] is False
    # another module's lines do not count
    assert parse_modprobe(["blacklist uas\ninstall usb-storage-x /bin/false\n"]) == {
        "blacklisted": False, "install_disabled": False}


def test_usbguard_rules_ids() -> None:
    text = ('allow id 1d6b:0002 serial "x" name "Hub id 5"\n'
            'allow id { 046d:c31c 046d:c534 } with-interface equals { 03:01:01 }\n'
            'allow with-interface equals { 08:*:* }\n'
            'block id 0781:5581\n'
            'allowx id 1111:2222\n'
            '# allow id 9999:9999\n'
            'allow id 1d6b:0002 name "again"\n')
    assert parse_usbguard_rules(text) == ["1d6b:0002", "046d:c31c", "046d:c534"]


def test_build_fact_combinations() -> None:
    both_off = {"blacklisted": False, "install_disabled": False}
    guard_on = {"installed": True, "active": True, "blocking": True, "allowed": ["0781:5581"]}
    assert build_fact(both_off, guard_on) == {
        "storage_blocked": True, "write_blocked": True, "allowlist_enforced": True,
        "allowed_devices": ["0781:5581"], "mechanisms": ["usbguard"]}
    assert build_fact(both_off, {**guard_on, "active": False}) == {
        "storage_blocked": False, "write_blocked": False, "allowlist_enforced": False,
        "allowed_devices": ["0781:5581"], "mechanisms": []}
    # usbguard allowing everything it does not know blocks nothing
    assert build_fact(both_off, {**guard_on, "blocking": False})["storage_blocked"] is False
    # usbguard's state unknown and the module not blocked: not decided
    assert build_fact(both_off, {"installed": True}) == {}
    # the module blocked: decided whatever usbguard does
    assert build_fact({"blacklisted": True, "install_disabled": True}, {"installed": True}) == {
        "storage_blocked": True, "write_blocked": True,
        "mechanisms": ["modprobe-blacklist", "modprobe-install-disabled"]}
    # modprobe.d unreadable: only usbguard can decide
    assert build_fact(None, {"installed": False, "active": False, "blocking": False, "allowed": []}) == {
        "allowlist_enforced": False, "allowed_devices": []}


def test_fake_root_from_files(fake_root: Path) -> None:
    builder = collect_area(collect, file_context(fake_root))
    assert builder.facts[AREA] == {"storage_blocked": True, "write_blocked": True, "allowed_devices": ALLOWED,
                                   "mechanisms": ["modprobe-blacklist", "modprobe-install-disabled"]}
    assert messages(builder, AREA) == [
        f"running processes: not collected, {fake_root} is a file tree, not the running system"]
    # the vendor file of the same name is hidden by /etc's, so it is not even read
    names = {s["name"] for s in builder.sources}
    assert str(fake_root / "etc/modprobe.d/usb-storage.conf") in names
    assert str(fake_root / "usr/lib/modprobe.d/usb-storage.conf") not in names
    assert str(fake_root / "usr/lib/modprobe.d/systemd.conf") in names


def test_live_usbguard_enforcing_an_allowlist(fake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (fake_root / "etc/modprobe.d/usb-storage.conf").write_text("blacklist usb-storage\n")
    FakeHost(processes=["systemd", "usbguard-daemon", "sshd"]).install(monkeypatch)
    builder = collect_area(collect, live_context(fake_root))
    fact = builder.facts[AREA]
    assert fact == {"storage_blocked": True, "write_blocked": True, "allowlist_enforced": True,
                    "allowed_devices": ALLOWED, "mechanisms": ["modprobe-blacklist", "usbguard"]}
    assert messages(builder, AREA) == []
    assert area_problems(AREA, fact) == {}


def test_live_nothing_blocks(fake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.rmtree(fake_root / "etc/modprobe.d")
    FakeHost(processes=["systemd"]).install(monkeypatch)
    fact = collect_area(collect, live_context(fake_root)).facts[AREA]
    assert fact == {"storage_blocked": False, "write_blocked": False, "allowlist_enforced": False,
                    "allowed_devices": ALLOWED, "mechanisms": []}


def test_usbguard_files_unreadable_leave_keys_out(fake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.rmtree(fake_root / "etc/modprobe.d")
    conf = fake_root / "etc/usbguard/usbguard-daemon.conf"
    conf.unlink()
    conf.mkdir()  # unreadable, as the 0600 file is for a non-root collector
    FakeHost(processes=["usbguard-daemon"]).install(monkeypatch)
    builder = collect_area(collect, live_context(fake_root, euid=1000))
    assert builder.facts[AREA] == {}
    assert messages(builder, AREA) == [f"{conf}: Is a directory"]


def test_implicit_policy_not_set_is_an_error(fake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.rmtree(fake_root / "etc/modprobe.d")
    conf = fake_root / "etc/usbguard/usbguard-daemon.conf"
    conf.write_text("RuleFile=/etc/usbguard/rules.conf\n")
    FakeHost(processes=["usbguard-daemon"]).install(monkeypatch)
    builder = collect_area(collect, live_context(fake_root))
    assert "storage_blocked" not in builder.facts[AREA]
    assert builder.facts[AREA]["allowed_devices"] == ["1d6b:0002", "0781:5581"]  # no RuleFolder set
    assert messages(builder, AREA) == [
        "usbguard: ImplicitPolicyTarget is not set in /etc/usbguard/usbguard-daemon.conf"]


def test_unreadable_modprobe_file_leaves_the_module_verdict_out(fake_root: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    (fake_root / "etc/modprobe.d/zz-local.d.conf").mkdir()  # not a file: modprobe does not read it either
    bad = fake_root / "etc/modprobe.d/zz-local.conf"
    bad.write_text("install usb-storage /bin/true\n")
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == bad:
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    FakeHost(processes=[]).install(monkeypatch)
    builder = collect_area(collect, live_context(fake_root))
    # usbguard is installed but not running; whether the module loads is unknown
    assert builder.facts[AREA] == {"allowlist_enforced": False, "allowed_devices": ALLOWED}
    assert messages(builder, AREA) == [f"{bad}: Permission denied"]
