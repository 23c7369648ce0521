"""``linux_baseline``: the GL-D09 server facts, read from a fake root tree in the real formats."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from auditor.evidence.collectors.linux.baseline import (
    collect,
    modprobe_rules,
    mount_facts,
    passwd_facts,
    umask_facts,
)
from auditor.evidence.collectors.linux.ssh_server import numeric_settings
from linux_support import area_problems, collect_area, file_context, live_context, messages

AREA = "linux_baseline"
PASSWD = """root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
toor:x:0:0:second root:/root:/bin/bash
suzuki:x:1001:1001:鈴木 一郎,,,:/home/suzuki:/bin/bash
tanaka:x:1002:1002::/home/tanaka:/bin/bash
legacy:$6$Qw3r7y$3x4mPl3H4sh:1003:1003::/home/legacy:/bin/sh
svc-web:x:998:998::/var/www:/usr/sbin/nologin
suzuki:x:1004:1004::/home/suzuki2:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
+::::::
"""
MOUNTS = """sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
/dev/mapper/vg0-root / ext4 rw,relatime,errors=remount-ro 0 0
tmpfs /tmp tmpfs rw,nosuid,nodev,noexec,size=2097152k 0 0
tmpfs /dev/shm tmpfs rw,nosuid,nodev 0 0
/dev/mapper/vg0-home /home ext4 rw,nodev,relatime 0 0
/dev/sdb1 /srv/my\\040share ext4 rw 0 0
"""
LOGIN_DEFS = """# /etc/login.defs - Configuration control definitions for the login package.
MAIL_DIR        /var/mail
PASS_MAX_DAYS   365
PASS_MIN_DAYS   1
UID_MIN                  1000
UMASK           027
"""


def _write(root: Path, relative: str, text: str, mode: int | None = None) -> Path:
    path = root / relative.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if mode is not None:
        path.chmod(mode)
    return path


def _sysctl(root: Path, values: dict[str, int]) -> None:
    for name, value in values.items():
        _write(root, "/proc/sys/" + name.replace(".", "/"), f"{value}\n")


SAFE_SYSCTLS = {
    "net.ipv4.ip_forward": 0, "net.ipv4.conf.all.accept_redirects": 0, "net.ipv4.conf.default.accept_redirects": 0,
    "net.ipv4.conf.all.secure_redirects": 0, "net.ipv4.conf.default.secure_redirects": 0,
    "net.ipv4.conf.all.send_redirects": 0, "net.ipv4.conf.default.send_redirects": 1,
    "net.ipv4.conf.all.accept_source_route": 0, "net.ipv4.conf.default.accept_source_route": 0,
    "net.ipv4.conf.all.rp_filter": 1, "net.ipv4.conf.default.rp_filter": 2,
    "net.ipv4.conf.all.log_martians": 1, "net.ipv4.conf.default.log_martians": 0,
    "net.ipv4.tcp_syncookies": 1, "net.ipv4.icmp_echo_ignore_broadcasts": 1,
}


@pytest.fixture
def server(tmp_path: Path) -> Path:
    """A captured Debian server tree with a few weaknesses."""
    root = tmp_path / "server"
    _write(root, "/etc/login.defs", LOGIN_DEFS)
    _write(root, "/etc/passwd", PASSWD, 0o644)
    _write(root, "/etc/group", "root:x:0:\n", 0o664)
    _write(root, "/etc/shadow", "root:*:20000:0:99999:7:::\n", 0o640)
    _write(root, "/etc/gshadow", "root:*::\n", 0o600)
    _write(root, "/proc/mounts", MOUNTS)
    _sysctl(root, SAFE_SYSCTLS)  # no /proc/sys/net/ipv6: IPv6 is off
    _write(root, "/etc/modprobe.d/cis.conf", "# uncommon protocols\ninstall dccp /bin/false\n"
                                            "install sctp /bin/true  # not used\nblacklist tipc\n")
    _write(root, "/etc/modprobe.d/rds.conf", "install rds /sbin/modprobe --ignore-install rds \\\n"
                                            "    && echo loaded\n")
    _write(root, "/usr/lib/modprobe.d/aliases.conf", "blacklist sctp\n")
    _write(root, "/proc/modules", "tipc 270336 0 - Live 0x0000000000000000\next4 1003520 2 - Live 0x0\n")
    release = root / "lib/modules/6.1.0-26-amd64"
    _write(root, str(release.relative_to(root)) + "/modules.dep",
           "kernel/net/dccp/dccp.ko.xz:\nkernel/net/sctp/sctp.ko.xz: kernel/lib/libcrc32c.ko.xz\n"
           "kernel/net/tipc/tipc.ko.xz: kernel/net/ipv6/ip6_udp_tunnel.ko.xz\n")
    _write(root, str(release.relative_to(root)) + "/modules.builtin", "kernel/fs/ext4/ext4.ko\n")
    _write(root, "/usr/bin/aide", "#!/bin/sh\n", 0o755)
    _write(root, "/var/lib/dpkg/info/logrotate.list", "/usr/sbin/logrotate\n")
    _write(root, "/etc/logrotate.conf", "weekly\nrotate 4\ninclude /etc/logrotate.d\n")
    _write(root, "/etc/logrotate.d/rsyslog", "/var/log/syslog {\n rotate 7\n daily\n}\n")
    for user, mode in (("suzuki", 0o750), ("tanaka", 0o777), ("legacy", 0o755)):
        home = root / "home" / user
        home.mkdir(parents=True)
        home.chmod(mode)
    return root


def test_the_fake_server_tree(server: Path) -> None:
    builder = collect_area(collect, file_context(server))
    fact = builder.facts[AREA]
    assert area_problems(AREA, fact) == {}
    assert fact["login_defs"] == {"umask": "0027", "umask_set": True, "umask_masks_group_write": True,
                                  "umask_masks_other": True}
    assert fact["passwd"] == {"duplicate_uids": [{"uid": 0, "names": ["root", "toor"]}],
                              "duplicate_names": ["suzuki"], "unshadowed": ["legacy"]}
    mounts = {m["path"]: m for m in fact["mounts"]}
    assert mounts["/tmp"] == {"path": "/tmp", "separate": True, "fstype": "tmpfs", "nodev": True, "nosuid": True,
                              "noexec": True}
    assert mounts["/var"] == {"path": "/var", "separate": False}
    assert mounts["/home"]["separate"] and not mounts["/home"]["noexec"]
    assert fact["ipv6_enabled"] is False and "ipv6" not in fact["sysctl"]["net"]
    ipv4 = fact["sysctl"]["net"]["ipv4"]
    assert ipv4["conf"]["default"]["send_redirects"] == 1 and ipv4["conf"]["default"]["rp_filter"] == 2
    assert ipv4["tcp_syncookies"] == 1
    protocols = {p["name"]: p for p in fact["network_protocols"]}
    assert protocols["dccp"] == {"name": "dccp", "disabled": True, "how": "install /bin/false", "loaded": False,
                                 "available": True, "builtin": False}
    assert protocols["sctp"]["how"] == "install /bin/true"  # /etc overrides the vendor blacklist's wording
    assert protocols["rds"]["disabled"] is False and protocols["rds"]["available"] is False  # a real install
    assert protocols["tipc"]["loaded"] is True and protocols["tipc"]["how"] == "blacklist"
    assert fact["file_integrity"] == {"installed": True, "tools": ["aide"]}
    assert fact["logrotate"] == {"installed": True, "configured": True, "dropin_count": 1, "scheduled": False}
    homes = {h["path"].rsplit("/", 1)[-1]: h for h in fact["home_directories"]}
    assert set(homes) == {"suzuki", "tanaka", "legacy", "suzuki2"}  # login accounts at or above UID_MIN
    assert homes["suzuki2"] == {"user": "suzuki", "path": "/home/suzuki2", "exists": False}
    assert homes["suzuki"]["mode"] == "0750" and not homes["suzuki"]["other_read"]
    assert homes["tanaka"]["other_write"] and homes["tanaka"]["group_write"]
    assert homes["legacy"]["other_exec"] and not homes["legacy"]["other_write"]
    files = fact["account_files"]
    assert files["passwd"]["mode"] == "0644" and files["group"]["group_write"] is True
    assert files["shadow"]["mode"] == "0640" and files["gshadow"]["mode"] == "0600"
    assert files["passwd"]["uid"] == os.getuid()  # the tree belongs to whoever runs the tests
    assert messages(builder, AREA) == []
    sources = {s["name"] for s in builder.sources}
    assert str(server / "etc/modprobe.d/cis.conf") in sources and str(server / "proc/mounts") in sources


def test_the_password_field_is_never_kept(server: Path) -> None:
    builder = collect_area(collect, file_context(server))
    assert "3x4mPl3H4sh" not in repr(builder.facts) and "Qw3r7y" not in repr(builder.errors)


def test_each_part_fails_on_its_own(server: Path) -> None:
    (server / "proc/mounts").unlink()
    (server / "etc/login.defs").write_text("UMASK 0o27\n")
    (server / "proc/sys/net/ipv4/tcp_syncookies").write_text("yes\n")
    builder = collect_area(collect, file_context(server))
    fact = builder.facts[AREA]
    assert "mounts" not in fact and "login_defs" not in fact
    assert "tcp_syncookies" not in fact["sysctl"]["net"]["ipv4"] and fact["sysctl"]["net"]["ipv4"]["ip_forward"] == 0
    assert fact["passwd"]["unshadowed"] == ["legacy"] and fact["file_integrity"]["installed"] is True
    found = messages(builder, AREA)
    assert any("mounts" in m for m in found)
    assert any("UMASK is not an octal number" in m for m in found)
    assert any("tcp_syncookies: not a number" in m for m in found)


def test_a_tree_without_proc(tmp_path: Path) -> None:
    root = tmp_path / "bare"
    _write(root, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n")
    builder = collect_area(collect, file_context(root))
    fact = builder.facts[AREA]
    assert "login_defs" not in fact and fact["home_directories"] == []
    assert fact["file_integrity"] == {"installed": False, "tools": []}
    assert fact["logrotate"]["installed"] is False
    assert all(p["available"] is None and "loaded" not in p for p in fact["network_protocols"])
    found = messages(builder, AREA)
    assert any("login.defs is missing" in m for m in found)
    assert any("/proc/sys/net" in m for m in found)
    assert area_problems(AREA, fact) == {}


def test_live_without_proc_modules_says_so(server: Path) -> None:
    (server / "proc/modules").unlink()
    builder = collect_area(collect, live_context(server))
    assert any("/proc/modules" in m for m in messages(builder, AREA))
    assert all("loaded" not in p for p in builder.facts[AREA]["network_protocols"])


@pytest.mark.parametrize(("value", "group_write", "other"), [
    (None, True, False), ("022", True, False), ("027", True, True), ("0077", True, True), ("002", False, False)])
def test_umask(value: str | None, group_write: bool, other: bool) -> None:
    facts = umask_facts({} if value is None else {"UMASK": value})
    assert facts is not None
    assert (facts["umask_masks_group_write"], facts["umask_masks_other"]) == (group_write, other)
    assert facts["umask_set"] is (value is not None)


def test_parsers_on_edge_lines() -> None:
    assert passwd_facts("a:!:5:5::/h:/bin/sh\nb:*:5:5::/h:/bin/sh\nc::6:6::/h:/bin/sh\n") == {
        "duplicate_uids": [{"uid": 5, "names": ["a", "b"]}], "duplicate_names": [], "unshadowed": []}
    assert {m["path"] for m in mount_facts("x /var/log ext4 rw 0 0\nbroken\n") if m["separate"]} == {"/var/log"}
    assert modprobe_rules(["install dccp /bin/true\n", "install dccp /sbin/modprobe --ignore-install dccp\n"]) == {}
    assert modprobe_rules(["blacklist  tipc # old\n", "install tipc /bin/false\n"]) == {"tipc": "install /bin/false"}


def test_sshd_numbers() -> None:
    assert numeric_settings({"clientaliveinterval": "300", "clientalivecountmax": "3"}) == {
        "client_alive_interval": 300, "client_alive_count_max": 3}
    assert numeric_settings({"clientaliveinterval": "５"}) == {}
