"""Not evaluated is not one lump: evidence not supplied (and who supplies it) apart from evidence broken."""

import json

from support import MINI_POLICY, make_bundle

from auditor.cli import main


def audit(capsys, *paths):
    main(["audit", *map(str, paths), "--policy", str(MINI_POLICY), "--format", "json"])
    return json.loads(capsys.readouterr().out)


def by_check(doc):
    return {r["check"]: r for r in doc["results"]}


def test_a_fact_never_collected_is_not_supplied_naming_its_suppliers(capsys, write_bundle):
    bundle = make_bundle()
    del bundle["facts"]["patches"]
    doc = audit(capsys, write_bundle("pc.json", bundle))
    cause = by_check(doc)["patched"]["cause"]
    assert cause["kind"] == "not-supplied" and cause["area"] == "patches"
    assert "auditor import hotfix" in cause["supplied_by"] and "auditor collect (Linux)" in cause["supplied_by"]
    assert doc["coverage"] == {"applicable": 4, "evaluated": 3, "share": 75.0, "not_supplied": 1, "broken": 0}


def test_what_the_collector_could_not_collect_is_quoted(capsys, write_bundle):
    bundle = make_bundle()
    del bundle["facts"]["patches"]
    bundle["errors"] = [{"area": "patches", "message": "dpkg.log: permission denied"}]
    cause = by_check(audit(capsys, write_bundle("pc.json", bundle)))["patched"]["cause"]
    assert cause["kind"] == "not-supplied" and cause["reported"][0].endswith("dpkg.log: permission denied")


def test_an_invalid_area_is_broken_naming_file_and_field(capsys, write_bundle):
    path = write_bundle("pc.json", make_bundle(facts__password_policy={"min_length": "eight"}))
    doc = audit(capsys, path)
    assert by_check(doc)["min-length"]["cause"] == {"kind": "broken", "file": str(path),
                                                    "field": "facts.password_policy.min_length"}
    assert doc["coverage"]["broken"] == 1 and doc["targets"][0]["coverage"]["broken"] == 1


def test_two_files_that_disagree_are_broken_naming_both(capsys, write_bundle):
    one = write_bundle("a.json", make_bundle())
    two = write_bundle("b.json", make_bundle(facts__password_policy={"min_length": 12}))
    cause = by_check(audit(capsys, one, two))["min-length"]["cause"]
    assert cause == {"kind": "broken", "file": f"{one}, {two}", "field": "facts.password_policy"}


def test_a_broken_body_breaks_every_check_of_the_target(capsys, write_bundle):
    path = write_bundle("pc.json", make_bundle(facts="not an object"))
    doc = audit(capsys, path)
    assert {r["cause"]["kind"] for r in doc["results"] if r["status"] == "error"} == {"broken"}
    assert doc["coverage"]["share"] == 0.0
