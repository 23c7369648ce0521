"""match (across lists), intersects, in_fiscal_year."""

from datetime import date

import pytest

from auditor import conditions as c

ROSTER = [
    {"employee_id": "00123", "name": "石岡　太郎", "status": "left", "effective_date": "2026-09-30"},
    {"employee_id": "00124", "name": "筑波 花子", "status": "active", "effective_date": "2026-04-01"},
]
ACCOUNTS = [
    {"name": "t.ishioka", "employee_id": "00123", "display_name": "石岡 太郎", "enabled": True},
    {"name": "h.tsukuba", "employee_id": "00124", "display_name": "筑波 花子", "enabled": True},
    {"name": "svc-backup", "employee_id": None, "display_name": "Backup", "enabled": True},
]


def ctx(**params):
    return c.Context(params=params, as_of=date(2026, 11, 2), item_key="name",
                     root={"directory_accounts": ACCOUNTS, "org": {"hr_roster": ROSTER}}, cache={})


def test_match_finds_corresponding_records_with_a_condition():
    cond = {"none": {"where": {"all_of": [
        {"field": "enabled", "eq": True},
        {"match": {"in": "org.hr_roster", "by": {"employee_id": "employee_id"},
                   "where": {"field": "status", "eq": "left"}}}]}}}
    assert c.validate(cond) == []
    outcome = c.evaluate(cond, ACCOUNTS, ctx(), "directory_accounts")
    assert [f.item for f in outcome.findings] == ["t.ishioka"]


def test_match_by_name_normalises_width_and_spaces():
    cond = {"match": {"in": "org.hr_roster", "by": {"name": "display_name"}}}
    context = ctx()
    assert c.holds(cond, ACCOUNTS[0], context)  # 全角スペース in the roster, half-width in AD
    assert not c.holds(cond, ACCOUNTS[2], context)


@pytest.mark.parametrize(("theirs", "mine", "matched"), [
    ("123", "00123", True),  # Excel read the roster's CSV as numbers and saved it again
    ("０１２３", "123", True),  # full-width digits, as some rosters are typed
    ("000", "0", True),
    ("A0123", "a123", False),  # not a number: letters and zeros are part of the id
    ("123", "1230", False),
])
def test_employee_numbers_of_digits_compare_as_numbers(theirs, mine, matched):
    roster = [{"employee_id": theirs, "status": "left"}]
    accounts = [{"name": f"u{i}", "employee_id": mine} for i in range(200)]  # long enough to be judged at once
    cond = {"match": {"in": "org.hr_roster", "by": {"employee_id": "employee_id"}}}
    for items in (accounts[:1], accounts):
        context = c.Context(params={}, as_of=date(2026, 11, 2), item_key="name",
                            root={"org": {"hr_roster": roster}}, cache={})
        assert c.holds(cond, items[0], context) is matched
        assert len(c.select(cond, items, context)) == (len(items) if matched else 0)


def test_empty_keys_match_nothing_and_missing_lists_are_missing():
    cond = {"match": {"in": "org.hr_roster", "by": {"employee_id": "employee_id"}}}
    assert not c.holds(cond, ACCOUNTS[2], ctx())
    lost = c.Context(params={}, as_of=date(2026, 11, 2), root={"org": {}}, cache={})
    with pytest.raises(c.MissingFact):
        c.holds(cond, ACCOUNTS[0], lost)


def test_match_index_is_built_once_per_target():
    context = ctx()
    cond = {"match": {"in": "org.hr_roster", "by": {"employee_id": "employee_id"}}}
    c.holds(cond, ACCOUNTS[0], context)
    c.select(cond, ACCOUNTS, context)
    built = dict(context.cache)
    assert any(key[0] == "match" for key in built)
    for account in ACCOUNTS:
        c.holds(cond, account, context)
    c.select(cond, ACCOUNTS, context)
    assert context.cache.keys() == built.keys()
    assert all(context.cache[key] is index for key, index in built.items())


@pytest.mark.parametrize(
    ("cond", "problem"),
    [
        ({"match": {"in": "org.hr_roster"}}, "record field to item field"),
        ({"match": {"in": "", "by": {"a": "b"}}}, "dotted path"),
        ({"match": {"in": "x", "by": {"a": "b"}, "whre": {}}}, "unknown key"),
    ],
)
def test_match_validation(cond, problem):
    assert any(problem in text for _, text in c.validate(cond))


def test_intersects_is_case_insensitive():
    cond = {"field": "groups", "intersects": ["Domain Admins", "Enterprise Admins"]}
    assert c.holds(cond, {"groups": ["Users", "domain admins"]}, ctx())
    assert not c.holds(cond, {"groups": ["Users"]}, ctx())
    assert not c.holds(cond, {"groups": []}, ctx())


@pytest.mark.parametrize(
    ("value", "inside"),
    [("2026-04-01", True), ("2026-11-02", True), ("2026-03-31", False), ("2027-03-31", True),
     ("2027-04-01", False), (None, False)],
)
def test_in_fiscal_year_of_the_evaluation_date(value, inside):
    assert c.holds({"in_fiscal_year": True}, value, ctx()) is inside


def test_none_shows_the_item_fields_not_the_other_lists_fields():
    cond = {"none": {"where": {"all_of": [
        {"field": "enabled", "eq": True},
        {"match": {"in": "org.hr_roster", "by": {"employee_id": "employee_id"},
                   "where": {"field": "status", "eq": "left"}}}]}}}
    finding = c.evaluate(cond, ACCOUNTS, ctx(), "directory_accounts").findings[0]
    assert finding.as_dict()["actual"] == {"enabled": True, "employee_id": "00123"}


def test_absent_values_never_reach_a_report():
    assert c.Finding("x", c.MISSING, "present").as_dict()["actual"] == "(absent)"
    assert c.Finding("x", {"a": 1, "b": c.MISSING}, "e").as_dict()["actual"] == {"a": 1}
