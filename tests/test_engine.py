"""Evidence in, results out: statuses, merging, time reference, findings."""

from datetime import date

import pytest
from support import MINI_POLICY, make_bundle

from auditor import bundles
from auditor.engine import Engine
from auditor.errors import InputError
from auditor.policy import load_policy
from auditor.selection import resolve


def audit(paths, as_of=None, profile=None):
    selection = resolve(load_policy(MINI_POLICY), profile)
    results = Engine(selection, as_of=as_of).run(bundles.stream(bundles.index(paths)))
    return {(r.target.id, r.check.id): r for r in results}


def test_compliant_endpoint_passes_every_applicable_check(write_bundle):
    res = audit([write_bundle("a.json", make_bundle())])
    assert {k[1]: r.status for k, r in res.items()} == {
        "empty-pw": "pass", "forwarding": "pass", "min-length": "pass", "patched": "pass"}
    assert res[("pc-001", "min-length")].message["en"] == "Compliant (value: 8)"


def test_fail_carries_findings_and_rendered_message(write_bundle):
    bundle = make_bundle(facts__password_policy={"min_length": 6})
    r = audit([write_bundle("a.json", bundle)])[("pc-001", "min-length")]
    assert r.status == "fail"
    assert [f.as_dict() for f in r.findings] == [
        {"item": "password_policy.min_length", "actual": 6, "expected": ">= 8"}]
    assert r.message == {"ja": "最小長 6（基準 8）", "en": "min length 6 (need 8)"}


def test_missing_fact_is_error_naming_fact_and_collector_error(write_bundle):
    bundle = make_bundle(errors=[{"area": "routing", "message": "/proc/sys/net/ipv4/ip_forward: Permission denied"}])
    del bundle["facts"]["routing"]
    r = audit([write_bundle("a.json", bundle)])[("pc-001", "forwarding")]
    assert r.status == "error"
    assert "routing.ip_forward_v4 is missing" in r.message["en"]
    assert "Permission denied" in r.message["en"]


def test_segment_filter_gives_notapplicable_not_pass(write_bundle):
    bundle = make_bundle(target__segment="internet")
    bundle["facts"]["routing"]["ip_forward_v4"] = True
    r = audit([write_bundle("a.json", bundle)])[("pc-001", "forwarding")]
    assert r.status == "notapplicable" and "internet" in r.message["en"]


def test_time_is_judged_as_of_collection_or_override(write_bundle):
    path = write_bundle("a.json", make_bundle(collected_at="2026-11-02T08:00:00+09:00"))
    assert audit([path])[("pc-001", "patched")].status == "pass"  # 13 days before collection
    late = audit([path], as_of=date(2027, 1, 1))[("pc-001", "patched")]
    assert late.status == "fail" and "73 days before 2027-01-01" in late.findings[0].actual


def test_broken_body_makes_only_that_target_error(write_bundle):
    write_bundle("fleet/good.json", make_bundle())
    broken = make_bundle(target__id="pc-002", facts=[])
    path = write_bundle("fleet/broken.json", broken)
    res = audit([path.parent])
    assert {r.status for k, r in res.items() if k[0] == "pc-002"} == {"error"}
    assert "broken.json: facts: expected dict" in res[("pc-002", "min-length")].message["en"]
    assert {r.status for k, r in res.items() if k[0] == "pc-001"} == {"pass"}


def test_invalid_area_errors_only_the_checks_reading_it(write_bundle):
    bundle = make_bundle(facts__password_policy={"min_length": "eight"})
    res = audit([write_bundle("a.json", bundle)])
    assert res[("pc-001", "min-length")].status == "error"
    assert "facts.password_policy.min_length" in res[("pc-001", "min-length")].message["en"]
    assert res[("pc-001", "empty-pw")].status == "pass"


def test_bundles_merge_by_target_and_conflicts_name_both_files(write_bundle):
    one = make_bundle()
    del one["facts"]["accounts"]
    two = make_bundle(facts={"accounts": [{"name": "bob", "password_empty": True}]})
    res = audit([write_bundle("one.json", one), write_bundle("two.json", two)])
    assert res[("pc-001", "empty-pw")].status == "fail"
    assert res[("pc-001", "min-length")].status == "pass"
    three = make_bundle(facts={"password_policy": {"min_length": 12}})
    res = audit([write_bundle("one.json", one), write_bundle("three.json", three)])
    msg = res[("pc-001", "min-length")].message["en"]
    assert res[("pc-001", "min-length")].status == "error" and "one.json" in msg and "three.json" in msg


def test_header_disagreement_is_a_target_error(write_bundle):
    res = audit([write_bundle("one.json", make_bundle()),
                 write_bundle("two.json", make_bundle(target__segment="mynumber", facts={}))])
    assert {r.status for r in res.values()} == {"error"}
    assert "disagree on target.segment" in res[("pc-001", "patched")].message["en"]


@pytest.mark.parametrize(
    ("content", "where", "problem"),
    [
        ("{not json", None, "not valid JSON"),
        ("[1, 2]", None, "expected a JSON object"),
        ('{"format": "auditor-evidence/0"}', "format", "expected 'auditor-evidence/1'"),
    ],
)
def test_unattributable_files_are_input_errors(write_bundle, content, where, problem):
    path = write_bundle("bad.json", content)
    with pytest.raises(InputError) as err:
        bundles.index([path])
    assert err.value.file == str(path) and err.value.where == where and problem in err.value.problem


def test_bad_target_header_names_the_field(write_bundle):
    path = write_bundle("bad.json", make_bundle(target__kind="laptop"))
    with pytest.raises(InputError) as err:
        bundles.index([path])
    assert err.value.where == "target.kind" and "laptop" in err.value.problem


def test_missing_path_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file or directory"):
        bundles.index([tmp_path / "nope"])


def test_results_are_in_target_then_check_order(write_bundle):
    write_bundle("d/z.json", make_bundle(target__id="zz"))
    write_bundle("d/a.json", make_bundle(target__id="aa"))
    keys = list(audit([write_bundle("d/m.json", make_bundle(target__id="mm")).parent]))
    assert keys == sorted(keys)


def test_an_audit_leaves_no_target_in_cyclic_garbage(write_bundle, capsys):
    # audit keeps the cycle collector paused while it judges a fleet, target by target: a cycle
    # through one target's judging (a missing fact's traceback, say) would keep every target's
    # evidence alive until the run ends. The default policy's checks miss most facts here.
    import gc

    from auditor.bundles import Target
    from auditor.cli import main
    from auditor.conditions import Context

    for i in range(5):
        write_bundle(f"fleet/pc-{i}.json", make_bundle(target__id=f"pc-{i}"))
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        main(["audit", str(write_bundle("fleet/pc-0.json", make_bundle(target__id="pc-0")).parent),
              "--format", "json"])
        gc.collect()
        kept = [type(o).__name__ for o in gc.garbage if isinstance(o, Target | Context)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    capsys.readouterr()
    assert kept == []
