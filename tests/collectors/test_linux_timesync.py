"""Parsers of ``time_sync``: timedatectl, chronyc CSV, chrony/timesyncd configuration."""

from __future__ import annotations

from auditor.evidence.collectors.linux.timesync import (
    chrony_directories,
    parse_chrony_sources,
    parse_chrony_tracking,
    parse_ntp_servers,
    parse_show_timesync,
    parse_timedatectl,
    parse_timesyncd,
    service_from_processes,
    zone_from_link,
)
from linux_support import fixture_text


def test_timedatectl_show() -> None:
    assert parse_timedatectl(fixture_text("commands/timedatectl-show.txt")) == {
        "synchronized": True, "ntp_enabled": True, "timezone": "Asia/Tokyo"}
    assert parse_timedatectl(fixture_text("commands/timedatectl-show-unsynced.txt")) == {
        "synchronized": False, "ntp_enabled": False, "timezone": "Etc/UTC"}


def test_chronyc_tracking_and_sources() -> None:
    assert parse_chrony_tracking(fixture_text("commands/chronyc-tracking.csv")) == {
        "offset_seconds": 0.000012345, "synchronized": True}
    assert parse_chrony_tracking(fixture_text("commands/chronyc-tracking-unsynced.csv"))["synchronized"] is False
    assert parse_chrony_sources(fixture_text("commands/chronyc-sources.csv")) == [
        "ntp1.example.lg.jp", "ntp2.example.lg.jp"]  # the PPS reference clock is not a server


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
