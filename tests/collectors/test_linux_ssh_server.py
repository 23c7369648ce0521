"""``ssh_server``: installed, running, and the effective settings from ``sshd -T`` only."""

from __future__ import annotations

from pathlib import Path

import pytest
from auditor.evidence.collectors.linux.ssh_server import collect, parse_sshd_t
from linux_support import FakeHost, area_problems, collect_area, file_context, fixture_text, live_context, messages

AREA = "ssh_server"
COMMAND = "/usr/sbin/sshd -T"


def test_sshd_t_settings() -> None:
    settings = parse_sshd_t(fixture_text("commands/sshd-T.txt"))
    assert settings["permitrootlogin"] == "no" and settings["maxauthtries"] == "4"
    assert settings["hostkey"] == ("/etc/ssh/ssh_host_rsa_key\n/etc/ssh/ssh_host_ecdsa_key\n"
                                   "/etc/ssh/ssh_host_ed25519_key")
    assert settings["listenaddress"] == "[::]:22\n0.0.0.0:22"
    assert settings["subsystem"] == "sftp /usr/lib/openssh/sftp-server"
    assert settings["acceptenv"] == "LANG\nLC_*"
    assert len(settings) == 14


def test_live_as_root(fake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    FakeHost({COMMAND: fixture_text("commands/sshd-T.txt")}, processes=["systemd", "sshd"]).install(monkeypatch)
    builder = collect_area(collect, live_context(fake_root, euid=0))
    fact = builder.facts[AREA]
    assert fact["installed"] is True and fact["running"] is True
    assert fact["settings"]["passwordauthentication"] == "no"
    assert messages(builder, AREA) == []
    assert area_problems(AREA, fact) == {}


def test_not_root_gives_no_settings(fake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (fake_root / "etc/ssh").mkdir()
    (fake_root / "etc/ssh/sshd_config").write_text("PermitRootLogin yes\n")  # never read as if effective
    host = FakeHost({COMMAND: fixture_text("commands/sshd-T.txt")}, processes=["bash"]).install(monkeypatch)
    builder = collect_area(collect, live_context(fake_root, euid=1000))
    assert builder.facts[AREA] == {"installed": True, "running": False}
    assert host.calls == []
    assert messages(builder, AREA) == [
        "sshd -T: not run, it needs root (sshd loads the host keys); no settings are given"]


def test_sshd_t_failure(fake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    FakeHost({COMMAND: (255, "/etc/ssh/sshd_config line 12: Bad configuration option: Foo")},
             processes=["sshd"]).install(monkeypatch)
    builder = collect_area(collect, live_context(fake_root))
    assert builder.facts[AREA] == {"installed": True, "running": True}
    assert messages(builder, AREA) == [
        "/usr/sbin/sshd exited with 255: /etc/ssh/sshd_config line 12: Bad configuration option: Foo"]


def test_not_installed_is_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    FakeHost(processes=["sshd"]).install(monkeypatch)
    builder = collect_area(collect, live_context(tmp_path))
    assert AREA not in builder.facts and builder.errors == []


def test_file_tree(fake_root: Path) -> None:
    builder = collect_area(collect, file_context(fake_root))
    assert builder.facts[AREA] == {"installed": True}
    assert len(messages(builder, AREA)) == 2


def test_socket_activated_sshd(fake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wants = fake_root / "etc/systemd/system/sockets.target.wants"
    wants.mkdir(parents=True)
    (wants / "ssh.socket").symlink_to("/usr/lib/systemd/system/ssh.socket")
    host = FakeHost({COMMAND: fixture_text("commands/sshd-T.txt"), "systemctl is-active ssh.socket": "active\n"},
                    processes=["systemd"]).install(monkeypatch)
    builder = collect_area(collect, live_context(fake_root))
    assert builder.facts[AREA]["running"] is True  # no sshd process until a client connects
    assert host.calls == ["systemctl is-active ssh.socket", COMMAND]
    FakeHost({COMMAND: fixture_text("commands/sshd-T.txt"), "systemctl is-active ssh.socket": "inactive\n"},
             processes=["systemd"]).install(monkeypatch)
    assert collect_area(collect, live_context(fake_root)).facts[AREA]["running"] is False
    FakeHost({COMMAND: fixture_text("commands/sshd-T.txt"),
              "systemctl is-active ssh.socket": (1, "Failed to connect to bus: Host is down")},
             processes=["systemd"]).install(monkeypatch)
    builder = collect_area(collect, live_context(fake_root))
    assert "running" not in builder.facts[AREA]
    assert messages(builder, AREA) == ["systemctl exited with 1: Failed to connect to bus: Host is down"]
