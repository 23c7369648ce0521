"""auditor report renders a stored run in any format, with no evidence present, and keeps the run's verdict."""

import json
import shutil
from datetime import date

import pytest
from support import FIXTURES

from auditor.cli import main
from auditor.reports import formats
from auditor.reports.dates import show_date, wareki

FLEET = FIXTURES.parent.parent / "examples" / "fleet"


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """The example fleet's results, written to a folder of their own; the evidence is then out of reach."""
    folder = tmp_path_factory.mktemp("run")
    copy = folder / "fleet"
    shutil.copytree(FLEET, copy)
    results = folder / "results.json"
    assert main(["audit", str(copy), "--format", "json", "--out", str(results)]) == 1
    shutil.rmtree(copy)
    return results


def test_every_format_renders_from_the_stored_results_alone(stored, tmp_path, capsys):
    for name in formats():
        out = tmp_path / f"report.{name}"
        assert main(["report", str(stored), "--format", name, "--out", str(out)]) == 1, name  # the gate failed
        assert out.stat().st_size > 0
    capsys.readouterr()


def test_the_json_round_trips(stored, capsys):
    main(["report", str(stored), "--format", "json"])
    assert json.loads(capsys.readouterr().out) == json.loads(stored.read_text(encoding="utf-8"))


def test_the_table_of_a_stored_run_is_the_audit_s_table(stored, capsys):
    main(["report", str(stored)])
    out = capsys.readouterr().out
    doc = json.loads(stored.read_text(encoding="utf-8"))
    assert f"スコア: {doc['score']}" in out and "重大項目ゲート: 不通過" in out
    assert all(t["id"] in out for t in doc["targets"])


def test_what_is_not_a_results_file_is_exit_2(tmp_path, capsys):
    bundle = FLEET / "lg-fs-01.json"
    assert main(["report", str(bundle)]) == 2
    assert "expected 'auditor-results/1'" in capsys.readouterr().err
    cut = tmp_path / "cut.json"
    cut.write_text('{"format": "auditor-results/1", "run": {}}', encoding="utf-8")
    assert main(["report", str(cut)]) == 2
    assert "missing" in capsys.readouterr().err


def test_the_report_never_overwrites_the_results(stored, capsys):
    before = stored.read_bytes()
    assert main(["report", str(stored), "--out", str(stored)]) == 2
    assert stored.read_bytes() == before


def test_wareki():
    assert wareki(date(2026, 11, 2)) == "令和8年11月2日"
    assert wareki(date(2019, 5, 1)) == "令和元年5月1日"
    assert wareki(date(2019, 4, 30)) == "平成31年4月30日"
    assert wareki(date(1989, 1, 7)) == "昭和64年1月7日"
    assert wareki(date(2026, 11, 2), "en") == "Reiwa 8 (2026-11-02)"
    assert show_date("2026-11-02T08:41:07+09:00", "wareki") == "令和8年11月2日 08:41"
    assert show_date("2026-11-02", "iso") == "2026-11-02" and show_date(None) == "-"


def test_the_table_in_wareki(capsys):
    main(["audit", str(FLEET), "--as-of", "2026-11-02", "--date-style", "wareki"])
    assert "評価基準日: 令和8年11月2日" in capsys.readouterr().out
