"""Import and audit speed for a large directory and roster (printed, not asserted).

Goal from issue 16: the directory flow, 100,000 AD users, 100,000 roster rows and their
training records, imported and audited in under 3 s (issue 4 had asked for 5 s without
training). Measured as a user runs it, end to end, each command a fresh process writing a JSON
report to a file, in the two ways the command line offers:

- four commands: the three ``auditor import`` commands writing their bundles, then
  ``auditor audit`` of the bundles (the bundles are kept, e.g. for an inspection);
- one command: ``auditor audit --import ad-users FILE --import hr-roster FILE --import training
  FILE``, which reads the exports and audits them in one process, without writing bundles.

Each flow's total is compared with the goal.

The exports are generated as Windows writes them (the AD export CP932 with PowerShell 5.1's
``#TYPE`` line, every field quoted, CRLF; the roster as Excel's "CSV (コンマ区切り)").

    python benchmarks/bench_import.py                  # 100,000 rows each, 3 rounds
    python benchmarks/bench_import.py --rows 20000 --rounds 5
    python benchmarks/bench_import.py --memory-rows 1000000   # and the peak RSS of a 1,000,000-row AD import

Memory (issue 15: "memory for a CSV import grows with the number of accounts kept, not many
times the file size", 1,000,000 rows under 600 MB): with ``--memory-rows N`` N-row exports are
generated and the peak RSS of fresh processes is printed: the AD import in memory
(``import_files``, what ``audit --import`` holds: the records it keeps); ``auditor import ...
--out`` of the AD export, a roster and training records (which keep no records: each batch is
encoded into the bundle file as it is read, see ``auditor.evidence.spool``); and ``auditor
audit --import`` of the AD export (which also audits the records).

Every figure is the median of the rounds (the machine's timing is noisy). Besides the
commands, the same work is timed phase by phase in this process, as ``cmd_import`` and
``cmd_audit`` do it (bundles still written to and read from files), which leaves out
interpreter start-up and module imports and shows where the time goes.

The commands run with their bytecode cached (``PYTHONPYCACHEPREFIX`` in the temporary
folder, one untimed warm-up round), as an installed package has it: with
``PYTHONDONTWRITEBYTECODE`` every command would compile the auditor's modules again.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

GOAL_SECONDS = 3.0  # issue 16: 100,000 AD users + 100,000 roster rows + training, imports and audit
COLLECTED_AT = "2026-11-02T09:00:00+09:00"
AD_HEADER = ("SamAccountName", "Name", "DisplayName", "EmployeeID", "Department", "Enabled", "LastLogonDate",
             "PasswordLastSet", "PasswordNeverExpires", "PasswordNotRequired", "AllowReversiblePasswordEncryption",
             "AccountExpirationDate", "whenCreated", "MemberOf")
DEPARTMENTS = ("情報政策課", "市民課", "税務課", "福祉課", "子育て支援課", "建設課")


def ad_export(rows: int) -> bytes:
    """PowerShell 5.1 ``Export-Csv -Encoding Default`` of Get-ADUser on Japanese Windows."""
    return b"".join(ad_export_parts(rows))


def ad_export_parts(rows: int, start: int = 0, header: bool = True) -> list[bytes]:
    """The export's lines ``start`` to ``start + rows`` (with the #TYPE and header lines first if asked)."""
    lines = ["#TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser",
             ",".join(f'"{h}"' for h in AD_HEADER)] if header else []
    for i in range(start, start + rows):
        groups = "CN=Domain Users,CN=Users,DC=kakuu,DC=local"
        if i % 50 == 0:
            groups += ";CN=Domain Admins,CN=Users,DC=kakuu,DC=local"
        fields = (f"u{i:06d}", f"職員{i}", f"架空 職員{i}", f"{i:06d}", DEPARTMENTS[i % len(DEPARTMENTS)],
                  "False" if i % 17 == 0 else "True",
                  "" if i % 23 == 0 else f"2026/{i % 12 + 1}/{i % 28 + 1} {i % 24}:{i % 60:02d}:{i % 59:02d}",
                  f"2025/{i % 12 + 1:02d}/{i % 28 + 1:02d} 9:00:00", "True" if i % 31 == 0 else "False",
                  "False", "False", "" if i % 7 else "2027/03/31 0:00:00",
                  f"2019/04/{i % 28 + 1:02d} 8:30:00", groups)
        lines.append(",".join(f'"{f}"' for f in fields))
    return [("\r\n".join(lines) + "\r\n").encode("cp932")]


def write_ad_export(path: Path, rows: int, chunk: int = 50_000) -> None:
    """:func:`ad_export` written to a file a chunk at a time, so that this process stays small."""
    with path.open("wb") as out:
        for start in range(0, rows, chunk):
            out.writelines(ad_export_parts(min(chunk, rows - start), start, header=start == 0))


def write_roster_export(path: Path, rows: int) -> None:
    """A roster as Excel's "CSV (コンマ区切り)" writes it (CP932, CRLF), a chunk of rows at a time."""
    statuses = ("在職", "在職", "在職", "退職", "休職", "転出")
    with path.open("wb") as out:
        out.write("職員番号,氏名,所属,在職区分,発令日\r\n".encode("cp932"))
        for start in range(0, rows, 50_000):
            out.write("".join(f"{i:06d},架空 職員{i},{DEPARTMENTS[i % len(DEPARTMENTS)]},{statuses[i % len(statuses)]},"
                              f"2024/{i % 12 + 1}/{i % 28 + 1}\r\n"
                              for i in range(start, min(rows, start + 50_000))).encode("cp932"))


def write_training_export(path: Path, rows: int) -> None:
    """Training records as Excel's "CSV UTF-8" writes them (a BOM, CRLF), a chunk of rows at a time."""
    courses = ("情報セキュリティ研修", "標的型メール訓練", "個人情報保護研修")
    with path.open("wb") as out:
        out.write("\ufeff職員番号,研修名,受講日,修了\r\n".encode())
        for start in range(0, rows, 50_000):
            out.write("".join(f"{i // 3:06d},{courses[i % 3]},2026/{i % 12 + 1}/{i % 28 + 1},"
                              f"{'修了' if i % 5 else ''}\r\n"
                              for i in range(start, min(rows, start + 50_000))).encode())


IMPORT_ONLY = """
import gc, sys
gc.disable()
from auditor.evidence.importers import ImportOptions, import_files
bundle = import_files("ad-users", [sys.argv[1]], ImportOptions(target_id="bench", collected_at=sys.argv[2]))
print(len(bundle["facts"]["directory_accounts"]))
"""


def memory(rows: int, env: dict[str, str]) -> None:
    """Peak RSS of importing N-row exports, each in a fresh process (printed)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ad, roster, training = folder / "ad-users.csv", folder / "roster.csv", folder / "training.csv"
        write_ad_export(ad, rows)
        write_roster_export(roster, rows)
        write_training_export(training, rows)
        print(f"peak RSS of importing {rows:,}-row exports, each a fresh process (AD export "
              f"{ad.stat().st_size / 1e6:.0f} MB CP932, roster {roster.stat().st_size / 1e6:.0f} MB CP932, "
              f"training {training.stat().st_size / 1e6:.0f} MB UTF-8):")

        def imported(kind: str, export: Path) -> list[str]:
            return [sys.executable, "-m", "auditor", "import", kind, str(export), "--target", "bench",
                    "--collected-at", COLLECTED_AT, "--out", str(folder / f"{kind}.json")]

        runs = {
            "import_files ad-users (records kept)": [sys.executable, "-c", IMPORT_ONLY, str(ad), COLLECTED_AT],
            "auditor import ad-users --out": imported("ad-users", ad),
            "auditor import hr-roster --out": imported("hr-roster", roster),
            "auditor import training --out": imported("training", training),
            "auditor audit --import ad-users": [sys.executable, "-m", "auditor", "audit", "--import", "ad-users",
                                                str(ad), "--as-of", COLLECTED_AT[:10], "--format", "json",
                                                "--out", str(folder / "r.json")],
        }
        width = max(map(len, runs))
        for name, argv in runs.items():
            start = time.perf_counter()
            proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, status, usage = os.wait4(proc.pid, 0)
            err = proc.stderr.read().decode() if proc.stderr else ""
            if proc.stderr:
                proc.stderr.close()
            if os.waitstatus_to_exitcode(status) not in (0, 1):
                sys.exit(f"{name} failed: {err.strip()}")
            extra = ""
            if name.startswith("auditor import"):
                extra = f"   bundle {(folder / (name.split()[2] + '.json')).stat().st_size / 1e6:4.0f} MB"
            print(f"  {name:{width}} {usage.ru_maxrss / 1024:6.0f} MB   {time.perf_counter() - start:6.1f} s{extra}")


def roster_export(rows: int) -> bytes:
    """Excel's "CSV (コンマ区切り)" of a personnel roster (CP932, CRLF, quoted only when needed)."""
    lines = ["職員番号,氏名,所属,在職区分,発令日"]
    statuses = ("在職", "在職", "在職", "退職", "休職", "転出")
    for i in range(rows):
        when = f"令和{i % 7 + 2}年{i % 12 + 1}月{i % 28 + 1}日" if i % 3 == 0 else f"2024/{i % 12 + 1}/{i % 28 + 1}"
        lines.append(f"{i:06d},架空 職員{i},{DEPARTMENTS[i % len(DEPARTMENTS)]},{statuses[i % len(statuses)]},{when}")
    return ("\r\n".join(lines) + "\r\n").encode("cp932")


def flows(folder: Path) -> dict[str, dict[str, list[str]]]:
    """Each way to import and audit: its commands (arguments after ``auditor``), in order."""
    ad, roster, training = str(folder / "ad-users.csv"), str(folder / "roster.csv"), str(folder / "training.csv")
    return {
        "four commands (import, import, import, audit the bundles)": {
            "import ad-users": ["import", "ad-users", ad, "--target", "bench-ad-users", "--collected-at", COLLECTED_AT,
                                "--out", str(folder / "ad-users.json")],
            "import hr-roster": ["import", "hr-roster", roster, "--target", "bench-org",
                                 "--collected-at", COLLECTED_AT, "--out", str(folder / "hr-roster.json")],
            "import training": ["import", "training", training, "--target", "bench-org",
                                "--collected-at", COLLECTED_AT, "--out", str(folder / "training.json")],
            "audit": ["audit", str(folder / "ad-users.json"), str(folder / "hr-roster.json"),
                      str(folder / "training.json"), "--format", "json", "--no-history",
                      "--out", str(folder / "results.json")],
        },
        "one command (audit --import)": {
            "audit --import": ["audit", "--import", "ad-users", ad, "--import", "hr-roster", roster,
                               "--import", "training", training, "--as-of", COLLECTED_AT[:10], "--format", "json",
                               "--no-history", "--out", str(folder / "results-direct.json")],
        },
    }


def command(argv: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of ``auditor ARGV`` in a fresh process; exit 0 or 1 expected.

    The commands are single-threaded, so on a quiet machine wall and CPU time agree; when other
    work shares the cores the CPU time is the steadier figure."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "auditor", *argv], env=env, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"auditor {' '.join(argv)} exited {code}: {err.strip()}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def phases(folder: Path) -> dict[str, float]:
    """The three commands' work in this process, phase by phase, as cmd_import and cmd_audit do it
    (bundles written to and read from files; no interpreter start-up or module imports)."""
    from auditor.evidence.importers import ImportOptions, import_to_file

    from auditor import bundles, cli, fleet
    from auditor.policy import load_policy
    from auditor.reports import ReportOptions, formats
    from auditor.results import ResultsDocument
    from auditor.selection import resolve

    gc.set_threshold(200_000, 50, 50)  # as cli.main sets it
    times: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        times[name] = now - clock
        clock = now

    exports = (("ad-users", "ad-users.csv", "ad-users.json", "bench-ad-users"),
               ("hr-roster", "roster.csv", "hr-roster.json", "bench-org"),
               ("training", "training.csv", "training.json", "bench-org"))
    for kind, export, out, target in exports:
        # as cmd_import: the export read and the bundle written batch by batch, nothing kept
        import_to_file(kind, [str(folder / export)], ImportOptions(target_id=target, collected_at=COLLECTED_AT),
                       str(folder / out))
        lap(f"{kind}: import to a bundle")
    selection = resolve(load_policy(None), None, None)
    lap("audit: load policy")
    gc.disable()  # as cmd_audit: bundles read with the cycle collector paused, then frozen
    groups = bundles.index([folder / out for _, _, out, _ in exports])
    gc.freeze()
    lap("audit: read bundles")
    org = bundles.organization(groups)  # as cmd_audit: judged and reported with it still paused
    lap("audit: validate the organisation's records")
    with tempfile.TemporaryDirectory() as spools:
        judging = fleet.Judging(selection=selection, lang="ja", as_of=None, org=org, stages=[], groups=groups,
                                folder=spools)
        outcomes = fleet.judge(judging, fleet.default_jobs())  # as cmd_audit: its checks shared out
        lap("audit: evaluate")
        doc = ResultsDocument(selection=selection, lang="ja").assemble(outcomes)
        cli._write(formats()["json"](doc, ReportOptions()), str(folder / "results.json"))
    gc.freeze()
    gc.enable()
    gc.unfreeze()
    lap("audit: report")
    del groups, org, outcomes, doc
    lap("audit: free")
    return times


def table(title: str, figures: dict[str, list[float]], extra: Callable[[str], str] = lambda _: "") -> float:
    total = statistics.median(map(sum, zip(*figures.values(), strict=True)))
    print(title)
    width = max(map(len, figures))
    for name, runs in figures.items():
        print(f"  {name:{width}} {statistics.median(runs):6.2f} s{extra(name)}")
    verdict = "met" if total < GOAL_SECONDS else "NOT met"
    print(f"  {'total':{width}} {total:6.2f} s   (goal: under {GOAL_SECONDS:.0f} s: {verdict})")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds; figures are medians")
    parser.add_argument("--memory-rows", type=int, default=0,
                        help="also print the peak RSS of importing an AD export of this many rows (e.g. 1000000)")
    parser.add_argument("--memory-only", action="store_true", help="only the memory figure")
    args = parser.parse_args()
    if args.memory_rows:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        memory(args.memory_rows, env)
        if args.memory_only:
            return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ad = folder / "ad-users.csv"
        roster = folder / "roster.csv"
        training = folder / "training.csv"
        ad.write_bytes(ad_export(args.rows))
        roster.write_bytes(roster_export(args.rows))
        write_training_export(training, args.rows)
        print(f"{args.rows} AD accounts ({ad.stat().st_size / 1e6:.1f} MB, CP932), {args.rows} roster rows "
              f"({roster.stat().st_size / 1e6:.1f} MB) and {args.rows} training records "
              f"({training.stat().st_size / 1e6:.1f} MB); medians of {args.rounds} rounds")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
        todo = {name: argv for commands in flows(folder).values() for name, argv in commands.items()}
        for argv in todo.values():  # warm-up: bytecode cached, files in the page cache
            command(argv, env)
        walls: dict[str, list[float]] = {name: [] for name in todo}
        rss: dict[str, list[float]] = {name: [] for name in todo}
        cpu: dict[str, list[float]] = {name: [] for name in todo}
        inside: dict[str, list[float]] = {}
        for _ in range(args.rounds):  # all commands first: a child's peak RSS counts this process's pages at fork
            for name, argv in todo.items():
                wall, used, peak = command(argv, env)
                walls[name].append(wall)
                cpu[name].append(used)
                rss[name].append(peak)
        for _ in range(args.rounds):
            for name, seconds in phases(folder).items():
                inside.setdefault(name, []).append(seconds)
        sizes = {name: f"   bundle {(folder / (name.split()[1] + '.json')).stat().st_size / 1e6:.1f} MB"
                 for name in todo if name.startswith("import")}
        sizes["audit"] = f"   report {(folder / 'results.json').stat().st_size / 1e6:.1f} MB"
        sizes["audit --import"] = f"   report {(folder / 'results-direct.json').stat().st_size / 1e6:.1f} MB"
        for flow, commands in flows(folder).items():
            table(f"{flow}, each a fresh process:", {name: walls[name] for name in commands},
                  lambda name: f"   CPU {statistics.median(cpu[name]):5.2f} s"
                               f"   peak RSS {statistics.median(rss[name]):5.0f} MB{sizes[name]}")
            used = statistics.median(map(sum, zip(*(cpu[name] for name in commands), strict=True)))
            print(f"  CPU total {used:6.2f} s")
        table("the four commands' work in this process, phase by phase (no start-up; bundles through files):",
              inside)

if __name__ == "__main__":
    main()
