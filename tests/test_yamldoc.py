import pytest

from auditor.errors import InputError
from auditor.yamldoc import format_path, parse_yaml


def test_line_of_follows_mappings_and_sequences():
    doc = parse_yaml(b"a: 1\nb:\n  c: [1, 2]\n  d:\n    - x: 1\n    - y: 2\n", "t.yaml")
    assert doc.line_of(("b", "d", 1, "y")) == 6
    assert doc.line_of(("b", "c")) == 3
    assert doc.line_of(("b", "nope")) == 2  # the deepest key found


def test_invalid_yaml_names_the_line():
    with pytest.raises(InputError) as err:
        parse_yaml(b"id: x\ncondition: {ge: [1\nother: 2\n", "c.yaml")
    assert str(err.value).startswith("c.yaml:")
    assert err.value.line in (2, 3)
    assert "invalid YAML" in str(err.value)


def test_python_tags_are_refused_not_constructed():
    with pytest.raises(InputError) as err:
        parse_yaml(b"x: !!python/object/apply:os.system ['echo pwned']\n", "evil.yaml")
    assert err.value.line == 1


def test_bom_is_accepted_and_non_utf8_rejected_with_line():
    assert parse_yaml("\ufeffa: 1\n".encode(), "b.yaml").data == {"a": 1}
    with pytest.raises(InputError) as err:
        parse_yaml("a: 1\nb: 日本\n".encode("cp932"), "sjis.yaml")
    assert err.value.line == 2


def test_format_path():
    assert format_path(("condition", "all_of", 0, "ge")) == "condition.all_of[0].ge"


def refused(text: str) -> InputError:
    with pytest.raises(InputError) as err:
        parse_yaml(text.encode(), "t.yaml")
    return err.value


def test_a_key_given_twice_is_refused_naming_both_lines():
    err = refused("id: x\nparameters:\n  a: {value: 1, reason: r}\nparameters:\n  b: {value: 2, reason: r}\n")
    assert err.line == 4 and "duplicate key 'parameters' (first on line 2)" in err.problem


def test_keys_that_mean_the_same_value_are_duplicates():
    err = refused("values:\n  1: a\n  0x1: b\n")  # both the integer 1
    assert err.line == 3 and err.where == "values"


def test_duplicate_inside_a_flow_mapping_in_a_list():
    err = refused("select:\n  - {id: GL-B11, id: GL-B12}\n")
    assert err.line == 2 and err.where == "select[0]"


def test_aliases_and_merge_keys_are_refused():
    assert "alias" in refused("a: &x [1, 2]\nb: *x\n").problem
    assert refused("a: &x [1, 2]\nb: *x\n").line == 2
    assert "merge key" in refused("base: {a: 1}\nchild:\n  <<: {b: 2}\n").problem


def test_a_billion_laughs_is_refused_before_expansion():
    levels = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 12)]  # 9**12 items
    text = "parameters:\n  x:\n    value:\n" + "".join(f"      {line}\n" for line in levels) + "    reason: r\n"
    assert "alias" in refused(text).problem


def test_nesting_is_limited():
    from auditor.limits import MAX_YAML_DEPTH

    ok = "a: " + "[" * (MAX_YAML_DEPTH - 1) + "]" * (MAX_YAML_DEPTH - 1) + "\n"
    assert parse_yaml(ok.encode(), "t.yaml").data is not None
    deep = "a: " + "[" * MAX_YAML_DEPTH + "]" * MAX_YAML_DEPTH + "\n"
    assert "nested more than" in refused(deep).problem
    assert "nested more than" in refused("a: " + "[" * 100_000 + "]" * 100_000 + "\n").problem


def test_integers_are_limited_before_conversion():
    err = refused("parameters:\n  dormant_days: {value: " + "9" * 5000 + ", reason: r}\n")
    assert err.line == 2 and "5,000 digits" in err.problem
    assert parse_yaml(b"a: 1_000\nb: 0x1F\n", "t.yaml").data == {"a": 1000, "b": 31}


def test_anchors_without_aliases_are_harmless():
    assert parse_yaml(b"a: &x 1\nb: 2\n", "t.yaml").data == {"a": 1, "b": 2}
