"""The per-record fast paths of the check language agree with the plain definitions.

Conditions judged once per account (compiled comparisons that read their field themselves,
literal and parameter tests bound once, memoised instant dates, item names from parsed
templates, ``match`` compiled with its index) are compared here, on generated subjects,
with straightforward reference implementations of what each operator means: the same
verdict, or the same exception with the same message.
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import conditions as c
from auditor.clock import parse_date
from auditor.conditions import dates
from auditor.conditions.compare import _eq, show
from auditor.conditions.quantifiers import _name

AS_OF = date(2026, 11, 2)
PARAMS = {"groups": ["Domain Admins", "ＡＤＭＩＮＳ"], "pattern": "^(adm|svc)[-_.]", "days": 90, "text": "left",
          "number": 3, "flag": True, "nothing": None, "bad_days": "90", "bad_list": "Domain Admins",
          "bad_pattern": "(", "bools": [True, 0]}

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([0.0, 2.5, float("inf")]),
                    st.sampled_from(["", "left", "LEFT", "adm-1", "x.svc", "Domain Admins", "domain admins", "３",
                                     "2026-11-02", "2026-08-01T09:00:00+09:00", "2026-11-02T24:00:00+09:00",
                                     "not a date"]))
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(st.sampled_from(["a", "b"]), SCALARS,
                                                                           max_size=2))
LITERALS = {
    "eq": SCALARS, "ne": SCALARS, "lt": SCALARS, "le": SCALARS, "gt": SCALARS, "ge": SCALARS,
    "in": st.lists(SCALARS, max_size=3), "not_in": st.lists(SCALARS, max_size=3),
    "intersects": st.lists(SCALARS, max_size=3), "regex": st.sampled_from(["^adm", "svc$", "^$", "D.main"]),
    "older_than_days": st.integers(0, 400), "within_days": st.integers(0, 400),
}
PARAM_NAMES = st.sampled_from(sorted(PARAMS))


def _ordered(a, b):
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, type(b)) and not (
            isinstance(a, int | float) and isinstance(b, int | float)):
        raise TypeError


def _fold(value):
    return value.casefold() if isinstance(value, str) else value


def reference_test(op, subject, expected):
    """What each comparison means, written plainly (raises EvaluationError as the operator must)."""
    if op in ("eq", "ne"):
        return _eq(subject, expected) is (op == "eq")
    if op in ("lt", "le", "gt", "ge"):
        if subject is None and expected is not None:
            return False
        try:
            _ordered(subject, expected)
            return {"lt": subject < expected, "le": subject <= expected, "gt": subject > expected,
                    "ge": subject >= expected}[op]
        except TypeError:
            raise c.EvaluationError(f"cannot compare {show(subject)!r} with {show(expected)!r}") from None
    if op in ("in", "not_in", "intersects"):
        if op == "intersects":
            if subject is None:
                return False
            if not isinstance(subject, list):
                raise c.EvaluationError(f"intersects needs a list, got {show(subject)!r}")
        if not isinstance(expected, list):
            raise c.EvaluationError(f"{op} needs a list, the parameter is {show(expected)!r}")
        if op == "intersects":
            wanted = {_fold(m) for m in expected}
            return any(_fold(v) in wanted for v in subject)
        return any(_eq(subject, m) for m in expected) is (op == "in")
    if op == "regex":
        if subject is None:
            return False
        if not isinstance(subject, str):
            raise c.EvaluationError(f"regex needs text, got {show(subject)!r}")
        try:
            return re.search(expected, subject) is not None
        except (re.error, TypeError) as exc:
            raise c.EvaluationError(f"invalid regular expression {expected!r}: {exc}") from None
    # ages
    if isinstance(expected, bool) or not isinstance(expected, int):
        raise c.EvaluationError(f"{op} needs a whole number of days, got {expected!r}")
    if subject is None:
        return op == "older_than_days"
    try:
        day = parse_date(subject) if isinstance(subject, str) else None
    except ValueError:
        day = None
    if isinstance(subject, date):
        day = subject.date() if isinstance(subject, datetime) else subject
    if day is None:
        raise c.EvaluationError(f"{subject!r} is not an ISO 8601 date")
    age = (AS_OF - day).days
    return age > expected if op == "older_than_days" else age <= expected


def reference(cond, subject, label):
    """The verdict of a one-operator condition by the definitions above, field lookup included."""
    fld = cond.get("field")
    (op,) = (k for k in cond if k != "field")
    arg = cond[op]
    if fld is not None:
        subject = c.lookup(subject, fld, label)
        label = f"{label}.{fld}" if label else fld
    if subject is c.MISSING:
        raise c.MissingFact(label)
    expected = PARAMS[arg["param"]] if isinstance(arg, dict) else arg
    return reference_test(op, subject, expected)


def outcome(fn, *args):
    try:
        return ("value", fn(*args))
    except (c.MissingFact, c.EvaluationError) as exc:
        return (type(exc).__name__, str(exc))


@st.composite
def conditions_and_subjects(draw):
    op = draw(st.sampled_from(sorted(LITERALS)))
    arg = draw(st.one_of(LITERALS[op], PARAM_NAMES.map(lambda name: {"param": name})))
    fld = draw(st.sampled_from([None, "a", "a.b"]))
    cond = {op: arg} if fld is None else {"field": fld, op: arg}
    subject = draw(st.one_of(VALUES, st.dictionaries(st.sampled_from(["a", "b"]), VALUES, max_size=2),
                             st.just(c.MISSING)))
    return cond, subject, draw(st.sampled_from(["", "accounts"]))


@settings(max_examples=700, deadline=None)
@given(case=conditions_and_subjects())
def test_compiled_comparisons_and_ages_agree_with_their_definitions(case):
    cond, subject, label = case
    ctx = c.Context(params=PARAMS, as_of=AS_OF)
    expected = outcome(reference, cond, subject, label)
    assert outcome(c.compiled(cond), subject, ctx, label) == expected
    assert outcome(lambda *a: c.evaluate(*a).passed, cond, subject, ctx, label) == expected


GRID = [None, True, False, 0, 1, -1, 2.5, 0.0, "", "left", "LEFT", "Domain Admins", "2026-08-01T09:00:00+09:00",
        [], ["domain admins"], [1], [True, "x"], {"a": 1}]


@pytest.mark.parametrize("op", sorted(LITERALS))
def test_every_comparison_of_a_grid_of_values_agrees_with_its_definition(op):
    ctx = c.Context(params=PARAMS, as_of=AS_OF)
    literals = [v for v in GRID if not isinstance(v, dict)] if op not in ("regex",) else ["^adm", "S$", "^$"]
    for arg in [*literals, *({"param": name} for name in sorted(PARAMS))]:
        for value in [*GRID, c.MISSING]:
            for cond, subject in (({op: arg}, value), ({"field": "a", op: arg}, {"a": value}),
                                  ({"field": "a", op: arg}, value)):
                subject = {} if subject == {"a": c.MISSING} else subject
                expected = outcome(reference, cond, subject, "x")
                assert outcome(c.compiled(cond), subject, ctx, "x") == expected, (cond, subject)


@pytest.mark.parametrize("op", ["older_than_days", "within_days"])
@pytest.mark.parametrize("days", [0, 92, 93, 94, {"param": "days"}])
@pytest.mark.parametrize("value", ["2026-08-01T09:00:00+09:00", "2026-08-01", "2026-11-02T23:59:59-05:00", None])
def test_ages_at_and_around_the_limit(op, days, value):
    ctx = c.Context(params={**PARAMS, "days": 93}, as_of=AS_OF)
    cond = {"field": "a", op: days}
    expected = reference_test(op, value, ctx.params["days"] if isinstance(days, dict) else days)
    assert c.compiled(cond)({"a": value}, ctx, "") is expected


def test_a_parameter_changed_between_runs_is_read_again():
    cond = {"field": "groups", "intersects": {"param": "groups"}}
    judge = c.compiled(cond)
    subject = {"groups": ["Domain Admins"]}
    assert judge(subject, c.Context(params={"groups": ["domain admins"]}, as_of=AS_OF), "")
    assert not judge(subject, c.Context(params={"groups": ["Enterprise Admins"]}, as_of=AS_OF), "")
    pattern = {"field": "name", "regex": {"param": "p"}}
    assert c.compiled(pattern)({"name": "adm-1"}, c.Context(params={"p": "^adm"}, as_of=AS_OF), "")
    assert not c.compiled(pattern)({"name": "adm-1"}, c.Context(params={"p": "^svc"}, as_of=AS_OF), "")


DAYS = st.sampled_from(["2026-11-02", "2026-02-29", "2024-02-29", "2026-13-01", "0001-01-01", "9999-12-31",
                        "2026-W44-1", "20261102", "2026-11-2", " 2026-11-02"])
TIMES = st.sampled_from(["", "T08:41:07+09:00", "T08:41:07", "T08:41+09:00", "T23:59:59Z", "T24:00:00+09:00",
                         "T08:41:07.5-05:30", "T25:00:00+09:00", "T08:41:07+24:00", " 08:41:07", "T08:41:07+09:00x",
                         "T8:41:07+09:00"])


@settings(max_examples=400, deadline=None)
@given(texts=st.lists(st.tuples(DAYS, TIMES).map("".join), min_size=1, max_size=8))
def test_instant_dates_from_the_memo_are_the_dates_python_reads(texts):
    # Each list is judged in order, so that earlier instants fill the memo for later ones.
    for text in texts:
        try:
            expected = ("value", parse_date(text))
        except ValueError:
            expected = ("EvaluationError", f"{text!r} is not an ISO 8601 date")
        assert outcome(dates.to_date, text) == expected


def _old_name(item, index, key, label):
    """Item names as the quantifiers always made them (one regular-expression pass per item)."""
    if key and isinstance(item, dict):
        if "{" in key:
            def text(m):
                value = c.get_path(item, m.group(1))
                return "?" if value is c.MISSING or value is None else str(value)

            return re.sub(r"\{([a-z_][a-z0-9_.]*)\}", text, key)
        if item.get(key) is not None:
            return str(item[key])
    return c.label_path(label, index)


ITEM_KEYS = st.sampled_from([None, "", "name", "{name} ({source.file}:{source.line})", "{protocol}/{port}",
                             "{Name} {x.y.z} {{name}} }{", "{a.b}", "plain {name"])
ITEMS = st.one_of(VALUES, st.fixed_dictionaries({}, optional={
    "name": SCALARS, "protocol": SCALARS, "port": SCALARS, "a": VALUES,
    "source": st.one_of(SCALARS, st.fixed_dictionaries({}, optional={"file": SCALARS, "line": SCALARS}))}))


@settings(max_examples=400, deadline=None)
@given(item=ITEMS, key=ITEM_KEYS, index=st.integers(0, 5), label=st.sampled_from(["", "accounts"]))
def test_item_names_are_made_as_before(item, key, index, label):
    ctx = c.Context(params={}, as_of=AS_OF, item_key=key)
    assert _name(item, index, ctx, label) == _old_name(item, index, key, label)


MAPPINGS = st.dictionaries(st.sampled_from(["a", "b"]), VALUES, max_size=2)


@settings(max_examples=300, deadline=None)
@given(subject=st.one_of(VALUES, MAPPINGS, MAPPINGS.map(OrderedDict),
                         st.dictionaries(st.sampled_from(["a", "b"]), MAPPINGS.map(OrderedDict), max_size=2)),
       path=st.sampled_from(["a", "b", "a.b", "a.a", "a.b.a", ""]))
def test_a_path_getter_reads_what_get_path_reads(subject, path):
    assert c.getter(path)(subject) == c.get_path(subject, path)


def _old_normalise(value):
    return "".join(unicodedata.normalize("NFKC", value).split()).casefold() if isinstance(value, str) else value


def _old_match(item, records, by, where, ctx):
    """``match`` by its definition: a record whose normalised key fields equal the item's, and ``where``."""
    def key(record, fields):
        if not isinstance(record, dict):
            return None
        values = tuple(_old_normalise(c.get_path(record, f)) for f in fields)
        return None if any(v is c.MISSING or v is None or v == "" for v in values) else values

    mine = key(item, tuple(by.values()))
    return mine is not None and any(key(r, tuple(by)) == mine and (where is None or c.holds(where, r, ctx))
                                    for r in records)


KEY_TEXT = st.sampled_from(["00123", "00124", "ＡＢ123", "ab123", "AB 123", "石岡　太郎", "石岡 太郎", "", " ",
                            "x\u3000"])
RECORD = st.fixed_dictionaries({}, optional={"employee_id": st.one_of(KEY_TEXT, st.none(), st.integers(0, 2)),
                                             "name": st.one_of(KEY_TEXT, st.none()),
                                             "status": st.sampled_from(["left", "active"])})


@settings(max_examples=300, deadline=None)
@given(records=st.lists(st.one_of(RECORD, st.just("not a record")), max_size=5),
       items=st.lists(st.one_of(RECORD, st.none()), min_size=1, max_size=5),
       by=st.sampled_from([{"employee_id": "employee_id"}, {"name": "name"}, {"employee_id": "employee_id",
                                                                               "name": "name"}]),
       where=st.sampled_from([None, {"field": "status", "eq": "left"}]))
def test_compiled_match_finds_the_records_its_definition_finds(records, items, by, where):
    arg = {"in": "org.hr_roster", "by": by, **({"where": where} if where else {})}
    ctx = c.Context(params={}, as_of=AS_OF, root={"org": {"hr_roster": records}}, cache={})
    for item in items:
        try:
            found = c.holds({"match": arg}, item, ctx)
        except c.MissingFact:
            found = "missing"
        try:
            expected = _old_match(item, records, by, where, ctx)
        except c.MissingFact:
            expected = "missing"
        assert found == expected
