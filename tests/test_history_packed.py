"""A fleet's history rows are packed by the workers that judged each slice (#16): the history they
write is the one recorded from the results document itself, row for row, streaks included."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from fleetgen import generate

from auditor import cli, fleet
from auditor.history import record_run

DAYS = ("2026-11-02", "2026-12-01")  # two runs: the second's streaks continue the first's


def _rows(db: Path) -> dict[str, list[tuple]]:
    """Every table's rows that two stores of the same runs share (not their record times or run ids)."""
    with sqlite3.connect(db) as conn:
        return {
            "targets": conn.execute("SELECT run, seq, target, kind, segment, department, score, grade, checkset, "
                                    "statuses, digests, streaks FROM auditor_run_targets ORDER BY run, seq").fetchall(),
            "checksets": conn.execute("SELECT run, number, checks FROM auditor_run_checksets ORDER BY run, number"
                                      ).fetchall(),
            "checks": conn.execute("SELECT run, check_id, severity, controls, title FROM auditor_run_checks "
                                   "ORDER BY run, check_id").fetchall(),
            "runs": conn.execute("SELECT id, score, target_count, previous FROM auditor_runs ORDER BY id").fetchall(),
        }


@pytest.mark.parametrize("jobs", ["1", "4"])
def test_the_history_packed_in_the_slices_is_the_one_recorded_from_the_results(tmp_path, monkeypatch, jobs):
    from auditor import results

    monkeypatch.setattr(fleet, "MIN_PARALLEL_TARGETS", 2)
    monkeypatch.setattr(results, "FINDINGS_CHUNK", 3)  # many findings hashed a chunk at a time
    waivers = generate(tmp_path / "fleet", 40, unreadable=True, waivers=True)
    packed_db, from_results_db = tmp_path / "packed.sqlite", tmp_path / "results.sqlite"
    for n, day in enumerate(DAYS):
        out = tmp_path / f"run{n}.json"
        code = cli.main(["audit", str(tmp_path / "fleet"), "--waivers", str(waivers), "--as-of", day,
                         "--jobs", jobs, "--history", f"sqlite:///{packed_db}", "--format", "json",
                         "--out", str(out)])
        assert code == 1
        doc = json.loads(out.read_bytes())
        trend = record_run(f"sqlite:///{from_results_db}", doc, doc["results"])
        assert [p["score"] for p in trend] == [p["score"] for p in doc["trend"]]
    packed, expected = _rows(packed_db), _rows(from_results_db)
    assert packed == expected
    targets = packed["targets"]
    assert len({run for run, *_ in targets}) == 2 and len(targets) > 80
    assert any(row[10] for row in targets)  # findings' digests
    first_time = b"\x01\x00"  # a streak of 1
    assert any(row[11] and row[11] != first_time * (len(row[11]) // 2) for row in targets if row[0] == 2)
    letters = set("".join(row[9] for row in targets))
    assert letters >= {"p", "n", "e", "F", "W"}  # passes, not applicable, errors, failures and waivers
