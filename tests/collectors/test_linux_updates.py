"""Parsers of ``updates`` and ``patches`` on captured apt, dpkg, dnf and rpm output."""

from __future__ import annotations

from datetime import datetime

from auditor.evidence.collectors.linux.updates import (
    count_dpkg_installed,
    distro_family,
    last_dpkg_install,
    newest_mtime,
    parse_apt_upgradable,
    parse_dnf_check_update,
    parse_dnf_security,
    parse_rpm_installtimes,
)
from linux_support import fixture_text


def test_distro_family() -> None:
    assert distro_family({"ID": "debian"}) == "debian"
    assert distro_family({"ID": "ubuntu", "ID_LIKE": "debian"}) == "debian"
    assert distro_family({"ID": "rocky", "ID_LIKE": "rhel centos fedora"}) == "rhel"
    assert distro_family({"ID": "opensuse-leap", "ID_LIKE": "suse opensuse"}) is None


def test_apt_upgradable_with_bookworm_security() -> None:
    assert parse_apt_upgradable(fixture_text("commands/apt-list-upgradable.txt")) == {
        "pending": 6, "pending_security": 3, "packages_pending_security": ["libc6", "libssl3", "openssl"]}


def test_apt_upgradable_ubuntu_suite_list() -> None:
    assert parse_apt_upgradable(fixture_text("commands/apt-list-upgradable-ubuntu.txt")) == {
        "pending": 2, "pending_security": 1, "packages_pending_security": ["openssh-client"]}
    assert parse_apt_upgradable("Listing...\n") == {"pending": 0, "pending_security": 0,
                                                    "packages_pending_security": []}


def test_dnf_outputs() -> None:
    assert parse_dnf_check_update(fixture_text("commands/dnf-check-update.txt")) == 3
    assert parse_dnf_security(fixture_text("commands/dnf-updateinfo-security.txt")) == [
        "kernel", "kernel-core", "openssl-libs"]


def test_dpkg_log_and_status() -> None:
    logs = [fixture_text("root/var/log/dpkg.log"), fixture_text("root/var/log/dpkg.log.1")]
    assert last_dpkg_install(logs) == datetime(2026, 1, 10, 9, 12, 2)  # the later "remove" does not count
    assert last_dpkg_install([fixture_text("root/var/log/dpkg.log.1")]) == datetime(2025, 12, 20, 10, 0, 2)
    assert last_dpkg_install(["2026-01-01 00:00:00 startup archives unpack\n"]) is None
    assert count_dpkg_installed(fixture_text("root/var/lib/dpkg/status")) == 3


def test_rpm_and_mtime_listing() -> None:
    assert parse_rpm_installtimes(fixture_text("commands/rpm-installtime.txt")) == (3, 1716000000.0)
    assert newest_mtime("1768200000.5 /var/lib/apt/lists/a_InRelease\n1768100000.0 /b_Release\n") == 1768200000.5
    assert newest_mtime("") is None
