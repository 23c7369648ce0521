"""Speed and memory of the history: recording a fleet run and diffing two (printed, not asserted).

Goal (issue 18): recording 100,000 targets × 76 results into SQLite under 2 s, in flat memory.

    python benchmarks/bench_history.py                    # 10,000 and 100,000 targets, SQLite
    python benchmarks/bench_history.py --sizes 100000 --url postgresql://auditor@127.0.0.1:5432/bench

Each figure is one fresh process (os.wait4 gives its peak RSS). ``baseline`` builds the document
and consumes the synthetic results without recording them: what the audit holds anyway. ``record``
adds recording to that, so its extra time and memory over the baseline are the history's own.
Run 1 is recorded into an empty store, run 2 (1 target in 50 fixed, 1 in 70 with a new failure)
after it, reading run 1's rows for the failure streaks; ``diff`` compares them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHECKS = [f"check-{j:02d}" for j in range(76)]
SEVERITIES = ("critical", "high", "medium", "low")


def status(i: int, j: int, run: int) -> str:
    x = (i * 2654435761 + j * 40503) % 100
    s = ("pass" if x < 60 else "notapplicable" if x < 85 else "fail" if x < 93 else "error" if x < 97
         else "manual" if x < 99 else "waived")
    if run == 2 and i % 50 == 0 and s == "fail":
        s = "pass"
    if run == 2 and i % 70 == 1 and s == "pass" and j % 10 == 0:
        s = "fail"
    return s


def document(n: int, run: int) -> dict[str, Any]:
    targets = [{"id": f"pc-{i:06d}", "kind": "endpoint", "segment": "lgwan", "department": f"課{i % 40:02d}",
                "score": 80.0, "grade": "B", "coverage": None,
                "summary": {"pass": 45, "fail": 6, "error": 3, "notapplicable": 19, "waived": 1, "manual": 2}}
               for i in range(n)]
    return {"format": "auditor-results/1",
            "run": {"id": f"bench-{n}-{run}-{time.time_ns()}", "started_at": "2026-11-02T09:00:00+09:00",
                    "finished_at": "2026-11-02T09:10:00+09:00", "tool_version": "bench", "lang": "ja",
                    "as_of": "2026-11-02",
                    "policy": {"id": "gl", "version": "r7", "profile": "national-alpha", "sha256": "0" * 64,
                               "tailoring": None},
                    "evidence": [{"target": t["id"], "file": f"fleet/{t['id']}.json", "sha256": "1" * 64,
                                  "collected_at": "2026-11-01T10:00:00+09:00"} for t in targets],
                    "unread": []},
            "score": 80.0, "grade": "B", "gate": {"passed": False, "failed_critical": [], "incomplete": []},
            "summary": {"pass": 1}, "coverage": None, "targets": targets, "segments": [], "departments": [],
            "families": [], "controls": [], "waivers": [], "attestations": []}


PATTERNS = 350  # distinct targets' result lists; target i follows pattern i % PATTERNS (with run 2's changes)


def results(n: int, run: int) -> Iterator[dict[str, Any]]:
    """The results of n targets, each result a new dict (as the engine makes them), made cheaply from
    templates so that the figure is the history's, not this generator's."""
    templates = []
    for i in range(PATTERNS):
        row = []
        for j, check in enumerate(CHECKS):
            s = status(i, j, run)
            findings = [{"item": f"item-{j}", "actual": i % 7, "expected": "ge 8"}] if s in ("fail", "waived") else []
            row.append({"check": check, "controls": [f"GL-A{j:02d}"], "target": "", "status": s,
                        "severity": SEVERITIES[j % 4], "title": check, "message": "", "findings": findings,
                        "evidence": []})
        templates.append(row)
    for i in range(n):
        target = f"pc-{i:06d}"
        for template in templates[i % PATTERNS]:
            yield {**template, "target": target}


def child(args: argparse.Namespace) -> None:
    doc = document(args.n, args.run)
    start, cpu = time.perf_counter(), time.process_time()
    if args.phase == "baseline":
        deque(results(args.n, args.run), maxlen=0)
    elif args.phase == "record":
        from auditor.history import record_run

        trend = record_run(args.url, doc, results(args.n, args.run))
        assert trend[-1]["targets"] == args.n
    else:
        from auditor.history.diff import diff
        from auditor.history.query import resolve_pair
        from auditor.history.store import locate, open_store

        store = open_store(locate(args.url), create=False)
        a, b = resolve_pair(store, None, None)
        found = diff(store, a, b, days=30)
        print(f"  ({len(found['fixed'])} fixed, {len(found['regressed'])} regressed, "
              f"{len(found['still_failing'])} still failing)", file=sys.stderr)
    print(f"{time.perf_counter() - start:.3f} {time.process_time() - cpu:.3f}")


def measure(argv: list[str]) -> tuple[float, float, float]:
    """The phase's own wall and CPU seconds (the child's figures) and the child's peak RSS in MB."""
    proc = subprocess.Popen([sys.executable, __file__, *argv], stdout=subprocess.PIPE)
    _, code, usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read().decode() if proc.stdout else ""
    if code:
        sys.exit(f"child {' '.join(argv)} failed")
    wall, cpu = out.strip().splitlines()[-1].split()
    return float(wall), float(cpu), usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--url", help="a PostgreSQL URL (an empty database); default: a new SQLite file")
    parser.add_argument("--child", dest="phase", choices=("baseline", "record", "diff"))
    parser.add_argument("--n", type=int)
    parser.add_argument("--run", type=int, default=1)
    args = parser.parse_args()
    if args.phase:
        child(args)
        return
    print(f"{'targets':>8} {'phase':<14} {'wall s':>7} {'CPU s':>7} {'peak MB':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            url = args.url or str(Path(tmp) / f"history-{n}.sqlite")
            if args.url:
                from sqlalchemy import create_engine

                from auditor.history.schema import tables

                tables().drop_all(create_engine(args.url.replace("postgresql://", "postgresql+psycopg://", 1)))
            for phase, run in (("baseline", 1), ("record", 1), ("record", 2), ("diff", 2)):
                wall, cpu, peak = measure(["--child", phase, "--n", str(n), "--run", str(run), "--url", url])
                print(f"{n:>8} {phase + (f' run {run}' if phase == 'record' else ''):<14} {wall:>7.2f} "
                      f"{cpu:>7.2f} {peak:>8.1f}")
            if not args.url:
                print(f"{n:>8} {'file size':<14} {Path(url).stat().st_size / 1e6:>7.1f} MB")


if __name__ == "__main__":
    main()
