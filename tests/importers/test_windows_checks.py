"""Imported Windows exports feed the endpoint checks: audit policy and security-update age."""

import json
from pathlib import Path

from auditor.cli import main

WINDOWS = Path(__file__).resolve().parents[1] / "fixtures" / "windows"


def audit_imports(tmp_path, capsys, *imports):
    outs = []
    for kind, name in imports:
        out = tmp_path / f"{kind}.json"
        assert main(["import", kind, str(WINDOWS / name), "--target", "pc-101", "--segment", "lgwan",
                     "--collected-at", "2026-11-02T08:41:07+09:00", "--out", str(out)]) == 0
        outs.append(str(out))
    capsys.readouterr()
    main(["audit", *outs, "--format", "json", "--lang", "en"])
    return {r["check"]: r for r in json.loads(capsys.readouterr().out)["results"]}


def test_audit_policy_lists_required_subcategories_without_both(tmp_path, capsys):
    results = audit_imports(tmp_path, capsys, ("auditpol", "auditpol-en.csv"))
    result = results["audit-policy-subcategories"]
    names = {f["item"].split(" {")[0] for f in result["findings"]}
    assert result["status"] == "fail"
    assert "Account Lockout" in names and "Logon" not in names  # Logon records both in the fixture
    assert all(f["item"].endswith(")") and "auditpol-en.csv:" in f["item"] for f in result["findings"])


def test_security_update_age_from_the_hotfix_list(tmp_path, capsys):
    results = audit_imports(tmp_path, capsys, ("hotfix", "hotfix-ps51.csv"))
    result = results["security-update-age"]
    assert result["status"] in ("pass", "fail")  # evaluated, not an error
    bundle = json.loads((tmp_path / "hotfix.json").read_text(encoding="utf-8"))
    newest = bundle["facts"]["patches"]["last_security_installed_at"]
    assert (result["status"] == "pass") == (newest >= "2026-10-03")
