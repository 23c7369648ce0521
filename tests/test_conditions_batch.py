"""``where`` filters judged a list at a time agree with the per-item judges.

Quantifiers filter a hundred thousand accounts through list judges (columns read once per
target, whole columns judged in C, dates and keys made once). Here random filters over random
record lists (absent keys, null, wrong types, dates in several forms, bad parameters, records
that are not plain dicts) are judged both ways: the same matches, or the same exception with
the same message. The list judges themselves are also held to their contract: when one
returns, its answer is the per-item one and the per-item judge raised for no item.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor import conditions as c
from auditor.conditions.quantifiers import _name, fields_of

AS_OF = date(2026, 11, 2)


@pytest.fixture(autouse=True, scope="module")
def _short_lists_judged_as_lists():
    """The generated lists are short; lists this short are judged as lists here too."""
    before = c.LIST_JUDGE_MIN
    c.LIST_JUDGE_MIN = 0
    yield
    c.LIST_JUDGE_MIN = before
PARAMS = {"groups": ["Domain Admins", "ＡＤＭＩＮＳ"], "pattern": "^(adm|svc)[-_.]", "days": 90, "text": "left",
          "number": 3, "flag": True, "nothing": None, "bad_days": "90", "bad_list": "Domain Admins",
          "bad_pattern": "(", "bools": [True, 0], "names": ["adm-1", "x.svc"], "huge": 10 ** 9}
DATES = ["2026-08-01T09:00:00+09:00", "2026-08-04T00:00:00Z", "2026-08-04", "2026-08-05", "2025-04-01",
         "2026-03-31T23:59:59-05:00", "2026-02-30", "2026-11-02T24:00:00+09:00", "2026-W44-1", "20261102",
         "2026-11-02T08:41:07.5-05:30", "2026-11-02 08:41", "２０２６-11-02", "2026-11-02T08:41", "not a date",
         "0001-01-01", "9999-12-31T23:59:59+23:59"]
# Instants as the importers write them (with offsets), a second and an hour apart among others.
INSTANTS = ["2026-08-01T09:00:00+09:00", "2026-08-01T09:00:01+09:00", "2026-08-01T10:00:00+09:00",
            "2026-08-01T00:00:00Z", "2026-07-31T20:00:00-04:00", "2025-04-01T08:30:00+09:00",
            "2026-08-04T00:00:00Z"]
TEXTS = ["", "left", "LEFT", "active", "adm-1", "x.svc", "Domain Admins", "domain admins", "３", "00123",
         "ＡＢ123", "ab123", "石岡　太郎", "石岡 太郎", " "]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from([0.0, 2.5, float("nan")]),
                    st.sampled_from(TEXTS + DATES), st.sampled_from([date(2026, 8, 1), datetime(2026, 11, 1, 9)]))
VALUES = st.one_of(SCALARS, st.lists(st.one_of(st.sampled_from(TEXTS), SCALARS), max_size=3),
                   st.dictionaries(st.sampled_from(["b", "c"]), SCALARS, max_size=2))
FIELDS = ["a", "b", "name", "a.b"]
KEYS = ["a", "b", "name", "status", "employee_id"]
# What one field holds across a list: mostly one kind of value, as an export has it.
DOMAINS = [st.booleans(), st.sampled_from(TEXTS), st.sampled_from(DATES[:6]), st.sampled_from(DATES),
           st.one_of(st.none(), st.sampled_from(DATES[:6])), st.one_of(st.none(), st.sampled_from(TEXTS)),
           st.lists(st.sampled_from(TEXTS), max_size=3), st.integers(-2, 2), SCALARS,
           st.dictionaries(st.sampled_from(["b", "c"]), st.sampled_from(TEXTS + DATES[:6]), max_size=2)]


@st.composite
def record_lists(draw, max_size=8):
    """Lists of records whose fields mostly keep one domain, some values odd and some keys absent."""
    domains = {key: draw(st.sampled_from(DOMAINS)) for key in KEYS}
    odd = draw(st.sampled_from([0, 0, 10, 30]))  # in a hundred
    records = []
    for _ in range(draw(st.integers(0, max_size))):
        record = {}
        for key, domain in domains.items():
            roll = draw(st.integers(0, 99))
            if roll >= odd:
                record[key] = draw(domain)
            elif roll >= odd // 2:
                record[key] = draw(VALUES)
        records.append(record)
    return records


RECORD = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=5)
# mostly lists of plain dicts (the list path), sometimes anything else (the per-item path for the whole list)
ITEMS = st.one_of(
    record_lists(), record_lists(),
    st.lists(st.one_of(RECORD, RECORD.map(OrderedDict), SCALARS), max_size=6))
ROSTERS = st.one_of(record_lists(6), st.lists(st.one_of(RECORD, st.just("not a record")), max_size=6))


DAY_COUNTS = st.one_of(st.sampled_from([0, 89, 90, 91, 213, 214, 215, 365]), st.integers(0, 400))


def _value_arg(op):
    literal = {
        "eq": SCALARS, "ne": SCALARS, "lt": SCALARS, "le": SCALARS, "gt": SCALARS, "ge": SCALARS,
        "in": st.lists(SCALARS, max_size=3), "not_in": st.lists(SCALARS, max_size=3),
        "intersects": st.lists(st.one_of(st.sampled_from(TEXTS), SCALARS), max_size=3),
        "regex": st.sampled_from(["^adm", "svc$", "^$", "D.main", "[0-9]"]),
        "older_than_days": DAY_COUNTS, "within_days": DAY_COUNTS,
        "in_fiscal_year": st.booleans(), "exists": st.booleans(), "empty": st.booleans(),
    }[op]
    if op in ("in_fiscal_year", "exists", "empty"):
        return literal
    return st.one_of(literal, st.sampled_from(sorted(PARAMS)).map(lambda name: {"param": name}))


LEAF_OPS = ["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "intersects", "regex", "older_than_days",
            "within_days", "in_fiscal_year", "exists", "empty"]


SPAN_BOUNDS = st.one_of(st.sampled_from([0, 1, 1.5, -2, 24, 90, 365.25, 10 ** 9, "1", None, True]),
                        st.sampled_from(["number", "huge", "bad_days", "flag", "nothing"]).map(lambda n: {"param": n}))


@st.composite
def spans(draw, fields):
    """``elapsed`` between two of ``fields`` of a record, in hours or days, with one bound."""
    arg = {"from": {"field": draw(st.sampled_from(fields))}, "to": {"field": draw(st.sampled_from(fields))},
           draw(st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"])): draw(SPAN_BOUNDS)}
    unit = draw(st.sampled_from([None, "hours", "days"]))
    if unit is not None:
        arg["unit"] = unit
    return {"elapsed": arg}


@st.composite
def leaves(draw):
    if draw(st.integers(0, 15)) == 0:
        return draw(spans(["a", "b", "name"]))
    op = draw(st.sampled_from(LEAF_OPS))
    cond = {op: draw(_value_arg(op))}
    fld = draw(st.sampled_from([*FIELDS, None]) if op not in ("exists",) else st.sampled_from(FIELDS))
    return cond if fld is None else {"field": fld, **cond}


@st.composite
def matches(draw, inner):
    by = draw(st.sampled_from([{"employee_id": "employee_id"}, {"name": "name"}, {"employee_id": "a"},
                               {"employee_id": "employee_id", "name": "name"}]))
    arg = {"in": draw(st.sampled_from(["org.roster", "org.roster", "org.absent", "org.text"])), "by": by}
    if draw(st.booleans()):
        arg["where"] = draw(inner)
    return {"match": arg}


def combined(leaf_conditions, match_of):
    """Conditions built from leaves with all_of, any_of, not and match (``match_of(inner)``)."""
    return st.recursive(
        leaf_conditions,
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3).map(lambda parts: {"all_of": parts}),
            st.lists(inner, min_size=1, max_size=3).map(lambda parts: {"any_of": parts}),
            inner.map(lambda part: {"not": part}),
            match_of(inner)),
        max_leaves=6)


CONDITIONS = combined(leaves(), matches)


# Well-typed filters over well-typed lists, so that the list judges mostly answer themselves.
TYPED = {  # field: (its values, conditions that suit them)
    "flag": (st.booleans(), ["eq", "ne", "in", "not_in"]),
    "text": (st.one_of(st.sampled_from(TEXTS), st.none()), ["eq", "ne", "in", "not_in", "regex", "empty"]),
    "when": (st.one_of(st.sampled_from(DATES[:6]), st.none()), ["older_than_days", "within_days", "in_fiscal_year",
                                                                 "eq", "exists"]),
    "groups": (st.one_of(st.lists(st.sampled_from(TEXTS), max_size=3), st.none()), ["intersects", "empty"]),
    "num": (st.integers(-2, 2), ["lt", "le", "gt", "ge", "eq", "in"]),
    "since": (st.one_of(st.sampled_from(INSTANTS), st.none()), ["exists"]),
    "employee_id": (st.one_of(st.sampled_from(TEXTS), st.none()), ["eq", "regex"]),
}
TYPED_PARAMS = {"eq": {"text": "text", "flag": "flag", "when": "nothing"}, "regex": "pattern",
                "older_than_days": "days", "within_days": "days", "intersects": "groups", "in": "names",
                "not_in": "names"}


@st.composite
def typed_leaves(draw):
    if draw(st.integers(0, 7)) == 0:
        return draw(spans(["since", "since", "when"]))
    fld = draw(st.sampled_from(sorted(TYPED)))
    values, ops = TYPED[fld]
    op = draw(st.sampled_from(ops))
    if op in ("in_fiscal_year", "exists", "empty"):
        arg = draw(st.booleans())
    elif op in ("in", "not_in", "intersects"):
        arg = draw(st.lists(values, max_size=3).map(lambda v: [x for x in v if not isinstance(x, list)]))
    elif op in ("older_than_days", "within_days"):
        arg = draw(DAY_COUNTS)
    elif op == "regex":
        arg = draw(st.sampled_from(["^adm", "svc$", "^$", "[0-9]", "Domain"]))
    else:
        arg = draw(values.filter(lambda v: not isinstance(v, list)))
    named = TYPED_PARAMS.get(op)
    name = named.get(fld) if isinstance(named, dict) else named
    if name is not None and draw(st.booleans()):
        arg = {"param": name}
    return {"field": fld, op: arg}


TYPED_CONDITIONS = combined(typed_leaves(), lambda inner: st.builds(
    lambda by, where: {"match": {"in": "org.roster", "by": by, **where}},
    st.sampled_from([{"employee_id": "employee_id"}, {"name": "text"}, {"employee_id": "employee_id", "name": "text"}]),
    st.one_of(st.just({}), inner.map(lambda w: {"where": w}))))


@st.composite
def typed_lists(draw, max_size=10):
    records = []
    for _ in range(draw(st.integers(1, max_size))):
        record = {}
        for fld, (values, _) in TYPED.items():
            if draw(st.integers(0, 299)) != 299:  # now and then a record lacks a field
                record[fld] = draw(values)
        record["name"] = record.get("text")
        records.append(record)
    return records


def context(roster, key="name"):
    return c.Context(params=PARAMS, as_of=AS_OF, item_key=key, cache={},
                     root={"org": {"roster": roster, "text": "not a list"}})


def outcome(fn, *args):
    try:
        return ("value", fn(*args))
    except Exception as exc:  # noqa: BLE001 - the exception is the outcome compared
        return (type(exc).__name__, str(exc))


def one_by_one(cond, items, ctx, label=""):
    judge = c.compiled(cond)
    return [i for i, item in enumerate(items) if judge(item, ctx, c.label_path(label, i))]


def frame_answer(cond, items, roster):
    """The list judge's own answer over the whole list (it may raise where the data are unusual)."""
    ctx = context(roster)
    frame = c.Frame.of(items, ctx)
    judge = c.selector(cond)
    frame.read(judge.fields)
    return outcome(judge.run, frame, frame.everything, ctx)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cond=CONDITIONS, items=ITEMS, roster=ROSTERS)
def test_list_judges_select_what_item_judges_select(cond, items, roster):
    expected = outcome(one_by_one, cond, items, context(roster))
    assert outcome(lambda: c.select_positions(cond, items, context(roster))[0]) == expected
    assert outcome(c.select, cond, items, context(roster)) == (
        expected if expected[0] != "value" else ("value", [items[i] for i in expected[1]]))
    if items and c.plain(items):  # the contract: an answer only where the per-item path has the same one
        found = frame_answer(cond, items, roster)
        if found[0] == "value":
            assert found == expected


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conds=st.lists(CONDITIONS, min_size=2, max_size=4), items=record_lists(), roster=ROSTERS)
def test_checks_sharing_a_target_share_its_columns_without_changing_answers(conds, items, roster):
    shared = context(roster)  # one target: columns, verdicts and indexes are kept between filters
    for cond in conds:
        assert outcome(lambda cond=cond: c.select_positions(cond, items, shared)[0]) == \
            outcome(one_by_one, cond, items, context(roster))


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cond=TYPED_CONDITIONS, items=typed_lists(), roster=typed_lists(6))
def test_well_typed_filters_are_judged_as_item_by_item(cond, items, roster):
    expected = outcome(one_by_one, cond, items, context(roster))
    assert outcome(lambda: c.select_positions(cond, items, context(roster))[0]) == expected
    found = frame_answer(cond, items, roster)
    if found[0] == "value":
        assert found == expected


def _old_none(where, items, ctx, label):
    """``none`` as it was made item by item: each match a finding named by the item key."""
    judge = c.compiled(where)
    matched = [(i, item) for i, item in enumerate(items) if judge(item, ctx, c.label_path(label, i))]
    if not matched:
        return True, []
    fields = fields_of(where)
    expected = c.describe({"none": {"where": where}}, ctx)
    findings = []
    for i, item in matched:
        if len(fields) == 1:
            actual = c.getter(fields[0])(item)
        elif fields:
            actual = {f: c.getter(f)(item) for f in fields}
        else:
            actual = item
        findings.append(c.Finding(_name(item, i, ctx, label), actual, expected).as_dict())
    return False, findings


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(where=CONDITIONS, items=ITEMS, roster=ROSTERS,
       key=st.sampled_from([None, "", "name", "a.b", "{name} ({a.b}:{status})", "{employee_id} {name}", "plain {",
                           "{x}"]))
def test_none_findings_are_made_as_item_by_item(where, items, roster, key):
    def new():
        result = c.evaluate({"none": {"where": where}}, items, context(roster, key), "accounts")
        return result.passed, [f.as_dict() for f in result.findings]

    assert repr(outcome(new)) == repr(outcome(_old_none, where, items, context(roster, key), "accounts"))


def _accounts(n):
    """Directory accounts as importers write them, with the checks' shapes of values."""
    return [{"name": f"u{i:06d}", "display_name": f"架空 職員{i}", "employee_id": None if i % 11 == 0 else f"{i:06d}",
             "enabled": i % 17 != 0, "created_at": f"2019-04-{i % 28 + 1:02d}T08:30:00+09:00",
             "last_logon_at": None if i % 23 == 0 else f"2026-{i % 12 + 1:02d}-{i % 28 + 1:02d}T0{i % 10}:01:01+09:00",
             "groups": ["Domain Users", "Domain Admins"] if i % 50 == 0 else ["Domain Users"],
             "source": {"file": "ad-users.csv", "line": i + 3}} for i in range(n)]


DIRECTORY_FILTERS = [
    {"all_of": [{"field": "enabled", "eq": True}, {"field": "groups", "intersects": {"param": "groups"}},
                {"not": {"field": "name", "regex": {"param": "pattern"}}}]},
    {"all_of": [{"field": "enabled", "eq": True}, {"field": "last_logon_at", "older_than_days": {"param": "days"}},
                {"field": "created_at", "older_than_days": {"param": "days"}}]},
    {"all_of": [{"field": "enabled", "eq": True}, {"match": {
        "in": "org.roster", "by": {"employee_id": "employee_id"},
        "where": {"all_of": [{"field": "status", "eq": "left"},
                             {"field": "effective_date", "older_than_days": 3}]}}}]},
    {"all_of": [{"field": "enabled", "eq": True}, {"field": "employee_id", "eq": None},
                {"match": {"in": "org.roster", "by": {"name": "display_name"}}}]},
    {"all_of": [{"field": "enabled", "eq": True}, {"any_of": [
        {"field": "name", "regex": "^u0000"}, {"field": "display_name", "regex": {"param": "pattern"}}]},
        {"field": "name", "not_in": {"param": "names"}}]},
    {"all_of": [{"field": "last_logon_at", "in_fiscal_year": True}, {"field": "source.line", "gt": 50}]},
]


def test_directory_filters_are_judged_a_list_at_a_time():
    # The list judges must answer for clean directory data (no per-item fallback), and rightly.
    accounts = _accounts(400)
    roster = [{"employee_id": f"{i:06d}", "name": f"架空　職員{i}", "status": "left" if i % 6 == 2 else "active",
               "effective_date": f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}"} for i in range(0, 400, 2)]
    shared = context(roster)
    for where in DIRECTORY_FILTERS:
        judge = c.selector(where)
        frame = c.Frame.of(accounts, shared)
        frame.read(judge.fields)
        found = judge.run(frame, frame.everything, shared)
        expected = one_by_one(where, accounts, context(roster))
        assert found == expected
        assert 0 < len(found) < len(accounts)


def test_an_absent_field_of_a_survivor_is_the_per_item_error():
    accounts = _accounts(30)
    del accounts[20]["last_logon_at"]
    accounts[5]["last_logon_at"] = "yesterday"  # a disabled account's: never judged
    accounts[5]["enabled"] = False
    where = DIRECTORY_FILTERS[1]
    expected = outcome(one_by_one, where, accounts, context([]))
    assert expected == ("MissingFact", "[20].last_logon_at")
    assert outcome(lambda: c.select_positions(where, accounts, context([]))[0]) == expected
    del accounts[20]
    assert c.select_positions(where, accounts, context([]))[0] == one_by_one(where, accounts, context([]))


def _old_any(where, items, ctx, label):
    judge = c.compiled(where)
    if any(judge(item, ctx, c.label_path(label, i)) for i, item in enumerate(items)):  # stops at the first match
        return True, []
    return False, [c.Finding(label, f"none of {len(items)} items",
                             c.describe({"any": {"where": where}}, ctx)).as_dict()]


def _old_all(where, require, items, ctx, label):
    judge = c.compiled(where)
    findings = []
    for i, item in enumerate(items):  # each match's requirement judged before the next item is filtered
        if judge(item, ctx, c.label_path(label, i)):
            outcome = c.evaluate(require, item, ctx, "")
            for f in outcome.findings:
                findings.append(c.Finding(_name(item, i, ctx, label), f.actual,
                                          f"{f.item} {f.expected}" if f.item else f.expected).as_dict())
    return not findings, findings


def _old_count(where, items, ctx, label):
    n = len(one_by_one(where, items, ctx, label))
    if n <= 2:
        return True, []
    return False, [c.Finding(label, n, c.describe({"count": {"where": where, "le": 2}}, ctx)).as_dict()]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(where=st.one_of(CONDITIONS, TYPED_CONDITIONS), require=st.one_of(leaves(), typed_leaves()),
       items=st.one_of(ITEMS, typed_lists()), roster=ROSTERS, key=st.sampled_from([None, "name", "{name} {a.b}"]))
def test_any_all_and_count_judge_as_item_by_item(where, require, items, roster, key):
    def new(cond):
        result = c.evaluate(cond, items, context(roster, key), "accounts")
        return result.passed, [f.as_dict() for f in result.findings]

    for cond, old in (({"any": {"where": where}}, lambda: _old_any(where, items, context(roster, key), "accounts")),
                      ({"all": {"where": where, "require": require}},
                       lambda: _old_all(where, require, items, context(roster, key), "accounts")),
                      ({"count": {"where": where, "le": 2}},
                       lambda: _old_count(where, items, context(roster, key), "accounts"))):
        assert repr(outcome(new, cond)) == repr(outcome(old)), cond


def test_any_stops_at_its_first_match_and_all_judges_each_match_in_turn():
    # A later item's absent field is never reached by any; all reports the earlier requirement's error.
    items = [{"a": 1, "b": 1}, {"b": 2}]
    ctx = context([])
    assert c.evaluate({"any": {"where": {"field": "a", "eq": 1}}}, items, ctx, "x").passed
    cond = {"all": {"where": {"field": "a", "eq": 1}, "require": {"field": "c", "eq": 1}}}
    assert outcome(lambda: c.evaluate(cond, items, ctx, "x")) == ("MissingFact", "c")
