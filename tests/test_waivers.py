"""Exceptions (例外措置): a waiver in force waives a failing result, keeps its real status, and is reported."""

import json

import pytest
from support import MINI_POLICY, core, make_bundle

from auditor.cli import main
from auditor.errors import InputError
from auditor.policy import load_policy
from auditor.waivers import load_waivers

WAIVER = """\
  - id: W-2026-001
    checks: [min-length]
    targets: [{targets}]
    reason: 旧システム更改まで（令和9年3月）
    approver: 情報政策課長 石岡一郎
    approval_number: 石情第123号
    granted: {granted}
    expires: {expires}
"""


def waivers_file(tmp_path, **values):
    values = {"targets": "pc-*", "granted": "2026-04-01", "expires": "2027-03-31", **values}
    path = tmp_path / "waivers.yaml"
    path.write_text("format: auditor-waivers/1\nwaivers:\n" + WAIVER.format(**values), encoding="utf-8")
    return path


def audit(capsys, tmp_path, bundle, *extra):
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    code = main(["audit", str(path), "--policy", str(MINI_POLICY), "--format", "json", *map(str, extra)])
    return code, json.loads(capsys.readouterr().out)


def weak(**changes):
    return make_bundle(facts__password_policy={"min_length": 6}, **changes)


def result_of(doc, check):
    return next(r for r in doc["results"] if r["check"] == check)


def test_a_waiver_in_force_waives_and_keeps_the_real_status(capsys, tmp_path):
    code, doc = audit(capsys, tmp_path, weak(), "--waivers", waivers_file(tmp_path))
    entry = result_of(doc, "min-length")
    assert entry["status"] == "waived" and entry["waived_status"] == "fail"
    assert entry["waiver"]["id"] == "W-2026-001" and entry["waiver"]["approval_number"] == "石情第123号"
    assert core(entry["findings"]) == [{"item": "password_policy.min_length", "actual": 6, "expected": ">= 8"}]
    # waived is not a pass: beside the score, which is that of the other three (10 + 5 + 5 of 20)
    assert doc["summary"]["waived"] == 1 and doc["summary"]["pass"] == 3 and doc["score"] == 100.0
    assert doc["coverage"]["evaluated"] == 4  # it was evaluated all the same
    [summary] = doc["waivers"]
    assert (summary["state"], summary["waived"], summary["unused"]) == ("active", 1, False)
    assert doc["run"]["waivers"]["sha256"] and code == 0


def test_an_expired_waiver_waives_nothing_and_is_reported(capsys, tmp_path):
    path = waivers_file(tmp_path, granted="2025-04-01", expires="2026-03-31")
    _, doc = audit(capsys, tmp_path, weak(), "--waivers", path)
    entry = result_of(doc, "min-length")
    assert entry["status"] == "fail" and entry["notes"] == [{"waiver_expired": {
        "id": "W-2026-001", "reason": "旧システム更改まで（令和9年3月）", "approver": "情報政策課長 石岡一郎",
        "approval_number": "石情第123号", "granted": "2025-04-01", "expires": "2026-03-31"}}]
    [summary] = doc["waivers"]
    assert summary["state"] == "expired" and summary["expired_matches"] == 1 and summary["waived"] == 0


def test_expiry_is_judged_as_of_the_evidence_not_the_clock(capsys, tmp_path):
    path = waivers_file(tmp_path, granted="2026-04-01", expires="2026-11-01")  # the bundle is of 2026-11-02
    _, doc = audit(capsys, tmp_path, weak(), "--waivers", path)
    assert result_of(doc, "min-length")["status"] == "fail"
    _, doc = audit(capsys, tmp_path, weak(), "--waivers", path, "--as-of", "2026-11-01")
    assert result_of(doc, "min-length")["status"] == "waived"
    assert doc["waivers"][0]["expiring_soon"] is True and doc["waivers"][0]["days_left"] == 0


def test_a_waiver_for_another_target_does_not_apply_and_is_unused(capsys, tmp_path):
    _, doc = audit(capsys, tmp_path, weak(), "--waivers", waivers_file(tmp_path, targets="lg-soumu-*"))
    assert result_of(doc, "min-length")["status"] == "fail"
    [summary] = doc["waivers"]
    assert summary["unused"] is True and summary["matched"] == 0


def test_a_waiver_of_a_passing_check_is_unused(capsys, tmp_path):
    _, doc = audit(capsys, tmp_path, make_bundle(), "--waivers", waivers_file(tmp_path))
    [summary] = doc["waivers"]
    assert summary["unused"] is True and summary["matched"] == 1


def test_a_waived_critical_failure_does_not_fail_the_gate_but_is_listed(capsys, tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text("format: auditor-waivers/1\nwaivers:\n" + WAIVER.format(
        targets="'*'", granted="2026-04-01", expires="2027-03-31").replace("checks: [min-length]",
                                                                          "controls: [GL-A13]"), encoding="utf-8")
    bundle = make_bundle()
    bundle["facts"]["routing"]["ip_forward_v4"] = True
    code, doc = audit(capsys, tmp_path, bundle, "--waivers", path)
    assert code == 0 and doc["gate"]["passed"] is True
    assert doc["gate"]["waived_critical"] == [{"check": "forwarding", "target": "pc-001", "status": "fail",
                                               "controls": ["GL-A13"], "waiver": "W-2026-001"}]


@pytest.mark.parametrize(("change", "line", "message"), [
    (("    approver: 情報政策課長 石岡一郎\n", ""), 3, "approver: required field"),
    (("    expires: 2027-03-31\n", ""), 3, "expires: required field"),
    (("checks: [min-length]", "checks: [min-lenght]"), 4, "'min-lenght' matches no check"),
    (("checks: [min-length]", "controls: [GL-Z99]"), 4, "'GL-Z99' matches no control"),
    (("expires: 2027-03-31", "expires: 2026-03-31"), 10, "before it was granted"),
    (("expires: 2027-03-31", "expires: 2026-02-30"), 10, "not a real date"),
    (("    checks: [min-length]\n", ""), 3, "names the checks or the controls"),
])
def test_a_broken_waiver_is_refused_naming_file_and_line(tmp_path, change, line, message):
    path = waivers_file(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace(*change), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_waivers(path, load_policy(MINI_POLICY))
    assert err.value.file == str(path) and message in str(err.value) and err.value.line == line


def test_waiver_ids_are_unique(tmp_path):
    path = tmp_path / "w.yaml"
    one = WAIVER.format(targets="'*'", granted="2026-04-01", expires="2027-03-31")
    path.write_text("format: auditor-waivers/1\nwaivers:\n" + one + one, encoding="utf-8")
    with pytest.raises(InputError, match="given twice"):
        load_waivers(path, load_policy(MINI_POLICY))


def test_policy_validate_checks_a_waivers_file(tmp_path, capsys):
    path = waivers_file(tmp_path)
    assert main(["policy", "--policy", str(MINI_POLICY), "validate", str(path)]) == 0
    assert "valid waivers: 1" in capsys.readouterr().out
    path.write_text(path.read_text(encoding="utf-8").replace("    expires: 2027-03-31\n", ""), encoding="utf-8")
    assert main(["policy", "--policy", str(MINI_POLICY), "validate", str(path)]) == 2
    assert "expires: required field" in capsys.readouterr().err


@pytest.mark.parametrize(("expires", "term", "exceeds"), [("2027-03-31", 364, False), ("2028-03-31", 730, True)])
def test_a_term_longer_than_the_profile_allows_is_flagged(capsys, tmp_path, expires, term, exceeds):
    """GL-E11: the profile's exception_max_days (365 in national-alpha) bounds a waiver's term."""
    from pathlib import Path

    path = tmp_path / "waivers.yaml"
    path.write_text("format: auditor-waivers/1\nwaivers:\n" + WAIVER.replace("min-length", "password-min-length")
                    .format(targets="lg-*", granted="2026-04-01", expires=expires), encoding="utf-8")
    fleet = Path(__file__).parents[1] / "examples" / "fleet" / "lg-soumu-02.json"
    main(["audit", str(fleet), "--format", "json", "--as-of", "2026-11-02", "--waivers", str(path)])
    [summary] = json.loads(capsys.readouterr().out)["waivers"]
    assert (summary["term_days"], summary["exceeds_max_days"]) == (term, exceeds)
    _, doc = audit(capsys, tmp_path, weak(), "--waivers", waivers_file(tmp_path, expires=expires))
    assert doc["waivers"][0]["exceeds_max_days"] is False  # a policy without the parameter bounds nothing
