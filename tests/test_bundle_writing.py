"""Bundles written by ``auditor import``: the fast writer gives exactly the bytes of the plain one."""

from __future__ import annotations

import gc
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import cli

TEXT = st.text(st.sampled_from(list('aZ0 é架職"\\/\x00\x1f\x7f\u2028\ud7ff😀')), max_size=5)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), TEXT,
                    st.floats(allow_nan=True, allow_infinity=True))
JSONISH = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                       max_leaves=6)
RECORDS = st.lists(st.dictionaries(TEXT, JSONISH, max_size=4), max_size=12)


def plain_bundle_json(bundle):
    """The writer as it was: every record through JSONEncoder.encode, the head patched with replace."""
    lists = {area: value for area, value in bundle["facts"].items() if isinstance(value, list) and value}
    marks = {area: f"\0{area}\0" for area in lists}
    head = json.dumps({**bundle, "facts": {**bundle["facts"], **marks}}, ensure_ascii=False, indent=2)
    encode = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
    for area, records in lists.items():
        body = "[\n" + ",\n".join("      " + encode(r) for r in records) + "\n    ]"
        head = head.replace(json.dumps(marks[area], ensure_ascii=False), body, 1)
    return head + "\n"


@settings(max_examples=100, deadline=None)
@given(records=RECORDS)
def test_each_record_is_encoded_as_json_encoder_encodes_it(records):
    encode = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
    assert list(cli._one_line_each(records)) == [encode(r) for r in records]


@settings(max_examples=60, deadline=None)
@given(accounts=RECORDS, roster=RECORDS, other=JSONISH, labels=st.dictionaries(TEXT, TEXT, max_size=2))
def test_bundles_are_written_byte_for_byte_as_before(accounts, roster, other, labels):
    bundle = {"format": "auditor-evidence/1",
              "target": {"id": "t", "kind": "directory", "segment": None, "department": None, "labels": labels},
              "collected_at": "2026-11-02T09:00:00+09:00",
              "collector": {"name": "auditor-import-ad-users", "version": "0", "host": "h"},
              "facts": {"directory_accounts": accounts, "hr_roster": roster, "os": other, "zz": []},
              "sources": [{"name": "ad.csv", "parser": "ad-users (cp932)", "size": 1, "sha256": "0" * 64}],
              "errors": []}
    assert cli._bundle_json(bundle) == plain_bundle_json(bundle)


def test_a_record_the_c_encoder_cannot_write_fails_as_before():
    for records in ([{"a": {1, 2}}], [{"a": 1}, {"b": object()}]):
        encoder = json.JSONEncoder(ensure_ascii=False, check_circular=False)
        try:
            [encoder.encode(r) for r in records]
        except TypeError as exc:
            expected = str(exc)
        try:
            list(cli._one_line_each(records))
        except TypeError as exc:
            assert str(exc) == expected
        else:
            raise AssertionError("no error")


def test_a_failing_bundle_leaves_no_partial_file(tmp_path):
    out = tmp_path / "bundle.json"
    out.write_text("old", encoding="utf-8")
    bundle = {"facts": {"a": [{"x": 1}, {"x": math.nan, "y": object()}]}}
    with pytest.raises(TypeError):
        cli._write_parts(cli._bundle_parts(bundle), str(out))
    assert out.read_text(encoding="utf-8") == "old"


@pytest.mark.parametrize("broken", [False, True])
def test_commands_leave_the_cycle_collector_as_they_found_it(write_bundle, tmp_path, capsys, broken):
    # import and audit pause or freeze the collector for large evidence; in-process callers get it back.
    from support import make_bundle

    bundle = write_bundle("pc.json", "{not json" if broken else make_bundle())
    export = tmp_path / "roster.csv"
    export.write_text("職員番号,氏名,在職区分\n" + ("000001,x\n" if broken else "000001,x,在職\n"), encoding="utf-8")
    assert gc.isenabled() and gc.get_freeze_count() == 0
    cli.main(["audit", str(bundle), "--format", "json"])
    assert gc.isenabled() and gc.get_freeze_count() == 0
    cli.main(["import", "hr-roster", str(export), "--out", str(tmp_path / "o.json")])
    assert gc.isenabled() and gc.get_freeze_count() == 0
    capsys.readouterr()
