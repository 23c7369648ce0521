"""security-updates-recent and time-synchronized judged end to end: collector → bundle → engine.

A Debian host with 93 security updates pending that last upgraded anything on 2026-09-10 and
has since only installed new packages must fail security-updates-recent (30 days in the
national α profile), however recent its last install. A container whose timedatectl cannot
reach D-Bus but whose chrony is synchronised must pass time-synchronized.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from auditor.evidence.bundle import BundleBuilder
from auditor.evidence.collectors.linux import timesync
from auditor.evidence.collectors.linux.updates import collect_patches, collect_updates
from linux_support import FakeHost, fixture_text, live_context, schema_problems
from patch_time_support import debian_history

from auditor import bundles
from auditor.engine import Engine
from auditor.policy import load_policy
from auditor.selection import resolve

COLLECTED_AT = "2026-11-02T09:00:00+09:00"
APT_LIST = "apt list --upgradable -o Apt::Cmd::Disable-Script-Warning=true"
PENDING = "Listing...\n" + "".join(
    f"libsec{i}/bookworm-security 1.{i}-1+deb12u1 amd64 [upgradable from: 1.{i}-1]\n" for i in range(93))
CHECKS = ("security-updates-recent", "no-pending-security-updates", "time-synchronized", "time-offset")


def _bundle(root: Path, monkeypatch: pytest.MonkeyPatch, commands: dict[str, Any]) -> dict[str, Any]:
    FakeHost(commands, processes=("chronyd", "sshd")).install(monkeypatch)
    builder = BundleBuilder(target_id="lg-deb-01", kind="endpoint", collector_name="test", segment="lgwan",
                            collected_at=COLLECTED_AT)
    ctx = live_context(root)
    for area in (collect_updates, collect_patches, timesync.collect):
        area(builder, ctx)
    builder.set_fact("os", {"family": "linux", "name": "Debian GNU/Linux", "id": "debian", "version": "12"})
    bundle = builder.build()
    assert schema_problems(bundle) == {}
    return bundle


def _audit(bundle: dict[str, Any], write_bundle) -> dict[str, Any]:
    path = write_bundle("lg-deb-01.json", bundle)
    results = Engine(resolve(load_policy())).run(bundles.stream(bundles.index([path])))
    return {r.check.id: r for r in results if r.check.id in CHECKS}


COMMANDS = {APT_LIST: PENDING, "timedatectl show": (1, "Failed to connect to bus: Host is down"),
            "chronyc -n tracking": fixture_text("commands/chronyc-n-tracking.txt"),
            "chronyc -c sources": fixture_text("commands/chronyc-sources.csv")}


def test_installing_new_packages_does_not_pass_security_updates_recent(fake_root: Path, write_bundle,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = _bundle(debian_history(fake_root), monkeypatch, COMMANDS)
    assert bundle["facts"]["updates"]["pending_security"] == 93
    results = _audit(bundle, write_bundle)
    recent = results["security-updates-recent"]
    assert recent.status == "fail"
    assert [(f.item, f.actual) for f in recent.findings] == [
        ("patches.last_installed_at", "2026-09-10T03:10:07+09:00 (53 days before 2026-11-02)")]
    assert results["no-pending-security-updates"].status == "fail"


def test_a_history_without_any_update_fails_too(fake_root: Path, write_bundle,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    debian_history(fake_root)
    (fake_root / "var/log/dpkg.log.2.gz").unlink()
    (fake_root / "var/log/apt/history.log.2.gz").unlink()
    recent = _audit(_bundle(fake_root, monkeypatch, COMMANDS), write_bundle)["security-updates-recent"]
    assert recent.status == "fail" and recent.findings[0].actual is None
    assert "null" in recent.message["en"]


def test_a_recent_upgrade_passes(fake_root: Path, write_bundle, monkeypatch: pytest.MonkeyPatch) -> None:
    debian_history(fake_root)
    with (fake_root / "var/log/dpkg.log").open("a") as log:
        log.write("2026-10-30 03:00:02 upgrade libc6:amd64 2.36-9+deb12u7 2.36-9+deb12u9\n"
                  "2026-10-30 03:00:04 status installed libc6:amd64 2.36-9+deb12u9\n")
    results = _audit(_bundle(fake_root, monkeypatch, COMMANDS), write_bundle)
    assert results["security-updates-recent"].status == "pass"


def test_chrony_answers_time_synchronized_without_dbus(fake_root: Path, write_bundle,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = _bundle(debian_history(fake_root), monkeypatch, COMMANDS)
    results = _audit(bundle, write_bundle)
    assert results["time-synchronized"].status == "pass"
    assert results["time-offset"].status == "pass"  # 0.000012345 s, within 60 s
    assert bundle["facts"]["time_sync"]["sync_source"] == "chronyc"


def test_no_time_source_stays_an_error_that_says_what_was_tried(fake_root: Path, write_bundle,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    commands = {**COMMANDS, "chronyc -n tracking": (1, "506 Cannot talk to daemon")}
    result = _audit(_bundle(fake_root, monkeypatch, commands), write_bundle)["time-synchronized"]
    assert result.status == "error"
    assert "no source answered; tried timedatectl show, chronyc -n tracking" in result.message["en"]
