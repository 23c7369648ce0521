"""``software``: dpkg's status file and ``rpm -qa``."""

from __future__ import annotations

from pathlib import Path

import pytest
from auditor.evidence.collectors.linux.software import RPM_QUERY, collect, parse_dpkg_status, parse_rpm_packages
from linux_support import FakeHost, area_problems, collect_area, file_context, fixture_text, live_context, messages

AREA = "software"
RPM_COMMAND = f"rpm -qa --qf {RPM_QUERY}"
ROCKY = 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.5"\n'


def test_dpkg_status_installed_packages_only() -> None:
    packages = parse_dpkg_status(fixture_text("root/var/lib/dpkg/status"))
    # telnet is removed (config-files only); the i386 libssl3 is held but installed; a
    # "Package:" inside a description continuation line is not a package
    assert packages == [
        {"name": "bash", "version": "5.2.15-2+b7", "architecture": "amd64"},
        {"name": "htop", "version": "3.2.2-2", "architecture": "amd64"},
        {"name": "libssl3", "version": "3.0.15-1~deb12u1", "architecture": "amd64"},
        {"name": "libssl3", "version": "3.0.15-1~deb12u1", "architecture": "i386"},
    ]
    assert area_problems(AREA, packages) == {}


def test_rpm_packages(tokyo_tz: None) -> None:
    packages = parse_rpm_packages(fixture_text("commands/rpm-qa-packages.txt"))
    vendor = "Rocky Enterprise Software Foundation"
    assert packages == [
        {"name": "bash", "version": "5.1.8-9.el9", "publisher": vendor, "architecture": "x86_64",
         "installed_on": "2025-01-15"},
        {"name": "glibc", "version": "2.34-125.el9_5.1", "publisher": vendor, "architecture": "i686",
         "installed_on": "2025-01-15"},
        {"name": "glibc", "version": "2.34-125.el9_5.1", "publisher": vendor, "architecture": "x86_64",
         "installed_on": "2025-01-15"},
        {"name": "local-tool", "version": "1.0-1", "publisher": None, "architecture": "noarch"},
        {"name": "openssl-libs", "version": "1:3.2.2-6.el9_5", "publisher": vendor, "architecture": "x86_64",
         "installed_on": "2025-01-16"},
    ]
    assert area_problems(AREA, packages) == {}


def test_fake_root_debian(fake_root: Path) -> None:
    builder = collect_area(collect, file_context(fake_root))
    assert [p["name"] for p in builder.facts[AREA]] == ["bash", "htop", "libssl3", "libssl3"]
    assert messages(builder, AREA) == []


def test_live_rpm(fake_root: Path, monkeypatch: pytest.MonkeyPatch, tokyo_tz: None) -> None:
    (fake_root / "etc/os-release").write_text(ROCKY)
    host = FakeHost({RPM_COMMAND: fixture_text("commands/rpm-qa-packages.txt")}).install(monkeypatch)
    builder = collect_area(collect, live_context(fake_root, euid=1000))
    assert len(builder.facts[AREA]) == 5 and host.calls == [RPM_COMMAND]
    assert any(s["parser"] == "linux.rpm_packages" for s in builder.sources)


def test_rpm_failure_is_an_error_and_no_list(fake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (fake_root / "etc/os-release").write_text(ROCKY)
    FakeHost({RPM_COMMAND: (1, "error: rpmdb open failed")}).install(monkeypatch)
    builder = collect_area(collect, live_context(fake_root))
    assert AREA not in builder.facts
    assert messages(builder, AREA) == ["rpm exited with 1: error: rpmdb open failed"]


def test_rpm_on_a_file_tree_is_not_run(fake_root: Path) -> None:
    (fake_root / "etc/os-release").write_text(ROCKY)
    builder = collect_area(collect, file_context(fake_root))
    assert AREA not in builder.facts
    assert messages(builder, AREA) == [f"rpm: not run, {fake_root} is a file tree, not the running system"]


def test_unknown_family_and_missing_status(fake_root: Path) -> None:
    (fake_root / "var/lib/dpkg/status").unlink()
    builder = collect_area(collect, file_context(fake_root))
    assert AREA not in builder.facts
    assert messages(builder, AREA) == [f"{fake_root / 'var/lib/dpkg/status'}: not found"]
    (fake_root / "etc/os-release").write_text("ID=exampleos\n")
    builder = collect_area(collect, file_context(fake_root))
    assert messages(builder, AREA) == ["unsupported distribution family: ID='exampleos' ID_LIKE=''"]
