"""Outputs never destroy inputs: refused over any input, written whole or not at all, private."""

import os
import shutil
import stat
import subprocess
import sys

import pytest
from support import MINI_POLICY, make_bundle

from auditor import output
from auditor.cli import main
from auditor.errors import InputError

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def audit(*argv):
    return main(["audit", *map(str, argv), "--policy", str(MINI_POLICY)])


@pytest.fixture
def bundle(write_bundle):
    return write_bundle("pc.json", make_bundle())


def test_a_report_is_never_written_over_its_evidence(bundle, capsys):
    before = bundle.read_bytes()
    for out in (bundle, bundle.parent / "sub" / ".." / "pc.json"):
        assert audit(bundle, "--out", out) == 2
        assert "is an input of this run" in capsys.readouterr().err
    assert bundle.read_bytes() == before


def test_nor_over_a_link_to_it(bundle, capsys):
    (bundle.parent / "soft.json").symlink_to(bundle)
    os.link(bundle, bundle.parent / "hard.json")
    before = bundle.read_bytes()
    for name in ("soft.json", "hard.json"):
        assert audit(bundle, "--out", bundle.parent / name) == 2
    assert bundle.read_bytes() == before


def test_nor_into_a_directory_being_read(write_bundle, capsys):
    path = write_bundle("fleet/a/pc.json", make_bundle())
    fleet = path.parent.parent
    assert audit(fleet, "--out", fleet / "a" / "report.txt") == 2
    assert "which this run reads" in capsys.readouterr().err
    assert not (fleet / "a" / "report.txt").exists()


def test_nor_over_the_tailoring_or_policy(bundle, tmp_path, capsys):
    tailoring = tmp_path / "t.yaml"
    tailoring.write_text("format: auditor-tailoring/1\nid: t\nprofile: mini\n", encoding="utf-8")
    assert audit(bundle, "--tailoring", tailoring, "--out", tailoring) == 2
    assert tailoring.read_text(encoding="utf-8").startswith("format:")
    assert audit(bundle, "--out", MINI_POLICY / "report.txt") == 2


def test_an_import_never_writes_over_its_export(tmp_path, capsys):
    export = tmp_path / "pc.inf"
    shutil.copyfile(os.path.join(FIXTURES, "windows", "secedit-weak.inf"), export)
    before = export.read_bytes()
    assert main(["import", "secedit", str(export), "--out", str(export)]) == 2
    assert export.read_bytes() == before


def test_outputs_are_private_and_replace_the_old_file_whole(bundle, tmp_path):
    report = tmp_path / "report.txt"
    report.write_text("last month's report", encoding="utf-8")
    os.chmod(report, 0o644)
    assert audit(bundle, "--out", report) == 0
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert "スコア" in report.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_an_interrupted_write_leaves_the_previous_file(tmp_path, monkeypatch):
    report = tmp_path / "report.txt"
    report.write_bytes(b"previous")

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        output.write(b"new report", str(report))
    assert report.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.txt"]


def test_a_link_as_output_keeps_the_link(tmp_path):
    target = tmp_path / "reports" / "latest.txt"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / "latest.txt"
    link.symlink_to(target)
    output.write(b"new", str(link))
    assert link.is_symlink() and target.read_bytes() == b"new"


def test_a_device_is_written_to_not_replaced(tmp_path):
    output.write(b"discarded", "/dev/null")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_directory_or_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        output.write(b"x", str(tmp_path))
    with pytest.raises(InputError, match="cannot write"):
        output.write(b"x", str(tmp_path / "no" / "such" / "r.txt"))


def test_the_windows_script_is_not_private(tmp_path):
    script = tmp_path / "collect-windows.ps1"
    old = os.umask(0o022)
    try:
        assert main(["collect", "--windows-script", str(script)]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(script.stat().st_mode) == 0o644


def test_the_command_line_refuses_before_any_work(bundle):
    """The refusal comes first: a slow collection or import is not run only to be thrown away."""
    proc = subprocess.run([sys.executable, "-m", "auditor", "import", "ad-users", str(bundle), "--out", str(bundle)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "is an input of this run" in proc.stderr and "Traceback" not in proc.stderr
