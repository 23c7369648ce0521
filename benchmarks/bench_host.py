"""A host audit's wall time beside `apt list --upgradable` alone (printed, not asserted).

Goal from issue 16: `apt list --upgradable` is the floor of `auditor audit` on this host (it
takes most of a second on its own); everything else — imports, loading the policy, the other
areas, judging and the report — overlaps it, so the audit takes about as long as apt plus the
little that must follow it.

    python benchmarks/bench_host.py              # best of 5 rounds of each
    python benchmarks/bench_host.py --rounds 10

Each figure is the best wall time of fresh processes, the rounds of the different figures
interleaved so that a busy machine slows all of them alike:

- apt alone: the command the collector runs, as it runs it (C locale, output captured);
- audit, cold cache: `auditor audit` with an empty policy cache (the policy parsed and validated);
- audit, warm cache: the same with the compiled policy cached (a second run);
- audit, apt instant: the warm audit with an `apt` on PATH that answers at once: all the rest;
- overlap: apt alone + the rest - the warm audit, the time the rest ran while apt did.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

APT = ["apt", "list", "--upgradable", "-o", "Apt::Cmd::Disable-Script-Warning=true"]


def wall(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.decode(errors='replace').strip()}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each figure; the best is printed")
    args = parser.parse_args()
    audit = [sys.executable, "-m", "auditor", "audit", "--format", "json"]
    with tempfile.TemporaryDirectory(prefix="bench-host-") as tmp:
        base = dict(os.environ, LC_ALL="C", LANG="C")
        base.pop("AUDITOR_NO_CACHE", None)
        warm = dict(base, AUDITOR_CACHE_DIR=str(Path(tmp) / "warm"))
        fake_bin = Path(tmp) / "bin"
        fake_bin.mkdir()
        (fake_bin / "apt").write_text("#!/bin/sh\necho 'Listing...'\n")
        (fake_bin / "apt").chmod(0o755)
        instant = dict(warm, PATH=f"{fake_bin}{os.pathsep}{os.environ.get('PATH', '')}")
        wall(audit, warm)  # fills the warm cache (and the page cache)
        figures: dict[str, list[float]] = {"apt": [], "cold": [], "warm": [], "rest": []}
        for n in range(args.rounds):
            figures["apt"].append(wall(APT, base))
            cold = dict(base, AUDITOR_CACHE_DIR=str(Path(tmp) / f"cold-{n}"))
            figures["cold"].append(wall(audit, cold))
            figures["warm"].append(wall(audit, warm))
            figures["rest"].append(wall(audit, instant))
    best = {name: min(values) for name, values in figures.items()}
    print(f"Host audit on {os.cpu_count()} CPUs, best of {args.rounds} rounds (load average "
          f"{os.getloadavg()[0]:.2f}):")
    print(f"  apt list --upgradable alone   {best['apt']:6.3f} s")
    print(f"  auditor audit, cold cache     {best['cold']:6.3f} s   {best['cold'] / best['apt']:5.2f} x apt")
    print(f"  auditor audit, warm cache     {best['warm']:6.3f} s   {best['warm'] / best['apt']:5.2f} x apt")
    print(f"  auditor audit, apt instant    {best['rest']:6.3f} s   (everything but apt)")
    overlap = best["apt"] + best["rest"] - best["warm"]
    print(f"  overlap (apt + rest - warm)   {overlap:6.3f} s   of the rest's {best['rest']:.3f} s ran while apt did")


if __name__ == "__main__":
    main()
