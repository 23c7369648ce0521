"""covered_by and department_groups (pairs across lists) and elapsed (a span within one record)."""

from datetime import date

import pytest

from auditor import conditions as c

AS_OF = date(2026, 11, 2)
SRC = {"file": "roster.csv", "line": 2}


def ctx(root, item_key="name", **params):
    return c.Context(params=params, as_of=AS_OF, item_key=item_key, root=root, cache={})


# --- department_groups -------------------------------------------------------------------------

GROUPS = {"市民課": ["GG-Shimin"], "税務課": ["GG-Zeimu", "FS-Zeimu-RW"], "総務課": ["GG-Soumu"]}
TRANSFER = {"all_of": [{"field": "event", "eq": "transfer"},
                       {"field": "effective_date", "older_than_days": {"param": "transfer_review_days"}}]}
COND = {"department_groups": {"where": {"field": "enabled", "eq": True}, "in": "org.hr_roster",
                              "by": {"employee_id": "employee_id"}, "when": TRANSFER,
                              "groups": {"param": "department_groups"}}}


def roster(*rows):
    return [{"employee_id": e, "department": d, "previous_department": p, "event": ev, "effective_date": day,
             "source": {"file": "roster.csv", "line": n + 2}} for n, (e, d, p, ev, day) in enumerate(rows)]


def account(name, employee_id, groups, department="市民課", enabled=True):
    return {"name": name, "employee_id": employee_id, "groups": groups, "department": department,
            "enabled": enabled, "source": {"file": "ad.csv", "line": 2}}


def judge(accounts, records, groups=GROUPS):
    root = {"directory_accounts": accounts, "org": {"hr_roster": records}}
    return c.evaluate({"field": "directory_accounts", **COND}, root,
                      ctx(root, "{name} ({source.file}:{source.line})", transfer_review_days=14,
                          department_groups=groups), "")


def test_a_transfer_past_the_days_with_the_old_group_kept_fails_citing_both_rows():
    records = roster(("00201", "市民課", "税務課", "transfer", "2026-10-01"))
    outcome = judge([account("tsukuba", "201", ["ＧＧ－Ｓｈｉｍｉｎ", "gg-zeimu", "Domain Users"])], records)
    [finding] = outcome.findings
    assert finding.item == "tsukuba (ad.csv:2) ← roster.csv:2"  # 00201 = 201, full-width = half-width
    assert finding.actual["stale_groups"] == ["GG-Zeimu"] and "missing_groups" not in finding.actual
    assert finding.actual["previous_department"] == "税務課"


def test_missing_new_groups_a_wrong_department_and_an_unmapped_one_are_findings():
    records = roster(("1", "市民課", None, "transfer", "2026-09-01"), ("2", "広報課", None, "transfer", "2026-09-01"))
    outcome = judge([account("a", "1", ["GG-Soumu"], department="総務課"), account("b", "2", [], "広報課")], records)
    first, second = outcome.findings
    assert first.actual["stale_groups"] == ["GG-Soumu"]  # no previous department: every other one's groups
    assert first.actual["missing_groups"] == ["GG-Shimin"] and first.actual["department"] == "総務課"
    assert second.actual["unmapped_department"] == "広報課"


def test_within_the_days_an_older_transfer_or_another_event_passes():
    records = roster(("1", "税務課", "市民課", "transfer", "2026-04-01"),
                     ("1", "市民課", "税務課", "transfer", "2026-10-25"),  # the latest: 8 days ago, not due
                     ("2", "市民課", None, "hire", "2026-04-01"))
    accounts = [account("a", "1", ["GG-Zeimu"]), account("b", "2", ["GG-Zeimu"]),
                account("c", "3", ["GG-Zeimu"]), account("d", "1", ["GG-Soumu"], enabled=False)]
    assert judge(accounts, records).passed
    records[1]["effective_date"] = "2026-10-01"
    assert [f.item for f in judge(accounts, records).findings] == ["a (ad.csv:2) ← roster.csv:3"]


def test_without_groups_the_department_attribute_alone_is_compared():
    records = roster(("1", "市民課", "税務課", "transfer", "2026-10-01"))
    assert judge([account("a", "1", ["GG-Zeimu"], department="市民課")], records, groups={}).passed
    assert not judge([account("a", "1", [], department="税務課")], records, groups={}).passed
    with pytest.raises(c.EvaluationError, match="no department attribute"):
        judge([account("a", "1", [], department=None)], records, groups={})


def test_absent_groups_and_bad_parameters_are_not_passes():
    records = roster(("1", "市民課", "税務課", "transfer", "2026-10-01"))
    bare = account("a", "1", [])
    del bare["groups"]
    with pytest.raises(c.MissingFact):
        judge([bare], records)
    with pytest.raises(c.EvaluationError, match="list of group names"):
        judge([account("a", "1", [])], records, groups={"市民課": "GG-Shimin"})
    assert c.validate({"department_groups": {"in": "org.hr_roster", "by": {}}}) != []


# --- covered_by ----------------------------------------------------------------------------------

NEW_STAFF = {"covered_by": {
    "where": {"all_of": [{"field": "hired_on", "ne": None},
                         {"field": "hired_on", "older_than_days": {"param": "new_staff_training_days"}}]},
    "in": "training_records", "by": {"employee_id": "employee_id"},
    "require": {"field": "completed", "eq": True},
    "within": {"from": "hired_on", "date": "completed_on", "days": {"param": "new_staff_training_days"}}}}


def staff(employee_id, hired_on, line):
    return {"employee_id": employee_id, "name": f"n{employee_id}", "hired_on": hired_on,
            "source": {"file": "roster.csv", "line": line}}


def course(employee_id, name, day, completed=True, line=2):
    return {"employee_id": employee_id, "course": name, "completed_on": day, "completed": completed,
            "source": {"file": "training.csv", "line": line}}


def test_new_staff_trained_in_the_window_pass_late_or_untrained_fail_and_recent_ones_are_not_due():
    people = [staff("1", "2026-04-01", 2), staff("2", "2026-04-01", 3), staff("3", "2026-08-01", 4),
              staff("4", "2026-10-20", 5), staff("5", None, 6)]
    records = [course("1", "研修", "2026-05-01"), course("2", "研修", "2026-06-20", line=3),
               course("3", "研修", "2026-08-10", completed=False, line=4)]
    root = {"hr_roster": people, "training_records": records}
    outcome = c.evaluate({"field": "hr_roster", **NEW_STAFF}, root,
                         ctx(root, "{employee_id} ({source.file}:{source.line})", new_staff_training_days=30), "")
    assert [f.item for f in outcome.findings] == ["2 (roster.csv:3)", "3 (roster.csv:4)"]
    assert outcome.findings[0].actual["records"] == ["2026-06-20 (training.csv:3)"]
    assert outcome.findings[0].actual["window"] == "2026-04-01..2026-05-01"


REQUIRED = {"covered_by": {"where": {"field": "status", "eq": "active"}, "in": "training_records",
                           "by": {"employee_id": "employee_id"},
                           "require": {"field": "completed_on", "in_fiscal_year": True},
                           "each": {"field": "course", "of": {"param": "required_courses"}}}}


@pytest.mark.parametrize(("title", "met"), [
    ("Ｊ－ＬＩＳ　情報セキュリティ　ｅラーニング", True),  # full-width letters and space
    ("j-lis情報セキュリティeラーニング（基礎編）", True),  # no spaces, lower case, a suffix
    ("情報セキュリティ e ラーニング", False),
])
def test_required_courses_are_matched_leniently(title, met):
    people = [{"employee_id": "1", "status": "active", "source": SRC}]
    records = [course("1", title, "2026-06-01"), course("1", "個人情報保護研修", "2026-06-02")]
    root = {"hr_roster": people, "training_records": records}
    params = {"required_courses": ["J-LIS 情報セキュリティ eラーニング", "個人情報.*研修"]}
    outcome = c.evaluate({"field": "hr_roster", **REQUIRED}, root, ctx(root, "employee_id", **params), "")
    assert outcome.passed is met
    if not met:
        assert outcome.findings[0].actual["missing"] == ["J-LIS 情報セキュリティ eラーニング"]


def test_a_course_of_last_fiscal_year_does_not_count_and_an_invalid_regex_is_only_a_name():
    people = [{"employee_id": "1", "status": "active", "source": SRC}]
    root = {"hr_roster": people, "training_records": [course("1", "研修(基礎", "2025-06-01")]}
    context = ctx(root, "employee_id", required_courses=["研修(基礎"])
    assert not c.evaluate({"field": "hr_roster", **REQUIRED}, root, context, "").passed
    root["training_records"][0]["completed_on"] = "2026-06-01"
    assert c.evaluate({"field": "hr_roster", **REQUIRED}, root, context, "").passed


# --- elapsed -------------------------------------------------------------------------------------

def span(unit, **bound):
    return {"elapsed": {"from": {"field": "a"}, "to": {"field": "b"}, "unit": unit, **bound}}


@pytest.mark.parametrize(("a", "b", "cond", "holds"), [
    ("2026-10-01T09:00:00+09:00", "2026-10-01T09:59:00+09:00", span("hours", le=1), True),
    ("2026-10-01T09:00:00+09:00", "2026-10-01T01:30:00Z", span("hours", le=1), False),  # 10:30 JST
    ("2026-04-01", "2027-03-31", span("days", gt=365), False),
    ("2026-04-01", "2028-03-31", span("days", gt=365), True),
    ("2026-04-01T23:00:00+09:00", "2026-04-02", span("days", eq=1), True),  # a bare date: by calendar days
    (None, "2026-04-02", span("days", ge=0), False),  # a span without an end satisfies no bound
])
def test_elapsed_compares_the_span_of_two_fields(a, b, cond, holds):
    assert c.validate(cond) == []
    assert c.holds(cond, {"a": a, "b": b}, ctx({})) is holds


def test_elapsed_refuses_bad_arguments_and_values():
    assert c.validate({"elapsed": {"from": "a", "to": {"field": "b"}, "le": 1}}) != []
    assert c.validate({"elapsed": {"from": {"field": "a"}, "to": {"field": "b"}, "unit": "weeks", "le": 1}}) != []
    assert c.validate({"elapsed": {"from": {"field": "a"}, "to": {"field": "b"}}}) != []
    with pytest.raises(c.EvaluationError):
        c.holds(span("days", le=1), {"a": "2026-02-30", "b": "2026-03-01"}, ctx({}))
    with pytest.raises(c.MissingFact):
        c.holds(span("days", le=1), {"a": "2026-02-01"}, ctx({}))
