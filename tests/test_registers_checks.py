"""The register checks' machinery (#14): ``joined`` and ``days_between`` (an item judged with its record of
another list), and the run's own targets given to the organisation (``audit_targets``, GL-C15)."""

import json
from datetime import date

import pytest

from auditor import bundles, inventory
from auditor import conditions as c
from auditor.cli import main

CONTRACTS = [
    {"account": "v-sato01", "vendor": "A", "contract_start": "2025-04-01", "contract_end": "2026-03-31"},
    {"account": "V-SATO01", "vendor": "A", "contract_start": "2026-04-01", "contract_end": "2027-03-31"},  # renewed
    {"account": "v-tanaka01", "vendor": "B", "contract_start": "2025-04-01", "contract_end": "2026-03-31"},
    {"account": None, "vendor": "C", "contract_start": None, "contract_end": None},
]
ACCOUNTS = [
    {"name": "v-sato01", "enabled": True, "expires_at": "2027-04-01T00:00:00+09:00"},
    {"name": "v-tanaka01", "enabled": True, "expires_at": None},
    {"name": "t.ishioka", "enabled": True, "expires_at": None},
]
EXPIRES_LATE = {"joined": {"in": "org.vendor_accounts", "by": {"account": "name"}, "as": "contract",
                           "latest": "contract_end", "where": {"any_of": [
                               {"field": "expires_at", "empty": True},
                               {"days_between": {"from": "contract.contract_end", "to": "expires_at", "gt": 1}}]}}}


def ctx(**params):
    return c.Context(params=params, as_of=date(2026, 11, 2), item_key="name",
                     root={"directory_accounts": ACCOUNTS, "org": {"vendor_accounts": CONTRACTS}}, cache={})


def test_joined_judges_each_account_against_its_latest_contract():
    cond = {"none": {"where": EXPIRES_LATE}}
    assert c.validate(cond) == []
    outcome = c.evaluate(cond, ACCOUNTS, ctx(), "directory_accounts")
    # v-sato01 expires the midnight after its renewed contract ends (allowed); without latest, the old one fails it
    assert [f.item for f in outcome.findings] == ["v-tanaka01"]
    every = {"none": {"where": {"joined": {**EXPIRES_LATE["joined"], "latest": None}}}}
    del every["none"]["where"]["joined"]["latest"]
    assert [f.item for f in c.evaluate(every, ACCOUNTS, ctx(), "directory_accounts").findings] == [
        "v-sato01", "v-tanaka01"]


@pytest.mark.parametrize(("record", "cmp", "holds"), [
    ({"a": "2026-04-01", "b": "2027-03-31"}, {"eq": 364}, True),  # 2027 is no leap year
    ({"a": "2026-04-01", "b": "2027-03-31"}, {"gt": {"param": "limit"}}, False),
    ({"a": "2026-04-01", "b": "2026-03-31T23:00:00+09:00"}, {"lt": 0}, True),
    ({"a": "2026-04-01", "b": None}, {"lt": 100000}, False),  # null never satisfies an ordering
    ({"a": "", "b": "2026-04-01"}, {"ge": 0}, False),
])
def test_days_between_two_fields(record, cmp, holds):
    cond = {"days_between": {"from": "a", "to": "b", **cmp}}
    assert c.validate(cond) == []
    assert c.holds(cond, record, ctx(limit=365)) is holds


def test_days_between_of_an_absent_field_is_missing_evidence():
    with pytest.raises(c.MissingFact):
        c.holds({"days_between": {"from": "a", "to": "b", "gt": 0}}, {"a": "2026-04-01"}, ctx())


@pytest.mark.parametrize(("cond", "problem"), [
    ({"joined": {"in": "x", "by": {"a": "b"}, "as": "r"}}, "required key is missing"),
    ({"joined": {"in": "x", "by": {"a": "b"}, "as": "r", "where": {"exists": True}, "on": 1}}, "unknown key"),
    ({"joined": {"in": "x", "by": [], "as": "r", "where": {"exists": True}}}, "record field to item field"),
    ({"days_between": {"from": "a", "to": "b"}}, "exactly one of"),
    ({"days_between": {"from": "a", "to": "b", "gt": "1"}}, "whole number of days"),
    ({"days_between": {"from": "a", "gt": 1}}, "dotted path of a date"),
])
def test_validation_names_the_mistake(cond, problem):
    assert any(problem in message for _, message in c.validate(cond))


def bundle(path, target_id, kind, collected_at, facts):
    doc = {"format": "auditor-evidence/1",
           "target": {"id": target_id, "kind": kind, "segment": None, "department": None, "labels": {}},
           "collected_at": collected_at, "collector": {"name": "test", "version": "0", "host": "h"},
           "facts": facts, "sources": [], "errors": []}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_the_organisation_gets_the_runs_targets_dated_by_the_newest(tmp_path):
    bundle(tmp_path / "org.json", "city", "organization", "2026-10-01T09:00:00+09:00", {"asset_register": []})
    bundle(tmp_path / "a.json", "PC-01", "endpoint", "2026-10-20T09:00:00+09:00", {})
    bundle(tmp_path / "b.json", "PC-01", "endpoint", "2026-10-30T09:00:00+09:00", {"os": {"family": "linux"}})
    groups = bundles.index([tmp_path])
    org = inventory.attach(bundles.organization(groups), groups)
    assert org.facts["audit_targets"] == [{"id": "PC-01", "kind": "endpoint", "segment": None, "department": None,
                                           "collected_at": "2026-10-30T09:00:00+09:00"}]
    assert org.area_date["audit_targets"] == date(2026, 10, 30)
    assert inventory.attach(None, groups) is None


def test_a_bundle_may_not_supply_the_runs_targets(tmp_path, capsys):
    forged = [{"id": "PC-01", "kind": "endpoint", "collected_at": "2026-10-30T09:00:00+09:00"}]
    bundle(tmp_path / "org.json", "city", "organization", "2026-10-30T09:00:00+09:00",
           {"asset_register": [{"asset_id": "A-1", "host_name": "PC-02", "status": "active",
                                "source": {"file": "a.csv", "line": 2}}], "audit_targets": forged})
    main(["audit", str(tmp_path), "--format", "json", "--lang", "en"])
    results = [r for r in json.loads(capsys.readouterr().out)["results"] if r["check"] == "asset-evidence-fresh"]
    assert [r["status"] for r in results] == ["error"]
    assert "written by the audit from the run's bundles" in results[0]["message"]


def test_registered_endpoints_are_compared_by_host_name_or_asset_number(tmp_path, capsys):
    def asset(asset_id, host, status, line):
        return {"asset_id": asset_id, "host_name": host, "status": status, "source": {"file": "a.csv", "line": line}}

    register = [asset("A-1", "pc-lg-01", "active", 2), asset("PC-LG-02", None, "active", 3),
                asset("A-3", "PC-LG-03", "disposed", 4)]
    bundle(tmp_path / "org.json", "city", "organization", "2026-10-30T09:00:00+09:00", {"asset_register": register})
    for host in ("PC-LG-01", "pc-lg-02", "pc-lg-03"):
        bundle(tmp_path / f"{host}.json", host, "endpoint", "2026-10-29T09:00:00+09:00", {})
    main(["audit", str(tmp_path), "--format", "json", "--lang", "en", "--as-of", "2026-11-02"])
    results = {r["check"]: r for r in json.loads(capsys.readouterr().out)["results"] if r["target"] == "city"}
    registered = results["asset-endpoints-registered"]
    assert registered["status"] == "fail" and [f["item"] for f in registered["findings"]] == ["pc-lg-03"]  # disposed
    assert results["asset-evidence-fresh"]["status"] == "pass"
