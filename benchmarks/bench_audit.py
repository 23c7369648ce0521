"""Speed and memory figures for the auditor (printed, not asserted).

Goals from the foundation issue: ``auditor audit`` on this host under 1 s wall and
60 MB peak RSS on 2 cores; evaluation at 1,000 bundles/s or more.

    python benchmarks/bench_audit.py            # host audit, collection, 1,000 and 10,000 bundles
    python benchmarks/bench_audit.py --sizes 1000

Each figure is one run of a fresh process (os.wait4 gives its own peak RSS).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SEGMENTS = ("mynumber", "lgwan", "internet")


def run(argv: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB, and exit code of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.stderr.close() if proc.stderr else None
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"{' '.join(argv)} exited {code}: {err.strip()}")
    return wall, usage.ru_maxrss / 1024, code


def template() -> dict[str, Any]:
    """This host's own bundle, as a realistic base for synthetic ones."""
    out = subprocess.run([sys.executable, "-m", "auditor", "collect"], capture_output=True, check=True)
    return json.loads(out.stdout)


def synthesize(base: dict[str, Any], n: int, folder: Path) -> None:
    """n bundles, each a different target with its own accounts and ports."""
    for i in range(n):
        b = copy.deepcopy(base)
        b["target"].update(id=f"pc-{i:05d}", segment=SEGMENTS[i % 3], department=f"課{i % 40:02d}")
        accounts = b["facts"].get("accounts") or []
        for j in range(30):
            accounts.append({"name": f"user{i}-{j}", "uid": 1000 + j, "gid": 1000 + j, "home": f"/home/u{j}",
                             "shell": "/bin/bash", "system": False, "login_allowed": True, "enabled": True,
                             "password_set": True, "password_empty": j == 7 and i % 10 == 0, "locked": False,
                             "last_password_change": f"2026-0{1 + j % 9}-15", "password_max_days": 90 + j,
                             "password_min_days": 0, "password_warn_days": 7, "inactive_days": None,
                             "expires": None, "groups": ["users"], "admin": j == 0})
        b["facts"]["accounts"] = accounts
        (folder / f"pc-{i:05d}.json").write_text(json.dumps(b), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000])
    args = parser.parse_args()
    auditor = [sys.executable, "-m", "auditor"]

    wall, rss, code = run([*auditor, "audit"])
    print(f"auditor audit (this host):       {wall:6.2f} s wall  {rss:6.1f} MB peak RSS  exit {code}")
    wall, rss, _ = run([*auditor, "policy", "validate", str(Path(__file__).parents[1] / "policies")])
    print(f"load + validate embedded policy: {wall:6.2f} s wall  {rss:6.1f} MB peak RSS")

    from auditor.evidence.collectors import CollectOptions
    from auditor.evidence.collectors.linux.collector import collect_timed

    start = time.perf_counter()
    _, steps = collect_timed(CollectOptions())
    total = time.perf_counter() - start
    slow = max(steps, key=steps.get)
    print(f"Linux collection (in-process):   {total:6.2f} s wall  slowest step: {slow} {steps[slow]:.2f} s")
    print("  steps: " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(steps.items(), key=lambda kv: -kv[1])))

    base = template()
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            synthesize(base, n, Path(tmp))
            wall, rss, _ = run([*auditor, "audit", tmp, "--format", "json", "--out", os.devnull])
            print(f"audit {n:>6} bundles:            {wall:6.2f} s wall  {rss:6.1f} MB peak RSS  "
                  f"{n / wall:8.0f} bundles/s")


if __name__ == "__main__":
    main()
