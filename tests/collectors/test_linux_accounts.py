"""Parsers of the ``accounts`` area: passwd, shadow, group, sudoers and the merge."""

from __future__ import annotations

from datetime import date

from auditor.evidence.collectors.linux.accounts import (
    PasswdEntry,
    SudoGrants,
    build_accounts,
    login_allowed,
    parse_group,
    parse_passwd,
    parse_shadow,
    parse_sudoers,
    password_state,
    sudoers_includes,
)
from linux_support import fixture_text

TODAY = date(2026, 1, 15)


def test_password_state_covers_every_shadow_form() -> None:
    assert password_state("") == {"password_set": False, "password_empty": True, "locked": False}
    for locked in ("!", "!!", "*", "!$y$j9T$FakeSalt$FakeHash"):
        assert password_state(locked) == {"password_set": False, "password_empty": False, "locked": True}
    assert password_state("$6$FakeSalt$FakeHash") == {"password_set": True, "password_empty": False,
                                                       "locked": False}


def test_parse_shadow_keeps_aging_and_drops_the_hash() -> None:
    shadow = parse_shadow(fixture_text("root/etc/shadow"))
    assert shadow["sato"] == {
        "password_set": True, "password_empty": False, "locked": False, "last_change_day": 20440,
        "last_password_change": "2025-12-18", "password_min_days": 1, "password_max_days": 90,
        "password_warn_days": 14, "inactive_days": 30, "expires": None,
    }
    assert shadow["sshd"]["password_min_days"] is None and shadow["sshd"]["password_max_days"] is None
    assert shadow["daemon"]["password_max_days"] is None  # 99999 means no maximum
    assert shadow["opsbot"]["last_password_change"] is None  # 0: change forced at next login
    assert shadow["oldstaff"]["expires"] == "2025-11-08"
    assert shadow["guest"]["password_empty"] is True
    assert shadow["tanaka"]["locked"] is True and shadow["tanaka"]["password_set"] is False
    assert "$" not in repr(shadow)


def test_parse_passwd_and_group() -> None:
    passwd = parse_passwd(fixture_text("root/etc/passwd") + "+@netgroup::::::\nbroken:line\n")
    assert [p.name for p in passwd][:3] == ["root", "daemon", "bin"]
    assert len(passwd) == 13
    assert passwd[0] == PasswdEntry("root", 0, 0, "/root", "/bin/bash", True, None)
    groups = parse_group(fixture_text("root/etc/group"))
    assert groups["sudo"] == (27, ["sato"])
    assert groups["ops"] == (1010, ["suzuki", "opsbot"])
    assert groups["root"] == (0, [])


def test_passwd_field_without_shadow_gives_its_own_state() -> None:
    entry = parse_passwd("legacy::1200:1200::/home/legacy:/bin/sh\n")[0]
    assert entry.shadowed is False
    assert entry.state == {"password_set": False, "password_empty": True, "locked": False}


def test_login_allowed() -> None:
    assert login_allowed("/bin/bash") and login_allowed("")
    assert not any(login_allowed(s) for s in ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/bin/sync",
                                              "/dev/null"))


def test_sudoers_grants_all_only_as_root() -> None:
    text = fixture_text("root/etc/sudoers") + "\n" + fixture_text("root/etc/sudoers.d/ops")
    grants = parse_sudoers(text)
    assert grants.users == {"root", "opsbot"}  # tanaka may run ALL only as www-data
    assert grants.groups == {"sudo"}  # %ops gets two commands, not ALL
    assert grants.everyone is False
    assert sudoers_includes(fixture_text("root/etc/sudoers")) == [("includedir", "/etc/sudoers.d")]


def test_sudoers_aliases_uids_and_everyone() -> None:
    text = (
        "Cmnd_Alias EVERYTHING = ALL\n"
        "User_Alias ADMINS = alice, %wheel2, \\\n    #1500\n"
        "ADMINS ALL = (root) NOPASSWD: EVERYTHING\n"
        "%#2000 ALL=ALL\n"
        "bob host1 = (:adm) ALL\n"
        "# carol ALL=(ALL) ALL\n"
    )
    grants = parse_sudoers(text)
    assert grants.users == {"alice"} and grants.groups == {"wheel2"}
    assert grants.uids == {1500} and grants.gids == {2000}
    assert parse_sudoers("ALL ALL=(ALL) ALL\n").everyone is True
    assert parse_sudoers("#1200 ALL=(ALL:ALL) ALL\n").uids == {1200}  # a leading uid is not a comment


def test_build_accounts_flags_and_admin() -> None:
    accounts = build_accounts(
        parse_passwd(fixture_text("root/etc/passwd")), parse_shadow(fixture_text("root/etc/shadow")),
        parse_group(fixture_text("root/etc/group")),
        parse_sudoers(fixture_text("root/etc/sudoers") + fixture_text("root/etc/sudoers.d/ops")), 1000, TODAY)
    by = {a["name"]: a for a in accounts}
    assert [a["name"] for a in accounts if a["admin"]] == ["root", "sato", "opsbot"]
    assert by["sato"]["groups"] == ["adm", "sudo"] and by["sato"]["enabled"] is True
    assert by["oldstaff"]["enabled"] is False  # account expired on 2025-11-08
    assert by["guest"]["enabled"] is True and by["guest"]["password_empty"] is True
    assert by["daemon"]["system"] is True and by["root"]["system"] is False
    assert by["nobody"]["system"] is False  # uid 65534 is not below UID_MIN


def test_inactive_period_after_expiry_disables() -> None:
    shadow = parse_shadow("u:$6$FakeSalt$FakeHash:20300:0:90:7:30::\n")  # expired 20390, disabled after 20420
    entry = parse_passwd("u:x:1000:1000::/home/u:/bin/bash\n")
    assert build_accounts(entry, shadow, {}, SudoGrants(), 1000, date(2025, 11, 27))[0]["enabled"] is True
    assert build_accounts(entry, shadow, {}, SudoGrants(), 1000, date(2025, 12, 1))[0]["enabled"] is False


def test_unreadable_shadow_or_sudoers_leaves_keys_out() -> None:
    passwd = parse_passwd(fixture_text("root/etc/passwd"))
    groups = parse_group(fixture_text("root/etc/group"))
    accounts = build_accounts(passwd, None, groups, None, 1000, TODAY)
    by = {a["name"]: a for a in accounts}
    for key in ("password_set", "password_empty", "locked", "last_password_change", "password_max_days",
                "expires", "enabled"):
        assert key not in by["sato"]
    assert by["sato"]["admin"] is True  # sudo group membership is certain
    assert "admin" not in by["suzuki"]  # could only be known from sudoers
    assert by["root"]["admin"] is True
