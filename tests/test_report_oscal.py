"""--format oscal: the run as an OSCAL 1.1.3 assessment-results document, valid against NIST's own schema.

The schema (tests/fixtures/oscal, see its README) writes its token pattern with ``\\p{L}`` and ``\\p{N}``,
which Python's ``re`` cannot compile; the validator here checks every ``pattern`` with the ``regex``
module instead (same semantics as the schema's ECMA-262 patterns for these classes), and every
``format`` with jsonschema's checker (date-time, uri and uri-reference through rfc3339-validator and
rfc3986-validator). Nothing in the schema is dropped or rewritten.
"""

import copy
import hashlib
import json

import pytest
import regex
from jsonschema import Draft7Validator, FormatChecker, ValidationError, validators
from support import FIXTURES

from auditor.cli import main
from auditor.reports import ReportOptions, formats

SCHEMA = FIXTURES / "oscal" / "oscal_assessment-results_schema.json"
SCHEMA_SHA256 = "d9e34757f0c12aff61f52b821f0b8f83ba0ba75b3a149a202b08ba82f82bc4c3"  # the v1.1.3 release asset
FLEET = FIXTURES.parent.parent / "examples" / "fleet"


def render(doc, options):
    # through the registry: importing auditor.reports.oscal first would leave the other formats unloaded
    return formats()["oscal"](doc, options)


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not regex.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


OscalValidator = validators.extend(Draft7Validator, {"pattern": _pattern})
# jsonschema's own formats, except that a pattern in the schema is compiled by the regex module too
FORMATS = FormatChecker()
FORMATS.checkers = {**Draft7Validator.FORMAT_CHECKER.checkers, "regex": (regex.compile, (regex.error,))}


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA.read_bytes())
    OscalValidator.check_schema(schema, format_checker=FORMATS)
    return OscalValidator(schema, format_checker=FORMATS)


def problems(validator, oscal):
    return [f"{list(e.absolute_path)}: {e.message[:300]}" for e in validator.iter_errors(oscal)]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    out = tmp_path_factory.mktemp("oscal") / "results.json"
    assert main(["audit", str(FLEET), "--format", "json", "--out", str(out), "--as-of", "2026-11-02"]) == 1
    return json.loads(out.read_bytes())


def oscal_of(doc, lang="ja"):
    return json.loads(render(doc, ReportOptions(lang=lang)))


@pytest.fixture(scope="module")
def fleet_oscal(fleet):
    return oscal_of(fleet)


def the_result(oscal):
    [result] = oscal["assessment-results"]["results"]
    return result


def test_the_schema_is_the_release_file_unchanged():
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    assert json.loads(SCHEMA.read_bytes())["$id"] == "http://csrc.nist.gov/ns/oscal/1.1.3/oscal-ar-schema.json"


def test_the_validator_enforces_patterns_and_formats(validator, fleet_oscal):
    """Guard against a vacuous pass: the \\p{..} token pattern and the formats really reject bad values."""
    bad = copy.deepcopy(fleet_oscal)
    result = the_result(bad)
    result["reviewed-controls"]["control-selections"][0]["include-controls"][0]["control-id"] = "1 not a token"
    result["start"] = "2026-13-40T00:00:00Z"
    bad["assessment-results"]["back-matter"]["resources"][1]["rlinks"][0]["href"] = "a file with spaces.json"
    found = "\n".join(problems(validator, bad))
    assert "'1 not a token' does not match" in found
    assert "2026-13-40T00:00:00Z" in found
    assert "'a file with spaces.json' is not a 'uri-reference'" in found


def test_the_example_fleet_validates(validator, fleet_oscal):
    assert problems(validator, fleet_oscal) == []
    meta = fleet_oscal["assessment-results"]["metadata"]
    assert meta["oscal-version"] == "1.1.3"


def test_metadata_and_result_carry_the_run(fleet, fleet_oscal):
    ar = fleet_oscal["assessment-results"]
    assert ar["metadata"]["version"] == fleet["run"]["policy"]["version"]
    assert ar["metadata"]["last-modified"].startswith(fleet["run"]["finished_at"][:19])
    result = the_result(fleet_oscal)
    assert result["start"].startswith(fleet["run"]["started_at"][:19])
    # import-ap resolves inside the document, to the resource describing policy and profile
    plan = ar["import-ap"]["href"]
    resource = next(r for r in ar["back-matter"]["resources"] if f"#{r['uuid']}" == plan)
    values = {p["name"]: p["value"] for p in resource["props"]}
    assert values["policy-sha256"] == fleet["run"]["policy"]["sha256"]
    assert values["profile"] == fleet["run"]["policy"]["profile"]


def test_every_evaluated_control_is_reviewed(fleet, fleet_oscal):
    evaluated = {c for r in fleet["results"] if r["status"] != "notapplicable" for c in r["controls"]}
    [selection] = the_result(fleet_oscal)["reviewed-controls"]["control-selections"]
    reviewed = {c["control-id"] for c in selection["include-controls"]}
    assert evaluated and evaluated <= reviewed


def test_every_failing_control_has_a_not_satisfied_finding(fleet, fleet_oscal):
    failing = {c for r in fleet["results"] if r["status"] == "fail" for c in r["controls"]}
    findings = {f["target"]["target-id"]: f for f in the_result(fleet_oscal)["findings"]}
    assert failing
    for control in failing:
        assert findings[control]["target"]["status"]["state"] == "not-satisfied", control
    passing = {c for c in {r["controls"][0] for r in fleet["results"]}
               if {r["status"] for r in fleet["results"] if c in r["controls"]} <= {"pass", "notapplicable"}
               and any(r["status"] == "pass" for r in fleet["results"] if c in r["controls"])}
    assert passing
    for control in passing:
        assert findings[control]["target"]["status"] == {"state": "satisfied", "reason": "pass"}, control


def test_findings_point_at_observations_that_exist(fleet_oscal):
    result = the_result(fleet_oscal)
    observed = {o["uuid"] for o in result["observations"]}
    for finding in result["findings"]:
        assert {r["observation-uuid"] for r in finding["related-observations"]} <= observed


def test_every_evidence_file_and_its_hash_is_in_the_back_matter(fleet, fleet_oscal):
    ar = fleet_oscal["assessment-results"]
    hashed = {(link["href"], h["value"]) for r in ar["back-matter"]["resources"] for link in r.get("rlinks", [])
              for h in link.get("hashes", []) if h["algorithm"] == "SHA-256"}
    assert fleet["run"]["evidence"]
    for entry in fleet["run"]["evidence"]:
        assert (entry["file"], entry["sha256"]) in hashed
    # and each observation's evidence links resolve to a resource of its own target
    resources = {f"#{r['uuid']}": r for r in ar["back-matter"]["resources"]}
    for obs in the_result(fleet_oscal)["observations"]:
        for evidence in obs.get("relevant-evidence", []):
            if "href" in evidence:
                target = {p["name"]: p["value"] for p in resources[evidence["href"]]["props"]}["target"]
                assert target == obs["subjects"][0]["title"]


def test_rendering_twice_gives_the_same_bytes(fleet):
    assert render(fleet, ReportOptions()) == render(copy.deepcopy(fleet), ReportOptions())
    other = copy.deepcopy(fleet)
    other["run"]["id"] = "another-run"
    assert oscal_of(other)["assessment-results"]["uuid"] != oscal_of(fleet)["assessment-results"]["uuid"]


def test_titles_in_japanese_and_english(validator, fleet):
    ja, en = oscal_of(fleet, "ja"), oscal_of(fleet, "en")
    assert "監査" in ja["assessment-results"]["metadata"]["title"]
    assert "audit" in en["assessment-results"]["metadata"]["title"]
    assert "スコア" in the_result(ja)["description"] and "Score" in the_result(en)["description"]
    assert problems(validator, en) == []


def test_waivers_and_attestations_appear_as_props_and_remarks(validator, fleet):
    doc = copy.deepcopy(fleet)
    fails = [r for r in doc["results"] if r["status"] == "fail"]
    # a failure that is the only one of its controls: once waived, nothing else fails them
    failed = next(r for r in fails if not any(set(o["controls"]) & set(r["controls"]) for o in fails if o is not r))
    failed.update(status="waived", waived_status="fail", waiver={
        "id": "W-2026-001", "reason": "旧システム更改まで", "approver": "情報政策課長",
        "approval_number": "石情第123号", "granted": "2026-04-01", "expires": "2027-03-31"})
    manual = next(r for r in doc["results"] if r["status"] == "manual")
    manual.update(status="pass", attestation={
        "attested_by": "情報政策課 筑波花子", "attested_on": "2026-06-30", "valid_until": "2027-03-31",
        "document": "研修実施報告.pdf", "sha256": "ab" * 32, "statement": None, "file": "attest.yaml", "line": 3})
    oscal = oscal_of(doc)
    assert problems(validator, oscal) == []
    result = the_result(oscal)
    by_check = {(o["props"][0]["value"], o["subjects"][0]["title"]): o for o in result["observations"]}
    waived = by_check[(failed["check"], failed["target"])]
    assert "W-2026-001" in waived["remarks"] and {"name": "real-status", "ns": waived["props"][0]["ns"],
                                                   "value": "fail"} in waived["props"]
    attested = by_check[(manual["check"], manual["target"])]
    assert attested["methods"] == ["EXAMINE"] and "筑波花子" in attested["remarks"]
    # a waived failure does not meet its control: the exception accepts the risk, it is no pass
    finding = next(f for f in result["findings"] if f["target"]["target-id"] == failed["controls"][0])
    assert finding["target"]["status"] == {"state": "not-satisfied", "reason": "fail"}
    assert {"name": "waived", "ns": waived["props"][0]["ns"], "value": "1"} in finding["props"]


def test_hostile_ids_and_texts_keep_json_and_schema_valid(validator, fleet):
    doc = copy.deepcopy(fleet)
    evil_target = ' pc-01\n"<script>alert(1)</script>"\t\u3000'
    evil_file = "C:\\evidence dir/..\\#frag?x=1 ä.json"
    entry = doc["run"]["evidence"][0]
    old_target = entry["target"]
    entry.update(target=evil_target, file=evil_file, collected_at="2026-11-02T09:00:00+09:17", sha256=" ab \n")
    for r in doc["results"]:
        if r["target"] == old_target:
            r["target"] = evil_target
            r["evidence"] = [f"{evil_file}: exports/x.csv"]
            r["message"] = "line one\nline two \ud800 \x00 ]]> }"
            r["title"] = "   "
    for t in doc["targets"]:
        if t["id"] == old_target:
            t["id"] = evil_target
    first = next(r for r in doc["results"] if r["target"] == evil_target and r["status"] != "notapplicable")
    first["controls"] = ["1 bad/control id"]
    doc["run"]["finished_at"] = "2026-11-02T10:00:00"  # no zone
    doc["run"]["started_at"] = "0001-01-01T00:00:00+00:00"
    raw = render(doc, ReportOptions())
    oscal = json.loads(raw)
    assert problems(validator, oscal) == []
    result = the_result(oscal)
    ns = "urn:lg-security-auditor:oscal"
    finding = next(f for f in result["findings"]
                   if {"name": "control-id", "ns": ns, "value": "1 bad/control id"} in f.get("props", []))
    assert finding["target"]["target-id"] == "_1_bad_control_id"
    obs = next(o for o in result["observations"] if o["subjects"][0]["title"] == 'pc-01 "<script>alert(1)</script>"')
    assert obs["collected"] == "2026-11-01T23:43:00Z"  # an offset OSCAL does not know, said in UTC
    assert "line two" in obs["description"]  # multi-line text stays whole where the model allows it
    assert result["start"] == result["end"] == oscal["assessment-results"]["metadata"]["last-modified"]


def test_unread_files_and_a_lone_surrogate_keep_the_document_valid(validator, fleet):
    """A fleet with a file that could not be read lists it in the result's remarks (the gate failed for
    it); a target id with a lone surrogate (read from a JSON escape) still gets its UUIDs."""
    import copy

    doc = copy.deepcopy(fleet)
    doc["run"]["unread"] = [{"path": "fleet/truncated-lg-kikaku-07.json", "problem": "not JSON: line 40"}]
    odd = next(r for r in doc["results"] if r["status"] == "fail")
    odd["target"] = "lg-\ud800-04"
    oscal = oscal_of(doc)
    assert problems(validator, oscal) == []
    result = the_result(oscal)
    assert "fleet/truncated-lg-kikaku-07.json" in result["remarks"]
    assert {"name": "count-unread", "value": "1"}.items() <= next(
        p for p in result["props"] if p["name"] == "count-unread").items()
