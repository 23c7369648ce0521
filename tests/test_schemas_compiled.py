"""The compiled evidence checker agrees with Cerberus itself on every generated document."""

import copy

import cerberus
from hypothesis import given, settings
from hypothesis import strategies as st
from support import BASE_BUNDLE

from auditor.schemas import bundle as B
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
