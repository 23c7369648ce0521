from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor import conditions as c

CTX = c.Context(params={"n": 8, "ports": [22, 443], "max": 1, "days": 30}, as_of=date(2026, 11, 2), item_key="name")


def run(cond, subject, label="x"):
    assert c.validate(cond) == []
    return c.evaluate(cond, subject, CTX, label)


@pytest.mark.parametrize(
    ("cond", "subject", "passed"),
    [
        ({"eq": 8}, 8, True),
        ({"eq": True}, 1, False),  # a boolean requirement is not met by the number 1
        ({"ne": "none"}, "chrony", True),
        ({"lt": 5}, 5, False),
        ({"le": 5}, 5, True),
        ({"gt": {"param": "n"}}, 9, True),
        ({"ge": {"param": "n"}}, 6, False),
        ({"ge": 8}, None, False),  # "not set" never satisfies an ordering
        ({"in": {"param": "ports"}}, 443, True),
        ({"not_in": [21, 23]}, 23, False),
        ({"regex": "^sha"}, "sha512", True),
        ({"regex": "^sha"}, "yescrypt", False),
        ({"empty": True}, [], True),
        ({"empty": False}, None, False),
        ({"exists": False}, c.MISSING, True),
    ],
)
def test_comparisons(cond, subject, passed):
    assert run(cond, subject).passed is passed


def test_failure_finding_names_item_actual_and_expected():
    outcome = run({"ge": {"param": "n"}}, 6, "password_policy.min_length")
    assert [f.as_dict() for f in outcome.findings] == [
        {"item": "password_policy.min_length", "actual": 6, "expected": ">= 8"}
    ]


def test_missing_fact_is_raised_not_passed():
    with pytest.raises(c.MissingFact) as err:
        run({"field": "min_length", "ge": 8}, {}, "password_policy")
    assert err.value.label == "password_policy.min_length"


def test_type_mismatch_is_an_evaluation_error():
    with pytest.raises(c.EvaluationError):
        run({"ge": 8}, "eight")


ACCOUNTS = [
    {"name": "root", "uid": 0, "admin": True, "empty": False, "changed": "2026-10-30"},
    {"name": "toor", "uid": 0, "admin": True, "empty": True, "changed": "2025-01-01"},
    {"name": "alice", "uid": 1000, "admin": False, "empty": False, "changed": None},
]


def test_none_lists_each_matching_item_with_its_value():
    outcome = run({"none": {"where": {"field": "empty", "eq": True}}}, ACCOUNTS)
    assert [(f.item, f.actual) for f in outcome.findings] == [("toor", True)]


def test_all_with_where_and_require():
    cond = {"all": {"where": {"field": "uid", "eq": 0}, "require": {"field": "changed", "within_days": 30}}}
    outcome = run(cond, ACCOUNTS)
    assert [f.item for f in outcome.findings] == ["toor"]
    assert outcome.findings[0].expected == "changed at most 30 days old"
    assert "days before 2026-11-02" in outcome.findings[0].actual


def test_count_and_any():
    admins = {"count": {"where": {"field": "admin", "eq": True}, "le": {"param": "max"}}}
    assert run(admins, ACCOUNTS).findings[0].actual == 2
    assert run({"any": {"where": {"field": "name", "eq": "alice"}}}, ACCOUNTS).passed
    assert not run({"any": {"where": {"field": "name", "eq": "bob"}}}, ACCOUNTS).passed


def test_logic():
    assert run({"all_of": [{"ge": 1}, {"le": 5}]}, 3).passed
    assert not run({"all_of": [{"ge": 1}, {"le": 5}]}, 0).passed
    assert run({"any_of": [{"eq": 0}, {"ge": 15}]}, 0).passed
    assert not run({"any_of": [{"eq": 0}, {"ge": 15}]}, 10).passed
    assert run({"not": {"eq": "boundary"}}, "office").passed


def test_dates_use_the_context_date_not_the_clock():
    assert run({"within_days": 30}, "2026-10-03T23:59:00+09:00").passed
    assert not run({"within_days": 30}, "2026-10-02").passed
    assert run({"older_than_days": 30}, None).passed  # never is older than any age
    assert not run({"within_days": 30}, None).passed


@pytest.mark.parametrize(
    ("cond", "message"),
    [
        ({"ge": 1, "le": 2}, "several operators"),
        ({}, "no operator"),
        ({"gte": 1}, "unknown operator"),
        ({"none": {"wher": {"eq": 1}}}, "unknown key"),
        ({"regex": "("}, "invalid regular expression"),
        ({"within_days": -1}, "number of days"),
        ({"in": 5}, "list"),
        ({"ge": {"parm": "x"}}, "literal value or {param: NAME}"),
        ({"count": {"where": {"eq": 1}}}, "exactly one of"),
    ],
)
def test_validation_problems(cond, message):
    problems = c.validate(cond)
    assert any(message in text for _, text in problems)


def test_params_are_collected_through_nesting():
    cond = {"all": {"where": {"field": "a", "in": {"param": "p1"}}, "require": {"any_of": [{"ge": {"param": "p2"}}]}}}
    assert c.params_of(cond) == {"p1", "p2"}


@given(st.integers(-1000, 1000), st.integers(-1000, 1000))
def test_ordering_agrees_with_python(a, b):
    for op, expected in (("lt", a < b), ("le", a <= b), ("gt", a > b), ("ge", a >= b), ("eq", a == b), ("ne", a != b)):
        assert c.evaluate({op: b}, a, CTX, "x").passed is expected


@given(st.lists(st.fixed_dictionaries({"name": st.text(min_size=1, max_size=5), "v": st.integers(0, 10)}), max_size=30),
       st.integers(0, 10))
def test_quantifiers_agree_with_python(items, k):
    where = {"field": "v", "ge": k}
    matching = [i for i in items if i["v"] >= k]
    assert c.evaluate({"none": {"where": where}}, items, CTX, "x").passed is (not matching)
    assert c.evaluate({"any": {"where": where}}, items, CTX, "x").passed is bool(matching)
    assert len(c.evaluate({"none": {"where": where}}, items, CTX, "x").findings) == len(matching)
    assert c.evaluate({"count": {"where": where, "eq": len(matching)}}, items, CTX, "x").passed
    assert c.evaluate({"all": {"require": where}}, items, CTX, "x").passed is (len(matching) == len(items))


def test_logic_decides_despite_a_missing_branch_when_it_can():
    failing = {"all_of": [{"field": "a", "eq": 1}, {"field": "b", "eq": 1}]}
    assert not run(failing, {"a": 2}).passed  # a fails: b being absent cannot save it
    with pytest.raises(c.MissingFact):
        run(failing, {"a": 1})  # a holds, b unknown: undecided
    either = {"any_of": [{"field": "a", "eq": 1}, {"field": "b", "eq": 1}]}
    assert run(either, {"b": 1}).passed
    with pytest.raises(c.MissingFact):
        run(either, {"b": 2})


def test_exists_is_decisive_only_about_the_last_key():
    assert run({"field": "area.key", "exists": False}, {"area": {}}).passed
    with pytest.raises(c.MissingFact) as err:
        run({"field": "area.key", "exists": False}, {}, "facts")
    assert err.value.label == "facts.area"


def test_a_finding_shows_absent_values_and_leaves_out_absent_fields():
    from auditor.conditions import MISSING, Finding

    assert Finding("a", MISSING, "x").as_dict() == {"item": "a", "actual": "(absent)", "expected": "x"}
    shown = Finding("b", {"enabled": True, "last_logon_at": MISSING, "groups": []}, "y").as_dict()
    assert shown["actual"] == {"enabled": True, "groups": []}
    whole = {"enabled": True, "last_logon_at": None, "n": 0, "s": ""}
    assert Finding("c", whole, "z").as_dict()["actual"] == whole
