"""Every date in input or options is validated; what is written survives text that cannot be encoded."""

import json
import subprocess
import sys

import pytest
from support import MINI_POLICY, make_bundle

from auditor.cli import main


@pytest.mark.parametrize(("collected_at", "message"), [
    ("2026-02-30T10:00:00+09:00", "not a real date and time"),
    ("2026-11-02T25:00:00+09:00", "not a real date and time"),
    ("0001-01-01T00:00:00+09:00", "outside the dates an audit can be judged as of"),
    ("9999-12-31T23:59:59-09:00", "outside the dates an audit can be judged as of"),
])
def test_an_impossible_collection_time_is_exit_2_naming_the_field(write_bundle, capsys, collected_at, message):
    path = write_bundle("pc.json", make_bundle(collected_at=collected_at))
    assert main(["audit", str(path), "--policy", str(MINI_POLICY)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"auditor: {path}: collected_at: ") and message in err and "Traceback" not in err


def test_in_a_fleet_it_is_listed_and_the_rest_audited(write_bundle, tmp_path, capsys):
    write_bundle("fleet/a.json", make_bundle(target__id="a"))
    write_bundle("fleet/b.json", make_bundle(target__id="b", collected_at="2026-02-30T10:00:00+09:00"))
    assert main(["audit", str(tmp_path / "fleet"), "--policy", str(MINI_POLICY), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [t["id"] for t in doc["targets"]] == ["a"]
    assert doc["run"]["unread"][0]["problem"].startswith("collected_at: not a real date and time")


@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31", "2026-02-30", "昨日"])
def test_as_of_is_validated(write_bundle, capsys, as_of):
    path = write_bundle("pc.json", make_bundle())
    with pytest.raises(SystemExit) as exit_:
        main(["audit", str(path), "--policy", str(MINI_POLICY), "--as-of", as_of])
    assert exit_.value.code == 2
    assert "argument --as-of" in capsys.readouterr().err


def test_the_window_s_ends_are_judged(write_bundle, capsys):
    path = write_bundle("pc.json", make_bundle())
    for as_of in ("1970-01-01", "9998-12-31"):
        assert main(["audit", str(path), "--policy", str(MINI_POLICY), "--as-of", as_of]) in (0, 1)


@pytest.mark.parametrize("collected_at", ["2026-02-30T10:00:00+09:00", "2026-11-02T10:00:00", "0001-01-01T00:00:00Z"])
def test_import_collected_at_is_validated(tmp_path, capsys, collected_at):
    export = tmp_path / "pc.inf"
    export.write_text("[System Access]\nMinimumPasswordLength = 8\n", encoding="utf-16")
    with pytest.raises(SystemExit) as exit_:
        main(["import", "secedit", str(export), "--collected-at", collected_at])
    assert exit_.value.code == 2


def test_a_lone_surrogate_is_written_as_its_escape_in_every_format(tmp_path):
    path = tmp_path / "pc.json"
    path.write_text(json.dumps(make_bundle(target__id="pc-\udc80")), encoding="ascii")  # \udc80 escaped in JSON
    for fmt in ("table", "json"):
        proc = subprocess.run([sys.executable, "-m", "auditor", "audit", str(path), "--policy", str(MINI_POLICY),
                               "--format", fmt], capture_output=True, check=False)
        assert proc.returncode == 0, proc.stderr
        assert b"pc-\\udc80" in proc.stdout
        out = tmp_path / f"report.{fmt}"
        assert main(["audit", str(path), "--policy", str(MINI_POLICY), "--format", fmt, "--out", str(out)]) == 0
        assert b"pc-\\udc80" in out.read_bytes()
    proc = subprocess.run([sys.executable, "-m", "auditor", "policy", "validate", str(path)], capture_output=True,
                          check=False)
    assert proc.returncode == 0 and b"pc-\\udc80" in proc.stdout
