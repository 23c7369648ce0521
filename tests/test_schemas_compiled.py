"""The compiled evidence checker agrees with Cerberus itself on every generated document."""

import copy
import re
from unittest.mock import patch

import cerberus
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import BASE_BUNDLE

from auditor.schemas import bundle as B
from auditor.schemas import compiled
from auditor.schemas.compiled import compile_rules, compile_schema
from auditor.schemas.facts import FACT_SCHEMAS

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 100000), st.floats(allow_nan=False, width=32),
                    st.sampled_from(["", "linux", "drop", "accept", "2026-11-02", "2026-11-02T08:41:07+09:00",
                                     "tcp", "ipv4", "x" * 3, "0" * 64]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["name", "uid", "enabled", "port", "family", "address", "synchronized",
                                     "storage", "active", "min_length", "x"]), inner, max_size=4)),
    max_leaves=12)

AREA_EXAMPLES = {
    "password_policy": {"min_length": 8, "min_char_classes": 3, "max_age_days": None, "hash_algorithm": "SHA512"},
    "accounts": [{"name": "root", "uid": 0, "enabled": True, "last_password_change": "2026-01-01", "groups": []}],
    "listening": [{"protocol": "tcp", "address": "0.0.0.0", "port": 22, "family": "ipv4", "loopback": False}],
    "time_sync": {"synchronized": True, "ntp_enabled": True, "service": "chrony", "servers": [], "offset_seconds": 0.1},
    "logging": {"journald": {"active": True, "storage": "auto", "persistent": False}, "forwarding": False},
}


def cerberus_ok(value, rules):
    return cerberus.Validator({"v": rules}).validate({"v": value}, normalize=False)


def compiled_ok(value, rules):
    out = []
    compile_rules(rules)(value, ("v",), out)
    return not out


@settings(max_examples=300, deadline=None)
@given(area=st.sampled_from(sorted(FACT_SCHEMAS)), value=VALUES)
def test_random_values_get_the_same_verdict(area, value):
    rules = FACT_SCHEMAS[area]
    assert compiled_ok(value, rules) == cerberus_ok(value, rules)


@settings(max_examples=300, deadline=None)
@given(area=st.sampled_from(sorted(AREA_EXAMPLES)), key=st.sampled_from(["name", "uid", "min_length", "port",
                                                                         "storage", "family", "enabled"]),
       value=SCALARS)
def test_mutated_realistic_areas_get_the_same_verdict(area, key, value):
    doc = copy.deepcopy(AREA_EXAMPLES[area])
    record = doc[0] if isinstance(doc, list) else doc
    record[key] = value
    rules = FACT_SCHEMAS[area]
    assert compiled_ok(doc, rules) == cerberus_ok(doc, rules)


@settings(max_examples=200, deadline=None)
@given(key=st.sampled_from(["collector", "facts", "sources", "errors"]), value=VALUES)
def test_bundle_body_verdicts_agree(key, value):
    body = {k: copy.deepcopy(BASE_BUNDLE[k]) for k in B.BODY}
    body[key] = value
    assert (not compile_schema(B.BODY)(body)) == cerberus.Validator(B.BODY).validate(body, normalize=False)


# ---------------------------------------------------------------- long lists: the column fast path

SOURCE = {"file": "ad.csv", "line": 3}
RULE = {"index": 0, "origin": {"kind": "iptables-rule", "id": "INPUT#1", "line": 1}, "enabled": True,
        "action": "accept", "sources": [["10.0.0.0", "10.0.0.255"]], "destinations": [],
        "services": [{"protocol": "tcp", "ports": [[22, 22]]}], "new_connections": True, "states": ["new"]}
RECORDS = {  # a valid record of each list of records in the fact schemas, to repeat and vary
    "accounts": (FACT_SCHEMAS["accounts"], AREA_EXAMPLES["accounts"][0]),
    "listening": (FACT_SCHEMAS["listening"], AREA_EXAMPLES["listening"][0]),
    "interfaces": (FACT_SCHEMAS["interfaces"], {"name": "eth0", "up": True, "mac": None, "addresses": [
        {"family": "ipv4", "address": "10.0.0.5", "prefixlen": 24}]}),
    "directory_accounts": (FACT_SCHEMAS["directory_accounts"], {
        "name": "u000001", "display_name": "架空 職員1", "employee_id": "000001", "department": None,
        "enabled": True, "created_at": "2019-04-02T08:30:00+09:00", "last_logon_at": None,
        "password_never_expires": False, "expires_at": None, "groups": ["Domain Users"], "source": SOURCE}),
    "hr_roster": (FACT_SCHEMAS["hr_roster"], {"employee_id": "000001", "name": "架空 職員1", "status": "left",
                                              "status_label": "退職", "effective_date": "2024-02-02",
                                              "source": {**SOURCE, "sheet": "名簿"}}),
    "training_records": (FACT_SCHEMAS["training_records"], {"employee_id": "1", "course": "情報セキュリティ研修",
                                                            "completed_on": None, "completed": True,
                                                            "source": SOURCE}),
    "zones": (FACT_SCHEMAS["zones"], {"name": "lgwan", "segment": "lgwan", "role": "segment",
                                      "networks": ["10.1.0.0/16"], "intervals": [["10.1.0.0", "10.1.255.255"]]}),
    "firewall rules": (FACT_SCHEMAS["firewall_rules"]["schema"]["rules"], RULE),
    # records without unknown keys, and an integer that may be a boolean (as Cerberus has it)
    "bundle sources": (B.BODY["sources"], {"name": "ad.csv", "parser": "ad-users (cp932)", "size": 10,
                                           "sha256": "0" * 64, "area": "directory_accounts"}),
    "bundle errors": (B.BODY["errors"], {"area": "accounts", "message": "not found", "source": "/etc/shadow"}),
}
EDIT_VALUES = st.one_of(SCALARS, VALUES, st.sampled_from([
    [], ["Domain Admins"], [""], [None], SOURCE, {**SOURCE, "sheet": "名簿"}, {"file": "", "line": 1},
    {"file": "a", "line": 0}, {"file": "a", "line": True}, {"line": 2}, {**SOURCE, "x": 1},
    [["10.0.0.1", "10.0.0.1"]], [["10.0.0.1"]], [["", "10.0.0.1"]], [[1, 2]], [[22, 22]], [[22, 70000]],
    [{"protocol": "tcp"}], [{"protocol": "esp"}], [{"protocol": "tcp", "ports": [[1]]}],
    {"kind": "iptables-rule", "id": "x", "line": 1}, {"kind": "iptables-rule", "id": "x"},
    "2026-11-02T08:41:07", "2026/11/02", "2026-11-02T08:41+09:00", "left", "active", "segment", "deny", "lgwan",
    65535, 65536, -1, 0, 1.5, [{"family": "ipv4", "address": "10.0.0.1", "prefixlen": 24}],
    [{"family": "ipv6", "address": "::1", "prefixlen": 129}], [{"family": "ipx"}]]))
DELETE = object()


@st.composite
def lists_of_records(draw):
    """A list of copies of an area's valid record with a few keys changed, added or deleted."""
    area = draw(st.sampled_from(sorted(RECORDS)))
    rules, record = RECORDS[area]
    count = draw(st.integers(0, 40))
    keys = sorted(set(rules["schema"]["schema"]) | set(record) | {"x"})
    edits = draw(st.lists(st.tuples(st.integers(0, max(count - 1, 0)), st.sampled_from(keys),
                                    st.one_of(EDIT_VALUES, st.just(DELETE))), max_size=2))
    values = [copy.deepcopy(record) for _ in range(count)]
    for index, key, value in edits:
        if index < count:
            if value is DELETE:
                values[index].pop(key, None)
            else:
                values[index][key] = copy.deepcopy(value)
    return rules, values


def varied(area, count, edits):
    rules, record = RECORDS[area]
    values = [copy.deepcopy(record) for _ in range(count)]
    for index, key, value in edits:
        values[index][key] = value
    return rules, values


def item_problems(rules, values):
    out = []
    with patch.object(compiled, "COLUMN_MIN_ITEMS", 10**9):  # the item-by-item checker alone
        compile_rules(rules)(values, ("v",), out)
    return out


@settings(max_examples=500, deadline=None)
@given(case=lists_of_records())
def test_the_column_check_accepts_only_lists_the_item_checker_accepts(case):
    rules, values = case
    if compiled.compile_column(rules["schema"])(values):
        assert item_problems(rules, values) == []


@settings(max_examples=200, deadline=None)
@given(case=lists_of_records())
def test_long_lists_report_the_same_problems_with_or_without_the_column_check(case):
    rules, values = case
    out = []
    with patch.object(compiled, "COLUMN_MIN_ITEMS", 0):
        compile_rules(rules)(values, ("v",), out)
    assert out == item_problems(rules, values)


@settings(max_examples=150, deadline=None)
@given(case=lists_of_records())
def test_lists_checked_by_columns_get_cerberus_verdict(case):
    rules, values = case
    values = values[:6]  # Cerberus is slow
    with patch.object(compiled, "COLUMN_MIN_ITEMS", 0):
        assert compiled_ok(values, rules) == cerberus_ok(values, rules)


@pytest.mark.parametrize("area", sorted(RECORDS))
def test_valid_long_lists_are_accepted_by_columns(area):
    # Not vacuous: the fast path does accept what it is for, also when keys vary between records.
    rules, values = varied(area, 50, [])
    assert compiled.compile_column(rules["schema"])(values)
    if rules["schema"].get("allow_unknown"):
        values[7]["x"] = "an unknown key"
        assert compiled.compile_column(rules["schema"])(values)
    schema = rules["schema"]["schema"]
    trimmed = [{k: v for k, v in r.items() if i % 2 or schema.get(k, {}).get("required")}  # optional keys dropped
               for i, r in enumerate(values)]
    assert compiled.compile_column(rules["schema"])(trimmed)


def test_a_bad_record_deep_in_a_long_list_is_reported_as_before():
    rules, values = varied("directory_accounts", 1000, [(777, "source", {"file": "ad.csv", "line": 0})])
    out = []
    compile_rules(rules)(values, ("directory_accounts",), out)
    assert out == [(("directory_accounts", 777, "source", "line"), "min value is 1")]


# ---------------------------------------------------------------- policy documents: the fast "valid" answer

def _policy_documents():
    """Every control, check, profile and the manifest of the embedded policy, with its schema."""
    import yaml

    from auditor.policy import default_policy_dir
    from auditor.schemas import documents as D

    base = default_policy_dir()
    root = base.parent
    found = [(D.POLICY, base / "policy.yaml")]
    found += [(D.CONTROL, p) for p in sorted((base / "controls").glob("*.yaml"))]
    found += [(D.PROFILE, p) for p in sorted((base / "profiles").glob("*.yaml"))]
    found += [(D.CHECK, p) for p in sorted((root / "checks").rglob("*.yaml"))]
    return [(schema, yaml.safe_load(path.read_text(encoding="utf-8"))) for schema, path in found]


POLICY_DOCS = _policy_documents()
DOC_KEYS = sorted({k for _, doc in POLICY_DOCS for k in doc} | {"x"})


def test_the_embedded_policy_is_valid_for_both():
    assert len(POLICY_DOCS) > 150
    for schema, doc in POLICY_DOCS:
        assert not compile_schema(schema)(doc) and cerberus.Validator(schema).validate(doc, normalize=False)


@settings(max_examples=400, deadline=None)
@given(which=st.integers(0, 10_000), key=st.sampled_from(DOC_KEYS), value=VALUES | st.sampled_from(
    [["a.b"], [], ["x", 1], "facts.os", ["Bad-Path"], {"ja": "題", "en": "t"}, ["GL-A01"], ["linux"]]),
    drop=st.booleans())
def test_mutated_policy_documents_get_cerberus_verdict(which, key, value, drop):
    schema, doc = POLICY_DOCS[which % len(POLICY_DOCS)]
    doc = copy.deepcopy(doc)
    if drop:
        doc.pop(key, None)
    else:
        doc[key] = value
    assert (not compile_schema(schema)(doc)) == cerberus.Validator(schema).validate(doc, normalize=False)


def test_a_policy_document_with_a_problem_still_gets_cerberus_message():
    from auditor.schemas import documents as D
    from auditor.schemas import problems

    schema, doc = next((s, d) for s, d in POLICY_DOCS if s is D.CHECK)
    bad = {**doc, "reads": ["ok.path", "Bad Path"]}
    assert problems(bad, schema) == [(("reads",), "does not match any allowed form")]
    lonely = {k: v for k, v in doc.items() if k not in ("reads", "condition")} | {"item": "name"}
    assert problems(lonely, schema) == [(("item",), "field 'reads' is required")]


DIGIT_PATTERNS = [r"\d{4}-\d{2}-\d{2}", r"[A-Z0-9_]+", r"[0-5]\d", r"19\d\d", r"\d{2}", r"a{2}\d", r"[!-~]+",
                  r"(\d)\1", r"\x30\d", r"\d{1,3}(:\d\d)?"]
SHAPED = st.text(st.sampled_from(list("0159-:aAT\n٣_")), min_size=0, max_size=6)


@settings(max_examples=300, deadline=None)
@given(pattern=st.sampled_from(DIGIT_PATTERNS), values=st.lists(SHAPED, min_size=64, max_size=200),
       extra=st.sampled_from(["", "12", "1999", "00", "a\n1", "aa7", "35", "69"]))
def test_a_regex_column_is_judged_as_value_by_value(pattern, values, extra):
    # Digit-blind patterns are judged once per shape (digits made 0); the verdict must not change.
    values = [*values, extra]
    rules = {"type": "string", "regex": pattern}
    expected = all(re.fullmatch(pattern, v) for v in values)
    assert compiled.compile_column(rules)(values) == expected


def test_digit_blind_patterns_are_told_apart():
    assert compiled._digit_blind(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})")
    assert not any(map(compiled._digit_blind, [r"[0-5]\d", r"19\d\d", r"(\d)\1", r"\x30", r"\{4\}"]))


def test_a_check_item_is_a_field_name_or_a_template_for_both():
    from auditor.schemas import documents as D

    _, doc = next((s, d) for s, d in POLICY_DOCS if s is D.CHECK and "reads" in d)
    for item, valid in (("name", True), ("{name} ({source.file}:{source.line})", True), ("facts.os", False),
                        ("Name", False)):
        bad = {**doc, "item": item}
        assert (not compile_schema(D.CHECK)(bad)) is valid
        assert cerberus.Validator(D.CHECK).validate(bad, normalize=False) is valid


ENTRY_RULES = {"settings": FACT_SCHEMAS["ssh_server"]["schema"]["settings"], "facts": B.BODY["facts"]}


@settings(max_examples=300, deadline=None)
@given(which=st.sampled_from(sorted(ENTRY_RULES)),
       value=st.dictionaries(st.sampled_from(["maxauthtries", "permitrootlogin", "os", "time_sync", "org",
                                              "Bad-Key", "9lives", "x_1", "a", "b", "c", "d", "e", "f"]),
                             st.one_of(st.sampled_from(["yes", "no", "3", ""]), st.integers(0, 9), st.none(),
                                       st.lists(st.integers(0, 3), max_size=2)),
                             min_size=compiled.COLUMN_MIN_ITEMS, max_size=14))
def test_long_mappings_checked_key_by_key_or_at_once_get_the_same_problems(which, value):
    """A mapping with keysrules/valuesrules (sshd settings, the bundle's fact areas) is first checked all
    at once; the verdict and the problems reported are Cerberus's and the item checker's."""
    rules = ENTRY_RULES[which]
    found: list = []
    compile_rules(rules)(value, ("v",), found)
    with patch.object(compiled, "COLUMN_MIN_ITEMS", 10**9):
        one_by_one: list = []
        compile_rules(rules)(value, ("v",), one_by_one)
    assert found == one_by_one
    assert (not found) == cerberus_ok(value, rules)


def test_a_long_valid_mapping_passes_at_once_and_one_bad_entry_is_still_named():
    rules = ENTRY_RULES["settings"]
    value = {f"option{n}": str(n) for n in range(12)}
    found: list = []
    compile_rules(rules)(value, ("v",), found)
    assert found == [] and cerberus_ok(value, rules)
    value["option7"] = 7
    compile_rules(rules)(value, ("v",), found)
    assert found == [(("v", "option7"), "expected string, got int")]
