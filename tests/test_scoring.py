import pytest

from auditor.scoring import WEIGHTS, grade, tally


def test_readme_worked_example():
    # The README's example: 1 critical pass, 2 high passes, 1 high fail, 1 medium error,
    # 1 low pass, plus 1 notapplicable and 1 manual that do not move the score.
    t = tally([("pass", "critical"), ("pass", "high"), ("pass", "high"), ("fail", "high"),
               ("error", "medium"), ("pass", "low"), ("notapplicable", "critical"), ("manual", "medium")])
    assert (t.passed_weight, t.scored_weight) == (21, 29)
    assert t.score == 72.4 and t.grade == "B"
    assert t.counts == {"pass": 4, "fail": 1, "error": 1, "notapplicable": 1, "waived": 0, "manual": 1}


def test_errors_count_against_the_score():
    assert tally([("pass", "high"), ("error", "high")]).score == 50.0
    assert tally([("pass", "high"), ("notapplicable", "high")]).score == 100.0


def test_nothing_evaluated_has_no_score():
    t = tally([("notapplicable", "high"), ("manual", "low")])
    assert t.score is None and t.grade is None


@pytest.mark.parametrize(("score", "letter"), [(100, "A"), (90, "A"), (89.9, "B"), (70, "B"), (69.9, "C"),
                                               (40, "C"), (39.9, "D"), (0, "D")])
def test_grade_thresholds(score, letter):
    assert grade(score) == letter


def test_rounding_is_half_up_to_one_decimal():
    # 2 / 3 = 66.666… → 66.7; weights make 1/8 = 12.5 exact
    assert tally([("pass", "low"), ("pass", "low"), ("fail", "low")]).score == 66.7
    assert WEIGHTS["critical"] > WEIGHTS["high"] > WEIGHTS["medium"] > WEIGHTS["low"]
