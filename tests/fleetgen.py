"""A synthetic fleet for scale tests and benchmarks: the example city's bundles, replicated.

Each endpoint bundle of ``examples/fleet`` (Linux and Windows, one of them in two files, one
with a broken body) is written again under new target ids, so the generated fleet has the
example's mix of passes, failures, errors and not-applicable results at any size. The
organisation's records, the directory and the firewall are written once, as a city has one
of each. Optionally, files that cannot be read (not JSON, not a bundle) and a waivers file
are added, so a run over it exercises every path of the results.

Used by tests/test_fleet_parallel.py and benchmarks/bench_fleet.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "fleet"
AS_OF = "2026-11-02"  # the example fleet's collection day


def _templates() -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """(bundles written once, endpoint bundles by target id: one target may have several files)."""
    once: list[dict[str, Any]] = []
    endpoints: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(EXAMPLES.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["target"]["kind"] == "endpoint":
            endpoints.setdefault(data["target"]["id"], []).append(data)
        else:
            once.append(data)
    return once, endpoints


def generate(folder: Path, endpoints: int, unreadable: bool = False, waivers: bool = False) -> Path | None:
    """Write a fleet of ``endpoints`` endpoint targets (plus the city's shared records) into
    ``folder``, one file per bundle; return the waivers file written (or None).

    Target ids are ``<example id>-<n>`` with n zero-padded, so file names and target ids sort
    alike only by chance of the template order: the audit must order by target id itself.
    """
    folder.mkdir(parents=True, exist_ok=True)
    once, templates = _templates()
    for n, data in enumerate(once):  # the city's records share one target id: one file each
        (folder / f"city-{n:02d}.json").write_bytes(_encode(data))
    ids = sorted(templates)
    width = len(str(max(endpoints - 1, 1)))
    for n in range(endpoints):
        template_id = ids[n % len(ids)]
        new_id = f"{template_id}-{n:0{width}d}"
        for part, data in enumerate(templates[template_id]):
            copy = {**data, "target": {**data["target"], "id": new_id}}
            name = f"n{n:0{width}d}-{part}.json"  # not the target id: indexing must not rely on names
            (folder / name).write_bytes(_encode(copy))
    if unreadable:
        (folder / "zz-not-json.json").write_bytes(b'{"format": "auditor-evidence/1", "target": ')
        (folder / "zz-not-a-bundle.json").write_bytes(b'{"format": "something-else/2"}')
    if not waivers:
        return None
    path = folder.parent / f"{folder.name}-waivers.yaml"
    path.write_text(
        "format: auditor-waivers/1\nwaivers:\n"
        "  - id: W-BENCH-1\n    checks: [listening-ports-allowed]\n    targets: [\"lg-shimin-03-*\"]\n"
        "    reason: 窓口の業務アプリが待ち受けるため\n    approver: 情報政策課長\n"
        "    approval_number: 石情第2026-014号\n    granted: 2026-10-01\n    expires: 2027-03-31\n"
        "  - id: W-BENCH-2\n    checks: [no-ip-forwarding]\n    targets: [\"lg-jousei-04-*\"]\n"
        "    reason: 検証用の中継設定を撤去するまで\n    approver: 情報政策課長\n"
        "    approval_number: 石情第2026-015号\n    granted: 2026-10-01\n    expires: 2026-12-31\n",
        encoding="utf-8")
    return path


def _encode(data: dict[str, Any]) -> bytes:
    """Indented UTF-8 JSON, as the collectors write bundles (orjson: a 100,000-bundle fleet is 4 GB)."""
    return orjson.dumps(data, option=orjson.OPT_INDENT_2)
