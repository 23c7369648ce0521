"""Parsers of ``updates`` and ``patches`` on captured apt, dpkg, dnf and rpm output."""

from __future__ import annotations

from datetime import UTC, datetime

from auditor.evidence.collectors.linux.updates import (
    count_dpkg_installed,
    distro_family,
    last_apt_upgrade,
    last_dnf_upgrade,
    last_dpkg_upgrade,
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
    logs = [fixture_text("root/var/log/dpkg.log.1"), fixture_text("root/var/log/dpkg.log")]  # oldest first
    assert last_dpkg_upgrade(logs) == datetime(2026, 1, 10, 9, 12, 2)  # the later "remove" does not count
    assert last_dpkg_upgrade([fixture_text("root/var/log/dpkg.log.1")]) is None  # only an install of htop
    assert last_dpkg_upgrade(["2026-01-01 00:00:00 startup archives unpack\n"]) is None
    assert count_dpkg_installed(fixture_text("root/var/lib/dpkg/status")) == 3


HISTORY = "patch-history/debian/var/log/"


def test_dpkg_upgrade_needs_a_new_version_installed() -> None:
    """Only upgrades that dpkg finished count: new installs, reinstalls and interrupted upgrades do not."""
    assert last_dpkg_upgrade([fixture_text(HISTORY + "dpkg.log")]) is None  # install newpkg only
    # dpkg.log.1: htop installed, tzdata reinstalled at the same version, libc6 left unpacked
    assert last_dpkg_upgrade([fixture_text(HISTORY + "dpkg.log.1")]) is None
    logs = [fixture_text(HISTORY + name) for name in ("dpkg.log.2", "dpkg.log.1", "dpkg.log")]
    assert last_dpkg_upgrade(logs) == datetime(2026, 9, 10, 3, 10, 3)  # libssl3's upgrade line


def test_dpkg_upgrade_completed_in_a_later_run_or_file() -> None:
    unpacked = ("2026-10-27 02:00:04 upgrade libc6:amd64 2.36-9+deb12u7 2.36-9+deb12u9\n"
                "2026-10-27 02:00:05 status unpacked libc6:amd64 2.36-9+deb12u9\n")
    configured = ("2026-10-28 08:00:00 startup packages configure\n"
                  "2026-10-28 08:00:01 configure libc6:amd64 2.36-9+deb12u9 <none>\n"
                  "2026-10-28 08:00:01 status half-configured libc6:amd64 2.36-9+deb12u9\n"
                  "2026-10-28 08:00:02 status installed libc6:amd64 2.36-9+deb12u9\n")
    assert last_dpkg_upgrade([unpacked]) is None
    assert last_dpkg_upgrade([unpacked, configured]) == datetime(2026, 10, 27, 2, 0, 4)
    assert last_dpkg_upgrade([unpacked + configured]) == datetime(2026, 10, 27, 2, 0, 4)
    # removed before it was configured: not an update either
    removed = "2026-10-27 03:00:00 remove libc6:amd64 2.36-9+deb12u9 <none>\n"
    assert last_dpkg_upgrade([unpacked, removed, configured]) is None


def test_apt_history_upgrades() -> None:
    assert last_apt_upgrade([fixture_text(HISTORY + "apt/history.log")]) is None  # Install: only
    # history.log.1: an Install:, a Reinstall:, and an Upgrade: that ended in an Error:
    assert last_apt_upgrade([fixture_text(HISTORY + "apt/history.log.1")]) is None
    logs = [fixture_text(HISTORY + "apt/" + name) for name in ("history.log.2", "history.log.1", "history.log")]
    assert last_apt_upgrade(logs) == datetime(2026, 9, 10, 3, 10, 7)  # the End-Date
    mixed = ("Start-Date: 2026-05-09  07:29:02\n"
             "Commandline: apt-get install -y git\n"
             "Install: libidn2-dev:amd64 (2.3.3-1+b1, automatic)\n"
             "Upgrade: git:amd64 (1:2.39.5-0+deb12u2, 1:2.39.5-0+deb12u3), "
             "gpgv:amd64 (2.2.40-1.1, 2.2.40-1.1+deb12u2)\n"
             "End-Date: 2026-05-09  07:30:11\n")
    assert last_apt_upgrade([mixed]) == datetime(2026, 5, 9, 7, 30, 11)  # a new package that pulled upgrades
    assert last_apt_upgrade([mixed.replace("End-Date: 2026-05-09  07:30:11\n", "")]) is None  # interrupted


def test_dnf_rpm_log_upgrades() -> None:
    current = fixture_text("patch-history/rhel/var/log/dnf.rpm.log")
    assert last_dnf_upgrade([current]) is None  # Installed:, Reinstall: and Downgrade: only
    older = fixture_text("patch-history/rhel/var/log/dnf.rpm.log.1")
    assert last_dnf_upgrade([older, current]) == datetime(2026, 9, 8, 1, 15, 41, tzinfo=UTC)
    assert last_dnf_upgrade(["2022-03-28T14:31:28+00 SUBDEBUG Upgrade: openssl-libs-1:1.1.1g-16.el8_4\n"]) == (
        datetime(2022, 3, 28, 14, 31, 28, tzinfo=UTC))


def test_rpm_and_mtime_listing() -> None:
    assert parse_rpm_installtimes(fixture_text("commands/rpm-installtime.txt")) == (3, 1716000000.0)
    assert newest_mtime("1768200000.5 /var/lib/apt/lists/a_InRelease\n1768100000.0 /b_Release\n") == 1768200000.5
    assert newest_mtime("") is None
