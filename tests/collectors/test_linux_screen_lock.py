"""``screen_lock``: the desktop, GNOME's idle lock through dconf, and a read-only TMOUT."""

from __future__ import annotations

import shutil
from pathlib import Path

from auditor.evidence.collectors.linux.screen_lock import (
    collect,
    dconf_profile_dbs,
    gnome_lock,
    gvariant,
    parse_tmout,
    schema_default,
)
from linux_support import area_problems, collect_area, file_context, fixture_text, messages

AREA = "screen_lock"
SESSION = ("org/gnome/desktop/session", "idle-delay")
LOCK = ("org/gnome/desktop/screensaver", "lock-enabled")
DELAY = ("org/gnome/desktop/screensaver", "lock-delay")


def test_values_and_schema_defaults() -> None:
    assert [gvariant(v) for v in ("uint32 300", "300", "true", "false", "'gnome'", "@as []")] == [
        300, 300, True, False, "gnome", None]
    xml = fixture_text("root/usr/share/glib-2.0/schemas/org.gnome.desktop.screensaver.gschema.xml")
    assert schema_default(xml, "org.gnome.desktop.screensaver", "lock-enabled") is True
    assert schema_default(xml, "org.gnome.desktop.screensaver", "lock-delay") == 0
    assert schema_default(xml, "org.gnome.desktop.session", "idle-delay") is None
    assert dconf_profile_dbs("user-db:user\nsystem-db:site\nsystem-db:local\n") == ["site", "local"]


def test_gnome_lock_rule() -> None:
    assert gnome_lock({SESSION: 300, LOCK: True, DELAY: 30}) == {
        "enabled": True, "idle_timeout_seconds": 330, "password_on_resume": True}
    assert gnome_lock({SESSION: 0, LOCK: True, DELAY: 0}) == {
        "enabled": False, "idle_timeout_seconds": None, "password_on_resume": True}  # never idle
    assert gnome_lock({SESSION: 300, LOCK: False, DELAY: 0}) == {
        "enabled": False, "idle_timeout_seconds": None, "password_on_resume": False}
    assert gnome_lock({SESSION: 300, LOCK: True}) is None


def test_tmout_read_only_keeps_its_value() -> None:
    files = [("/etc/profile.d/tmout.sh", fixture_text("root/etc/profile.d/tmout.sh")),
             ("/etc/bash.bashrc", fixture_text("root/etc/bash.bashrc"))]
    assert parse_tmout(files) == {"value": 900, "readonly": True, "file": "/etc/profile.d/tmout.sh"}
    assert parse_tmout([("/etc/profile", "export TMOUT=600\n")]) == {
        "value": 600, "readonly": False, "file": "/etc/profile"}
    assert parse_tmout([("/etc/profile", "if true; then readonly TMOUT=300; fi\n")])["readonly"] is True
    assert parse_tmout([("/etc/profile", "declare -rx TMOUT=1200\n")]) == {
        "value": 1200, "readonly": True, "file": "/etc/profile"}
    assert parse_tmout([("/etc/profile", "# TMOUT=900\necho TMOUT=1\n")])["value"] is None


def test_fake_root_gnome_locked_down(fake_root: Path) -> None:
    builder = collect_area(collect, file_context(fake_root))
    fact = builder.facts[AREA]
    assert fact == {"desktop": True, "enabled": True, "idle_timeout_seconds": 600, "password_on_resume": True,
                    "enforced": True, "shell_timeout_seconds": 900,
                    "source": "GNOME (GSettings defaults and overrides); dconf db local (/etc/dconf/db/local.d); "
                              "TMOUT=900 read-only (/etc/profile.d/tmout.sh)"}
    assert messages(builder, AREA) == []
    assert area_problems(AREA, fact) == {}


def test_without_dconf_settings_the_defaults_and_overrides_apply(fake_root: Path) -> None:
    shutil.rmtree(fake_root / "etc/dconf/db/local.d")
    (fake_root / "etc/profile.d/tmout.sh").write_text("TMOUT=900\nexport TMOUT\n")
    builder = collect_area(collect, file_context(fake_root))
    fact = builder.facts[AREA]
    # schema idle-delay 300 s, Debian's override lock-delay 30 s, lock-enabled true; users may change them
    assert fact["idle_timeout_seconds"] == 330 and fact["enforced"] is False
    assert fact["shell_timeout_seconds"] is None
    # not read-only, so bash.bashrc's later assignment wins
    assert fact["source"] == "GNOME (GSettings defaults and overrides); TMOUT=3600 not read-only (/etc/bash.bashrc)"


def test_a_database_no_profile_lists_does_not_apply(fake_root: Path) -> None:
    (fake_root / "etc/dconf/profile/user").unlink()
    builder = collect_area(collect, file_context(fake_root))
    assert builder.facts[AREA]["idle_timeout_seconds"] == 330
    assert messages(builder, AREA) == [
        "dconf: local.d not listed in the user profile (none found): their settings do not apply"]


def test_other_desktops_are_not_read(fake_root: Path) -> None:
    (fake_root / "usr/bin/gnome-shell").unlink()
    (fake_root / "usr/share/xsessions/gnome-xorg.desktop").rename(fake_root / "usr/share/xsessions/xfce.desktop")
    builder = collect_area(collect, file_context(fake_root))
    assert builder.facts[AREA] == {"desktop": True, "shell_timeout_seconds": 900,
                                   "source": "TMOUT=900 read-only (/etc/profile.d/tmout.sh)"}
    assert messages(builder, AREA) == [
        "screen lock of the installed sessions (gnome.desktop, xfce.desktop) is not read: only GNOME's settings are"]


def test_console_server(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/profile").write_text("PATH=/usr/bin:/bin\n")
    builder = collect_area(collect, file_context(tmp_path))
    assert builder.facts[AREA] == {
        "desktop": False, "shell_timeout_seconds": None,
        "source": "TMOUT not set (/etc/profile, /etc/profile.d/*.sh, /etc/bash.bashrc, /etc/bashrc)"}
    assert builder.errors == []
