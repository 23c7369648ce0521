"""Bundles and reports through :mod:`auditor.jsonio`: the layout of ``json.dumps(indent=2)``, every value
read back as written, and the standard library's errors."""

from __future__ import annotations

import gc
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import cli, jsonio

TEXT = st.text(st.sampled_from(list('aZ0 é架職"\\/\x00\x1f\x7f\u2028\ud7ff😀')), max_size=5)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), TEXT,
                    st.floats(allow_nan=True, allow_infinity=True))
JSONISH = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                       max_leaves=6)
RECORDS = st.lists(st.dictionaries(TEXT, JSONISH, max_size=4), max_size=12)


def plain(doc):
    """What the standard library writes: the layout jsonio promises."""
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def same(a, b):
    """Equal as JSON values, NaN equal to itself (the round trip must keep every value)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(same, a, b))
    return type(a) is type(b) and a == b


FINITE = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), TEXT.filter(
    lambda t: not any("\ud800" <= c <= "\udfff" for c in t))),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8)


@settings(max_examples=200, deadline=None)
@given(doc=FINITE)
def test_documents_without_floats_are_written_byte_for_byte_as_json_writes_them(doc):
    assert jsonio.encode(doc) == plain(doc).encode("utf-8")


@settings(max_examples=200, deadline=None)
@given(doc=JSONISH.filter(lambda d: not _has_nan_or_inf(d)))
def test_every_finite_document_reads_back_as_it_was(doc):
    assert same(jsonio.decode(jsonio.encode(doc)), doc)
    assert same(json.loads(jsonio.encode(doc)), doc)  # and the standard library reads it too


def _has_nan_or_inf(value):
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(map(_has_nan_or_inf, value.values()))
    if isinstance(value, list):
        return any(map(_has_nan_or_inf, value))
    return False


def test_what_orjson_refuses_is_written_by_the_standard_library_and_read_back():
    big = {"filetime": 2**70, "name": "架空", "lone": "a\ud800b"}
    data = jsonio.encode(big)
    data.decode("ascii")  # the surrogate has no UTF-8 form: everything is escaped instead
    assert jsonio.decode(data) == big
    assert jsonio.encode({"n": 2**70, "name": "架空"}) == plain({"n": 2**70, "name": "架空"}).encode()


def test_nan_is_written_as_null_which_json_has():
    assert json.loads(jsonio.encode({"x": math.nan, "y": math.inf})) == {"x": None, "y": None}


@pytest.mark.parametrize("raw", [b"", b"{", b'{"a": 1,\n "b": }', b'{"a": NaN, "b": [1, 2,]}', b"[1e400]",
                                 b'{"a": "\xff"}', b"\xef\xbb\xbf{\"x\": \"\xe6\x9e\xb6\"}", b'{"s": "\\ud800"}',
                                 b'{"big": 123456789012345678901234567890}', b"\xef\xbb\xbf[1,\n\n}"])
def test_reading_fails_and_succeeds_exactly_as_the_standard_library(raw):
    def outcome(read):
        try:
            return "ok", read(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return type(exc).__name__, str(exc)

    expected = outcome(lambda r: json.loads(r.decode("utf-8-sig")))
    got = outcome(jsonio.decode)
    assert same(got, expected) if expected[0] == "ok" else got == expected


def test_a_bundle_orjson_cannot_write_fails_as_the_standard_library_does():
    for doc in ({"a": {1, 2}}, {"a": [1], "b": object()}):
        with pytest.raises(TypeError) as ours:
            jsonio.encode(doc)
        with pytest.raises(TypeError) as theirs:
            json.dumps(doc)
        assert str(ours.value) == str(theirs.value)


def test_a_failing_bundle_leaves_no_partial_file(tmp_path, monkeypatch):
    from auditor.evidence.importers import hr_roster

    out = tmp_path / "bundle.json"
    out.write_text("old", encoding="utf-8")
    export = tmp_path / "roster.csv"
    export.write_text("職員番号,氏名,在職区分\n000001,x,在職\n", encoding="utf-8")
    monkeypatch.setattr(hr_roster, "records", lambda *a, **k: [{"x": object()}])  # a record JSON cannot write
    with pytest.raises(TypeError):
        cli.main(["import", "hr-roster", str(export), "--out", str(out)])
    assert out.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle.json", "roster.csv"]  # no spool, no .part


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


# ---------------------------------------------------------------- bundles written batch by batch (evidence.spool)

# \udcff: a byte of a file name that is not UTF-8, as Python reads the name
SPOOLED_TEXT = st.text(st.sampled_from(list('aZ0 é架職"\\/\x00\x1f\x7f\u2028\udcff😀')), max_size=5)
SPOOLED_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), SPOOLED_TEXT),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(SPOOLED_TEXT, inner, max_size=3), max_leaves=6)
SPOOLED_RECORDS = st.lists(st.dictionaries(SPOOLED_TEXT, SPOOLED_VALUES, max_size=4), max_size=6)


def written(builder, batches_by_area):
    """What BundleSpool writes for the builder with these batches of records spooled."""
    import io

    from auditor.evidence.spool import BundleSpool

    with BundleSpool(None, "(test)") as spool:
        builder.spool = spool
        for area, batches in batches_by_area.items():
            builder.add_records(area, [])  # as an importer starts an area (an export without rows has it too)
            for batch in batches:
                builder.add_records(area, batch)
        out = io.BytesIO()
        spool.write(builder, out)
    builder.spool = None
    return out.getvalue()


@settings(max_examples=300, deadline=None)
@given(batches=st.dictionaries(st.sampled_from(["a_list", "m_list", "z_list"]), st.lists(SPOOLED_RECORDS, max_size=4),
                               max_size=3),
       other=st.dictionaries(st.sampled_from(["b_area", "n_area", "zz"]), FINITE, max_size=2),
       label=SPOOLED_TEXT, error=SPOOLED_TEXT)
def test_a_spooled_bundle_is_written_as_jsonio_writes_the_whole_bundle(batches, other, label, error):
    # Any records without floats (which orjson and the standard library write differently, and records never
    # hold): lone surrogates (the whole document in ASCII), integers beyond 64 bits (the standard library),
    # astral characters, DEL, empty batches and areas; other facts sorted before, between and after the lists.
    from auditor.evidence.bundle import BundleBuilder

    def builder():
        made = BundleBuilder(target_id="t", kind="directory", collector_name="test", labels={"note": label},
                             collected_at="2026-11-02T09:00:00+09:00", facts=dict(other))
        made.add_error("x", error)
        return made

    whole = builder()
    for area, area_batches in batches.items():
        whole.facts[area] = [record for batch in area_batches for record in batch]
    assert written(builder(), batches) == jsonio.encode(whole.build())


def test_a_spooled_area_cannot_also_be_set_whole():
    from auditor.evidence.bundle import BundleBuilder
    from auditor.evidence.spool import BundleSpool

    with BundleSpool(None, "(test)") as spool:
        builder = BundleBuilder(target_id="t", kind="directory", collector_name="test", spool=spool)
        builder.add_records("hr_roster", [{"a": 1}])
        with pytest.raises(RuntimeError):
            builder.set_fact("hr_roster", [])
        with pytest.raises(RuntimeError):
            builder.build()  # the records are in the spool: only the spool can write the bundle
        builder.set_fact("os", {"family": "windows"})
        with pytest.raises(RuntimeError):
            builder.add_records("os", [{"a": 1}])
