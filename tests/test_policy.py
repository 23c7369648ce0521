import shutil
from pathlib import Path

import pytest
from support import MINI_POLICY

from auditor.errors import InputError
from auditor.policy import load_policy
from auditor.selection import load_tailoring, resolve


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    target = tmp_path / "policy"
    shutil.copytree(MINI_POLICY, target)
    return target


def load_error(path: Path) -> InputError:
    with pytest.raises(InputError) as err:
        load_policy(path)
    return err.value


def test_mini_policy_loads_with_inherited_severity_and_hash(policy_dir):
    policy = load_policy(policy_dir)
    assert list(policy.checks) == ["empty-pw", "forwarding", "min-length", "patched", "training"]
    assert policy.checks["forwarding"].severity == "critical"  # from GL-A13
    first = policy.sha256
    path = policy_dir / "checks" / "min-length.yaml"
    text = path.read_text(encoding="utf-8")
    assert "title: {ja: 最小長," in text
    path.write_text(text.replace("title: {ja: 最小長,", "title: {ja: 最小の長さ,"), encoding="utf-8")
    assert load_policy(policy_dir).sha256 != first


def test_unknown_key_names_file_line_and_key(policy_dir):
    path = policy_dir / "checks" / "min-length.yaml"
    path.write_text(path.read_text() + "colour: red\n")
    err = load_error(policy_dir)
    assert err.file.endswith("checks/min-length.yaml")
    assert err.where == "colour" and err.line == 9
    assert "unknown key" in str(err)


def test_invalid_yaml_in_a_check(policy_dir):
    (policy_dir / "checks" / "broken.yaml").write_text("id: broken\ncontrols: [GL-B11\n")
    err = load_error(policy_dir)
    assert err.file.endswith("broken.yaml") and err.line is not None and "invalid YAML" in err.problem


def test_unknown_operator_points_into_the_condition(policy_dir):
    path = policy_dir / "checks" / "min-length.yaml"
    path.write_text(path.read_text().replace("condition: {ge:", "condition: {gte:"))
    err = load_error(policy_dir)
    assert err.where == "condition.gte" and err.line == 6
    assert "unknown operator" in err.problem and "ge" in err.problem


def test_unknown_control_and_duplicate_id(policy_dir):
    path = policy_dir / "checks" / "min-length.yaml"
    path.write_text(path.read_text().replace("controls: [GL-B11]", "controls: [GL-Z99]"))
    err = load_error(policy_dir)
    assert err.where == "controls[0]" and "GL-Z99" in err.problem
    path.write_text(path.read_text().replace("controls: [GL-Z99]", "controls: [GL-B11]"))
    shutil.copy(path, policy_dir / "checks" / "copy.yaml")
    err = load_error(policy_dir)
    assert "duplicate check id 'min-length'" in err.problem


def test_missing_localisation_is_reported(policy_dir):
    path = policy_dir / "controls" / "gl-b11.yaml"
    path.write_text(path.read_text().replace("title: {ja: \"GL-B11 の題\", en: \"GL-B11 title\"}",
                                             "title: {ja: \"GL-B11 の題\"}"))
    err = load_error(policy_dir)
    assert err.where == "title.en" and "required" in err.problem


def test_manual_check_cannot_have_a_condition(policy_dir):
    path = policy_dir / "checks" / "training.yaml"
    path.write_text(path.read_text() + "reads: training\ncondition: {eq: 1}\n")
    assert "manual check" in load_error(policy_dir).problem


def test_profile_inheritance_and_selection(policy_dir):
    policy = load_policy(policy_dir)
    base = resolve(policy)
    assert base.profile.id == "base"
    assert [c.id for c in base.checks] == ["empty-pw", "forwarding", "min-length", "patched"]  # GL-E05 unselected
    strict = resolve(policy, "strict")
    assert strict.params["password_min_length"] == 12 and strict.params["patch_days"] == 30


def test_missing_parameter_is_an_error(policy_dir):
    path = policy_dir / "profiles" / "base.yaml"
    path.write_text(path.read_text().replace(", patch_days: 30", ""))
    with pytest.raises(InputError) as err:
        resolve(load_policy(policy_dir))
    assert "patched" in err.value.problem and "'patch_days'" in err.value.problem


def test_a_misspelt_profile_parameter_is_refused_with_the_nearest_name(policy_dir):
    path = policy_dir / "profiles" / "base.yaml"
    path.write_text(path.read_text().replace("patch_days: 30", "patch_dayz: 30"))
    err = load_error(policy_dir)
    assert err.file.endswith("base.yaml") and err.line == 4 and err.where == "parameters.patch_dayz"
    assert "unknown parameter 'patch_dayz' (did you mean patch_days?)" in err.problem


def test_a_profile_parameter_of_the_wrong_type_is_refused(policy_dir):
    path = policy_dir / "profiles" / "strict.yaml"
    path.write_text(path.read_text().replace("password_min_length: 12", "password_min_length: twelve"))
    err = load_error(policy_dir)
    assert err.file.endswith("strict.yaml") and err.where == "parameters.password_min_length"
    assert "expected a whole number, got a text 'twelve'" in err.problem


def tailoring_file(tmp_path: Path, parameters: str) -> Path:
    path = tmp_path / "city.yaml"
    path.write_text("format: auditor-tailoring/1\nid: city\nprofile: base\nparameters:\n" + parameters,
                    encoding="utf-8")
    return path


def test_a_misspelt_tailoring_parameter_is_refused_naming_file_and_line(tmp_path):
    path = tailoring_file(tmp_path, "  password_min_lenght: {value: 14, reason: 市規程}\n")
    with pytest.raises(InputError) as err:
        resolve(load_policy(MINI_POLICY), None, load_tailoring(path))
    assert str(err.value).startswith(f"{path}:5: parameters.password_min_lenght: unknown parameter")
    assert "did you mean password_min_length?" in err.value.problem


@pytest.mark.parametrize(("value", "message"), [
    ('"14"', "expected a whole number, got a text '14'"),
    ("true", "expected a whole number, got true/false True"),
    ("0", "expected a number of at least 1, got 0"),
    ("[14]", "expected a whole number, got a list [14]"),
    ("null", "expected a value, got null"),
])
def test_a_tailoring_parameter_of_the_wrong_type_is_refused_at_load(tmp_path, value, message):
    path = tailoring_file(tmp_path, f"  password_min_length:\n    value: {value}\n    reason: 市規程\n")
    with pytest.raises(InputError) as err:
        resolve(load_policy(MINI_POLICY), None, load_tailoring(path))
    assert err.value.line == 6 and err.value.where == "parameters.password_min_length.value"
    assert err.value.problem == message


def test_every_parameter_the_policy_uses_is_in_its_catalogue(policy_dir):
    (policy_dir / "parameters.yaml").write_text((policy_dir / "parameters.yaml").read_text().replace(
        "  patch_days:", "  patch_age:"), encoding="utf-8")
    err = load_error(policy_dir)
    assert "parameter" in err.problem and ("patch_days" in err.problem)


def test_profile_loop_and_unknown_profile(policy_dir):
    path = policy_dir / "profiles" / "base.yaml"
    path.write_text(path.read_text() + "extends: strict\n")
    with pytest.raises(InputError, match="loop"):
        resolve(load_policy(policy_dir), "strict")
    with pytest.raises(InputError, match="unknown profile 'nope'"):
        resolve(load_policy(MINI_POLICY), "nope")


def test_tailoring_selects_unselects_and_overrides_with_reasons(policy_dir, tmp_path):
    tailoring = tmp_path / "t.yaml"
    tailoring.write_text(
        "format: auditor-tailoring/1\nid: city\nprofile: base\n"
        "select: [{id: GL-E05, reason: 研修記録を点検する}]\n"
        "unselect: [{id: forwarding, reason: 境界機器のみ}]\n"
        "parameters: {password_min_length: {value: 10, reason: 市の規程}}\n", encoding="utf-8")
    sel = resolve(load_policy(policy_dir), None, load_tailoring(tailoring))
    assert [c.id for c in sel.checks] == ["empty-pw", "min-length", "patched", "training"]
    assert sel.params["password_min_length"] == 10
    assert [ch["reason"] for ch in sel.changes] == ["研修記録を点検する", "境界機器のみ", "市の規程"]


def test_tailoring_needs_reasons_and_known_ids(policy_dir, tmp_path):
    tailoring = tmp_path / "t.yaml"
    tailoring.write_text("format: auditor-tailoring/1\nid: city\nprofile: base\nunselect: [{id: forwarding}]\n")
    with pytest.raises(InputError) as err:
        load_tailoring(tailoring)
    assert err.value.where == "unselect[0].reason" and err.value.line == 4
    tailoring.write_text("format: auditor-tailoring/1\nid: city\nprofile: base\nunselect: [{id: nothing, reason: x}]\n")
    with pytest.raises(InputError, match="matches no control or check"):
        resolve(load_policy(policy_dir), None, load_tailoring(tailoring))
