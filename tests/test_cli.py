"""The command line's contract: exit codes, one-line errors, formats, determinism."""

import json
import os
import re
import subprocess
import sys

import pytest
from support import MINI_POLICY, core, make_bundle

from auditor.cli import main


def run_main(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_compliant_evidence_exits_0_with_japanese_table(capsys, write_bundle):
    path = write_bundle("a.json", make_bundle())
    code, out, err = run_main(capsys, "audit", path, "--policy", MINI_POLICY)
    assert code == 0 and err == ""
    assert "スコア: 100.0" in out and "A 達成" in out and "重大項目ゲート: 通過" in out


def test_english_table(capsys, write_bundle):
    path = write_bundle("a.json", make_bundle(facts__password_policy={"min_length": 6}))
    code, out, _ = run_main(capsys, "audit", path, "--policy", MINI_POLICY, "--lang", "en")
    assert code == 0  # a high-severity failure does not fail the gate
    assert "Score: " in out and "min length 6 (need 8)" in out and "password_policy.min_length" in out


def test_critical_failure_fails_the_gate_whatever_the_score(capsys, write_bundle):
    bundle = make_bundle()
    bundle["facts"]["routing"]["ip_forward_v4"] = True
    code, out, _ = run_main(capsys, "audit", write_bundle("a.json", bundle), "--policy", MINI_POLICY,
                            "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["gate"]["passed"] is False
    assert doc["gate"]["failed_critical"] == [{"check": "forwarding", "target": "pc-001", "status": "fail",
                                               "controls": ["GL-A13"]}]


def test_fail_under(capsys, write_bundle):
    path = write_bundle("a.json", make_bundle(facts__password_policy={"min_length": 6}))
    assert run_main(capsys, "audit", path, "--policy", MINI_POLICY, "--fail-under", "80")[0] == 0
    assert run_main(capsys, "audit", path, "--policy", MINI_POLICY, "--fail-under", "80.1")[0] == 1


def test_json_shape(capsys, write_bundle):
    path = write_bundle("a.json", make_bundle(facts__password_policy={"min_length": 6}))
    _, out, _ = run_main(capsys, "audit", path, "--policy", MINI_POLICY, "--format", "json", "--lang", "en")
    doc = json.loads(out)
    assert doc["format"] == "auditor-results/1"
    assert set(doc["run"]) >= {"id", "started_at", "finished_at", "tool_version", "policy", "evidence"}
    assert set(doc["run"]["policy"]) >= {"id", "version", "profile", "sha256"}
    assert doc["run"]["evidence"][0]["target"] == "pc-001" and len(doc["run"]["evidence"][0]["sha256"]) == 64
    assert doc["score"] == 80.0 and doc["grade"] == "B"  # (10 + 5 + 5) / (10 + 5 + 5 + 5)
    assert doc["summary"] == {"pass": 3, "fail": 1, "error": 0, "notapplicable": 0, "waived": 0, "manual": 0}
    coverage = {"applicable": 4, "evaluated": 4, "share": 100.0, "not_supplied": 0, "broken": 0}
    assert doc["targets"][0] == {"id": "pc-001", "kind": "endpoint", "segment": "lgwan", "department": "総務課",
                                 "score": 80.0, "grade": "B", "coverage": coverage, "summary": doc["summary"]}
    assert doc["coverage"] == coverage
    assert {c["id"] for c in doc["controls"]} == {"GL-A13", "GL-B11", "GL-B15", "GL-D01"}
    failed = [r for r in doc["results"] if r["status"] == "fail"]
    assert set(failed[0]) >= {"check", "controls", "target", "status", "severity",
                                                              "title", "message", "findings", "evidence"}
    assert core(failed[0]["findings"]) == [{"item": "password_policy.min_length", "actual": 6, "expected": ">= 8"}]
    [finding] = failed[0]["findings"]
    assert set(finding["expected_text"]) == {"ja", "en"} and "8" in finding["expected_text"]["en"]
    assert finding["source"]["file"]  # the bundle the value was read from, at least


def test_same_inputs_give_identical_json_apart_from_id_and_times(capsys, write_bundle, tmp_path):
    write_bundle("fleet/b.json", make_bundle(target__id="pc-b", facts__password_policy={"min_length": 6}))
    path = write_bundle("fleet/a.json", make_bundle(target__id="pc-a"))
    outs = []
    for _ in range(2):
        _, out, _ = run_main(capsys, "audit", path.parent, "--policy", MINI_POLICY, "--format", "json")
        outs.append(re.sub(r'"(id|started_at|finished_at)": "[^"]*",\n', "", out, count=3))
    assert outs[0] == outs[1]
    assert '"started_at"' not in outs[0]


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        ("{oops", r"bad\.json:1: not valid JSON"),
        ('{"format": "other/1"}', r"bad\.json: format: expected 'auditor-evidence/1'"),
    ],
)
def test_bad_evidence_exits_2_with_one_line(capsys, write_bundle, content, expect):
    code, out, err = run_main(capsys, "audit", write_bundle("bad.json", content), "--policy", MINI_POLICY)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and re.search(expect, err)


def test_missing_path_and_bad_policy_exit_2(capsys, tmp_path):
    code, _, err = run_main(capsys, "audit", tmp_path / "missing.json", "--policy", MINI_POLICY)
    assert code == 2 and "missing.json: no such file or directory" in err
    code, _, err = run_main(capsys, "audit", "--policy", tmp_path)
    assert code == 2 and "policy.yaml: not found" in err


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["audit", "--fail-under", "200"])
    assert exc.value.code == 2
    assert "expected a number from 0 to 100" in capsys.readouterr().err


def test_policy_validate_reports_valid_and_invalid(capsys, tmp_path):
    code, out, _ = run_main(capsys, "policy", "validate", MINI_POLICY)
    assert code == 0 and "valid policy mini" in out
    check = tmp_path / "c.yaml"
    check.write_text("id: x\ncontrols: [GL-B11]\ntitle: {ja: a, en: b}\nreads: a.b\ncondition: {ge: 1}\n"
                     "remediation: {ja: a, en: b}\nextra: 1\n")
    code, _, err = run_main(capsys, "policy", "--policy", MINI_POLICY, "validate", check)
    assert code == 2 and re.search(r"c\.yaml:7: extra: unknown key", err)


def test_installed_entry_point_runs_without_traceback(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    proc = subprocess.run([sys.executable, "-m", "auditor", "audit", str(bad)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "bad.json:1: not valid JSON" in proc.stderr


@pytest.mark.parametrize(
    ("append", "expect"),
    [
        ("colour: red\n", r"checks/min-length\.yaml:9: colour: unknown key"),
        ("condition2: {ge: [1\n", r"checks/min-length\.yaml:10: invalid YAML: .*started on line 9"),
    ],
)
def test_bad_policy_files_exit_2_with_one_line(capsys, write_bundle, tmp_path, append, expect):
    import shutil

    policy = tmp_path / "policy"
    shutil.copytree(MINI_POLICY, policy)
    check = policy / "checks" / "min-length.yaml"
    check.write_text(check.read_text(encoding="utf-8") + append, encoding="utf-8")
    code, out, err = run_main(capsys, "audit", write_bundle("a.json", make_bundle()), "--policy", policy)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and re.search(expect, err), err


def test_json_report_is_indented_json_with_every_result(capsys, write_bundle):
    write_bundle("f/a.json", make_bundle(target__id="a"))
    path = write_bundle("f/b.json", make_bundle(target__id="b"))
    _, out, _ = run_main(capsys, "audit", path.parent, "--policy", MINI_POLICY, "--format", "json")
    doc = json.loads(out)
    assert len(doc["results"]) == 8 and {r["target"] for r in doc["results"]} == {"a", "b"}
    assert out == json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


@pytest.mark.parametrize("to_file", [False, True])
def test_the_program_ends_with_its_exit_code_and_all_its_output(write_bundle, tmp_path, capsys, to_file):
    # The auditor program leaves without freeing its evidence (os._exit): what it wrote must all be there.
    bundle = write_bundle("a.json", make_bundle(facts__password_policy={"min_length": 6}))
    expected_code = main(["audit", str(bundle), "--policy", str(MINI_POLICY), "--format", "json"])
    expected = json.loads(capsys.readouterr().out)
    out = tmp_path / "r.json"
    argv = [sys.executable, "-m", "auditor", "audit", str(bundle), "--policy", str(MINI_POLICY), "--format", "json"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered, as a pipe usually is
    proc = subprocess.run(argv + (["--out", str(out)] if to_file else []), capture_output=True, check=False, env=env)
    report = json.loads(out.read_bytes() if to_file else proc.stdout)
    assert proc.returncode == expected_code and proc.stderr == b""
    assert [r["status"] for r in report["results"]] == [r["status"] for r in expected["results"]]
    assert report["score"] == expected["score"] and len(report["results"]) > 3
    imported = tmp_path / "roster.json"
    roster = tmp_path / "roster.csv"
    roster.write_bytes("職員番号,氏名,在職区分\r\n000001,架空 太郎,在職\r\n".encode("cp932"))
    proc = subprocess.run([sys.executable, "-m", "auditor", "import", "hr-roster", str(roster), "--out",
                           str(imported)], capture_output=True, check=False)
    assert proc.returncode == 0 and json.loads(imported.read_bytes())["facts"]["hr_roster"][0]["name"] == "架空 太郎"


def test_under_a_profiler_the_program_ends_the_usual_way(tmp_path):
    # cProfile (and coverage) write their data at interpreter shutdown, which os._exit would skip.
    stats = tmp_path / "audit.prof"
    argv = [sys.executable, "-m", "cProfile", "-o", str(stats), "-m", "auditor", "policy", "list"]
    proc = subprocess.run(argv, capture_output=True, check=False)
    assert proc.returncode == 0 and b"GL-B11" in proc.stdout
    assert stats.stat().st_size > 1000
