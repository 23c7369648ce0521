"""Reading JSON refuses what the reader of the file would not see: duplicate keys, deep nesting, long integers."""

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor import jsonio
from auditor.limits import MAX_INT_DIGITS, MAX_JSON_DEPTH


def refused(raw: bytes) -> jsonio.Refused:
    with pytest.raises(jsonio.Refused) as err:
        jsonio.decode(raw)
    return err.value


def test_a_duplicate_key_is_refused_naming_both_lines():
    err = refused(b'{\n  "facts": {\n    "password_policy": {\n      "min_length": 6,\n      "min_length": 14\n'
                  b'    }\n  }\n}\n')
    assert err.line == 5 and "duplicate key 'min_length' (first on line 4)" in err.problem


@pytest.mark.parametrize("raw", [
    b'{"a" : 1, "a": 2}',             # a space before one colon: the fast count cannot see it
    b'{"a":1,"a":"\\u003ax"}',        # an escaped colon in the kept value
    b'{"a\\"":1,"a\\"":2}',           # escaped quotes in the keys
    b'[{"a":1},{"a":2,"b":{"c":1,"c":2}}]',
    b'{"a": 1, "\\u0061": 2}',        # the same key, once escaped
    b'{"x": 12345678901234567890123, "k": 1, "k": 2}',  # a long integer sends it the slow way
])
def test_duplicates_are_found_whatever_the_spelling(raw):
    assert "duplicate key" in refused(raw).problem


def test_keys_repeated_in_different_objects_are_not_duplicates():
    raw = b'{"targets": [{"id": "a", "v": "::1"}, {"id": "b", "v": ":"}], "id": "x"}'
    assert jsonio.decode(raw) == json.loads(raw)


def test_depth_is_limited_at_every_size():
    ok = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert jsonio.decode(ok) is not None
    for depth in (MAX_JSON_DEPTH + 1, 2_000, 100_000):
        raw = b'{"a":' * depth + b"1" + b"}" * depth
        assert "nested more than" in refused(raw).problem
    assert refused(b'{\n"a":\n' + b"[" * 200 + b"]" * 200 + b"}").line == 3


def test_long_integers_are_refused_not_a_traceback():
    err = refused(b'{\n"n": ' + b"9" * 5000 + b"}")
    assert err.line == 2 and "5,000 digits" in err.problem
    assert jsonio.decode(b'{"n": ' + b"9" * MAX_INT_DIGITS + b"}")["n"] == int("9" * MAX_INT_DIGITS)


def _nested(depth: int) -> dict:
    doc: dict = {"leaf": 1}
    for _ in range(depth - 1):
        doc = {"a": doc}
    return doc


def test_files_as_this_program_writes_them_are_checked_as_strictly():
    """Bundles as the collectors write them (jsonio.encode) take a cheaper test: the same verdicts."""
    assert jsonio.decode(jsonio.encode(_nested(MAX_JSON_DEPTH))) == _nested(MAX_JSON_DEPTH)
    deep = jsonio.encode(_nested(MAX_JSON_DEPTH + 1))
    assert "nested more than" in refused(deep).problem
    assert "nested more than" in refused(deep[:-1]).problem  # without the final newline
    assert "nested more than" in refused(jsonio.encode([[[_nested(MAX_JSON_DEPTH - 2)]]])).problem
    assert jsonio.decode(jsonio.encode({"n": [[], {}, [[]]]})) == {"n": [[], {}, [[]]]}
    top = 2**64 - 1
    assert jsonio.decode(jsonio.encode({"n": top})) == {"n": top}
    beyond = jsonio.encode({"n": 1}).replace(b"1", str(2**64 + 1).encode())  # read exactly, not as a float
    assert jsonio.decode(beyond) == {"n": 2**64 + 1}
    twice = b'{\n  "a": 1,\n  "a": 1\n}\n'  # laid out as encode lays out, but no encoding writes it
    assert "duplicate key" in refused(twice).problem


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.sampled_from('ab:" \\\u3042\n')),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(alphabet="ab:\" ", max_size=3), inner,
                                                                 max_size=4),
    max_leaves=20)


def _strict_has_duplicate(text: str) -> bool:
    found = []

    def pairs(items):
        if len(dict(items)) != len(items):
            found.append(True)
        return dict(items)

    json.loads(text, object_pairs_hook=pairs)
    return bool(found)


@pytest.mark.fuzz
@given(json_values, st.data())
def test_fuzz_duplicates_are_found_exactly(value, data):
    """Every way of writing a document, with a key repeated or not, gives the standard library's
    verdict on duplicates, and otherwise the standard library's document."""
    text = json.dumps(value, ensure_ascii=data.draw(st.booleans()), indent=data.draw(st.sampled_from([None, 1, 2])),
                      separators=data.draw(st.sampled_from([None, (",", ":"), (", ", " : ")])))
    if data.draw(st.booleans()) and "{" in text:
        at = text.index("{") + 1
        text = text[:at] + '"dup": 1, "dup": 2' + ("," if text[at] != "}" else "") + text[at:]
    raw = text.encode()
    if _strict_has_duplicate(text):
        assert "duplicate key" in refused(raw).problem
    else:
        assert jsonio.decode(raw) == json.loads(text)


@pytest.mark.fuzz
@given(st.binary(max_size=200))
def test_fuzz_bytes_give_a_document_or_a_known_error(raw):
    with contextlib.suppress(UnicodeDecodeError, json.JSONDecodeError, jsonio.Refused):
        jsonio.decode(raw)


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2 ** 70), 2 ** 70), st.floats(allow_nan=False),
              st.text(alphabet=st.characters(codec=None), max_size=6), st.sampled_from(["a\nb", "石岡", "\ud800"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)),
    max_leaves=8)


@given(items=st.lists(JSON_VALUES, max_size=5), indent=st.integers(0, 8))
def test_items_encoded_together_are_the_bytes_of_items_encoded_one_by_one(items, indent):
    # a chunk of findings is encoded in one call: what it writes must be what item-by-item wrote,
    # lone surrogates and integers beyond 64 bits (which orjson refuses) included
    assert jsonio.encode_items(items, indent) == b",\n".join(jsonio.encode_item(i, indent) for i in items)
