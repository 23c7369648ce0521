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
