"""Property tests of the core parsers: policy-side YAML, tailoring, zones and evidence bundles.

Whatever bytes they are given, each either reads them or raises InputError (exit 2 naming the
file); never another exception. Marked ``fuzz``: 10,000 examples each under ``pytest -m fuzz``.
"""

import json

import pytest
import yaml
from auditor.evidence.zones import parse_zones
from hypothesis import given
from hypothesis import strategies as st
from support import BASE_BUNDLE

from auditor import bundles
from auditor.errors import InputError
from auditor.policy import load_policy
from auditor.selection import load_tailoring, resolve
from auditor.yamldoc import parse_yaml

YAML_PIECES = ["a", "b", ":", " ", "\n", "  ", "- ", "[", "]", "{", "}", ",", "&x ", "*x", "<<: ", "!!python/name:os ",
               "'", '"', "#", "1", "0x1F", "9" * 50, "yes", "null", "~", "|\n  ", "? ", "\t", "日本", "\ufeff",
               "%YAML 1.1\n", "---\n", "...\n"]
yaml_text = st.lists(st.sampled_from(YAML_PIECES), max_size=40).map("".join)


@pytest.mark.fuzz
@given(st.one_of(st.binary(max_size=300), yaml_text.map(str.encode)))
def test_fuzz_yaml_reads_or_refuses(raw):
    try:
        doc = parse_yaml(raw, "t.yaml")
    except InputError as err:
        assert err.file == "t.yaml"
        return
    # what was read is plain data, as the safe loader builds it, and every key is unique text or scalar
    yaml.safe_dump(doc.data)


def _tailoring_texts():
    value = st.one_of(st.integers(-5, 10**6), st.text(max_size=5), st.booleans(), st.none(),
                      st.lists(st.integers(0, 70000), max_size=3))
    name = st.sampled_from(["password_min_length", "patch_days", "patch_dayz", "x", "password_min_length"])
    entry = st.tuples(name, value, st.sampled_from(["r", ""]))
    return st.lists(entry, max_size=4).map(
        lambda items: "format: auditor-tailoring/1\nid: t\nprofile: base\nparameters:\n"
        + "".join(f"  {n}: {{value: {json.dumps(v)}, reason: {json.dumps(r)}}}\n" for n, v, r in items))


@pytest.mark.fuzz
@given(st.one_of(_tailoring_texts(), yaml_text))
def test_fuzz_tailoring_loads_or_refuses(tmp_path_factory, text):
    from support import MINI_POLICY

    path = tmp_path_factory.mktemp("t") / "t.yaml"
    path.write_text(text, encoding="utf-8")
    policy = load_policy(MINI_POLICY)
    try:
        selection = resolve(policy, None, load_tailoring(path))
    except InputError as err:
        assert err.file == str(path)
        return
    for name, value in selection.params.items():  # what was accepted is what the catalogue allows
        assert policy.parameters[name].problems(value) == []


ZONE_PIECES = ["format: auditor-zones/1\n", "zones:\n", "  - name: z\n", "    segment: lgwan\n", "    segment: dmz\n",
               "    networks: [10.0.0.0/8]\n", "    networks: [10.0.0.0/33]\n", "    networks: [10.1.0.0/16]\n",
               "    networks: [fe80::/10]\n", "    role: sanitizer\n", "  - name: y\n", "    interfaces: [port1]\n",
               "    networks: [999.1.1.1]\n", "    networks: " + "[" * 80 + "]" * 80 + "\n"]


@pytest.mark.fuzz
@given(st.one_of(st.binary(max_size=200), st.lists(st.sampled_from(ZONE_PIECES), max_size=12).map(
    lambda parts: "".join(parts).encode())))
def test_fuzz_zones_read_or_refuse(raw):
    try:
        zones = parse_zones(raw, "z.yaml")
    except InputError as err:
        assert err.file == "z.yaml"
        return
    assert isinstance(zones, list)


def _bundle_variants():
    good = json.dumps(BASE_BUNDLE, ensure_ascii=False)
    cut = st.integers(0, len(good)).map(lambda n: good[:n])
    swapped = st.tuples(st.integers(0, len(good) - 1), st.sampled_from(['"', "{", "}", "[", "]", ",", ":", "9" * 60,
                                                                          "\\ud800", "\\u0000", "null", " "]))
    mutated = swapped.map(lambda p: good[:p[0]] + p[1] + good[p[0] + 1:])
    duplicated = st.integers(1, len(good) - 1).map(lambda n: good[:n] + good[n - 1:])
    return st.one_of(cut, mutated, duplicated).map(lambda text: text.encode("utf-8", "surrogatepass"))


@pytest.mark.fuzz
@given(st.one_of(st.binary(max_size=300), _bundle_variants()))
def test_fuzz_bundles_read_or_refuse(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("b") / "b.json"
    path.write_bytes(raw)
    unread: list[bundles.Unread] = []
    try:
        groups = bundles.index([path])
    except InputError as err:
        assert err.file == str(path)
        groups = bundles.index([path.parent], unread=unread)  # in a fleet: listed, not raised
        assert groups == {} and [u.path for u in unread] == [str(path)]
        return
    for target_id, files in groups.items():
        target = bundles.load_target(target_id, files)  # a broken body becomes the target's problem
        assert target.id == target_id
