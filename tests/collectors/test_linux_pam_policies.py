"""PAM parsing and the ``password_policy`` / ``lockout_policy`` areas on Debian 12 and RHEL 9 stacks."""

from __future__ import annotations

from auditor.evidence.collectors.linux.lockout import lockout_policy
from auditor.evidence.collectors.linux.pam import expand_stack, parse_pam
from auditor.evidence.collectors.linux.passwords import (
    parse_name_value,
    password_policy,
    pwquality_rule,
    real_min_length,
)
from linux_support import fixture_text

DEBIAN_DEFS = {"PASS_MAX_DAYS": "99999", "PASS_MIN_DAYS": "0", "PASS_WARN_AGE": "7", "ENCRYPT_METHOD": "SHA512"}


def _stack(text: str, ptype: str = "password", name: str = "start") -> list:
    return expand_stack({name: parse_pam(text, name)}, name, ptype)


def test_parse_pam_lines_controls_and_includes() -> None:
    lines = parse_pam(fixture_text("pam/rhel9/system-auth"), "/etc/pam.d/system-auth")
    faillock = [ln for ln in lines if ln.module == "pam_faillock"]
    assert [(ln.type, ln.control, ln.args) for ln in faillock] == [
        ("auth", "required", ("preauth", "silent")), ("auth", "required", ("authfail",)),
        ("account", "required", ())]
    usertype = next(ln for ln in lines if ln.module == "pam_usertype")
    assert usertype.control == "[default=1 ignore=ignore success=ok]"
    assert any(ln.type == "session" and ln.module == "pam_systemd" for ln in lines)  # "-session" kept
    include = parse_pam(fixture_text("pam/debian12/passwd-service"))
    assert [(ln.type, ln.module) for ln in include] == [("@include", "common-password")]


def test_expand_stack_follows_includes() -> None:
    files = {"passwd": parse_pam(fixture_text("pam/debian12/passwd-service")),
             "common-password": parse_pam(fixture_text("root/etc/pam.d/common-password"))}
    modules = [ln.module for ln in expand_stack(files, "passwd", "password")]
    assert modules == ["pam_pwquality", "pam_unix", "pam_deny", "pam_permit"]


def test_real_min_length_with_credits() -> None:
    assert real_min_length(12, [-1, -1, 0, 0]) == 12  # credits off: minlen is the real length
    assert real_min_length(9, [1, 1, 1, 1]) == 5  # cracklib defaults
    assert real_min_length(8, [10, 0, 0, 0]) == 4  # a bonus never exceeds the characters typed


def test_pwquality_arguments_override_configuration() -> None:
    conf = parse_name_value(fixture_text("root/etc/security/pwquality.conf"))
    assert conf["minlen"] == "10" and "ocredit" not in conf
    lines = [ln for ln in _stack(fixture_text("root/etc/pam.d/common-password")) if ln.module == "pam_pwquality"]
    rule = pwquality_rule(conf, lines)
    assert rule is not None and (rule.min_length, rule.min_char_classes) == (12, 3)
    assert pwquality_rule({"minlen": "4", "enforcing": "0"}, lines) is None


def test_debian12_default_stack_obscure_gives_six() -> None:
    stack = _stack(fixture_text("pam/debian12/common-password-default"))
    facts = password_policy(DEBIAN_DEFS, {"INACTIVE": "-1"}, stack, "/etc/pam.d/common-password", {}, {})
    assert facts == {
        "max_age_days": None, "min_age_days": 0, "warn_age_days": 7, "inactive_days": None,
        "min_length": 6, "min_char_classes": 0, "complexity": False, "history": 0, "hash_algorithm": "YESCRYPT",
        "sources": ["/etc/login.defs", "/etc/default/useradd", "/etc/pam.d/common-password",
                    "min_length: pam_unix obscure built-in minimum 6 (/etc/pam.d/common-password)",
                    "hash_algorithm: pam_unix option (/etc/pam.d/common-password)"],
    }


def test_login_defs_values_that_are_not_numbers_are_left_out() -> None:
    facts = password_policy({"PASS_MAX_DAYS": "ninety", "PASS_MIN_DAYS": "-1"}, {"INACTIVE": ""}, None, "", {}, {})
    assert "max_age_days" not in facts and "inactive_days" not in facts
    assert facts["min_age_days"] is None


def test_pam_unix_without_rules_enforces_nothing_and_optional_modules_do_not_count() -> None:
    facts = password_policy(None, None, _stack(fixture_text("pam/debian12/common-password-plain")),
                            "/etc/pam.d/common-password", {}, {})
    assert (facts["min_length"], facts["min_char_classes"], facts["complexity"]) == (0, 0, False)
    assert "min_length: no length rule in the password stack (/etc/pam.d/common-password)" in facts["sources"]
    assert facts["hash_algorithm"] == "SHA512"


def test_cracklib_and_pam_unix_minlen_take_the_longest() -> None:
    facts = password_policy(None, None, _stack(fixture_text("pam/debian12/common-password-cracklib")),
                            "/etc/pam.d/common-password", {}, {})
    assert facts["min_length"] == 8  # pam_unix minlen=8 beats cracklib's 9-with-credits (5)
    assert facts["min_char_classes"] == 0


def test_rhel9_stack_pwquality_and_pwhistory_conf() -> None:
    stack = _stack(fixture_text("pam/rhel9/system-auth"))
    facts = password_policy({"PASS_MAX_DAYS": "60", "ENCRYPT_METHOD": "SHA512"}, {"INACTIVE": "35"}, stack,
                            "/etc/pam.d/system-auth", parse_name_value(fixture_text("pam/rhel9/pwquality.conf")),
                            parse_name_value(fixture_text("pam/rhel9/pwhistory.conf")))
    assert (facts["min_length"], facts["min_char_classes"], facts["complexity"]) == (14, 4, True)
    assert facts["history"] == 24 and facts["max_age_days"] == 60 and facts["inactive_days"] == 35
    assert facts["hash_algorithm"] == "SHA512"
    assert "history: pam_pwhistory remember=24" in facts["sources"]


def test_unreadable_pwquality_conf_leaves_strength_out() -> None:
    facts = password_policy(None, None, _stack(fixture_text("pam/rhel9/system-auth")), "/etc/pam.d/system-auth",
                            None, {})
    assert "min_length" not in facts and "complexity" not in facts
    assert facts["history"] == 10  # pam_pwhistory's built-in default


def test_lockout_debian_faillock_conf() -> None:
    stacks = {"common-auth": _stack(fixture_text("root/etc/pam.d/common-auth"), "auth")}
    conf = parse_name_value(fixture_text("root/etc/security/faillock.conf"))
    assert lockout_policy(stacks, conf) == {"enabled": True, "threshold": 5, "duration_minutes": 30,
                                            "window_minutes": 15, "applies_to_root": False}
    conf.update(unlock_time="never", even_deny_root="")
    result = lockout_policy(stacks, conf)
    assert result["duration_minutes"] == 0 and result["applies_to_root"] is True


def test_lockout_rhel_needs_every_entry_point() -> None:
    system = _stack(fixture_text("pam/rhel9/system-auth"), "auth")
    password = _stack(fixture_text("pam/rhel9/password-auth"), "auth")
    assert lockout_policy({"system-auth": system, "password-auth": password}, {}) == {
        "enabled": False, "threshold": 0, "applies_to_root": False}
    assert lockout_policy({"system-auth": system}, {}) == {  # pam_faillock defaults
        "enabled": True, "threshold": 3, "duration_minutes": 10, "window_minutes": 15, "applies_to_root": False}


def test_lockout_not_configured_and_tally2() -> None:
    plain = {"common-auth": _stack(fixture_text("pam/debian12/common-auth-default"), "auth")}
    assert lockout_policy(plain, {}) == {"enabled": False, "threshold": 0, "applies_to_root": False}
    tally = {"common-auth": _stack(fixture_text("pam/debian12/common-auth-tally2"), "auth")}
    assert lockout_policy(tally, {}) == {"enabled": True, "threshold": 3, "duration_minutes": 0,
                                         "applies_to_root": True}


def test_unset_login_defs_and_useradd_keys_take_their_documented_default() -> None:
    facts = password_policy({"ENCRYPT_METHOD": "SHA512"}, {"SHELL": "/bin/sh"}, None, "", None, {})
    assert facts["max_age_days"] is None and facts["min_age_days"] is None
    assert facts["inactive_days"] is None
    facts = password_policy({"PASS_MAX_DAYS": "90"}, {"INACTIVE": "30"}, None, "", None, {})
    assert (facts["max_age_days"], facts["inactive_days"]) == (90, 30)
