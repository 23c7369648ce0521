"""The history (auditor/history): every audit recorded, listed, and two runs compared, on SQLite and on a
real PostgreSQL server started by the test; an older schema opened; two audits recording at once."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path

import pytest
from support import FIXTURES
from test_report_html import Trap, chromium, run_chromium  # noqa: F401 - chromium: the fixture (Debian's, CI installs it)

from auditor.cli import main

EXAMPLES = FIXTURES.parent.parent / "examples"
AS_OF = "2026-11-02"


# -- a real PostgreSQL server -----------------------------------------------------------------------------


def _pg_bindir() -> Path | None:
    """Debian keeps the server's programs in /usr/lib/postgresql/N/bin, off the PATH."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    return candidates[-1].parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, the server runs as ``postgres`` (the Debian package's
    user), or a system user made for the test where there is none."""
    if os.geteuid() != 0:
        return None
    import pwd

    for name in ("postgres", "auditor-pg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "auditor-pg"],
                   check=True, capture_output=True)
    return "auditor-pg"


@pytest.fixture(scope="session")
def postgresql_server():
    """A PostgreSQL server of Debian's ``postgresql`` package on 127.0.0.1 and a free port, its data in a
    temporary folder, with the user ``auditor`` trusted; installed with apt-get in CI (as root) or when
    AUDITOR_INSTALL_POSTGRESQL=1. Yields the URL without a database."""
    in_ci = os.environ.get("CI") == "true"
    bindir = _pg_bindir()
    if bindir is None and os.geteuid() == 0 and (in_ci or os.environ.get("AUDITOR_INSTALL_POSTGRESQL") == "1"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], check=False, env=env, capture_output=True, timeout=900)
        subprocess.run(["apt-get", "install", "-y", "-q", "postgresql"], check=False, env=env, capture_output=True,
                       timeout=1800)
        bindir = _pg_bindir()
    if bindir is None:
        if in_ci:
            pytest.fail("PostgreSQL is not installed and apt-get install -y postgresql did not install it")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql, or AUDITOR_INSTALL_POSTGRESQL=1 as root)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        if in_ci:
            pytest.fail("psycopg is not installed (the test extra has it)")
        pytest.skip("psycopg is not installed: pip install -e '.[test]'")
    user = _server_user()
    folder = Path(tempfile.mkdtemp(prefix="auditor-pg-"))
    if user is not None:
        shutil.chown(folder, user)
    data, port = folder / "data", _free_port()
    common = {"user": user, "cwd": folder, "capture_output": True, "timeout": 180}
    made = subprocess.run([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "auditor", "-E", "UTF8",
                           "--locale=C", "--no-sync"], **common)
    assert made.returncode == 0, made.stderr.decode(errors="replace")
    started = subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w",
                              "-t", "120", "-o", f"-h 127.0.0.1 -p {port} -k {folder} -F", "start"], **common)
    assert started.returncode == 0, started.stderr.decode(errors="replace") + (folder / "server.log").read_text()
    try:
        yield f"postgresql://auditor@127.0.0.1:{port}"
    finally:
        subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], **common)
        shutil.rmtree(folder, ignore_errors=True)


def _new_database(server: str) -> str:
    import psycopg

    name = f"history_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def history_url(request, tmp_path):
    """A new, empty history: an SQLite file, or a database of the PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "history.sqlite")
    return _new_database(request.getfixturevalue("postgresql_server"))


# -- the example fleet, audited twice -----------------------------------------------------------------------


def _edit(path: Path, change) -> None:
    bundle = json.loads(path.read_text(encoding="utf-8"))
    change(bundle)
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")


def audit(fleet: Path, url: str, *more: str) -> int:
    return main(["audit", str(fleet), "--as-of", AS_OF, "--history", url, "--format", "json",
                 "--out", str(fleet.parent / f"results-{uuid.uuid4().hex[:6]}.json"), *more])


def diff_json(url: str, *runs: str, capsys=None, days: int = 30) -> dict:
    code = main(["diff", *runs, "--history", url, "--format", "json", "--days", str(days)])
    assert code == 0
    return json.loads(capsys.readouterr().out)


def _register(fleet: Path, host: str, like: str) -> None:
    """Add ``host`` to the city's asset register, as its administrator would for a new PC."""
    def add(bundle):
        entry = next(e for e in bundle["facts"]["asset_register"] if e["host_name"] == like)
        bundle["facts"]["asset_register"].append({**entry, "host_name": host, "asset_id": "KK-PC-0399"})

    _edit(fleet / "kakuu-city-asset-register.json", add)


def change_the_fleet(fleet: Path) -> None:
    """Between the two audits: mn-jyuki-01 remembers passwords now (fixed), mn-zeimu-01 no longer does
    (regressed), and a new PC, in-kouhou-09, joins (added, and registered)."""
    _edit(fleet / "mn-jyuki-01.json", lambda b: b["facts"]["password_policy"].update(history=5))
    _edit(fleet / "mn-zeimu-01.json", lambda b: b["facts"]["password_policy"].update(history=0))
    added = json.loads((fleet / "in-kouhou-01.json").read_text(encoding="utf-8"))
    added["target"]["id"] = "in-kouhou-09"
    (fleet / "in-kouhou-09.json").write_text(json.dumps(added, ensure_ascii=False), encoding="utf-8")
    _register(fleet, "in-kouhou-09", like="in-kouhou-01")


@pytest.fixture
def fleet(tmp_path):
    shutil.copytree(EXAMPLES / "fleet", tmp_path / "fleet")
    return tmp_path / "fleet"


def _pairs(entries):
    return [(e["target"], e["check"]) for e in entries]


def test_diff_of_two_runs_lists_exactly_what_changed(fleet, history_url, capsys):
    """The acceptance test, on SQLite and on PostgreSQL: one endpoint fixed, one regressed, one added."""
    assert audit(fleet, history_url) == 1
    first = json.loads(next(fleet.parent.glob("results-*.json")).read_text(encoding="utf-8"))
    change_the_fleet(fleet)
    assert audit(fleet, history_url) == 1
    capsys.readouterr()
    found = diff_json(history_url, capsys=capsys)
    assert found["format"] == "auditor-diff/1"
    assert (found["from"]["run"], found["to"]["run"]) == (1, 2)
    assert _pairs(found["fixed"]) == [("mn-jyuki-01", "password-history")]
    assert found["fixed"][0]["was"] == "fail" and found["fixed"][0]["now"] == "pass"
    assert _pairs(found["regressed"]) == [("mn-zeimu-01", "password-history")]
    assert found["regressed"][0]["severity"] == "low" and found["regressed"][0]["title"]
    assert [t["target"] for t in found["targets_added"]] == ["in-kouhou-09"]
    for kind in ("new", "no_longer_failing", "new_errors", "targets_removed", "expiring", "expired"):
        assert found[kind] == [], kind
    # everything else that failed still fails, for the second run in a row, and found the same
    failed_first = {(r["target"], r["check"]) for r in first["results"] if r["status"] == "fail"}
    assert set(_pairs(found["still_failing"])) == failed_first - {("mn-jyuki-01", "password-history")}
    assert {e["runs"] for e in found["still_failing"]} == {2}
    assert not any(e["findings_changed"] for e in found["still_failing"])
    assert found["score"]["from"] == first["score"]


def test_a_third_run_counts_failures_in_a_row_and_a_comeback_is_regressed(fleet, tmp_path, capsys):
    url = str(tmp_path / "h.sqlite")
    assert audit(fleet, url) == 1
    assert audit(fleet, url) == 1
    _edit(fleet / "mn-jyuki-01.json", lambda b: b["facts"]["password_policy"].update(history=5))
    assert audit(fleet, url) == 1
    _edit(fleet / "mn-jyuki-01.json", lambda b: b["facts"]["password_policy"].update(history=0))
    assert audit(fleet, url) == 1
    capsys.readouterr()
    found = diff_json(url, capsys=capsys)  # runs 3 and 4
    assert _pairs(found["regressed"]) == [("mn-jyuki-01", "password-history")]
    assert {e["runs"] for e in found["still_failing"]} == {4}  # failed in each of the four runs
    earlier = diff_json(url, "1", "4", capsys=capsys)  # A and B need not be neighbours
    assert _pairs(earlier["still_failing"]) == _pairs(found["still_failing"]) + [("mn-jyuki-01", "password-history")]
    comeback = next(e for e in earlier["still_failing"] if e["target"] == "mn-jyuki-01" and
                    e["check"] == "password-history")
    assert comeback["runs"] == 1  # it failed again in run 4 only: the streak began anew


def test_a_still_failing_result_that_found_something_else_is_marked(fleet, tmp_path, capsys):
    url = str(tmp_path / "h.sqlite")
    assert audit(fleet, url) == 1

    def another_port(bundle):
        listening = bundle["facts"]["listening"]
        listening.append({**listening[0], "port": 8080})

    _edit(fleet / "lg-fs-01.json", another_port)
    assert audit(fleet, url) == 1
    capsys.readouterr()
    found = diff_json(url, capsys=capsys)
    changed = [(e["target"], e["check"]) for e in found["still_failing"] if e["findings_changed"]]
    assert changed == [("lg-fs-01", "listening-ports-allowed")]


def test_a_removed_target_is_listed_and_its_failures_are_not_fixed(fleet, tmp_path, capsys):
    url = str(tmp_path / "h.sqlite")
    assert audit(fleet, url) == 1
    (fleet / "lg-fs-01.json").unlink()
    assert audit(fleet, url) == 1
    capsys.readouterr()
    found = diff_json(url, capsys=capsys)
    assert [t["target"] for t in found["targets_removed"]] == ["lg-fs-01"]
    assert found["targets_removed"][0]["fail"] == 2
    assert not [e for e in found["fixed"] if e["target"] == "lg-fs-01"]


WAIVERS = """format: auditor-waivers/1
waivers:
  - id: W-2026-020
    checks: [password-history]
    targets: [mn-jyuki-01]
    reason: 住民記録システム更改まで
    approver: 情報政策課長
    approval_number: 石情第201号
    granted: 2026-04-01
    expires: 2026-11-20
  - id: W-2026-021
    checks: [package-index-fresh]
    targets: [mn-zeimu-01]
    reason: 閉域網のため月次で更新
    approver: 情報政策課長
    approval_number: 石情第202号
    granted: 2026-04-01
    expires: 2027-03-31
"""
ATTESTATIONS = """format: auditor-attestations/1
attestations:
  - control: GL-C11
    attested_by: 情報政策課 筑波花子
    attested_on: 2026-09-30
    valid_until: 2026-11-30
    document: {name: 令和8年度配線点検記録.pdf, sha256: %s}
""" % ("cd" * 32)


def test_waivers_and_attestations_ending_within_n_days_are_listed(fleet, tmp_path, capsys):
    url = str(tmp_path / "h.sqlite")
    (tmp_path / "waivers.yaml").write_text(WAIVERS, encoding="utf-8")
    (tmp_path / "attest.yaml").write_text(ATTESTATIONS, encoding="utf-8")
    decisions = ["--waivers", str(tmp_path / "waivers.yaml"), "--attestations", str(tmp_path / "attest.yaml")]
    assert audit(fleet, url, *decisions) == 1
    assert audit(fleet, url, *decisions) == 1
    capsys.readouterr()
    found = diff_json(url, capsys=capsys)
    soon = [(e["kind"], e["id"], e["days_left"]) for e in found["expiring"]]
    assert soon == [("waiver", "W-2026-020", 18), ("attestation", "GL-C11", 28)]
    assert found["expiring"][0]["label"] == "石情第201号"
    assert found["expiring"][1]["label"] == "令和8年度配線点検記録.pdf"
    narrower = diff_json(url, capsys=capsys, days=20)
    assert [e["id"] for e in narrower["expiring"]] == ["W-2026-020"]
    # a month later the waiver has lapsed: listed as expired since the earlier run
    assert main(["audit", str(fleet), "--as-of", "2026-12-01", "--history", url, "--format", "json", "--out",
                 str(tmp_path / "r3.json"), *decisions]) == 1
    capsys.readouterr()
    later = diff_json(url, capsys=capsys)
    assert [(e["kind"], e["id"]) for e in later["expired"]] == [("waiver", "W-2026-020"), ("attestation", "GL-C11")]


# -- listing runs -------------------------------------------------------------------------------------


def test_history_lists_runs_newest_first_as_table_json_and_csv(fleet, tmp_path, capsys):
    url = str(tmp_path / "h.sqlite")
    assert audit(fleet, url) == 1
    (fleet / "lg-fs-01.json").unlink()
    assert audit(fleet, url, "--profile", "national-beta") == 1
    capsys.readouterr()
    assert main(["history", "--history", url, "--format", "json"]) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [(r["run"], r["profile"], r["targets"]) for r in runs] == [(2, "national-beta", 11),
                                                                       (1, "national-alpha", 12)]
    assert all(r["gate_passed"] is False and r["grade"] for r in runs)
    assert main(["history", "--history", url, "--target", "lg-fs-01", "--format", "json"]) == 0
    only = json.loads(capsys.readouterr().out)["runs"]
    assert [r["run"] for r in only] == [1] and only[0]["target"]["summary"]["fail"] == 2
    assert main(["history", "--history", url, "--limit", "1", "--lang", "en"]) == 0
    table = capsys.readouterr().out
    assert "Audit history" in table and "national-beta" in table and "national-alpha" not in table
    out = tmp_path / "runs.csv"
    assert main(["history", "--history", url, "--format", "csv", "--out", str(out)]) == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = raw.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("番号,実行日時") and len(rows) == 3


def test_diff_in_every_format_and_both_languages(fleet, tmp_path, capsys):
    url = str(tmp_path / "h.sqlite")
    assert audit(fleet, url) == 1
    change_the_fleet(fleet)
    assert audit(fleet, url) == 1
    capsys.readouterr()
    assert main(["diff", "--history", url]) == 0
    text = capsys.readouterr().out
    assert "再発（適合 → 不適合） (1)" in text and "mn-zeimu-01" in text and "是正済み" in text
    assert main(["diff", "--history", url, "--format", "md", "--lang", "en"]) == 0
    md = capsys.readouterr().out
    assert "## Regressed (pass → fail) (1)" in md and "| mn\\-zeimu" not in md and "| mn-zeimu-01 |" in md
    page = tmp_path / "diff.html"
    assert main(["diff", "--history", url, "--format", "html", "--out", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert "default-src 'none'" in html and "<script" not in html
    assert 'id="regressed" data-count="1"' in html and 'id="fixed" data-count="1"' in html
    assert '<svg class="chart trend"' in html and html.count('class="trend-point"') == 2


def test_runs_are_named_by_number_or_id_and_bad_names_are_exit_2(fleet, tmp_path, capsys):
    url = str(tmp_path / "h.sqlite")
    assert audit(fleet, url) == 1
    capsys.readouterr()
    assert main(["diff", "--history", url]) == 2
    assert "no earlier run" in capsys.readouterr().err
    assert audit(fleet, url) == 1
    capsys.readouterr()
    assert main(["history", "--history", url, "--format", "json"]) == 0
    ids = [r["id"] for r in json.loads(capsys.readouterr().out)["runs"]]
    found = diff_json(url, ids[1][:8], ids[0], capsys=capsys)
    assert (found["from"]["id"], found["to"]["id"]) == (ids[1], ids[0])
    for bad, said in (("7", "no run 7"), ("zz", "at least 4"), ("ffffffff", "no run with id")):
        assert main(["diff", bad, "2", "--history", url]) == 2
        assert said in capsys.readouterr().err
    assert main(["diff", "1", "2", "3", "--history", url]) == 2
    assert main(["history", "--history", str(tmp_path / "nothing.sqlite")]) == 2
    assert "no history here" in capsys.readouterr().err
    assert not (tmp_path / "nothing.sqlite").exists()  # reading never leaves an empty file behind


# -- the store ------------------------------------------------------------------------------------------


def test_a_version_1_history_is_migrated_and_its_runs_still_compare(fleet, tmp_path, capsys):
    """A history as auditor wrote it under schema 1 (its tables from the v1 definition kept in
    auditor/history/schema.py, its rows those of two audits) opens with this code: it is migrated to the
    current version, its runs list and compare, and a new run joins their chain."""
    from sqlalchemy import create_engine, insert, select

    from auditor.history.schema import SCHEMA_VERSION, tables

    current = str(tmp_path / "current.sqlite")
    assert audit(fleet, current) == 1
    change_the_fleet(fleet)
    assert audit(fleet, current) == 1
    # the same runs, in a history of schema 1: every table version 1 had, copied row for row
    old = tmp_path / "v1.sqlite"
    v1, now = tables(1), tables()
    source, target = create_engine(f"sqlite:///{current}"), create_engine(f"sqlite:///{old}")
    v1.create_all(target)
    with source.connect() as read, target.begin() as write:
        for table in v1.sorted_tables:
            columns = [now.tables[table.name].c[c.name] for c in table.columns]
            rows = [dict(r._mapping) for r in read.execute(select(*columns))]
            if table.name == "auditor_meta":
                rows = [{"key": "schema_version", "value": "1"}]
            if rows:
                write.execute(insert(table), rows)
    source.dispose()
    target.dispose()
    assert "auditor_run_checks" not in _sqlite_tables(old)
    capsys.readouterr()
    found = diff_json(str(old), capsys=capsys)
    assert _pairs(found["fixed"]) == [("mn-jyuki-01", "password-history")]
    assert _pairs(found["regressed"]) == [("mn-zeimu-01", "password-history")]
    assert [t["target"] for t in found["targets_added"]] == ["in-kouhou-09"]
    assert found["regressed"][0]["title"] is None  # schema 1 kept no titles
    assert found["recorded"] == {"checks": True, "waivers_and_attestations": False}
    with sqlite3.connect(old) as db:
        assert db.execute("select value from auditor_meta where key = 'schema_version'").fetchone() == (
            str(SCHEMA_VERSION),)
    assert {"auditor_run_checks", "auditor_run_expiries"} <= _sqlite_tables(old)
    assert audit(fleet, str(old)) == 1  # run 3, recorded by this version after the migrated ones
    found = diff_json(str(old), capsys=capsys)
    assert (found["from"]["run"], found["to"]["run"]) == (2, 3)
    assert found["recorded"]["waivers_and_attestations"] is True and found["still_failing"][0]["title"]
    assert {e["runs"] for e in found["still_failing"]} >= {3}


def _sqlite_tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {name for (name,) in db.execute("select name from sqlite_master where type = 'table'")}


def test_a_history_of_a_newer_schema_or_another_program_is_refused(fleet, tmp_path, capsys):
    url = str(tmp_path / "h.sqlite")
    assert audit(fleet, url) == 1
    with sqlite3.connect(url) as db:
        db.execute("update auditor_meta set value = '99' where key = 'schema_version'")
    capsys.readouterr()
    assert main(["history", "--history", url]) == 2
    assert "newer auditor (history schema 99" in capsys.readouterr().err
    assert audit(fleet, url) == 2
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("create table invoices (id integer)")
    assert audit(fleet, str(other)) == 2
    assert "not an auditor history" in capsys.readouterr().err
    text = tmp_path / "notes.sqlite"
    text.write_text("not a database\n" * 100, encoding="utf-8")
    assert main(["history", "--history", str(text)]) == 2
    assert "history store" in capsys.readouterr().err


def test_history_off_no_history_and_the_default_store(fleet, tmp_path, capsys, monkeypatch):
    import platformdirs

    home = tmp_path / "data"
    monkeypatch.setattr(platformdirs, "user_data_path", lambda *a, **k: home / "auditor")
    out = tmp_path / "r.json"
    # the suite's own setting: nothing recorded, and the document says so with an empty trend
    assert main(["audit", str(fleet), "--as-of", AS_OF, "--format", "json", "--out", str(out)]) == 1
    assert json.loads(out.read_text(encoding="utf-8"))["trend"] == [] and not home.exists()
    monkeypatch.delenv("AUDITOR_HISTORY")
    assert main(["audit", str(fleet), "--as-of", AS_OF, "--no-history", "--format", "json", "--out",
                 str(out)]) == 1
    assert not home.exists()
    assert main(["audit", str(fleet), "--as-of", AS_OF, "--format", "json", "--out", str(out)]) == 1
    store = home / "auditor" / "history.sqlite"
    assert store.is_file() and (store.stat().st_mode & 0o777) == 0o600
    trend = json.loads(out.read_text(encoding="utf-8"))["trend"]
    assert [(p["run"], p["targets"]) for p in trend] == [(1, 12)]
    capsys.readouterr()
    assert main(["history", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["runs"]) == 1
    monkeypatch.setenv("AUDITOR_HISTORY", str(tmp_path / "team.sqlite"))
    assert main(["audit", str(fleet), "--as-of", AS_OF, "--format", "json", "--out", str(out)]) == 1
    assert (tmp_path / "team.sqlite").is_file()


def test_a_default_store_that_cannot_be_written_warns_and_the_audit_goes_on(fleet, tmp_path, capsys, monkeypatch):
    import platformdirs

    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setattr(platformdirs, "user_data_path", lambda *a, **k: blocker / "auditor")
    monkeypatch.delenv("AUDITOR_HISTORY")
    out = tmp_path / "r.json"
    assert main(["audit", str(fleet), "--as-of", AS_OF, "--format", "json", "--out", str(out)]) == 1
    assert "warning: this run was not recorded" in capsys.readouterr().err
    assert json.loads(out.read_text(encoding="utf-8"))["trend"] == []
    # named by --history, the same failure stops the audit (exit 2) and writes no report
    out.unlink()
    assert main(["audit", str(fleet), "--as-of", AS_OF, "--history", str(blocker / "h.sqlite"), "--format",
                 "json", "--out", str(out)]) == 2
    assert "cannot create the history" in capsys.readouterr().err and not out.exists()


def test_the_url_says_which_store_and_hides_its_password(monkeypatch):
    from auditor.errors import InputError
    from auditor.history.store import locate

    assert locate("off") is None
    pg = locate("postgresql://team:s3cret@db.example:5432/audits")
    assert pg.url.startswith("postgresql+psycopg://team:s3cret@") and "s3cret" not in pg.shown
    assert locate("sqlite:////tmp/x.sqlite").path == Path("/tmp/x.sqlite")
    for bad in ("mysql://u@h/db", "sqlite://", "postgresql+asyncpg://u@h/db"):
        with pytest.raises(InputError) as caught:
            locate(bad)
        assert "unsupported" in str(caught.value) or "needs a file" in str(caught.value)
    with pytest.raises(InputError) as caught:
        locate("postgresql://u:pw@h:notaport/db")
    assert "pw" not in str(caught.value)


CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from auditor.history import record_run
    url, name, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    checks = [f"check-{j:02d}" for j in range(20)]
    targets = [{"id": f"{name}-{i:05d}", "kind": "endpoint", "segment": "lgwan", "department": "d", "score": 50.0,
                "grade": "C", "summary": {}} for i in range(3000)]
    doc = {"run": {"id": name, "evidence": [], "unread": [], "policy": {"profile": "p"}}, "score": 50.0,
           "grade": "C", "gate": {"passed": True}, "targets": targets}
    def results():
        for t in targets:
            for j, c in enumerate(checks):
                failed = (j + int(t["id"][-5:])) % 3 == 0
                yield {"target": t["id"], "check": c, "status": "fail" if failed else "pass", "severity": "low",
                       "controls": [], "title": c, "findings": [{"item": c, "actual": 1, "expected": 2}] if failed
                       else []}
    while not go.exists():
        time.sleep(0.01)
    trend = record_run(url, doc, results())
    print(len(trend))
""")


def test_two_audits_recording_into_one_sqlite_file_at_once(tmp_path):
    url, go = str(tmp_path / "shared.sqlite"), tmp_path / "go"
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    children = [subprocess.Popen([sys.executable, str(script), url, name, str(go)], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE) for name in ("town-a", "town-b")]
    go.write_text("go", encoding="utf-8")
    outcomes = [child.communicate(timeout=300) for child in children]
    assert [c.returncode for c in children] == [0, 0], [o[1].decode() for o in outcomes]
    assert sorted(o[0].strip() for o in outcomes) == [b"1", b"1"]  # two towns: each run its own chain
    with sqlite3.connect(url) as db:
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)
        assert db.execute("select count(*), count(distinct run) from auditor_run_targets").fetchone() == (6000, 2)
        assert db.execute("select count(*) from auditor_runs where previous is not null").fetchone() == (0,)


def test_record_run_reads_the_results_once_and_refuses_them_out_of_order(tmp_path):
    from auditor.history import record_run

    doc = {"run": {"id": "r1", "evidence": [], "policy": {}}, "gate": {"passed": True},
           "targets": [{"id": "a"}, {"id": "b"}]}
    consumed = []

    def results(order):
        for target in order:
            for check in ("c1", "c2"):
                consumed.append((target, check))
                yield {"target": target, "check": check, "status": "pass", "findings": []}

    trend = record_run(str(tmp_path / "h.sqlite"), doc, results(["a", "b"]))
    assert trend[-1]["targets"] == 2 and consumed == [("a", "c1"), ("a", "c2"), ("b", "c1"), ("b", "c2")]
    with pytest.raises(ValueError, match="out of order"):
        record_run(str(tmp_path / "h.sqlite"), {**doc, "run": {**doc["run"], "id": "r2"}}, results(["b", "a"]))
    with sqlite3.connect(tmp_path / "h.sqlite") as db:  # the refused run left nothing behind
        assert db.execute("select count(*) from auditor_runs").fetchone() == (1,)
    assert record_run("off", doc, results(["a"])) == []


def test_a_fleet_is_recorded_in_flat_memory(tmp_path):
    """Recording holds one target's results at a time: ten times the targets, about the same peak."""
    import tracemalloc

    from auditor.history import record_run

    def peak(n: int) -> int:
        doc = {"run": {"id": f"run-{n}", "evidence": [], "policy": {}}, "gate": {"passed": False}}

        def results():
            for i in range(n):
                for j in range(30):
                    failed = (i + j) % 7 == 0
                    yield {"target": f"pc-{i:06d}", "check": f"c{j:02d}", "status": "fail" if failed else "pass",
                           "findings": [{"item": f"x{i}", "actual": i, "expected": 0}] if failed else []}

        tracemalloc.start()
        record_run(str(tmp_path / f"h-{n}.sqlite"), doc, results())
        top = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return top

    small, large = peak(2_000), peak(20_000)
    assert large < small * 1.5 + 2_000_000, (small, large)


def test_the_html_report_draws_the_trend_of_recorded_runs(fleet, tmp_path):
    from html.parser import HTMLParser

    url = str(tmp_path / "h.sqlite")
    for _ in range(2):
        assert audit(fleet, url) == 1
    (fleet / "lg-fs-01.json").unlink()
    page = tmp_path / "report.html"
    assert main(["audit", str(fleet), "--as-of", AS_OF, "--history", url, "--format", "html", "--out",
                 str(page)]) == 1
    html = page.read_text(encoding="utf-8")
    start = html.index('<svg class="chart trend"')
    svg = html[start:html.index("</svg>", start)]
    assert svg.count('class="trend-point"') == 3 and svg.count("<polyline") == 1
    scores = [float(s) for s in __import__("re").findall(r'data-score="([\d.]+)"', svg)]
    assert scores[0] == scores[1] != scores[2]
    HTMLParser().feed(html)
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_chromium_shows_the_trend_and_the_diff_without_any_request(chromium, fleet, tmp_path):  # noqa: F811
    """The audit's report with its trend chart, and the diff page, in real Chromium: drawn (the points are
    in the DOM it built), printed, and nothing requested from anywhere."""

    url = str(tmp_path / "h.sqlite")
    assert audit(fleet, url) == 1
    change_the_fleet(fleet)
    assert audit(fleet, url) == 1
    report, diff_page = tmp_path / "report.html", tmp_path / "diff.html"
    assert main(["audit", str(fleet), "--as-of", AS_OF, "--history", url, "--format", "html", "--out",
                 str(report)]) == 1
    assert main(["diff", "--history", url, "--format", "html", "--lang", "en", "--out", str(diff_page)]) == 0
    trap = Trap()
    try:
        doms = [run_chromium(chromium, page, tmp_path / f"profile-{page.stem}", trap, "--dump-dom").stdout.decode()
                for page in (report, diff_page)]
        pdf = tmp_path / "diff.pdf"
        run_chromium(chromium, diff_page, tmp_path / "profile-pdf", trap, "--no-pdf-header-footer",
                     f"--print-to-pdf={pdf}")
        assert trap.page_requests() == []
    finally:
        trap.close()
    assert doms[0].count('class="trend-point"') == 3 and "<polyline" in doms[0]
    assert doms[1].count('class="trend-point"') == 3 and 'id="regressed" data-count="0"' in doms[1]
    assert pdf.read_bytes().startswith(b"%PDF")
