"""``local_admins``: uid 0, the sudo / wheel / admin groups, and ALL grants in sudoers."""

from __future__ import annotations

from pathlib import Path

import pytest
from auditor.evidence.collectors.linux.accounts import parse_group, parse_passwd, parse_sudoers
from auditor.evidence.collectors.linux.local_admins import build_local_admins, collect
from linux_support import area_problems, collect_area, file_context, messages

AREA = "local_admins"
PASSWD = ("root:x:0:0::/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/bash\n"
          "bob:x:1001:10::/home/bob:/bin/bash\ncarol:x:1002:1002::/home/carol:/bin/bash\n")
GROUP = "wheel:x:10:alice\nadmin:x:115:\nops:x:2000:carol\nalice:x:1000:\n"


def test_fake_root(fake_root: Path) -> None:
    builder = collect_area(collect, file_context(fake_root))
    fact = builder.facts[AREA]
    assert fact == [
        {"name": "root", "kind": "user", "via": "uid0, sudoers"},  # one entry per administrator
        {"name": "sato", "kind": "user", "via": "sudo"},
        {"name": "opsbot", "kind": "user", "via": "sudoers"},  # through User_Alias OPS
        {"name": "sudo", "kind": "group", "via": "sudoers"},
    ]
    assert messages(builder, AREA) == []
    assert area_problems(AREA, fact) == {}
    # sudoers files were read for this area and are cited by it
    assert (str(fake_root / "etc/sudoers.d/ops"), AREA) in {(s["name"], s.get("area")) for s in builder.sources}


def test_primary_group_ids_and_everyone() -> None:
    sudoers = "#1002 ALL=(ALL) ALL\n%#2000 ALL=(root) ALL\n%#4242 ALL=ALL\nALL ALL=(ALL) NOPASSWD: ALL\n"
    admins = build_local_admins(parse_passwd(PASSWD), parse_group(GROUP), parse_sudoers(sudoers))
    assert admins == [
        {"name": "root", "kind": "user", "via": "uid0"},
        {"name": "toor", "kind": "user", "via": "uid0"},
        {"name": "alice", "kind": "user", "via": "wheel"},
        {"name": "bob", "kind": "user", "via": "wheel"},  # primary group wheel
        {"name": "carol", "kind": "user", "via": "sudoers"},  # #1002
        {"name": "#4242", "kind": "group", "via": "sudoers"},  # no such local group: kept as written
        {"name": "ops", "kind": "group", "via": "sudoers"},  # %#2000
        {"name": "ALL", "kind": "unknown", "via": "sudoers"},
    ]


def test_netgroups_are_noted(fake_root: Path) -> None:
    (fake_root / "etc/sudoers.d/ldap").write_text("+admins, %:Domain\\ Admins, !guest ALL=(ALL) ALL\n")
    builder = collect_area(collect, file_context(fake_root))
    assert messages(builder, AREA) == [
        "sudoers: user-list entries of ALL grants not resolved from local files: +admins, %:Domain\\ Admins, !guest"]
    assert len(builder.facts[AREA]) == 4  # root (uid0, sudoers), sato, opsbot, %sudo


def test_unreadable_sudoers_leaves_the_area_out(fake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = fake_root / "etc/sudoers.d/ops"
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == bad:
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    builder = collect_area(collect, file_context(fake_root))
    assert AREA not in builder.facts
    assert messages(builder, AREA) == [f"{bad}: Permission denied",
                                       "not written: a source that can grant root rights could not be read"]


def test_no_sudo_installed(fake_root: Path) -> None:
    for path in sorted((fake_root / "etc/sudoers.d").iterdir()):
        path.unlink()
    (fake_root / "etc/sudoers.d").rmdir()
    (fake_root / "etc/sudoers").unlink()
    assert collect_area(collect, file_context(fake_root)).facts[AREA] == [
        {"name": "root", "kind": "user", "via": "uid0"}, {"name": "sato", "kind": "user", "via": "sudo"}]
