"""``patches.last_installed_at``: the newest update of an installed package, from the whole rotated history.

The scenario (tests/fixtures/linux/patch-history): openssl and libssl3 were upgraded on
2026-09-10; since then the host only installed new packages (htop, newpkg), reinstalled tzdata
at the same version and failed an upgrade of libc6. Its last update is 2026-09-10, however
recent the last install.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from auditor.evidence.collectors.linux.updates import collect_patches
from linux_support import FakeHost, area_problems, collect_area, file_context, fixture_text, live_context, messages
from patch_time_support import debian_history, gzip_in_place, rhel_history

AREA = "patches"
RPM_COMMAND = "rpm -qa --qf %{INSTALLTIME} %{NAME}\\n"


def test_new_installs_are_not_updates(fake_root: Path) -> None:
    builder = collect_area(collect_patches, file_context(debian_history(fake_root)))
    # apt's End-Date of the unattended upgrade, the newest of dpkg's and apt's records of it
    assert builder.facts[AREA] == {"last_installed_at": "2026-09-10T03:10:07+09:00", "installed_count": 3}
    assert messages(builder, AREA) == []
    assert area_problems(AREA, builder.facts[AREA]) == {}


def test_every_rotation_is_read_oldest_first(fake_root: Path) -> None:
    debian_history(fake_root)
    builder = collect_area(collect_patches, file_context(fake_root))
    read = [(s["name"].removeprefix(str(fake_root)), s["parser"]) for s in builder.sources]
    assert read == [
        ("/etc/os-release", "linux.os_release"),
        ("/var/log/dpkg.log.2.gz", "linux.dpkg_log+gzip"),
        ("/var/log/dpkg.log.1", "linux.dpkg_log"),
        ("/var/log/dpkg.log", "linux.dpkg_log"),
        ("/var/log/apt/history.log.2.gz", "linux.apt_history+gzip"),
        ("/var/log/apt/history.log.1.gz", "linux.apt_history+gzip"),
        ("/var/log/apt/history.log", "linux.apt_history"),
        ("/var/lib/dpkg/status", "linux.dpkg_status"),
    ]


def test_dpkg_log_alone_dates_the_upgrade_by_its_upgrade_line(fake_root: Path) -> None:
    debian_history(fake_root)
    for rotation in (fake_root / "var/log/apt").iterdir():
        rotation.unlink()
    builder = collect_area(collect_patches, file_context(fake_root))
    assert builder.facts[AREA]["last_installed_at"] == "2026-09-10T03:10:03+09:00"
    assert messages(builder, AREA) == []  # apt's history is optional


def test_history_with_no_update_is_null(fake_root: Path) -> None:
    debian_history(fake_root)
    (fake_root / "var/log/dpkg.log.2.gz").unlink()
    (fake_root / "var/log/apt/history.log.2.gz").unlink()
    builder = collect_area(collect_patches, file_context(fake_root))
    assert builder.facts[AREA] == {"last_installed_at": None, "installed_count": 3}
    assert area_problems(AREA, builder.facts[AREA]) == {}


def test_a_broken_rotation_is_an_error_and_the_rest_still_counts(fake_root: Path) -> None:
    debian_history(fake_root)
    (fake_root / "var/log/apt/history.log.2.gz").write_bytes(b"\x1f\x8b\x08\x00 truncated")
    builder = collect_area(collect_patches, file_context(fake_root))
    assert messages(builder, AREA) == [
        f"{fake_root / 'var/log/apt/history.log.2.gz'}: not a gzip file, or larger than 64 MiB when inflated"]
    assert builder.facts[AREA]["last_installed_at"] == "2026-09-10T03:10:03+09:00"  # dpkg.log.2.gz says so


def test_plain_and_gzipped_rotations_alike(fake_root: Path) -> None:
    debian_history(fake_root, compressed=())
    gzip_in_place(fake_root / "var/log/dpkg.log.1")  # a host without delaycompress
    builder = collect_area(collect_patches, file_context(fake_root))
    assert builder.facts[AREA]["last_installed_at"] == "2026-09-10T03:10:07+09:00"


def test_missing_dpkg_log_is_an_error_but_apt_history_still_answers(fake_root: Path) -> None:
    debian_history(fake_root)
    for log in (fake_root / "var/log").glob("dpkg.log*"):
        log.unlink()
    builder = collect_area(collect_patches, file_context(fake_root))
    assert messages(builder, AREA) == [f"{fake_root / 'var/log/dpkg.log'}: not found"]
    assert builder.facts[AREA]["last_installed_at"] == "2026-09-10T03:10:07+09:00"
    (fake_root / "var/log/apt").rename(fake_root / "var/log/apt.gone")
    builder = collect_area(collect_patches, file_context(fake_root))
    assert "last_installed_at" not in builder.facts[AREA]  # no history at all: unknown, not null


def test_rhel_updates_come_from_dnf_rpm_log(fake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rhel_history(fake_root)
    host = FakeHost({RPM_COMMAND: fixture_text("commands/rpm-installtime.txt")}).install(monkeypatch)
    builder = collect_area(collect_patches, live_context(fake_root))
    # openssl's Upgrade: in dnf.rpm.log.1; the newer Installed:, Reinstall: and Downgrade: do not count,
    # nor do rpm's install times (newest 2024-05-18, every package alike)
    assert builder.facts[AREA] == {"last_installed_at": "2026-09-08T10:15:41+09:00", "installed_count": 3}
    assert host.calls == [RPM_COMMAND] and messages(builder, AREA) == []


def test_rhel_without_dnf_history_is_unknown(fake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rhel_history(fake_root)
    for log in (fake_root / "var/log").glob("dnf.rpm.log*"):
        log.unlink()
    FakeHost({RPM_COMMAND: fixture_text("commands/rpm-installtime.txt")}).install(monkeypatch)
    builder = collect_area(collect_patches, live_context(fake_root))
    assert builder.facts[AREA] == {"installed_count": 3}
    assert messages(builder, AREA) == [
        "last_installed_at: /var/log/dnf.rpm.log not found, so no update history is known (yum.log and dnf5's "
        "history are not read; rpm's install times do not tell an update from a first install)"]
