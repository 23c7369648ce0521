"""Roster statuses as cities write them (issue #17): placed by default, extended by the city's mapping."""

import json

import pytest
from auditor.evidence.importers.csvrows import load_mapping
from auditor.evidence.importers.hr_roster import MAPPING_SCHEMA, VALUES_SECTIONS, roster_from

from auditor.cli import main
from auditor.errors import InputError


def excel_csv(rows: list[str]) -> bytes:
    """A roster as Excel's "CSV (コンマ区切り)" writes it: CP932, CRLF."""
    return ("\r\n".join(rows) + "\r\n").encode("cp932")


STATUSES = [  # (在職区分 as written, what it means for the account checks)
    ("異動", "active"), ("転任", "active"), ("昇任", "active"), ("退職予定", "active"), ("会計年度任用", "active"),
    ("再任用", "active"), ("復職", "active"),
    ("休職", "leave"), ("育児休業", "leave"), ("病気休暇", "leave"), ("産前産後休暇", "leave"), ("介護休業", "leave"),
    ("出向", "leave"), ("派遣", "leave"), ("停職", "leave"),
    ("退職", "left"), ("定年退職", "left"), ("任期満了", "left"), ("辞職", "left"), ("勧奨退職", "left"),
    ("懲戒免職", "left"), ("死亡", "left"), ("割愛", "left"),
]


def test_the_statuses_cities_write_are_placed_without_a_mapping():
    rows = ["職員番号,氏名,所属,在職区分,発令日"] + [f"{200 + i:05d},職員{i},総務課,{label},2026/10/1"
                                             for i, (label, _) in enumerate(STATUSES)]
    records, reader = roster_from("roster.csv", excel_csv(rows), None)
    assert reader == "cp932"
    assert [(r["status_label"], r["status"]) for r in records] == STATUSES


def test_full_width_and_spaced_labels_are_the_same_status():
    records, _ = roster_from("r.csv", excel_csv(["職員番号,在職区分", "1,育児 休業", "2,ｼｭｯｺｳ", "3,出向\u3000"]), None)
    assert [r["status"] for r in records] == ["leave", "other", "leave"]  # katakana is not the kanji word


def mapping_file(tmp_path, text: str) -> str:
    path = tmp_path / "hr-mapping.yaml"
    path.write_text("format: auditor-hr-mapping/1\n" + text, encoding="utf-8")
    return str(path)


def test_add_status_values_extends_the_defaults_and_may_move_a_default(tmp_path):
    path = mapping_file(tmp_path, "add_status_values:\n  leave: [長期研修]\n  left: [割愛退職]\n  active: [出向]\n")
    mapping = load_mapping(path, MAPPING_SCHEMA, VALUES_SECTIONS)
    rows = ["職員番号,在職区分", "1,長期研修", "2,割愛退職", "3,出向", "4,退職", "5,休職", "6,異動"]
    records, _ = roster_from("r.csv", excel_csv(rows), mapping)
    # the city's labels join their categories; 退職, 休職 and 異動 keep their defaults; 出向 moved to active
    assert [r["status"] for r in records] == ["leave", "left", "active", "left", "leave", "active"]


def test_status_values_still_replaces_a_category_while_add_status_values_adds(tmp_path):
    path = mapping_file(tmp_path, "status_values: {left: [離職]}\nadd_status_values: {left: ['09']}\n")
    records, _ = roster_from("r.csv", excel_csv(["職員番号,在職区分", "1,離職", "2,09", "3,退職", "4,在職"]),
                             load_mapping(path, MAPPING_SCHEMA, VALUES_SECTIONS))
    # left is now 離職 and the code 09 only: 退職 is no longer placed; active keeps its defaults
    assert [r["status"] for r in records] == ["left", "left", "other", "active"]


@pytest.mark.parametrize(
    ("text", "line", "where", "problem"),
    [
        ("status_values: {active: [在職]}\nadd_status_values:\n  left: [在職]\n", 4, "add_status_values.left[0]",
         "'在職' is also listed under status_values.active"),
        ("add_status_values:\n  leave: [長期研修]\n  active: [長期研修]\n", 4, "add_status_values.active[0]",
         "'長期研修' is also listed under leave"),
        ("add_status_values: {retired: [定年]}\n", 2, "add_status_values.retired", "unknown key"),
        ("add_status_values: {leave: 長期研修}\n", 2, "add_status_values.leave", "expected list, got str"),
        ("add_status_values: {leave: ['']}\n", 2, "add_status_values.leave[0]", "empty values not allowed"),
    ],
)
def test_mapping_mistakes_name_file_key_and_line(tmp_path, text, line, where, problem):
    path = mapping_file(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_mapping(path, MAPPING_SCHEMA, VALUES_SECTIONS)
    assert (err.value.file, err.value.line, err.value.where) == (path, line, where)
    assert problem in err.value.problem


def test_a_bad_mapping_on_the_command_line_exits_2_naming_file_key_and_line(tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_bytes(excel_csv(["職員番号,在職区分", "1,在職"]))
    path = mapping_file(tmp_path, "add_status_values:\n  leave: [出向]\n  left: [出向]\n")
    assert main(["import", "hr-roster", str(roster), "--mapping", path, "--out", str(tmp_path / "o.json")]) == 2
    assert f"{path}:4: add_status_values.left[0]: '出向' is also listed under leave" in capsys.readouterr().err
    assert not (tmp_path / "o.json").exists()


def test_an_unknown_status_stays_a_finding_with_its_row_until_the_mapping_places_it(tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_bytes(excel_csv(["職員番号,氏名,所属,在職区分,発令日", "00201,筑波 花子,福祉課,異動,2026/10/1",
                                  "00202,水戸 健,総務課,長期研修,2026/4/1", "00203,結城 翔,税務課,病気休暇,2026/9/1"]))
    mapping = mapping_file(tmp_path, "add_status_values: {leave: [長期研修]}\n")

    def roster_check(*extra: str) -> tuple[str, list[str]]:
        out = tmp_path / "hr.json"
        assert main(["import", "hr-roster", str(roster), "--target", "city", *extra, "--out", str(out)]) == 0
        capsys.readouterr()
        main(["audit", str(out), "--as-of", "2026-11-02", "--format", "json", "--lang", "en"])
        doc = json.loads(capsys.readouterr().out)
        (result,) = [r for r in doc["results"] if r["check"] == "roster-statuses-recognised"]
        return result["status"], [f["item"] for f in result["findings"]]

    assert roster_check() == ("fail", [f"00202 長期研修 ({roster}:3)"])  # 異動 and 病気休暇 are known
    assert roster_check("--mapping", mapping) == ("pass", [])
