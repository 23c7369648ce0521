"""deploy/ansible: the fleet playbook run by ansible-core against this host over a local connection.

ansible-core comes with the test extra. The Linux play runs for real (this venv's auditor collects this host, the
bundle is fetched, the controller audits it); the Windows play cannot run here (no Windows host, no WinRM), so it is
parsed by ``--syntax-check``, which resolves every module it names. Nothing needs root or the network: the role
installs nothing (auditor_install_method none) and does not become root.
"""

import hashlib
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from auditor import bundles

ROOT = Path(__file__).resolve().parents[1]
PLAYBOOK = ROOT / "deploy" / "ansible" / "fleet-audit.yml"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def ansible_playbook():
    found = BIN / "ansible-playbook"
    if not found.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("ansible-playbook is not installed beside this Python: the test extra lists ansible-core")
        pytest.skip("ansible-core is not installed (pip install -e '.[test]')")
    return found


@pytest.fixture
def run_playbook(ansible_playbook, tmp_path):
    """Runs fleet-audit.yml with the given inventory and variables; its own config, home, temp and UTF-8 locale."""
    home = tmp_path / "ansible-home"
    home.mkdir()
    (home / "ansible.cfg").write_text("", encoding="utf-8")
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(LC_ALL="C.UTF-8", TMPDIR=str(temp), ANSIBLE_CONFIG=str(home / "ansible.cfg"), ANSIBLE_HOME=str(home),
               ANSIBLE_LOCAL_TEMP=str(home / "tmp"), ANSIBLE_REMOTE_TEMP=str(home / "remote-tmp"), ANSIBLE_NOCOLOR="1")

    def run(inventory, variables, *options):
        extra = tmp_path / "vars.json"
        extra.write_text(json.dumps({"auditor_install_method": "none", "auditor_executable": str(BIN / "auditor"),
                                     "auditor_controller_executable": str(BIN / "auditor"), "auditor_become": False,
                                     "ansible_python_interpreter": sys.executable, **variables},
                                    ensure_ascii=False), encoding="utf-8")
        return subprocess.run([str(ansible_playbook), "-i", inventory, "-c", "local", "-e", f"@{extra}", *options,
                               str(PLAYBOOK)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600,
                              stdin=subprocess.DEVNULL, check=False)

    run.temp = temp
    return run


def test_the_playbook_and_its_windows_play_parse(ansible_playbook, tmp_path):
    """--syntax-check loads every imported task file, the Windows one too, and resolves the modules named."""
    done = subprocess.run([str(ansible_playbook), "--syntax-check", "-i", "localhost,", str(PLAYBOOK)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False,
                          env={**os.environ, "LC_ALL": "C.UTF-8", "ANSIBLE_HOME": str(tmp_path)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "playbook: " in done.stdout


def test_the_role_parses_when_listed_under_roles(ansible_playbook, tmp_path):
    """The role's main entry point, for a playbook of the city's own: collect a host of either system."""
    playbook = tmp_path / "own.yml"
    playbook.write_text("- hosts: all\n  gather_facts: false\n  roles: [auditor]\n", encoding="utf-8")
    done = subprocess.run([str(ansible_playbook), "--syntax-check", "-i", "localhost,", str(playbook)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False,
                          env={**os.environ, "LC_ALL": "C.UTF-8", "ANSIBLE_HOME": str(tmp_path),
                               "ANSIBLE_ROLES_PATH": str(PLAYBOOK.parent / "roles")})
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_playbook_collects_this_host_fetches_and_audits_it(run_playbook, tmp_path):
    out = tmp_path / "run-2026-11"
    done = run_playbook("localhost,", {"auditor_output_dir": str(out), "auditor_segment": "lgwan",
                                       "auditor_department": "情報政策課", "auditor_labels": {"role": "ansible-test"}})
    log = done.stdout + done.stderr
    bundle_file = out / "evidence" / "localhost.json"
    assert bundle_file.is_file(), log
    assert stat.S_IMODE(bundle_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "evidence").stat().st_mode) == 0o700

    # A valid bundle of this host, as auditor collect writes it with the inventory's settings.
    data = json.loads(bundle_file.read_text(encoding="utf-8"))
    indexed = bundles.index([bundle_file])
    (target_id, files), = indexed.items()
    target = bundles.load_target(target_id, files)
    assert not target.unread and target.kind == "endpoint"
    assert data["collector"]["host"] == socket.gethostname() == target_id
    assert (target.segment, target.department, target.labels) == ("lgwan", "情報政策課", {"role": "ansible-test"})
    assert data["facts"]["os"]["family"] == "linux"

    # The audit's results list it, by the hash of the file fetched.
    assert (out / "results.json").is_file(), log
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["format"] == "auditor-results/1"
    assert [t["id"] for t in results["targets"]] == [target_id]
    assert {"target": target_id, "sha256": hashlib.sha256(bundle_file.read_bytes()).hexdigest()} in [
        {"target": e["target"], "sha256": e["sha256"]} for e in results["run"]["evidence"]]
    assert (out / "report.html").read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
    assert (out / "missing-hosts.txt").read_text(encoding="utf-8") == ""
    assert not [p for p in run_playbook.temp.iterdir() if p.name.startswith("auditor-")]  # the host's work dir

    # Exit 1 of the audit (gate not met) is not hidden: the play fails after the results are written.
    if results["gate"]["passed"]:
        assert done.returncode == 0, log
    else:
        assert done.returncode == 2 and "the audit gate was not met" in done.stdout, log

    # The same output directory again: refused before any host is collected, the first run's bundle untouched.
    before = bundle_file.read_bytes()
    again = run_playbook("localhost,", {"auditor_output_dir": str(out)})
    assert again.returncode != 0
    assert "already holds 1 bundle(s) of an earlier run" in again.stdout
    assert "Collect the Linux hosts" not in again.stdout
    assert bundle_file.read_bytes() == before


def test_check_mode_writes_nothing(run_playbook, tmp_path):
    out = tmp_path / "checked"
    done = run_playbook("localhost,", {"auditor_output_dir": str(out)}, "--check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "check mode collects nothing" in done.stdout
    assert not out.exists()


def test_a_host_that_delivers_no_bundle_is_named_and_fails_the_run(run_playbook, tmp_path):
    inventory = tmp_path / "inventory.ini"
    inventory.write_text("localhost\nlg-ghost-01 auditor_segment=dmz\n", encoding="utf-8")
    out = tmp_path / "run"
    done = run_playbook(str(inventory), {"auditor_output_dir": str(out), "auditor_fail_on_gate": False,
                                         "auditor_report_html": ""})
    log = done.stdout + done.stderr
    assert done.returncode == 2, log
    assert "auditor_segment mynumber, lgwan, internet" in done.stdout  # why lg-ghost-01 failed
    assert sorted(p.name for p in (out / "evidence").iterdir()) == ["localhost.json"]
    assert (out / "missing-hosts.txt").read_text(encoding="utf-8") == "lg-ghost-01\n"
    assert "no evidence from: lg-ghost-01" in done.stdout
    assert (out / "results.json").is_file(), log
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert [t["id"] for t in results["targets"]] == [socket.gethostname()]
    assert not (out / "report.html").exists()


DOC = ROOT / "docs" / "periodic-audits.md"


def test_the_docs_name_the_roles_own_variables_and_schedule_the_playbook():
    text = DOC.read_text(encoding="utf-8")
    defaults = (ROOT / "deploy" / "ansible" / "roles" / "auditor" / "defaults" / "main.yml").read_text(encoding="utf-8")
    own = set(re.findall(r"^(auditor_[a-z_]+):", defaults, re.M))
    named = set(re.findall(r"\bauditor_[a-z_]+\b", text)) - {"auditor_windows"}  # the group
    assert named and named <= own, sorted(named - own)
    inventory = (ROOT / "deploy" / "ansible" / "inventory.example.yml").read_text(encoding="utf-8")
    assert set(re.findall(r"\bauditor_[a-z_]+(?=:)", inventory)) - {"auditor_linux", "auditor_windows"} <= own
    # The scheduled commands run this playbook with a new directory per run, and fit what the schedulers take.
    for line in [line for line in text.splitlines() if "ansible-playbook -i" in line and "fleet-audit.yml" in line]:
        assert "auditor_output_dir=" in line or "--check" in line or "--limit" in line, line
    for task in re.findall(r'/TR "([^"]*)"', text):
        assert len(task) <= 261, task  # schtasks' limit for /TR


def test_the_systemd_units_of_the_docs_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    units = re.findall(r"```ini\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    (tmp_path / "auditor-fleet.service").write_text(units[0], encoding="utf-8")
    (tmp_path / "auditor-fleet.timer").write_text(units[1], encoding="utf-8")
    files = [str(tmp_path / "auditor-fleet.service"), str(tmp_path / "auditor-fleet.timer")]
    done = subprocess.run([analyze, "verify", *files], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and "auditor-fleet" not in done.stderr, done.stderr
    assert "$$(date +%%Y-%%m-%%dT%%H%%M)" in units[0]  # systemd's escapes of $ and %
