"""``logging.logrotate`` and ``logging.retention_days``."""

from __future__ import annotations

from pathlib import Path

from auditor.evidence.collectors.linux.logging_ import collect, local_retention, parse_logrotate
from linux_support import area_problems, collect_area, file_context, fixture_text, messages

AREA = "logging"


def test_global_default_only() -> None:
    assert parse_logrotate(fixture_text("root/etc/logrotate.conf")) == {
        "period_days": 7, "rotate_count": 4, "retention_days": 28}  # the /var/log/wtmp block is not global
    assert parse_logrotate("daily\nrotate 14\n") == {"period_days": 1, "rotate_count": 14, "retention_days": 14}
    assert parse_logrotate("monthly\n") == {"period_days": 30, "rotate_count": 0, "retention_days": 0}
    assert parse_logrotate("yearly\nrotate -1\n") == {"period_days": 365, "rotate_count": None,
                                                      "retention_days": None}
    assert parse_logrotate("rotate 4\n/var/log/x { daily }\n") == {"period_days": None, "rotate_count": 4}
    assert parse_logrotate("hourly\nrotate 24\n") == {"rotate_count": 24}
    assert parse_logrotate("weekly # comment\nrotate 4\n/var/log/a\n{\n  rotate 99\n  daily\n}\nmonthly\n") == {
        "period_days": 30, "rotate_count": 4, "retention_days": 120}


def test_local_retention_rules() -> None:
    persistent = {"persistent": True, "max_retention_days": 365}
    rotated = {"period_days": 7, "rotate_count": 4, "retention_days": 28}
    assert local_retention(persistent, rotated, True, True) == (True, 365)
    assert local_retention({**persistent, "max_retention_days": None}, rotated, True, True) == (True, None)
    assert local_retention({"persistent": False}, rotated, True, True) == (True, 28)  # volatile journal
    assert local_retention({"persistent": False}, None, False, False) == (True, 0)  # nothing kept on disk
    assert local_retention(None, rotated, True, True) == (False, None)  # journald unknown
    assert local_retention(persistent, {"period_days": None, "rotate_count": 4}, True, True) == (False, None)
    assert local_retention(persistent, None, False, True) == (False, None)  # syslog files, no logrotate


def test_fake_root(fake_root: Path) -> None:
    fact = collect_area(collect, file_context(fake_root)).facts[AREA]
    assert fact["logrotate"] == {"period_days": 7, "rotate_count": 4, "retention_days": 28}
    assert fact["retention_days"] == 365  # the journal keeps a year
    assert area_problems(AREA, fact) == {}


def test_hourly_and_missing_logrotate(fake_root: Path) -> None:
    (fake_root / "etc/logrotate.conf").write_text("hourly\nrotate 48\n")
    builder = collect_area(collect, file_context(fake_root))
    assert builder.facts[AREA]["logrotate"] == {"rotate_count": 48}
    assert "retention_days" not in builder.facts[AREA]
    assert "logrotate: hourly rotation cannot be written in whole days" in messages(builder, AREA)
    (fake_root / "etc/logrotate.conf").unlink()
    builder = collect_area(collect, file_context(fake_root))
    assert "logrotate" not in builder.facts[AREA] and "retention_days" not in builder.facts[AREA]
    assert ("retention_days: a syslog daemon is installed but no /etc/logrotate.conf; how its files are "
            "removed is not known") in messages(builder, AREA)


def test_no_period_is_an_error(fake_root: Path) -> None:
    (fake_root / "etc/logrotate.conf").write_text("rotate 4\ncompress\n")
    builder = collect_area(collect, file_context(fake_root))
    assert builder.facts[AREA]["logrotate"] == {"period_days": None, "rotate_count": 4}
    assert "logrotate: no rotation period in the global default, so its retention is not known" in messages(
        builder, AREA)
