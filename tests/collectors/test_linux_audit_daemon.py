"""``audit_daemon``: auditd installed and running, its rules (live as root, else the files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from auditor.evidence.collectors.linux.audit_daemon import (
    collect,
    parse_auditctl_list,
    parse_auditctl_status,
    parse_rule_files,
)
from linux_support import FakeHost, area_problems, collect_area, file_context, fixture_text, live_context, messages

AREA = "audit_daemon"
LIST = "/usr/sbin/auditctl -l"
STATUS = "/usr/sbin/auditctl -s"


def test_rule_files() -> None:
    texts = [fixture_text(f"root/etc/audit/rules.d/{name}")
             for name in ("10-base-config.rules", "30-lgwan.rules", "99-finalize.rules")]
    assert parse_rule_files(texts) == {"rule_count": 7, "immutable": True}
    assert parse_rule_files(["-w /etc/passwd -p wa\n-D\n-w /etc/group -p wa\n-e 2\n-e 1\n"]) == {
        "rule_count": 1, "immutable": False}  # -D drops earlier rules; the last -e decides
    assert parse_rule_files(["-e2\n"]) == {"rule_count": 0, "immutable": True}


def test_auditctl_output() -> None:
    assert parse_auditctl_list(fixture_text("commands/auditctl-l.txt")) == 3
    assert parse_auditctl_list("No rules\n") == 0
    assert parse_auditctl_status(fixture_text("commands/auditctl-s.txt")) is True
    assert parse_auditctl_status("enabled 1\nfailure 1\n") is False
    assert parse_auditctl_status("garbage") is None


def test_fake_root_from_files(fake_root: Path) -> None:
    builder = collect_area(collect, file_context(fake_root))
    assert builder.facts[AREA] == {"installed": True, "rule_count": 7, "immutable": True}
    assert messages(builder, AREA) == [
        f"running processes: not collected, {fake_root} is a file tree, not the running system"]


def test_live_as_root_asks_the_kernel(fake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    FakeHost({LIST: fixture_text("commands/auditctl-l.txt"), STATUS: fixture_text("commands/auditctl-s.txt")},
             processes=["kauditd", "auditd"]).install(monkeypatch)
    builder = collect_area(collect, live_context(fake_root, euid=0))
    fact = builder.facts[AREA]
    assert fact == {"installed": True, "active": True, "rule_count": 3, "immutable": True}
    assert messages(builder, AREA) == []
    assert area_problems(AREA, fact) == {}


def test_live_not_root_reads_the_files(fake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    host = FakeHost(processes=["kauditd"]).install(monkeypatch)  # the kernel thread is not the daemon
    builder = collect_area(collect, live_context(fake_root, euid=1000))
    assert builder.facts[AREA] == {"installed": True, "active": False, "rule_count": 7, "immutable": True}
    assert host.calls == []
    assert messages(builder, AREA) == ["auditctl: not run, it needs root; rules counted from the rule files"]


def test_auditctl_failure_keeps_other_keys(fake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    FakeHost({LIST: (1, "Error sending rule list data request (Operation not permitted)"),
              STATUS: fixture_text("commands/auditctl-s.txt")}, processes=["auditd"]).install(monkeypatch)
    builder = collect_area(collect, live_context(fake_root))
    assert builder.facts[AREA] == {"installed": True, "active": True, "immutable": True}
    assert messages(builder, AREA) == [
        "/usr/sbin/auditctl exited with 1: Error sending rule list data request (Operation not permitted)"]


def test_no_rule_files(fake_root: Path) -> None:
    for path in (fake_root / "etc/audit/rules.d").iterdir():
        path.unlink()
    builder = collect_area(collect, file_context(fake_root))
    assert builder.facts[AREA] == {"installed": True}
    assert "no audit rule files in /etc/audit/rules.d nor /etc/audit/audit.rules" in messages(builder, AREA)
    (fake_root / "etc/audit/audit.rules").write_text("-D\n-w /etc/hosts -p wa\n")
    assert collect_area(collect, file_context(fake_root)).facts[AREA] == {
        "installed": True, "rule_count": 1, "immutable": False}


def test_not_installed(tmp_path: Path) -> None:
    builder = collect_area(collect, file_context(tmp_path))
    assert builder.facts[AREA] == {"installed": False, "active": False}
    assert builder.errors == []
