"""Conditions as sentences (auditor.conditions.wording), and the results' expected_text and source."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from auditor.cli import main
from auditor.conditions import REGISTRY
from auditor.conditions.wording import MAX_TEXT, expected_text, explain

ROOT = Path(__file__).resolve().parent.parent
CHECKS = sorted((ROOT / "checks").rglob("*.yaml"))
EXAMPLES = ROOT / "examples"

# Traces of the check language or of Python left in a sentence.
NOTATION = [
    re.compile(r"==|!=|>=|<=|(?<![-=])>(?!=)\s*\d|\s<\s*\d"),  # comparison symbols
    re.compile(r"(?:^|[\s(（「\"])/[^/\s]+/(?:$|[\s)）」\",.])"),  # /pattern/ delimiters
    re.compile(r"\$\{?[A-Za-z_]|\{param|\bparam:"),  # parameters not substituted
    re.compile(r"\bNone\b|\bTrue\b|\bFalse\b|\{'|\['|'\]|<missing>"),  # Python reprs
]


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _all_parameters() -> tuple[dict, dict]:
    """Every profile's parameters (a later profile's value wins), and the catalogue's titles."""
    params: dict = {}
    for profile in sorted((ROOT / "policies" / "profiles").glob("*.yaml")):
        params.update(_yaml(profile).get("parameters") or {})
    catalogue = _yaml(ROOT / "policies" / "parameters.yaml")
    entries = catalogue.get("parameters", catalogue)
    titles = {name: spec["title"] for name, spec in entries.items() if isinstance(spec, dict) and "title" in spec}
    return params, titles


PARAMS, TITLES = _all_parameters()


def _params_in(cond: object) -> set[str]:
    """The names of the parameters a condition refers to, anywhere in it."""
    if isinstance(cond, dict):
        if set(cond) == {"param"} and isinstance(cond["param"], str):
            return {cond["param"]}
        return set().union(*map(_params_in, cond.values())) if cond else set()
    if isinstance(cond, list):
        return set().union(*map(_params_in, cond)) if cond else set()
    return set()


def _reads(check: dict) -> list[str]:
    reads = check.get("reads") or []
    return [reads] if isinstance(reads, str) else reads


@pytest.mark.parametrize("path", CHECKS, ids=lambda p: p.stem)
def test_every_check_reads_as_a_sentence_in_both_languages(path):
    check = _yaml(path)
    said = expected_text(check.get("condition"), _reads(check), PARAMS, TITLES)
    assert set(said) == {"ja", "en"}
    assert said["ja"].endswith("こと") and len(said["ja"]) > 6
    assert said["en"][:1].isupper() and len(said["en"].split()) > 2
    for lang, text in said.items():
        for trace in NOTATION:
            assert not trace.search(text), f"{lang}: {text!r} keeps notation {trace.pattern!r}"
        for name in _params_in(check.get("condition")) - set(REGISTRY):  # an operator may share a name
            assert name not in text, f"{lang}: parameter {name} named instead of its value: {text!r}"


def test_every_operator_of_the_language_has_words_of_its_own():
    base = type(REGISTRY["eq"]).__mro__[-2].explain  # Operator.explain, the generic fallback
    core = {"all", "all_of", "any", "any_of", "count", "empty", "eq", "exists", "ge", "gt", "in", "in_fiscal_year",
            "intersects", "le", "lt", "match", "ne", "none", "not", "not_in", "older_than_days", "reachability",
            "regex", "within_days"}
    assert [name for name in sorted(core) if type(REGISTRY[name]).explain is base] == []


def test_every_registered_operator_explains_itself():
    base = type(REGISTRY["eq"]).__mro__[-2].explain  # Operator.explain, the generic fallback
    assert sorted(name for name, op in REGISTRY.items() if type(op).explain is base) == []


GENERIC = ("条件「", "the condition ")  # what the fallback says (wording.generic)


def test_no_check_falls_back_to_the_generic_wording():
    generic = expected_text({"no_such_operator": 1}, [], {})
    assert GENERIC[0] in generic["ja"] and GENERIC[1] in generic["en"]  # the phrases looked for are the fallback's
    fallen = []
    for path in CHECKS:
        check = _yaml(path)
        said = expected_text(check.get("condition"), _reads(check), PARAMS, TITLES)
        if GENERIC[0] in said["ja"] or GENERIC[1] in said["en"]:
            fallen.append(f"{path.stem}: {said['en']}")
    assert fallen == []


def test_importing_the_conditions_does_not_load_the_wording():
    code = ("import sys, auditor.conditions; "
            "print(sorted(m for m in sys.modules if m.startswith('auditor.conditions.w')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- exact sentences for representative operators --------------------------------------------

TITLE = {"admin_id_pattern": {"ja": "管理者用IDの命名規則（正規表現）",
                              "en": "Naming pattern of administrator IDs (regular expression)"}}


@pytest.mark.parametrize(("cond", "reads", "params", "ja", "en"), [
    ({"ge": {"param": "n"}}, ["password_policy.min_length"], {"n": 12},
     "パスワードの最小文字数が12 文字以上であること", "The minimum password length is at least 12 characters"),
    ({"eq": True}, ["firewall.enabled"], {},
     "ホストのファイアウォールが有効であること", "The host firewall is enabled"),
    ({"in": ["drop", "reject"]}, ["firewall.forward_policy"], {},
     "転送の既定動作が「drop」、「reject」のいずれかであること",
     'The default action for forwarded traffic is one of "drop", "reject"'),
    ({"within_days": 3}, ["antimalware.signature_updated_at"], {},
     "定義ファイルの更新日時が監査日から 3 日以内であること",
     "The last signature update is at most 3 days before the audit date"),
    ({"none": {"where": {"field": "password_empty", "eq": True}}}, ["accounts"], {},
     "パスワードが空であるローカルアカウントがないこと", "There is no local account that has an empty password"),
    ({"none": {"where": {"all_of": [{"field": "enabled", "eq": True},
                                    {"not": {"field": "name", "regex": {"param": "admin_id_pattern"}}}]}}},
     ["directory_accounts"], {"admin_id_pattern": "^adm-"},
     "有効なディレクトリのアカウントは、いずれもアカウント名が管理者用IDの命名規則（^adm-）に合うこと",
     "For every enabled directory account, the account name matches "
     "the naming pattern of administrator IDs (^adm-)"),
    ({"count": {"where": {"field": "enabled", "eq": True}, "le": 5}}, ["directory_accounts"], {},
     "有効なディレクトリのアカウントの数が5以下であること", "The number of enabled directory accounts is at most 5"),
])
def test_sentences_of_representative_operators(cond, reads, params, ja, en):
    assert expected_text(cond, reads, params, TITLE) == {"ja": ja, "en": en}


def test_negation_is_carried_inward_through_nesting():
    cond = {"not": {"any_of": [{"field": "storage_blocked", "eq": True},
                               {"not": {"field": "write_blocked", "eq": False}}]}}
    said = expected_text(cond, ["removable_media"], {})
    # not (A or not B) = not A and B
    assert said["ja"] == ("外部記録媒体の制御が外部記録媒体の使用を禁止しておらず、"
                          "外部記録媒体への書き込みを禁止していないこと")
    assert said["en"] == ("The removable media control does not block removable storage "
                          "and does not block writing to removable storage")
    twice = expected_text({"not": {"not": {"ge": 8}}}, ["password_policy.min_length"], {})
    assert twice == expected_text({"ge": 8}, ["password_policy.min_length"], {})
    assert expected_text({"not": {"ge": 8}}, ["password_policy.min_length"], {})["en"] == \
        "The minimum password length is less than 8 characters"


def test_a_negated_quantifier_turns_into_its_opposite():
    none = {"none": {"where": {"field": "enabled", "eq": True}}}
    assert explain({"not": none}, {}, "en", subject="directory_accounts") == \
        "There is at least one enabled directory account"
    every = {"all": {"require": {"field": "enabled", "eq": True}}}
    assert explain({"not": every}, {}, "ja", subject="firewall.profiles") == \
        "無効であるファイアウォールのプロファイルがあること"


# --- the operators of the registers, the joins and the firewall rule lists ---------------------

JOIN_TITLES = {
    "svc": {"ja": "遠隔操作のサービス（tcp/3389 の形）", "en": "Remote-control services (as tcp/3389)"},
    "courses": {"ja": "受講を義務づける講座", "en": "Courses every member of staff must take"},
    "groups": {"ja": "所属ごとのADグループ（所属名 → グループ名の一覧）",
               "en": "Directory groups of each department (department name → group names)"},
}
NEW_STAFF = {"covered_by": {"where": {"field": "status", "eq": "active"}, "in": "training_records",
                            "by": {"employee_id": "employee_id"}, "require": {"field": "completed", "eq": True},
                            "within": {"from": "hired_on", "date": "completed_on", "days": {"param": "d"}}}}


@pytest.mark.parametrize(("cond", "reads", "params", "ja", "en"), [
    ({"none": {"where": {"elapsed": {"from": {"field": "starts_on"}, "to": {"field": "ends_on"},
                                     "gt": {"param": "m"}}}}}, ["exceptions_register"], {"m": 365},
     "開始日から終了日までの期間が365 日を超える例外措置台帳の記録がないこと",
     "There is no exception register entry whose period from the start date to the end date is more than 365 days"),
    ({"all": {"require": {"elapsed": {"from": {"field": "created_at"}, "to": {"field": "password_last_set_at"},
                                      "unit": "hours", "le": 1}}}}, ["directory_accounts"], {},
     "ディレクトリのアカウントは、いずれも作成日時からパスワードを最後に設定した日時までの時間が1 時間以下であること",
     "For every directory account, the time from the creation date to the time the password was last set "
     "is at most 1 hour"),
    ({"rule_hygiene": {"find": "any-any"}}, ["firewall_rules"], {},
     "送信元・宛先・サービスをいずれも限定せずに通信を許可する有効なファイアウォールの規則がないこと",
     "There is no enabled firewall rule that accepts any source, any destination and any service"),
    ({"rule_hygiene": {"find": "always-open", "from": {"segment": "internet"}, "to": {"segment": "lgwan"},
                       "services": {"param": "svc"}}}, ["firewall_rules", "zones"], {"svc": ["tcp/3389", "tcp/22"]},
     "インターネット接続系からLGWAN 接続系の遠隔操作のサービス（tcp/3389・tcp/22）への接続を時間の制限なく常に許可する"
     "ファイアウォールの規則がないこと",
     "There is no firewall rule that lets the Internet segment open the remote-control services (tcp/3389, tcp/22) "
     "in the LGWAN segment at any time (no schedule limits it)"),
    (NEW_STAFF, ["hr_roster"], {"d": 30},
     "在職状況が「在職」である人事名簿の記録は、いずれも職員番号が同じであり、修了しており、"
     "修了日が採用日以降 30 日以内である研修記録があること",
     'Every HR roster entry whose employment status is "active" has a training record whose employee number is '
     "the same, is completed and whose completion date falls within 30 days after the hiring date"),
    ({"covered_by": {"in": "training_records", "by": {"employee_id": "employee_id"},
                     "each": {"field": "course", "of": {"param": "courses"}}}}, ["hr_roster"],
     {"courses": ["J-LIS", "標的型"]},
     "人事名簿の記録は、いずれも受講を義務づける講座（「J-LIS」、「標的型」）のそれぞれについて、職員番号が同じであり、"
     "研修名がその名称を含む研修記録があること",
     'Every HR roster entry has, for each of the courses every member of staff must take ("J-LIS", "標的型"), '
     "a training record whose employee number is the same and whose course name contains that name"),
    ({"none": {"where": {"joined": {"in": "org.vendor_accounts", "by": {"account": "name"}, "as": "contract",
                                    "latest": "contract_end",
                                    "where": {"days_between": {"from": "contract.contract_end", "to": "expires_at",
                                                               "gt": 1}}}}}}, ["directory_accounts"], {},
     "アカウント名が同じであり、契約終了日からアカウントの有効期限までの期間が1 日を超える委託先IDの台帳の記録"
     "（契約終了日が最も新しいもの）があるディレクトリのアカウントがないこと",
     "There is no directory account that has a contractor account register entry (the one with the latest "
     "contract end) "
     "whose account name is the same and whose period from the contract end to the account expiry date is more "
     "than 1 day"),
    ({"department_groups": {"in": "org.hr_roster", "by": {"employee_id": "employee_id"},
                            "when": {"field": "event", "eq": "transfer"}, "groups": {"param": "groups"}}},
     ["directory_accounts"], {"groups": {"総務課": ["GG-Soumu"]}},
     "ディレクトリのアカウントは、いずれも職員番号が同じである人事名簿の記録のうち発令日が最も新しいもので異動区分が"
     "「異動」であるときは、所属ごとのADグループのうちその記録の所属のグループをすべて持ち、異動前の所属のグループ"
     "（新しい所属にもあるものを除く）を持たず、部署の属性があればその所属と一致すること",
     "Every directory account holds every group that the directory groups of each department give the department "
     "of its latest HR roster entry whose employee number is the same (by effective date), no group of the previous "
     "department that the new one lacks, and a department attribute, if any, equal to that department, whenever in "
     'that entry the personnel action is "transfer"'),
])
def test_sentences_of_the_join_register_and_rule_list_operators(cond, reads, params, ja, en):
    assert expected_text(cond, reads, params, JOIN_TITLES) == {"ja": ja, "en": en}


def test_the_new_operators_negated_say_the_opposite():
    shadowed = expected_text({"not": {"rule_hygiene": {"find": "shadowed"}}}, ["firewall_rules"], {})
    assert shadowed == {"ja": "前にある規則に完全に覆われ、どの新しい接続にも適用されない"
                              "ファイアウォールの規則があること",
                        "en": "There is at least one firewall rule wholly shadowed by earlier rules, "
                              "so that no new connection ever reaches it"}
    untrained = expected_text({"not": NEW_STAFF}, ["hr_roster"], {"d": 30})
    assert untrained["ja"] == ("在職状況が「在職」であり、職員番号が同じであり、修了しており、"
                               "修了日が採用日以降 30 日以内である研修記録がない人事名簿の記録があること")
    assert untrained["en"].startswith('There is at least one HR roster entry whose employment status is "active" ')
    assert "has no training record" in untrained["en"]
    span = {"elapsed": {"from": {"field": "created_at"}, "to": {"field": "password_last_set_at"}, "unit": "hours",
                        "le": 1}}
    assert explain({"not": span}, {}, "en", subject="directory_accounts") == \
        "The time from the creation date to the time the password was last set is more than 1 hour"
    assert explain({"not": {"not": span}}, {}, "ja", subject="directory_accounts") == \
        explain(span, {}, "ja", subject="directory_accounts")
    moved = {"department_groups": {"in": "org.hr_roster", "by": {"employee_id": "employee_id"},
                                   "when": {"field": "event", "eq": "transfer"}, "groups": {"param": "groups"}}}
    stale = expected_text({"not": moved}, ["directory_accounts"], {"groups": {}})
    assert stale["ja"].endswith("であるときに、グループまたは部署の属性がその記録の所属に合っていない"
                                "ディレクトリのアカウントがあること")
    assert stale["en"].startswith("There is at least one directory account that does not follow")


def test_an_empty_list_of_required_entries_is_said_to_be_empty():
    cond = {"covered_by": {"in": "training_records", "by": {"employee_id": "employee_id"},
                           "each": {"field": "course", "of": {"param": "courses"}}}}
    said = expected_text(cond, ["hr_roster"], {"courses": []}, JOIN_TITLES)
    assert "受講を義務づける講座（指定なし）のそれぞれについて" in said["ja"]
    assert "for each of the courses every member of staff must take (none set)," in said["en"]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_hostile_value_stays_a_plain_string_cut_short(lang):
    hostile = "<script>alert(1)</script>{param: x}" + "あ" * 10_000 + "\ud800"
    text = explain({"eq": {"param": "p"}}, {"p": hostile}, lang, subject="hr_roster.status")
    assert type(text) is str
    assert "<script>alert(1)</script>" in text  # as written: escaping is the report's business
    assert len(text) < MAX_TEXT + 80 and "…" in text
    assert "\ud800" not in text  # cut off with the rest
    json.dumps(text)  # serialisable as it is
    pattern = explain({"regex": "\ud800" + "x" * 500}, {}, lang, subject="software.name")
    assert "\ud800" in pattern and len(pattern) < MAX_TEXT + 80


def test_an_unknown_parameter_is_named_in_words_not_as_notation():
    text = explain({"ge": {"param": "nowhere"}}, {}, "en", subject="password_policy.min_length")
    assert text == "The minimum password length is at least the profile's nowhere"


# --- the results carry them -----------------------------------------------------------------

def _audit(tmp_path, *args: str) -> dict:
    out = tmp_path / "results.json"
    code = main(["audit", *args, "--format", "json", "--as-of", "2026-11-02", "--out", str(out)])
    assert code in (0, 1)
    return json.loads(out.read_text(encoding="utf-8"))


def _findings(doc: dict, check: str) -> list[dict]:
    return [f for r in doc["results"] if r["check"] == check for f in r["findings"]]


def test_an_ad_export_finding_carries_its_row_and_sentences(tmp_path):
    doc = _audit(tmp_path, str(EXAMPLES / "fleet" / "ad-kakuu-local-accounts.json"))
    found = _findings(doc, "admin-separate-account")
    assert found, "the example directory has a privileged everyday account"
    first = found[0]
    assert first["item"].endswith("(exports/ad-users.csv:11)")  # unchanged
    assert first["source"] == {"file": "exports/ad-users.csv", "row": 11}
    assert first["expected"].startswith("no item with")  # unchanged notation
    assert "^(adm|admin)" in first["expected_text"]["ja"] and first["expected_text"]["ja"].endswith("こと")
    assert first["expected_text"]["en"].startswith("For every enabled directory account")
    every = [f for r in doc["results"] for f in r["findings"]]
    assert all(set(f["expected_text"]) == {"ja", "en"} and f["source"].get("file") for f in every)


def test_a_firewall_finding_carries_the_line_of_its_rule(tmp_path):
    doc = _audit(tmp_path, str(EXAMPLES / "fleet" / "kakuu-fw01.json"))
    found = _findings(doc, "lgwan-to-internet-limited")
    assert found
    for f in found:
        line = int(re.search(r"kakuu-fw01\.conf:(\d+)\)", f["actual"]).group(1))
        assert f["source"] == {"file": f["source"]["file"], "line": line}
        assert f["source"]["file"].endswith("kakuu-fw01.conf")
    assert "LGWAN 接続系からインターネット接続系への新しい接続が" in found[0]["expected_text"]["ja"]


def test_a_finding_without_a_row_names_the_export_it_was_read_from(tmp_path):
    fleet = EXAMPLES / "fleet"
    doc = _audit(tmp_path, str(fleet / "lg-soumu-02.json"), str(fleet / "lg-soumu-02-accounts.json"))
    found = _findings(doc, "password-min-length")
    assert found and found[0]["source"] == {"file": "exports/LG-SOUMU-02/accounts/secedit.inf"}
    assert found[0]["expected_text"]["en"].startswith("The minimum password length is at least")
