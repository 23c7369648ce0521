"""Parsers of ``firewall`` (nftables JSON, iptables-save) and ``logging`` (journald, rsyslog, syslog-ng)."""

from __future__ import annotations

from auditor.evidence.collectors.linux.firewall import parse_iptables_save, parse_nft_ruleset
from auditor.evidence.collectors.linux.logging_ import (
    journald_facts,
    journald_settings,
    parse_is_active,
    parse_timespan,
    rsyslog_targets,
    syslog_ng_targets,
)
from linux_support import fixture_text


def test_nft_ruleset() -> None:
    assert parse_nft_ruleset(fixture_text("commands/nft-ruleset.json")) == {
        "input_policy": "drop", "forward_policy": "drop", "output_policy": "accept", "rule_count": 3,
        "enabled": True}
    assert parse_nft_ruleset(fixture_text("commands/nft-ruleset-empty.json")) == {
        "input_policy": "accept", "forward_policy": "accept", "output_policy": "accept", "rule_count": 0,
        "enabled": False}


def test_nft_ipv4_only_drop_leaves_ipv6_open() -> None:
    facts = parse_nft_ruleset(fixture_text("commands/nft-ruleset-ipv4-only.json"))
    assert facts["input_policy"] == "accept" and facts["enabled"] is True  # a drop chain is still a filter


def test_iptables_save_uses_filter_table_policies() -> None:
    assert parse_iptables_save(fixture_text("commands/iptables-save.txt")) == {
        "input_policy": "drop", "forward_policy": "drop", "output_policy": "accept", "rule_count": 4,
        "enabled": True}
    assert parse_iptables_save("")["enabled"] is False


def test_timespan() -> None:
    assert parse_timespan("1year") == 31557600.0
    assert parse_timespan("2w 3d") == 17 * 86400
    assert parse_timespan("3600") == 3600.0
    assert parse_timespan("1M") == 2629800.0 and parse_timespan("1m") == 60.0
    assert parse_timespan("") is None and parse_timespan("soon") is None


def test_journald() -> None:
    settings = journald_settings([fixture_text("root/etc/systemd/journald.conf"),
                                  fixture_text("root/etc/systemd/journald.conf.d/retention.conf")])
    assert journald_facts(settings, False) == {"storage": "persistent", "persistent": True,
                                               "max_retention_days": 365, "max_use": "2G"}
    auto = journald_settings([fixture_text("config/journald-auto.conf")])
    assert journald_facts(auto, False) == {"storage": "auto", "persistent": False, "max_retention_days": 17,
                                           "max_use": None}
    assert journald_facts(auto, True)["persistent"] is True  # auto keeps logs once /var/log/journal exists
    assert journald_facts({"Storage": "volatile", "MaxRetentionSec": "0"}, True) == {
        "storage": "volatile", "persistent": False, "max_retention_days": None, "max_use": None}


def test_rsyslog_targets() -> None:
    assert rsyslog_targets(fixture_text("root/etc/rsyslog.conf")) == []  # only a commented-out forward
    assert rsyslog_targets(fixture_text("root/etc/rsyslog.d/60-forward.conf")) == [
        "udp://192.0.2.50:514", "tcp://log.example.lg.jp:6514"]
    assert rsyslog_targets(fixture_text("config/rsyslog-legacy.conf")) == [
        "tcp://logs.example.lg.jp:10514", "udp://[2001:db8::50]:514", "relp://relay.example.lg.jp:2514"]


def test_syslog_ng_targets() -> None:
    assert syslog_ng_targets(fixture_text("config/syslog-ng.conf")) == [
        "tls://log.example.lg.jp:6514", "udp://192.0.2.60:514"]


def test_is_active() -> None:
    units = ["systemd-journald.service", "rsyslog.service"]
    assert parse_is_active("active\ninactive\n", units) == {"systemd-journald.service": True,
                                                            "rsyslog.service": False}
    assert parse_is_active("", units) == {}
