"""The parameter catalogue: every parameter typed, every setting checked against it when loaded."""

import pytest

from auditor.errors import InputError
from auditor.parameters import check_value
from auditor.policy import load_policy
from auditor.selection import load_tailoring, resolve


def problems(spec, value):
    return [message for _, message in check_value(spec, value, ())]


@pytest.mark.parametrize(("spec", "good", "bad"), [
    ({"type": "integer", "min": 0, "max": 10}, [0, 10], [-1, 11, 1.5, True, "3"]),
    ({"type": "number", "min": 0}, [0, 1.5, 7], [-0.1, False, "1", float("nan")]),
    ({"type": "boolean"}, [True, False], [0, 1, "true"]),
    ({"type": "string", "allowed": ["alpha", "beta"]}, ["alpha"], ["gamma", 1]),
    ({"type": "regex"}, ["^adm-", ""], ["(unclosed", 3]),
    ({"type": "date"}, ["2026-04-01"], ["2026-02-30", "令和8年4月1日", 20260401]),
    ({"type": "list", "items": {"type": "integer", "min": 0, "max": 65535}}, [[], [22, 443]], [[70000], "22", [None]]),
    ({"type": "mapping", "values": {"type": "date"}}, [{"Windows 10": "2025-10-14"}], [{"Windows 10": "soon"}, []]),
    ({"type": "flows"}, [[], [{"to": {"role": "sanitizer"}, "services": ["tcp/443"]}]],
     [[{"to": {"colour": "red"}}], [{"services": ["tcp/70000"]}], [{"from": "lgwan"}], {"to": {}}]),
])
def test_each_type_accepts_and_refuses(spec, good, bad):
    for value in good:
        assert problems(spec, value) == [], value
    for value in bad:
        assert problems(spec, value), value


def test_the_embedded_catalogue_covers_every_use_and_nothing_else():
    policy = load_policy()
    used = {name for check in policy.checks.values() for name in check.params}
    declared = {name for control in policy.controls.values() for name in control.parameters}
    set_by_profiles = {name for profile in policy.profiles.values() for name in profile.parameters}
    assert used | declared | set_by_profiles <= policy.parameters.keys()
    assert policy.parameters.keys() <= used | declared | set_by_profiles  # no entry nobody refers to
    for parameter in policy.parameters.values():
        assert parameter.title["ja"] and parameter.title["en"]


def test_a_tailoring_with_a_broken_flow_is_refused_at_its_line(tmp_path):
    path = tmp_path / "city.yaml"
    path.write_text("format: auditor-tailoring/1\nid: city\nprofile: national-alpha\nparameters:\n"
                    "  mn_specific_flows:\n    value:\n      - {to: {name: juki}, services: [tcp/443]}\n"
                    "      - {to: {name: jlis}, services: [tcp/99999]}\n    reason: 市の特定通信\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        resolve(load_policy(), None, load_tailoring(path))
    assert err.value.line == 8 and err.value.where == "parameters.mn_specific_flows.value[1].services[0]"
