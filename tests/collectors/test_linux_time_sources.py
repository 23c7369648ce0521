"""``time_sync.synchronized`` where timedatectl cannot reach D-Bus: the running client answers.

Containers, chroots and hosts without systemd as PID 1 make ``timedatectl show`` fail; chrony,
ntpd (ntpq, ntpstat) and systemd-timesyncd's own state files still know whether the clock is
synchronised. Only when none of them answers is the fact missing, with an error naming what
was tried.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import psutil
import pytest
from auditor.evidence.collectors.linux.timesync import collect
from linux_support import FakeHost, area_problems, collect_area, fixture_text, live_context, messages

AREA = "time_sync"
TIMEDATECTL = "timedatectl show"
NO_SYSTEMD = (1, "Failed to connect to bus: Host is down")  # after "System has not been booted with systemd ..."
NO_BUS = (1, "Failed to connect to bus: No such file or directory")


def _collect(root: Path, monkeypatch: pytest.MonkeyPatch, commands: dict, processes: tuple[str, ...]):
    host = FakeHost(commands, processes=processes).install(monkeypatch)
    return collect_area(collect, live_context(root)), host


def test_chrony_answers_when_timedatectl_cannot_reach_dbus(fake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builder, host = _collect(fake_root, monkeypatch, {
        TIMEDATECTL: NO_SYSTEMD,
        "chronyc -n tracking": fixture_text("commands/chronyc-n-tracking.txt"),
        "chronyc -c sources": fixture_text("commands/chronyc-sources.csv")}, ("chronyd", "bash"))
    facts = builder.facts[AREA]
    assert (facts["synchronized"], facts["sync_source"], facts["offset_seconds"]) == (True, "chronyc", 0.000012345)
    assert facts["service"] == "chrony" and facts["ntp_enabled"] is True
    assert messages(builder, AREA) == ["timedatectl exited with 1: Failed to connect to bus: Host is down"]
    assert host.calls == [TIMEDATECTL, "chronyc -n tracking", "chronyc -c sources"]
    assert area_problems(AREA, facts) == {}


def test_unsynchronised_chrony_is_a_no_without_an_offset(fake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builder, _ = _collect(fake_root, monkeypatch, {
        TIMEDATECTL: NO_BUS, "chronyc -n tracking": fixture_text("commands/chronyc-n-tracking-unsynced.txt")},
        ("chronyd",))
    facts = builder.facts[AREA]
    assert (facts["synchronized"], facts["sync_source"]) == (False, "chronyc") and "offset_seconds" not in facts


def test_timedatectl_answers_first_and_chrony_still_gives_the_offset(fake_root: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    builder, _ = _collect(fake_root, monkeypatch, {
        TIMEDATECTL: fixture_text("commands/timedatectl-show.txt"),
        "chronyc -n tracking": fixture_text("commands/chronyc-n-tracking.txt")}, ("chronyd",))
    facts = builder.facts[AREA]
    assert (facts["synchronized"], facts["sync_source"], facts["offset_seconds"]) == (True, "timedatectl",
                                                                                      0.000012345)


def test_ntpq_answers_for_ntpd(fake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builder, host = _collect(fake_root, monkeypatch, {
        TIMEDATECTL: NO_SYSTEMD, "ntpq -pn": fixture_text("commands/ntpq-pn.txt")}, ("ntpd",))
    facts = builder.facts[AREA]
    assert (facts["synchronized"], facts["sync_source"], facts["offset_seconds"]) == (True, "ntpq", 0.000831)
    assert "ntpstat" not in host.calls


def test_ntpstat_answers_when_ntpq_cannot(fake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builder, host = _collect(fake_root, monkeypatch, {
        TIMEDATECTL: NO_SYSTEMD, "ntpq -pn": (1, "ntpq: read: Connection refused"),
        "ntpstat": fixture_text("commands/ntpstat-unsynced.txt")}, ("ntpsec",))
    facts = builder.facts[AREA]
    assert (facts["synchronized"], facts["sync_source"]) == (False, "ntpstat")
    assert host.calls == [TIMEDATECTL, "ntpq -pn", "ntpstat"]


def _timesyncd_files(root: Path, synchronized_age: float | None, clock_age: float | None, run_dir: bool) -> None:
    now = time.time()
    if run_dir or synchronized_age is not None:
        (root / "run/systemd/timesync").mkdir(parents=True)
    if synchronized_age is not None:
        marker = root / "run/systemd/timesync/synchronized"
        marker.write_bytes(b"")
        os.utime(marker, (now - synchronized_age, now - synchronized_age))
    if clock_age is not None:
        clock = root / "var/lib/systemd/timesync/clock"
        clock.parent.mkdir(parents=True)
        clock.write_bytes(b"")
        os.utime(clock, (now - clock_age, now - clock_age))


@pytest.mark.parametrize(("synchronized_age", "clock_age", "run_dir", "expected"), [
    (120.0, 60.0, True, True),        # touched two minutes ago
    (7200.0, 60.0, True, False),      # nothing since two hours: twice the 2048 s poll limit has passed
    (None, 60.0, True, False),        # running, never synchronised since it started
    (None, 60.0, False, True),        # systemd < 239: the clock file, saved since boot
])
def test_timesyncd_state_files_answer(fake_root: Path, monkeypatch: pytest.MonkeyPatch, synchronized_age,
                                      clock_age, run_dir, expected) -> None:
    _timesyncd_files(fake_root, synchronized_age, clock_age, run_dir)
    monkeypatch.setattr(psutil, "boot_time", lambda: time.time() - 86400)
    builder, _ = _collect(fake_root, monkeypatch, {TIMEDATECTL: NO_BUS}, ("systemd-timesyn",))
    facts = builder.facts[AREA]
    assert (facts["synchronized"], facts["sync_source"]) == (expected, "timesyncd-state")
    assert facts["servers"] == ["ntp1.example.lg.jp", "ntp2.example.lg.jp"]  # timesyncd.conf, read once
    assert [s["parser"] for s in builder.sources].count("linux.timesyncd_conf") == 1
    assert area_problems(AREA, facts) == {}


def test_longer_poll_interval_keeps_an_older_sync_fresh(fake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _timesyncd_files(fake_root, 7200.0, None, True)
    (fake_root / "etc/systemd/timesyncd.conf.d").mkdir()
    (fake_root / "etc/systemd/timesyncd.conf.d/poll.conf").write_text("[Time]\nPollIntervalMaxSec=2h\n")
    builder, _ = _collect(fake_root, monkeypatch, {TIMEDATECTL: NO_BUS}, ("systemd-timesyn",))
    assert builder.facts[AREA]["synchronized"] is True


def test_no_source_is_an_error_naming_what_was_tried(fake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builder, _ = _collect(fake_root, monkeypatch, {
        TIMEDATECTL: NO_SYSTEMD, "chronyc -n tracking": (1, "506 Cannot talk to daemon")}, ("chronyd",))
    assert "synchronized" not in builder.facts[AREA]
    assert messages(builder, AREA) == [
        "timedatectl exited with 1: Failed to connect to bus: Host is down",
        "chronyc exited with 1: 506 Cannot talk to daemon",
        "synchronized: no source answered; tried timedatectl show, chronyc -n tracking",
        "chronyc: command not found"]  # chronyc -c sources, for the servers
    builder, _ = _collect(fake_root, monkeypatch, {TIMEDATECTL: NO_BUS}, ("bash",))
    assert messages(builder, AREA)[-1] == (
        "synchronized: no source answered; tried timedatectl show, "
        "no time client runs (chronyd, ntpd, systemd-timesyncd)")
    assert builder.facts[AREA]["ntp_enabled"] is False
