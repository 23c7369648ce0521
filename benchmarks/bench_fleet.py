"""Fleet scale figures (#16): bundles/s, CPU cores used and peak memory of ``auditor audit DIR``.

The fleet is the example city's, replicated under new target ids (tests/fleetgen.py): its
endpoints' mix of passes, failures, errors and not-applicable results, one target in two files
and one with a broken body, and the city's records, directory and firewall once. Each size is
one run of a fresh process writing the results JSON (printed, not asserted):

    python benchmarks/bench_fleet.py                       # 1,000, 10,000 and 100,000 bundles
    python benchmarks/bench_fleet.py --sizes 10000 --jobs 1 2

Each audit records its run in a new SQLite history (as every audit records one), not the user's.

Memory: ``peak RSS`` is the largest single process (the main one or a worker, from wait4);
``tree`` is the largest sum of the RSS of the main process and its workers, sampled every 20 ms
(an upper bound: pages a forked worker shares with the main process are counted in both).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fleetgen import AS_OF, generate  # noqa: E402


def tree_rss(pid: int, stop: threading.Event, peak: list[int]) -> None:
    """Sample the sum of RSS of ``pid`` and its children until ``stop``."""
    try:
        main = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    while not stop.is_set():
        total = 0
        try:
            for proc in [main, *main.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            return
        peak[0] = max(peak[0], total)
        time.sleep(0.02)


def audit(folder: Path, out: Path, jobs: int, history: Path) -> dict[str, float]:
    """One audit as an administrator runs it (recorded in a history: a new SQLite file, so that the
    figures do not depend on earlier runs and the user's own history is left alone)."""
    history.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "auditor", "audit", str(folder), "--format", "json", "--out", str(out),
            "--as-of", AS_OF, "--jobs", str(jobs), "--history", str(history)]
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stop, peak = threading.Event(), [0]
    sampler = threading.Thread(target=tree_rss, args=(proc.pid, stop, peak), daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    err = proc.stderr.read().decode() if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"{' '.join(argv)} exited {code}: {err.strip()}")
    cpu = usage.ru_utime + usage.ru_stime
    return {"wall": wall, "cpu": cpu, "rss": usage.ru_maxrss / 1024, "tree": peak[0] / 2**20,
            "out": out.stat().st_size / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000, 100000])
    parser.add_argument("--jobs", type=int, nargs="*", default=[os.cpu_count() or 1])
    parser.add_argument("--dir", help="where to generate the fleets (default: a temporary directory)")
    args = parser.parse_args()
    base = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    print(f"{'bundles':>8} {'jobs':>4} {'wall s':>8} {'bundles/s':>10} {'cores':>6} {'peak RSS MB':>12} "
          f"{'tree MB':>8} {'results MB':>11}")
    try:
        for size in args.sizes:
            folder = base / f"fleet-{size}"
            if not folder.exists():
                generate(folder, size)
            bundles = sum(1 for _ in folder.iterdir())
            for jobs in args.jobs:
                out = base / f"results-{size}-{jobs}.json"
                m = audit(folder, out, jobs, base / "history.sqlite")
                out.unlink()
                print(f"{bundles:>8,} {jobs:>4} {m['wall']:>8.2f} {bundles / m['wall']:>10,.0f} "
                      f"{m['cpu'] / m['wall']:>6.2f} {m['rss']:>12.0f} {m['tree']:>8.0f} {m['out']:>11,.0f}")
    finally:
        if not args.dir:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
