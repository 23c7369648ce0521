"""A fleet with a hole in it is audited, the hole is named, and the gate fails: never a silent pass."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from support import MINI_POLICY, make_bundle

from auditor import bundles
from auditor.cli import main


def audit_json(capsys, *paths, lang="en"):
    code = main(["audit", *map(str, paths), "--policy", str(MINI_POLICY), "--format", "json", "--lang", lang])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out else None), err


def test_an_empty_directory_fails_the_gate(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, doc, _ = audit_json(capsys, tmp_path / "empty")
    assert code == 1
    assert doc["gate"] == {"passed": False, "failed_critical": [], "incomplete": ["nothing-evaluated"],
                           "waived_critical": []}
    main(["audit", str(tmp_path / "empty"), "--policy", str(MINI_POLICY), "--lang", "en"])
    assert "nothing was evaluated" in capsys.readouterr().out


def test_one_broken_file_among_a_thousand_is_listed_and_the_rest_audited(write_bundle, tmp_path, capsys):
    for n in range(1000):
        write_bundle(f"fleet/pc-{n:04d}.json", make_bundle(target__id=f"pc-{n:04d}"))
    fleet = tmp_path / "fleet"
    (fleet / "pc-0500.json").write_bytes((fleet / "pc-0500.json").read_bytes()[:100])  # cut short
    (fleet / "pc-0501.json").write_text(json.dumps(make_bundle(format="auditor-evidence/9")), encoding="utf-8")
    code, doc, _ = audit_json(capsys, fleet)
    assert code == 1 and doc["gate"]["passed"] is False and doc["gate"]["incomplete"] == ["unread"]
    assert len(doc["targets"]) == 998
    unread = {os.path.basename(u["path"]): u["problem"] for u in doc["run"]["unread"]}
    assert set(unread) == {"pc-0500.json", "pc-0501.json"}
    assert unread["pc-0500.json"].startswith("line 1: not valid JSON")
    assert "auditor-evidence/9" in unread["pc-0501.json"]


def test_the_table_names_what_was_not_read(write_bundle, tmp_path, capsys):
    write_bundle("fleet/a.json", make_bundle())
    (tmp_path / "fleet" / "b.json").write_text("{", encoding="utf-8")
    assert main(["audit", str(tmp_path / "fleet"), "--policy", str(MINI_POLICY)]) == 1
    out = capsys.readouterr().out
    assert "不通過（証跡不完全: 読み込めなかったファイル・フォルダ 1 件）" in out
    assert "読み込めなかった証跡" in out and "b.json" in out


def test_a_single_named_file_that_cannot_be_read_is_exit_2(tmp_path, capsys):
    path = tmp_path / "pc.json"
    path.write_text('{"format": "auditor-evidence/1", "target": ', encoding="utf-8")
    assert main(["audit", str(path), "--policy", str(MINI_POLICY)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"auditor: {path}:1: not valid JSON")


def test_broken_links_and_special_files_are_listed(write_bundle, tmp_path, capsys):
    write_bundle("fleet/a.json", make_bundle())
    fleet = tmp_path / "fleet"
    (fleet / "gone.json").symlink_to(tmp_path / "moved-away.json")
    (fleet / "old-folder").symlink_to(tmp_path / "no-such-folder")
    os.mkfifo(fleet / "pipe.json")  # reading it would wait forever
    code, doc, _ = audit_json(capsys, fleet)
    assert code == 1 and [t["id"] for t in doc["targets"]] == ["pc-001"]
    problems = {os.path.basename(u["path"]): u["problem"] for u in doc["run"]["unread"]}
    assert problems["gone.json"].startswith("a broken symbolic link")
    assert problems["old-folder"].startswith("a broken symbolic link")
    assert problems["pipe.json"].startswith("not a regular file")


def test_a_link_loop_is_walked_once(write_bundle, tmp_path, capsys):
    write_bundle("fleet/a.json", make_bundle())
    (tmp_path / "fleet" / "again").symlink_to(tmp_path / "fleet")
    code, doc, _ = audit_json(capsys, tmp_path / "fleet")
    assert code == 0 and len(doc["run"]["evidence"]) == 1


def test_an_unreadable_subdirectory_is_listed(write_bundle, tmp_path, capsys, monkeypatch):
    write_bundle("fleet/soumu/a.json", make_bundle(target__id="a"))
    write_bundle("fleet/zeimu/b.json", make_bundle(target__id="b"))
    locked = str(tmp_path / "fleet" / "zeimu")
    real_scandir = os.scandir

    def scandir(path):
        if not isinstance(path, int) and os.fspath(path) == locked:  # (an int: a directory fd, as rmtree uses)
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(bundles.os, "scandir", scandir)
    code, doc, _ = audit_json(capsys, tmp_path / "fleet")
    assert code == 1 and [t["id"] for t in doc["targets"]] == ["a"]
    assert doc["run"]["unread"] == [{"path": locked, "problem": "cannot read this directory: Permission denied"}]


def test_upper_case_names_are_bundles_too(write_bundle, tmp_path, capsys):
    write_bundle("fleet/PC-101.JSON", make_bundle(target__id="PC-101"))
    code, doc, _ = audit_json(capsys, tmp_path / "fleet")
    assert code == 0 and [t["id"] for t in doc["targets"]] == ["PC-101"]


@pytest.mark.skipif(not shutil.which("setpriv") and os.geteuid() == 0, reason="needs setpriv to drop root")
def test_a_directory_the_auditor_may_not_read_really_fails():
    """Real permissions, as another user meets them (root reads everything: the run drops to nobody).

    Made under /tmp itself: pytest's own temporary folders are closed to other users."""
    base = Path(tempfile.mkdtemp(prefix="auditor-perm-"))
    try:
        for name, target_id in (("open", "a"), ("closed", "b")):
            (base / "fleet" / name).mkdir(parents=True)
            (base / "fleet" / name / f"{target_id}.json").write_text(
                json.dumps(make_bundle(target__id=target_id)), encoding="utf-8")
        for folder in (base, base / "fleet", base / "fleet" / "open"):
            os.chmod(folder, 0o755)  # noqa: S103 - other users must reach the open part
        os.chmod(base / "fleet" / "open" / "a.json", 0o644)
        closed = base / "fleet" / "closed"
        os.chmod(closed, 0o000)
        command = [sys.executable, "-m", "auditor", "audit", str(base / "fleet"), "--policy", str(MINI_POLICY),
                   "--format", "json"]
        if os.geteuid() == 0:
            command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        proc = subprocess.run(command, capture_output=True, text=True, check=False, env=env, cwd="/")
        assert proc.returncode == 1, proc.stderr
        doc = json.loads(proc.stdout)
        assert [t["id"] for t in doc["targets"]] == ["a"]
        denied = "cannot read this directory: Permission denied"
        assert doc["run"]["unread"] == [{"path": str(closed), "problem": denied}]
    finally:
        os.chmod(base / "fleet" / "closed", 0o700)
        shutil.rmtree(base)
