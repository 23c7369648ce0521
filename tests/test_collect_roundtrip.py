"""Acceptance: a bundle written by `auditor collect` audits like the host itself.

`auditor collect --out host.json` then `auditor audit host.json` must give the same result
for every check (status and findings) as `auditor audit` with no evidence, which collects this
host in memory. Both runs use the same --as-of date, so ages are counted to the same day; the
few facts that move between two collections (the clock offset, sockets opening or closing)
are compared by check status, their findings by item and expectation only.
"""

from __future__ import annotations

import io
import json
import sys
from contextlib import redirect_stdout
from datetime import date
from pathlib import Path

import pytest

from auditor.cli import main

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or not Path("/etc/passwd").exists(),
                                reason="collects this Linux host")

# Checks whose findings quote a value that can change between two collections a second apart.
VOLATILE = {"time-offset", "listening-ports-allowed", "no-insecure-services"}


def _run(argv: list[str]) -> tuple[int, str]:
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(argv)
    return code, buf.getvalue()


def _by_check(doc: dict) -> dict[tuple[str, str], dict]:
    return {(r["target"], r["check"]): r for r in doc["results"]}


def _findings(result: dict) -> list:
    if result["check"] in VOLATILE:
        return sorted((f["item"], f["expected"]) for f in result["findings"])
    return [(f["item"], json.dumps(f["actual"], sort_keys=True), f["expected"]) for f in result["findings"]]


LIVE = "(collected from this host)"  # how `auditor audit` without evidence names its bundle


@pytest.fixture(scope="module")
def both_runs(tmp_path_factory) -> tuple[dict, dict, dict, int, int]:
    as_of = date.today().isoformat()
    out = tmp_path_factory.mktemp("collect") / "host.json"
    assert _run(["collect", "--out", str(out)]) == (0, "")
    bundle = json.loads(out.read_text(encoding="utf-8"))
    from_file_code, from_file = _run(["audit", str(out), "--format", "json", "--lang", "en", "--as-of", as_of])
    live_code, live = _run(["audit", "--format", "json", "--lang", "en", "--as-of", as_of])
    return bundle, json.loads(from_file.replace(str(out), LIVE)), json.loads(live), from_file_code, live_code


def test_the_collected_bundle_is_valid_and_names_this_host(both_runs):
    bundle, from_file, _, _, _ = both_runs
    assert bundle["format"] == "auditor-evidence/1" and bundle["target"]["kind"] == "endpoint"
    assert [t["id"] for t in from_file["targets"]] == [bundle["target"]["id"]]
    assert all(r["status"] != "error" or "not valid" not in r["message"] for r in from_file["results"])


def test_same_checks_same_statuses_and_exit_code(both_runs):
    _, from_file, live, from_file_code, live_code = both_runs
    a, b = _by_check(from_file), _by_check(live)
    assert set(a) == set(b) and a
    assert {k: r["status"] for k, r in a.items()} == {k: r["status"] for k, r in b.items()}
    assert from_file_code == live_code
    assert from_file["summary"] == live["summary"]
    assert (from_file["score"], from_file["grade"]) == (live["score"], live["grade"])
    assert from_file["gate"]["passed"] == live["gate"]["passed"]


def test_same_findings_per_check(both_runs):
    _, from_file, live, _, _ = both_runs
    a, b = _by_check(from_file), _by_check(live)
    assert {k: _findings(r) for k, r in a.items()} == {k: _findings(r) for k, r in b.items()}


def test_errors_give_the_same_reasons(both_runs):
    """An `error` names the evidence (the file, or this host) and quotes the collector: the same reason."""
    _, from_file, live, _, _ = both_runs
    a, b = _by_check(from_file), _by_check(live)
    errors = {k: r["message"] for k, r in a.items() if r["status"] == "error"}
    assert errors == {k: r["message"] for k, r in b.items() if r["status"] == "error"}
