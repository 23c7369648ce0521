"""Linux collection time per area, and each area's slowest step (printed, not asserted).

Goal from issue 6: the whole Linux collection under 1 s on the development machine. The
areas run concurrently (collector.AREAS, one thread each), so the total is the wall time of
the collection, not the sum of the areas.

    python benchmarks/bench_collect.py                 # this host, medians of 5 rounds
    python benchmarks/bench_collect.py --rounds 10
    python benchmarks/bench_collect.py --root tests/fixtures/linux/root   # a file tree (no tools run)

A step is one timed unit inside an area: a command (BundleBuilder.run), a file read
(BundleBuilder.read_file), a psutil call, or the wait for the shared process table. Each
area's time and its slowest step are the medians over the rounds; the first, warm-up round
(imports, the EOL table, page cache) is reported separately.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
from auditor.evidence.bundle import BundleBuilder
from auditor.evidence.collectors import CollectOptions
from auditor.evidence.collectors.linux import collector, common

GOAL_SECONDS = 1.0
_current = threading.local()
_steps: dict[str, list[tuple[str, float]]] = defaultdict(list)
_lock = threading.Lock()


def _record(step: str, seconds: float) -> None:
    area = getattr(_current, "area", None)
    if area is not None:
        with _lock:
            _steps[area].append((step, seconds))


def _timed(name: Callable[..., str], fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _record(name(*args, **kwargs), time.perf_counter() - start)
    return wrapper


def _in_area(area: str, fn: Callable[..., None]) -> Callable[..., None]:
    def wrapper(builder: BundleBuilder, ctx: Any) -> None:
        _current.area = area
        try:
            fn(builder, ctx)
        finally:
            _current.area = None
    return wrapper


def instrument() -> None:
    """Time every command, file read and psutil call, attributed to the area running it."""
    BundleBuilder.run = _timed(lambda self, argv, *a, **k: "run " + " ".join(argv)[:60], BundleBuilder.run)
    BundleBuilder.read_file = _timed(lambda self, path, *a, **k: f"read {path}", BundleBuilder.read_file)
    for name in ("net_connections", "net_if_addrs", "net_if_stats", "boot_time"):
        setattr(psutil, name, _timed(lambda *a, _n=name, **k: f"psutil.{_n}", getattr(psutil, name)))
    process_iter = psutil.process_iter  # a generator: time the walk over the process table, not its creation
    psutil.process_iter = _timed(lambda *a, **k: "psutil.process_iter (whole table)",
                                 lambda *a, **k: iter(list(process_iter(*a, **k))))
    # The process table is walked once per collection; the areas that ask meanwhile wait for it.
    common._process_names = _timed(lambda ctx: "process table (shared: walked once, others wait)",
                                   common._process_names)
    for area, fn in list(collector.AREAS.items()):
        collector.AREAS[area] = _in_area(area, fn)


def one_round(options: CollectOptions) -> tuple[float, dict[str, float], dict[str, tuple[str, float]]]:
    """(wall seconds, seconds per area, slowest step per area) of one collection."""
    _steps.clear()
    start = time.perf_counter()
    _, timings = collector.collect_timed(options)
    wall = time.perf_counter() - start
    slowest = {area: max(steps, key=lambda s: s[1]) for area, steps in _steps.items() if steps}
    return wall, timings, slowest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds after one warm-up; figures are medians")
    parser.add_argument("--root", default="/", help="collect this tree instead of the running system")
    args = parser.parse_args()
    options = CollectOptions(root=Path(args.root))
    instrument()
    warm_wall, _, _ = one_round(options)
    walls: list[float] = []
    per_area: dict[str, list[float]] = defaultdict(list)
    steps: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for _ in range(args.rounds):
        wall, timings, slowest = one_round(options)
        walls.append(wall)
        for area, seconds in timings.items():
            per_area[area].append(seconds)
        for area, step in slowest.items():
            steps[area].append(step)
    print(f"Linux collection of {args.root} on {psutil.cpu_count()} CPUs: medians of {args.rounds} rounds "
          f"(warm-up round: {warm_wall:.3f} s)")
    print(f"  {'area':16} {'seconds':>8}   slowest step")
    for area in sorted(per_area, key=lambda a: -statistics.median(per_area[a])):
        line = f"  {area:16} {statistics.median(per_area[area]):8.3f}"
        if steps.get(area):
            names = [s[0] for s in steps[area]]
            name = max(set(names), key=names.count)
            seconds = statistics.median(s[1] for s in steps[area] if s[0] == name)
            line += f"   {seconds:6.3f} s  {name}"
        print(line)
    total = statistics.median(walls)
    verdict = "met" if total < GOAL_SECONDS else "NOT met"
    print(f"  {'total (wall)':16} {total:8.3f}   goal: under {GOAL_SECONDS:.0f} s: {verdict}")


if __name__ == "__main__":
    main()
