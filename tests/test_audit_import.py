"""``auditor audit --import KIND FILE``: the same results as ``auditor import`` then ``auditor audit``."""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from auditor import cli
from auditor.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXPORTS = ROOT / "examples" / "exports"
WHEN = "2026-11-02T09:00:00+09:00"


def _report(capsys, *argv: str) -> tuple[int, dict]:
    code = main([*argv, "--format", "json", "--lang", "en"])
    return code, json.loads(capsys.readouterr().out)


def _comparable(doc: dict, names: dict[str, str]) -> list[tuple]:
    """Results with each evidence file's name replaced by its target's (the messages cite the files)."""
    def plain(text: str) -> str:
        for name, target in names.items():
            text = text.replace(name, f"<{target}>")
        return text

    return [(r["check"], r["target"], r["status"], plain(r["message"]),
             plain(json.dumps(r["findings"], ensure_ascii=False)), [plain(e) for e in r["evidence"]])
            for r in doc["results"]]


def _names(doc: dict) -> dict[str, str]:
    return {e["file"]: e["target"] for e in doc["run"]["evidence"]}


def test_importing_in_the_audit_gives_the_results_of_import_then_audit(tmp_path, capsys):
    pairs = [("ad-users", EXPORTS / "ad-users.csv"), ("hr-roster", EXPORTS / "hr-roster.csv"),
             ("training", EXPORTS / "training.csv"), ("fortigate", EXPORTS / "kakuu-fw01.conf")]
    zones = str(ROOT / "examples" / "zones.yaml")
    bundles = []
    for kind, export in pairs:
        copy = tmp_path / export.name  # the audit's own import reads the same file, with the same time
        copy.write_bytes(export.read_bytes())
        out = tmp_path / f"{kind}.json"
        extra = ["--zones", zones] if kind == "fortigate" else []
        if kind in ("hr-roster", "training"):  # the organisation's records: one target, as audit --import makes it
            extra = ["--target", "organization"]
        assert main(["import", kind, str(copy), "--out", str(out), *extra]) == 0
        bundles.append(str(out))
    capsys.readouterr()
    code_files, from_files = _report(capsys, "audit", *bundles)
    imports = [a for kind, export in pairs for a in ("--import", kind, str(tmp_path / export.name))]
    code_direct, direct = _report(capsys, "audit", *imports, "--zones", zones)

    assert code_direct == code_files == 1  # the example exports hold documented flaws
    assert _comparable(direct, _names(direct)) == _comparable(from_files, _names(from_files))
    assert (direct["score"], direct["summary"], direct["gate"]) == (from_files["score"], from_files["summary"],
                                                                     from_files["gate"])
    failing = {r["check"] for r in direct["results"] if r["status"] == "fail"}
    assert {"dormant-directory-accounts", "leaver-accounts-disabled", "staff-annual-training",
            "mn-outbound-specified-only"} <= failing
    evidence = {e["target"]: e for e in direct["run"]["evidence"]}
    assert evidence["ad-users"]["file"].endswith("ad-users.csv (imported as ad-users)")
    assert len(evidence["ad-users"]["sha256"]) == 64


def test_bundles_and_imports_audit_together(tmp_path, capsys):
    roster = tmp_path / "roster.json"
    assert main(["import", "hr-roster", str(EXPORTS / "hr-roster.csv"), "--out", str(roster),
                 "--collected-at", WHEN]) == 0
    capsys.readouterr()
    _, doc = _report(capsys, "audit", str(roster), "--import", "ad-users", str(EXPORTS / "ad-users.csv"))
    leavers = next(r for r in doc["results"] if r["check"] == "leaver-accounts-disabled")
    assert leavers["status"] == "fail" and leavers["findings"]  # the directory read against the roster bundle
    assert {e["target"] for e in doc["run"]["evidence"]} == {"ad-users", "hr-roster"}


def test_the_organisation_records_imported_in_the_audit_are_one_target(capsys):
    _, doc = _report(capsys, "audit", "--import", "hr-roster", str(EXPORTS / "hr-roster.csv"),
                     "--import", "training", str(EXPORTS / "training.csv"))
    training = [r for r in doc["results"] if r["check"] == "staff-annual-training"]
    assert [(r["target"], r["status"]) for r in training] == [("organization", "fail")]
    assert training[0]["findings"] and all(".csv:" in f["item"] for f in training[0]["findings"])


@pytest.mark.parametrize(("argv", "expect"), [
    (["--import", "excel", "x.csv"], "unknown import kind"),
    (["--import", "ad-users", "missing.csv"], "missing.csv: no such file"),
])
def test_a_bad_import_is_exit_2_with_a_message(capsys, argv, expect):
    assert main(["audit", *argv]) == 2
    assert expect in capsys.readouterr().err


def test_the_cited_sha256_is_that_of_the_exports(tmp_path, capsys):
    # What an inspector checks with `cat FILE ... | sha256sum`; several files of one kind in the order given.
    first, second = EXPORTS / "training.csv", tmp_path / "training-2.csv"
    second.write_bytes(first.read_bytes().replace(b"\r\n", b"\n"))
    _, doc = _report(capsys, "audit", "--import", "training", str(first), "--import", "training", str(second),
                     "--import", "ad-users", str(EXPORTS / "ad-users.csv"))
    cited = {e["target"]: e for e in doc["run"]["evidence"]}
    assert cited["organization"]["sha256"] == hashlib.sha256(first.read_bytes() + second.read_bytes()).hexdigest()
    assert cited["organization"]["file"] == f"{first}, {second} (imported as training)"
    assert cited["ad-users"]["sha256"] == hashlib.sha256((EXPORTS / "ad-users.csv").read_bytes()).hexdigest()


class _CountingPool(ProcessPoolExecutor):
    submitted: list[int] = []

    def submit(self, fn, jobs):  # noqa: ANN001 - the executor's own signature, narrowed to the one use
        _CountingPool.submitted.append(len(jobs))
        return super().submit(fn, jobs)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="exports are read in a worker only where it can fork")
def test_exports_read_on_two_cores_give_the_same_report(monkeypatch, capsys):
    argv = ["audit", "--import", "hr-roster", str(EXPORTS / "hr-roster.csv"), "--import", "ad-users",
            str(EXPORTS / "ad-users.csv"), "--import", "training", str(EXPORTS / "training.csv")]
    _, one_by_one = _report(capsys, *argv)
    monkeypatch.setattr(cli, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", _CountingPool)
    _, parallel = _report(capsys, *argv)
    assert _CountingPool.submitted == [2]  # the largest export read here, the two others in the worker
    assert _comparable(parallel, _names(parallel)) == _comparable(one_by_one, _names(one_by_one))
    assert [e["sha256"] for e in parallel["run"]["evidence"]] == [e["sha256"] for e in one_by_one["run"]["evidence"]]


@pytest.mark.parametrize("threshold", [0, 10**12])
def test_the_first_bad_export_given_is_the_one_reported(monkeypatch, capsys, tmp_path, threshold):
    monkeypatch.setattr(cli, "PARALLEL_MIN_BYTES", threshold)
    bad_roster = tmp_path / "roster.csv"
    bad_roster.write_text("氏名,所属\n架空,総務課\n", encoding="utf-8")  # no employee-number column
    big = tmp_path / "ad.csv"
    big.write_bytes((EXPORTS / "ad-users.csv").read_bytes())
    code = main(["audit", "--import", "hr-roster", str(bad_roster), "--import", "ad-users", str(big),
                 "--import", "training", str(tmp_path / "missing.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "roster.csv:1" in err and "missing.csv" not in err


def test_imported_bundles_are_not_checked_again_but_bundle_files_are():
    from auditor import bundles

    document = {"format": "auditor-evidence/1", "target": {"id": "dir", "kind": "directory"},
                "collected_at": WHEN, "collector": {"name": "test", "version": "1", "host": "h"},
                "facts": {"directory_accounts": [{"name": "a", "enabled": "yes"}]},
                "sources": [], "errors": []}
    for trusted, problems in ((True, set()), (False, {"directory_accounts"})):
        [(target_id, files)] = bundles.from_document("x", document, sha256="0" * 64, trusted=trusted).items()
        target = bundles.load_target(target_id, files)
        assert target.problem is None and set(target.area_problems) == problems
        assert ("directory_accounts" in target.facts) is trusted
