"""Import speed for large directory and roster exports (printed, not asserted).

Goal from issue 4: a 100,000-row AD export imports in well under 2 s on the development
machine. The files are generated as Windows writes them (CP932 with PowerShell 5.1's
``#TYPE`` line, every field quoted, CRLF; the roster as Excel's "CSV (コンマ区切り)").

    python benchmarks/bench_import.py              # 100,000 rows each
    python benchmarks/bench_import.py --rows 20000

Two figures per export: ``import_files`` in this process (parsing and building the bundle),
and the whole ``auditor import ... --out FILE`` command in a fresh process (start-up and
writing the JSON included).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from auditor.evidence.importers import ImportOptions, import_files

AD_HEADER = ("SamAccountName", "Name", "DisplayName", "EmployeeID", "Department", "Enabled", "LastLogonDate",
             "PasswordLastSet", "PasswordNeverExpires", "PasswordNotRequired", "AllowReversiblePasswordEncryption",
             "AccountExpirationDate", "whenCreated", "MemberOf")
DEPARTMENTS = ("情報政策課", "市民課", "税務課", "福祉課", "子育て支援課", "建設課")


def ad_export(rows: int) -> bytes:
    """PowerShell 5.1 ``Export-Csv -Encoding Default`` of Get-ADUser on Japanese Windows."""
    lines = ["#TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser",
             ",".join(f'"{h}"' for h in AD_HEADER)]
    for i in range(rows):
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
    return ("\r\n".join(lines) + "\r\n").encode("cp932")


def roster_export(rows: int) -> bytes:
    """Excel's "CSV (コンマ区切り)" of a personnel roster (CP932, CRLF, quoted only when needed)."""
    lines = ["職員番号,氏名,所属,在職区分,発令日"]
    statuses = ("在職", "在職", "在職", "退職", "休職", "転出")
    for i in range(rows):
        when = f"令和{i % 7 + 2}年{i % 12 + 1}月{i % 28 + 1}日" if i % 3 == 0 else f"2024/{i % 12 + 1}/{i % 28 + 1}"
        lines.append(f"{i:06d},架空 職員{i},{DEPARTMENTS[i % len(DEPARTMENTS)]},{statuses[i % len(statuses)]},{when}")
    return ("\r\n".join(lines) + "\r\n").encode("cp932")


def measure(kind: str, path: Path, out: Path) -> tuple[float, float, int]:
    """Seconds for import_files in this process, seconds for the CLI in a fresh one, and records."""
    target = f"bench-{kind}"
    start = time.perf_counter()
    bundle = import_files(kind, [str(path)], ImportOptions(target_id=target))
    in_process = time.perf_counter() - start
    records = sum(len(v) for v in bundle["facts"].values() if isinstance(v, list))
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "auditor", "import", kind, str(path), "--target", target,
                    "--collected-at", "2026-11-02T09:00:00+09:00", "--out", str(out)], check=True)
    return in_process, time.perf_counter() - start, records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        exports = {"ad-users": (folder / "ad-users.csv", ad_export(args.rows)),
                   "hr-roster": (folder / "roster.csv", roster_export(args.rows))}
        for kind, (path, data) in exports.items():
            path.write_bytes(data)
            in_process, command, records = measure(kind, path, folder / f"{kind}.json")
            print(f"{kind:10} {records:>7} rows ({len(data) / 1e6:.1f} MB): import_files {in_process:.2f} s, "
                  f"auditor import {command:.2f} s")
        # The directory checks compare every account with the roster (leavers, dormancy, ...).
        bundles = [str(folder / f"{kind}.json") for kind in exports]
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "auditor", "audit", *bundles, "--format", "json",
                               "--out", str(folder / "results.json")], check=False)
        audit = time.perf_counter() - start
        if done.returncode not in (0, 1):
            sys.exit(f"auditor audit exited {done.returncode}")
        print(f"auditor audit of both bundles: {audit:.2f} s (exit {done.returncode})")


if __name__ == "__main__":
    main()
