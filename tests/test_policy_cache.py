"""The compiled-policy cache: the same Policy as a full load, and never a stale one."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

import auditor.policy
from auditor import cache, cli, policy_cache
from auditor.errors import InputError
from auditor.policy import load_policy
from auditor.selection import resolve

ROOT = Path(__file__).resolve().parents[1]
CHECK = "checks/passwords/password-min-length.yaml"


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(folder))
    monkeypatch.delenv("AUDITOR_NO_CACHE", raising=False)
    return folder


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The policy directories loaded in full (parsed and validated) rather than served from the cache."""
    seen: list[Path] = []
    full = auditor.policy._load

    def counted(base: Path, *args: Any, **kwargs: Any) -> Any:
        seen.append(base)
        return full(base, *args, **kwargs)

    monkeypatch.setattr(auditor.policy, "_load", counted)
    return seen


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    """A copy of the embedded policy (its checks beside it, as policy.yaml's ../checks says)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.py")
    shutil.copytree(ROOT / "policies", tmp_path / "policies", ignore=ignore)
    shutil.copytree(ROOT / "checks", tmp_path / "checks", ignore=ignore)
    return tmp_path / "policies"


def _entries(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / policy_cache.KIND).glob("*.json"))


def test_a_warm_load_is_the_full_load(cache_dir: Path, parses: list[Path]) -> None:
    cold = load_policy()
    warm = load_policy()
    assert len(parses) == 1 and len(_entries(cache_dir)) == 1
    assert warm == cold and warm is not cold  # every field: controls, checks, profiles, parameters, files, sha256
    assert warm.embedded and warm.files == cold.files and warm.sha256 == cold.sha256
    assert isinstance(warm.controls["GL-A01"].audit_items, tuple)
    for profile in cold.profiles:
        assert resolve(warm, profile, None) == resolve(cold, profile, None)
    for profile in cold.profiles.values():  # lines of keys, for an error naming one
        for keys in (("parameters",), ("extends",), ("controls", "select")):
            assert warm.profiles[profile.id].line_of(keys) == profile.line_of(keys)


def test_a_policy_directory_by_path_and_the_audit_it_gives(cache_dir: Path, parses: list[Path], policy_dir: Path,
                                                          tmp_path: Path) -> None:
    first = load_policy(policy_dir)
    assert load_policy(str(policy_dir)) == first and len(parses) == 1
    assert not first.embedded and first.root == str(policy_dir)
    fleet = ROOT / "examples" / "fleet"
    outs = []
    for name in ("cold", "warm"):
        out = tmp_path / f"{name}.json"
        if name == "cold":
            shutil.rmtree(cache_dir)
        assert cli.main(["audit", str(fleet), "--policy", str(policy_dir), "--format", "json",
                         "--out", str(out)]) in (0, 1)
        doc = json.loads(out.read_text(encoding="utf-8"))
        for key in ("id", "started_at", "finished_at"):
            doc["run"].pop(key)
        outs.append(doc)
    assert outs[0] == outs[1]


def test_one_byte_changed_in_a_check_is_seen_at_once(cache_dir: Path, parses: list[Path], policy_dir: Path) -> None:
    check = policy_dir.parent / CHECK
    before = load_policy(policy_dir)
    text = check.read_bytes()
    assert b"Minimum password length" in text
    stat = check.stat()
    check.write_bytes(text.replace(b"Minimum password length", b"Minimum password lengtH"))
    os.utime(check, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same time: only the bytes tell
    after = load_policy(policy_dir)
    assert after.checks["password-min-length"].title["en"] == "Minimum password lengtH meets the profile"
    assert after.sha256 != before.sha256 and len(parses) == 2
    check.write_bytes(text)
    assert load_policy(policy_dir) == before and len(parses) == 3  # one entry per directory: rebuilt again


def test_a_file_added_or_removed_is_seen(cache_dir: Path, parses: list[Path], policy_dir: Path) -> None:
    before = load_policy(policy_dir)
    copy = policy_dir.parent / "checks" / "passwords" / "copy.yaml"
    copy.write_text((policy_dir.parent / CHECK).read_text(encoding="utf-8").replace(
        "id: password-min-length", "id: password-min-length-2"), encoding="utf-8")
    assert "password-min-length-2" in load_policy(policy_dir).checks
    copy.unlink()
    assert load_policy(policy_dir) == before and len(parses) == 3
    (policy_dir.parent / CHECK).unlink()
    assert "password-min-length" not in load_policy(policy_dir).checks


def test_a_broken_policy_is_never_cached(cache_dir: Path, parses: list[Path], policy_dir: Path) -> None:
    check = policy_dir.parent / CHECK
    check.write_text(check.read_text(encoding="utf-8").replace("condition: {ge:", "condition: {gee:"),
                     encoding="utf-8")
    for _ in range(2):
        with pytest.raises(InputError, match="unknown operator"):
            load_policy(policy_dir)
    assert len(parses) == 2 and _entries(cache_dir) == []


@pytest.mark.parametrize("damage", ["truncated", "garbage", "body", "empty", "foreign", "shape"])
def test_a_damaged_entry_is_ignored_and_rewritten(cache_dir: Path, parses: list[Path], damage: str) -> None:
    good = load_policy()
    [entry] = _entries(cache_dir)
    blob = entry.read_bytes()
    header, _, body = blob.partition(b"\n")
    entry.write_bytes({
        "truncated": blob[: len(blob) // 2],
        "garbage": os.urandom(4096),
        "body": header + b"\n" + body.replace(b"password", b"passw0rd", 1),  # hash no longer matches
        "empty": b"",
        "foreign": b"auditor-cache/0 " + header.split(b" ", 1)[1] + b"\n" + body,
        "shape": b"\n".join([cache._header(entry.stem, b'{"data":{"folders":7},"marks":{"date":[],'
                                                      b'"datetime":[],"tuple":[]}}'),
                             b'{"data":{"folders":7},"marks":{"date":[],"datetime":[],"tuple":[]}}']),
    }[damage])
    assert load_policy() == good and len(parses) == 2
    assert entry.read_bytes() == blob  # rewritten whole
    assert load_policy() == good and len(parses) == 2


def test_another_program_does_not_use_the_entry(cache_dir: Path, parses: list[Path],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    load_policy()
    monkeypatch.setattr(policy_cache, "code_fingerprint", lambda: b"another version of the validators")
    load_policy()
    assert len(parses) == 2 and len(_entries(cache_dir)) == 2


def test_the_entry_is_plain_json_with_its_marks(cache_dir: Path) -> None:
    load_policy()
    [entry] = _entries(cache_dir)
    header, _, body = entry.read_bytes().partition(b"\n")
    assert header.split()[0] == b"auditor-cache/1" and header.split()[1].decode() == entry.stem
    stored = json.loads(body)
    assert set(stored) == {"data", "marks"} and stored["marks"]["date"] == []
    assert ["policy", "controls", 0, "audit_items"] in stored["marks"]["tuple"]
    if sys.platform != "win32":
        assert entry.stat().st_mode & 0o077 == 0  # the user's own


def test_dates_and_tuples_round_trip_and_other_values_are_not_cached(cache_dir: Path) -> None:
    import datetime

    data = {"deadline": datetime.date(2026, 3, 31), "at": [datetime.datetime(2026, 3, 31, 9, 0,
            tzinfo=datetime.timezone(datetime.timedelta(hours=9)))], "items": ("1-1", ("a", datetime.date(2025, 1, 2)))}
    assert cache.write("test", "k", data)
    back = cache.read("test", "k")
    assert back == data and type(back["items"][1]) is tuple and type(back["deadline"]) is datetime.date
    for value in ({8: "a number key"}, float("nan"), "\udc80", 2**70, {1, 2}, b"bytes"):
        assert not cache.write("test", "x", {"v": value})
        assert cache.read("test", "x") is None


def test_a_policy_with_a_date_parameter_is_cached(cache_dir: Path, parses: list[Path], policy_dir: Path) -> None:
    profile = policy_dir / "profiles" / "ishioka.yaml"
    text = profile.read_text(encoding="utf-8")
    assert "parameters:" in text
    profile.write_text(text.replace("parameters:", "parameters:\n  cyber_policy_deadline: 2027-03-31", 1),
                       encoding="utf-8")
    cold = load_policy(policy_dir)
    assert str(cold.profiles["ishioka"].parameters["cyber_policy_deadline"]) == "2027-03-31"
    assert load_policy(policy_dir) == cold and len(parses) == 1


def test_off_or_unwritable_the_cache_changes_nothing(tmp_path: Path, parses: list[Path],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AUDITOR_NO_CACHE", "1")
    good = load_policy()
    assert load_policy() == good and len(parses) == 2 and not (tmp_path / "cache").exists()
    monkeypatch.delenv("AUDITOR_NO_CACHE")
    (tmp_path / "a-file").write_text("not a directory")
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path / "a-file" / "cache"))
    assert load_policy() == good and load_policy() == good and len(parses) == 4


def test_where_the_cache_lives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDITOR_CACHE_DIR", raising=False)
    monkeypatch.delenv("AUDITOR_NO_CACHE", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.directory() == tmp_path / "xdg" / "lg-security-auditor"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.directory() == tmp_path / "home" / ".cache" / "lg-security-auditor"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert cache.directory() == tmp_path / "local" / "lg-security-auditor"
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path / "mine"))
    assert cache.directory() == tmp_path / "mine"
    monkeypatch.setenv("AUDITOR_NO_CACHE", "0")
    assert cache.directory() == tmp_path / "mine"
    monkeypatch.setenv("AUDITOR_NO_CACHE", "1")
    assert cache.directory() is None
