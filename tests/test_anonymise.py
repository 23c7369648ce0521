"""The trainer view's name scrubbing: no person of the evidence reaches the document it shows."""

import copy
import json
import re

import pytest
from report_docs import FLEET, decided_doc, fleet_doc

from auditor.pseudonyms import KEY_ENV, PERSONAL, Pseudonymizer
from auditor.reports.anonymise import NOT_PEOPLE, Anonymiser, anonymised, for_view, is_personal, letters


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    return fleet_doc(tmp_path_factory.mktemp("fleet"))


def _people_of_the_fleet() -> set[str]:
    """Every personal value the example fleet's bundles hold (the areas auditor export pseudonymises)."""
    values = set()
    for path in FLEET.glob("*.json"):
        facts = json.loads(path.read_text(encoding="utf-8")).get("facts")
        if not isinstance(facts, dict):
            continue
        for area, fields in PERSONAL.items():
            for record in facts.get(area) or []:
                if area == "accounts" and record.get("system") is True:
                    continue  # root, daemon: not people
                if area == "local_admins" and record.get("kind") not in (None, "user"):
                    continue  # the groups wheel, sudo
                for field in fields:
                    value = record.get(field)
                    if isinstance(value, str) and len(value.strip()) >= 3 and value.casefold() not in NOT_PEOPLE:
                        values.add(value)
    return values


def _mentions(text: str, value: str) -> bool:
    if value.isascii():
        return re.search(rf"(?<![\w.@-]){re.escape(value)}(?![\w@-]|\.\w)", text) is not None
    return value in text


def test_no_person_of_the_evidence_is_left(doc):
    text = json.dumps(doc, ensure_ascii=False)
    named = {v for v in _people_of_the_fleet() if _mentions(text, v)}
    assert len(named) >= 5  # the fleet's results do name people: the test would prove nothing otherwise
    scrubbed = json.dumps(anonymised(doc), ensure_ascii=False)
    assert [v for v in named if _mentions(scrubbed, v)] == []
    assert "職員A" in scrubbed


def test_the_document_given_is_left_as_it_was(doc):
    before = copy.deepcopy(doc)
    anonymised(doc)
    assert doc == before
    assert for_view(doc, "admin") is doc and for_view(doc, "inspector") is doc
    assert for_view(doc, "trainer") != doc


def test_one_person_one_label_in_item_and_message(doc):
    anonymiser = Anonymiser("en").learn(doc)
    out = anonymiser.document(doc)
    for original, result in zip(doc["results"], out["results"], strict=True):
        for before, after in zip(original["findings"], result["findings"], strict=True):
            if not is_personal(before) or before["item"].split(" (")[0].casefold() in NOT_PEOPLE:
                continue
            name = before["item"].split(" (")[0]
            label = anonymiser.people[name]
            assert after["item"].startswith(label) and label.startswith("Staff ")
            if name in original["message"]:
                assert label in result["message"]
    # different accounts of one finding list, different labels
    listed = max((r for r in doc["results"] if all(is_personal(f) for f in r["findings"])),
                 key=lambda r: len(r["findings"]))
    names = {f["item"].split(" (")[0] for f in listed["findings"]}
    assert len(names) >= 3 and len({anonymiser.people[n] for n in names}) == len(names)
    # the values of one record share its label: an account and the display name beside it
    record = next(f for r in doc["results"] for f in r["findings"] if " / " in f["item"])
    account, display = (part.strip() for part in record["item"].split(" (")[0].split(" / "))
    assert anonymiser.label(account) == anonymiser.label(display)
    assert anonymiser.label(display.replace(" ", "")) == anonymiser.label(display)


def test_labels_are_stable_for_the_same_document(doc):
    assert anonymised(doc) == anonymised(copy.deepcopy(doc))


def test_built_in_accounts_keep_their_names(doc):
    out = anonymised(doc)
    items = [f["item"] for r in out["results"] for f in r["findings"]]
    originals = [f["item"] for r in doc["results"] for f in r["findings"]]
    assert "root" in originals and "root" in items


def test_with_a_key_the_labels_are_the_export_s_pseudonyms(doc):
    key = b"k" * 32
    anonymiser = Anonymiser("ja", key).learn(doc)
    keyed = Pseudonymizer(key)
    record = next(f for r in doc["results"] for f in r["findings"] if isinstance(f["actual"], dict)
                  and isinstance(f["actual"].get("display_name"), str))
    display = record["actual"]["display_name"]
    assert anonymiser.label(display) == keyed.pseudonym(display, "person")
    out = anonymiser.document(doc)
    assert re.search(r"職員[A-Z]+\b", json.dumps(out["results"], ensure_ascii=False)) is None
    assert keyed.pseudonym(display, "person") in json.dumps(out["results"], ensure_ascii=False)


def test_the_environment_s_key_is_used_by_the_trainer_view(doc, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "a-key-of-enough-length")
    assert "user-" in json.dumps(for_view(doc, "trainer"), ensure_ascii=False)
    monkeypatch.setenv(KEY_ENV, "short")  # too short to be a key: labels as without one
    assert "職員A" in json.dumps(for_view(doc, "trainer"), ensure_ascii=False)


def test_approvers_and_attesters_are_people(tmp_path):
    doc = decided_doc(tmp_path)
    approver, attester = doc["waivers"][0]["approver"], doc["attestations"][0]["attested_by"]
    out = json.dumps(anonymised(doc), ensure_ascii=False)
    assert approver in json.dumps(doc, ensure_ascii=False)
    assert approver not in out and attester not in out


def test_a_short_account_name_is_replaced_where_it_is_a_record():
    doc = {"results": [{"message": "1 account: ab (ad.csv:2)", "findings": [
        {"item": "ab (ad.csv:2)", "actual": {"name": "ab", "enabled": True}, "expected": "no item"}]}],
        "waivers": [], "attestations": []}
    out = anonymised(doc, "en")
    assert out["results"][0]["findings"][0] == {"item": "Staff A (ad.csv:2)",
                                                 "actual": {"name": "Staff A", "enabled": True},
                                                 "expected": "no item"}


def test_settings_are_not_people():
    assert not is_personal({"item": "password_policy.min_length", "actual": 6, "expected": ">= 8"})
    assert not is_personal({"item": "tcp/23 (0.0.0.0)", "actual": {"loopback": False, "port": 23},
                            "expected": "no item with loopback == false"})
    assert is_personal({"item": "kenshu", "actual": True, "expected": "no item with password_empty == true"})
    assert is_personal({"item": "x", "actual": 1, "expected": "-", "expected_text": {"en": "a display_name"}})


@pytest.mark.parametrize(("n", "text"), [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA")])
def test_letters(n, text):
    assert letters(n) == text
