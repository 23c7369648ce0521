"""Results documents the report tests render: the example fleet's, and a run with a waiver and an attestation."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from support import FIXTURES, MINI_POLICY, make_bundle

from auditor.cli import main

FLEET = FIXTURES.parent.parent / "examples" / "fleet"

WAIVERS = """\
format: auditor-waivers/1
waivers:
  - id: W-2026-001
    checks: [min-length]
    targets: [pc-*]
    reason: 旧システム更改まで（令和9年3月）
    approver: 情報政策課長 石岡一郎
    approval_number: 石情第123号
    granted: 2026-04-01
    expires: 2027-03-31
"""
ATTESTATIONS = """\
format: auditor-attestations/1
attestations:
  - control: GL-E05
    attested_by: 情報政策課 筑波花子
    attested_on: 2026-06-30
    valid_until: 2027-03-31
    document: {name: 令和8年度情報セキュリティ研修実施報告.pdf, sha256: %s}
""" % ("ab" * 32)
TAILORING = "format: auditor-tailoring/1\nid: t\nprofile: base\nselect: [{id: GL-E05, reason: 研修も点検する}]\n"


def audit_json(folder: Path, *argv: str) -> dict[str, Any]:
    """``auditor audit ARGV --format json`` into ``folder``, read back."""
    out = folder / "results.json"
    assert main(["audit", *argv, "--format", "json", "--out", str(out)]) in (0, 1)
    return json.loads(out.read_text(encoding="utf-8"))


def fleet_doc(folder: Path) -> dict[str, Any]:
    return audit_json(folder, str(FLEET), "--as-of", "2026-11-02")


def decided_doc(folder: Path) -> dict[str, Any]:
    """A PC whose short passwords are waived, and an organisation whose training is attested."""
    pc = make_bundle(facts__password_policy={"min_length": 6})
    org = make_bundle(target__id="organization", target__kind="organization", target__segment=None,
                      target__department=None, facts={})
    evidence = folder / "evidence"
    evidence.mkdir()
    for name, bundle in (("pc.json", pc), ("org.json", org)):
        (evidence / name).write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    for name, text in (("waivers.yaml", WAIVERS), ("attest.yaml", ATTESTATIONS), ("t.yaml", TAILORING)):
        (folder / name).write_text(text, encoding="utf-8")
    return audit_json(folder, str(evidence), "--policy", str(MINI_POLICY), "--tailoring", str(folder / "t.yaml"),
                      "--waivers", str(folder / "waivers.yaml"), "--attestations", str(folder / "attest.yaml"))


def with_result_changed(doc: dict[str, Any], status: str, **changes: Any) -> tuple[dict[str, Any], int]:
    """A copy of ``doc`` whose first result of ``status`` has ``changes``; and that result's index."""
    changed = copy.deepcopy(doc)
    index = next(i for i, r in enumerate(changed["results"]) if r["status"] == status)
    changed["results"][index].update(changes)
    return changed, index


def first_finding(doc: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """A copy of ``doc`` and the index of its first result with findings."""
    changed = copy.deepcopy(doc)
    return changed, next(i for i, r in enumerate(changed["results"]) if r["findings"])
