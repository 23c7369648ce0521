import json
from pathlib import Path

import pytest
from auditor.evidence.importers.secedit import facts_from, parse_inf
from support import core

from auditor.cli import main
from auditor.errors import InputError

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "windows" / "secedit-weak.inf"


def test_fixture_is_written_as_windows_writes_it():
    raw = FIXTURE.read_bytes()
    assert raw[:2] == b"\xff\xfe" and "\r\n".encode("utf-16-le") in raw


def test_system_access_maps_to_os_neutral_facts():
    text = FIXTURE.read_bytes().decode("utf-16").replace("\r\n", "\n")
    facts = facts_from(parse_inf(text, "s.inf"), "s.inf")
    assert facts["os"] == {"family": "windows"}
    policy = facts["password_policy"]
    assert (policy["min_length"], policy["complexity"], policy["min_char_classes"]) == (6, False, 0)
    assert policy["max_age_days"] is None  # -1: never expires
    assert (policy["min_age_days"], policy["history"], policy["reversible_encryption"]) == (1, 0, False)
    assert facts["lockout_policy"] == {"enabled": True, "threshold": 10, "duration_minutes": 10,
                                       "window_minutes": 10}


def test_lockout_until_admin_and_never():
    sections = parse_inf("[System Access]\nLockoutBadCount = 3\nLockoutDuration = -1\n", "s.inf")
    assert facts_from(sections, "s.inf")["lockout_policy"]["duration_minutes"] == 0
    sections = parse_inf("[System Access]\nLockoutBadCount = 0\n", "s.inf")
    assert facts_from(sections, "s.inf")["lockout_policy"] == {"enabled": False, "threshold": 0}


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("[System Access]\nMinimumPasswordLength = eight\n", 2, "expected a whole number"),
        ("[System Access]\nthis line has no equals sign\n", 2, "KEY = VALUE"),
        ("[Version]\nRevision=1\n", None, "no [System Access]"),
    ],
)
def test_malformed_exports_name_the_line(text, line, problem):
    with pytest.raises(InputError) as err:
        facts_from(parse_inf(text, "s.inf"), "s.inf")
    assert err.value.line == line and problem in err.value.problem


def test_import_then_audit_fails_min_length_with_actual_and_expected(tmp_path, capsys):
    bundle = tmp_path / "pc.json"
    assert main(["import", "secedit", str(FIXTURE), "--target", "lg-pc-101", "--segment", "lgwan",
                 "--collected-at", "2026-11-02T08:41:07+09:00", "--out", str(bundle)]) == 0
    doc = json.loads(bundle.read_text(encoding="utf-8"))
    assert doc["target"]["id"] == "lg-pc-101" and doc["collected_at"] == "2026-11-02T08:41:07+09:00"
    assert {s["parser"] for s in doc["sources"]} == {"secedit (utf-16-le)"}
    assert {s["area"] for s in doc["sources"]} == {"os", "password_policy", "lockout_policy"}
    capsys.readouterr()
    main(["audit", str(bundle), "--format", "json", "--lang", "en"])
    results = {r["check"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert results["password-min-length"]["status"] == "fail"
    assert core(results["password-min-length"]["findings"]) == [
        {"item": "password_policy.min_length", "actual": 6, "expected": ">= 8"}]
    assert results["password-not-reversible"]["status"] == "pass"
    assert results["password-hash-algorithm"]["status"] == "notapplicable"  # a Linux-only check


def test_import_of_garbage_exits_2_naming_the_file(tmp_path, capsys):
    bad = tmp_path / "bad.inf"
    bad.write_bytes(b"\x82\xff\xfe garbage")
    assert main(["import", "secedit", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.inf:1:" in err and "neither UTF-8 nor CP932" in err


def test_a_domain_pc_export_with_permission_sections_is_read():
    """Group Policy fills [Registry Keys], [File Security] and [Service General Setting] with quoted,
    comma-separated entries that have no KEY = VALUE form; the export is read all the same."""
    fixture = FIXTURE.parent / "secedit-domain-gpo.inf"
    text = fixture.read_bytes().decode("utf-16").replace("\r\n", "\n")
    facts = facts_from(parse_inf(text, str(fixture)), str(fixture))
    assert (facts["password_policy"]["min_length"], facts["password_policy"]["complexity"]) == (12, True)
    assert facts["lockout_policy"] == {"enabled": True, "threshold": 5, "duration_minutes": 15, "window_minutes": 15}


def test_an_unquoted_line_without_equals_is_still_refused():
    with pytest.raises(InputError) as err:
        parse_inf("[Registry Keys]\nMACHINE\\SOFTWARE,2,x\n", "s.inf")
    assert err.value.line == 2
