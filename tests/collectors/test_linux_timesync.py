"""Parsers of ``time_sync``: timedatectl, chronyc, ntpq, ntpstat, timesyncd's state and configuration."""

from __future__ import annotations

from auditor.evidence.collectors.linux.timesync import (
    chrony_directories,
    parse_chrony_sources,
    parse_chrony_tracking,
    parse_ntp_servers,
    parse_ntpq_peers,
    parse_ntpstat,
    parse_show_timesync,
    parse_timedatectl,
    parse_timespan,
    parse_timesyncd,
    service_from_processes,
    timesyncd_poll_max,
    timesyncd_state,
    zone_from_link,
)
from linux_support import fixture_text


def test_timedatectl_show() -> None:
    assert parse_timedatectl(fixture_text("commands/timedatectl-show.txt")) == {
        "synchronized": True, "ntp_enabled": True, "timezone": "Asia/Tokyo"}
    assert parse_timedatectl(fixture_text("commands/timedatectl-show-unsynced.txt")) == {
        "synchronized": False, "ntp_enabled": False, "timezone": "Etc/UTC"}


def test_timedatectl_without_an_answer() -> None:
    assert parse_timedatectl("") == {}  # the D-Bus failure leaves stdout empty
    assert parse_timedatectl("NTPSynchronized=maybe\nNTP=\n") == {}


def test_chronyc_tracking_and_sources() -> None:
    assert parse_chrony_tracking(fixture_text("commands/chronyc-tracking.csv")) == {
        "offset_seconds": 0.000012345, "synchronized": True}
    assert parse_chrony_tracking(fixture_text("commands/chronyc-tracking-unsynced.csv")) == {"synchronized": False}
    assert parse_chrony_sources(fixture_text("commands/chronyc-sources.csv")) == [
        "ntp1.example.lg.jp", "ntp2.example.lg.jp"]  # the PPS reference clock is not a server


def test_chronyc_n_tracking() -> None:
    assert parse_chrony_tracking(fixture_text("commands/chronyc-n-tracking.txt")) == {
        "synchronized": True, "offset_seconds": 0.000012345}
    # not synchronised: its "0.000000000 seconds slow" is no measurement
    assert parse_chrony_tracking(fixture_text("commands/chronyc-n-tracking-unsynced.txt")) == {"synchronized": False}
    assert parse_chrony_tracking("506 Cannot talk to daemon\n") == {}
    assert parse_chrony_tracking("Leap status     : Insert second\n") == {"synchronized": True}
    assert parse_chrony_tracking("Leap status     : Unknown\n") == {}


def test_ntpq_peers() -> None:
    # the system peer (*) gives the offset, in milliseconds in the table
    assert parse_ntpq_peers(fixture_text("commands/ntpq-pn.txt")) == {"synchronized": True,
                                                                      "offset_seconds": 0.000831}
    assert parse_ntpq_peers(fixture_text("commands/ntpq-pn-wrapped.txt")) == {"synchronized": True,
                                                                              "offset_seconds": 0.04125}
    assert parse_ntpq_peers(fixture_text("commands/ntpq-pn-unsynced.txt")) == {"synchronized": False}
    assert parse_ntpq_peers("ntpq: read: Connection refused\n") == {}
    assert parse_ntpq_peers("No association ID's returned\n") == {}


def test_ntpstat() -> None:
    assert parse_ntpstat(fixture_text("commands/ntpstat.txt")) == {"synchronized": True}
    assert parse_ntpstat(fixture_text("commands/ntpstat-unsynced.txt")) == {"synchronized": False}
    assert parse_ntpstat("Unable to talk to NTP daemon. Is it running?\n") == {}


def test_timesyncd_state(tokyo_tz: None) -> None:
    now, boot, fresh = 1_793_000_000.0, 1_792_990_000.0, 4096.0
    assert timesyncd_state(now - 600, True, now - 30, now, boot, fresh) == {
        "synchronized": True, "last_synchronized_at": "2026-10-26T16:23:20+09:00"}
    assert timesyncd_state(now - 5000, True, now - 30, now, boot, fresh)["synchronized"] is False  # stale
    assert timesyncd_state(None, True, now - 30, now, boot, fresh) == {"synchronized": False}  # not yet
    # systemd < 239: no synchronized file nor runtime directory; the clock file since boot answers
    assert timesyncd_state(None, False, now - 30, now, boot, fresh)["synchronized"] is True
    assert timesyncd_state(None, False, boot - 60, now, boot, fresh) == {}  # saved at the last shutdown
    assert timesyncd_state(None, False, None, now, boot, fresh) == {}


def test_timespans_and_poll_interval() -> None:
    assert parse_timespan("2048") == 2048 and parse_timespan("34min 8s") == 2048
    assert parse_timespan("1h30min") == 5400 and parse_timespan("500ms") == 0.5
    assert parse_timespan("soon") is None and parse_timespan("") is None and parse_timespan("5 parsecs") is None
    assert timesyncd_poll_max([]) == 2048
    assert timesyncd_poll_max(["[Time]\nPollIntervalMaxSec=1d\n", "[Time]\nPollIntervalMaxSec=junk\n"]) == 86400


def test_configured_servers() -> None:
    chrony = fixture_text("config/chrony.conf")
    assert parse_ntp_servers(chrony) == ["2.debian.pool.ntp.org", "ntp1.example.lg.jp"]
    assert chrony_directories(chrony) == [("/run/chrony-dhcp", "*.sources"), ("/etc/chrony/sources.d", "*.sources")]
    main = fixture_text("root/etc/systemd/timesyncd.conf")
    assert parse_timesyncd([main]) == (["ntp1.example.lg.jp", "ntp2.example.lg.jp"], [])
    assert parse_timesyncd([main, "[Time]\nNTP=\nFallbackNTP=time.example.jp\n"]) == ([], ["time.example.jp"])
    assert parse_show_timesync(fixture_text("commands/timedatectl-show-timesync.txt")) == ["ntp1.example.lg.jp"]


def test_service_and_zone() -> None:
    assert service_from_processes(["sshd", "chronyd"]) == "chrony"
    assert service_from_processes(["systemd-timesyn"]) == "systemd-timesyncd"  # comm is cut at 15 characters
    assert service_from_processes(["bash"]) == "none"
    assert zone_from_link("../usr/share/zoneinfo/Asia/Tokyo") == "Asia/Tokyo"
    assert zone_from_link("/etc/alternatives/localtime") is None
