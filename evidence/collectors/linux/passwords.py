"""Area ``password_policy``: aging defaults from login.defs and useradd, strength and
history rules from the PAM password stack.

The minimum length is what the stack actually enforces: pam_pwquality / pam_cracklib
settings with their credits worked out, pam_unix ``minlen=`` and its ``obscure`` check;
``sources`` says which of them gave each value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditor.evidence.bundle import BundleBuilder

from .common import Context, list_dir, parse_login_defs, read_optional, read_text, strip_comment, to_int
from .pam import PamLine, load_stacks, stack_files

AREA = "password_policy"
PWQUALITY_CONF = "/etc/security/pwquality.conf"
PWHISTORY_CONF = "/etc/security/pwhistory.conf"
# pam_unix hash options and the names login.defs ENCRYPT_METHOD uses for them.
UNIX_HASHES = {"yescrypt": "YESCRYPT", "gost_yescrypt": "GOST_YESCRYPT", "sha512": "SHA512",
               "sha256": "SHA256", "blowfish": "BCRYPT", "md5": "MD5", "bigcrypt": "BIGCRYPT"}
# libpwquality defaults (pwquality.conf(5)); minlen is never below 6.
PWQUALITY_DEFAULTS = {"minlen": 8, "dcredit": 0, "ucredit": 0, "lcredit": 0, "ocredit": 0, "minclass": 0,
                      "enforcing": 1}
PWQUALITY_MIN_MINLEN = 6
# pam_cracklib(8) defaults: credits are on by default there.
CRACKLIB_DEFAULTS = {"minlen": 9, "dcredit": 1, "ucredit": 1, "lcredit": 1, "ocredit": 1, "minclass": 0}
CRACKLIB_MIN_MINLEN = 5
PAM_UNIX_OBSCURE_MINLEN = 6
PWHISTORY_DEFAULT_REMEMBER = 10
CREDITS = ("dcredit", "ucredit", "lcredit", "ocredit")


def parse_name_value(text: str) -> dict[str, str]:
    """``name = value`` lines (pwquality.conf, faillock.conf, pwhistory.conf); a bare name is a flag ("")."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = strip_comment(raw)
        if not line:
            continue
        name, eq, value = line.partition("=")
        out[name.strip()] = value.strip() if eq else ""
    return out


def _settings(defaults: dict[str, int], conf: dict[str, str], lines: list[PamLine]) -> dict[str, int]:
    values = dict(defaults)
    for source in [conf] + [{k: v for k, _, v in (a.partition("=") for a in line.args)} for line in lines]:
        for key in values:
            parsed = to_int(source.get(key))
            if parsed is not None:
                values[key] = parsed
    return values


def real_min_length(minlen: int, credits: list[int]) -> int:
    """The shortest password a pwquality/cracklib ``minlen`` with these credits accepts.

    Each character of a class with a positive credit counts once more toward minlen (up
    to the credit), so a password of length L passes when L + min(L, sum) >= minlen.
    With all credits at 0 or below, minlen is the real length.
    """
    bonus = sum(c for c in credits if c > 0)
    return max(minlen - bonus, -(-minlen // 2))


@dataclass
class StrengthRule:
    """What one module enforces, and how it is described in ``sources``."""

    min_length: int
    min_char_classes: int
    note: str


def pwquality_rule(conf: dict[str, str], lines: list[PamLine]) -> StrengthRule | None:
    """pam_pwquality's rule: pwquality.conf (and .conf.d) overridden by module arguments.
    None when ``enforcing=0`` (it only warns)."""
    s = _settings(PWQUALITY_DEFAULTS, conf, lines)
    if s["enforcing"] == 0:
        return None
    return _credit_rule("pam_pwquality", s, PWQUALITY_MIN_MINLEN)


def cracklib_rule(lines: list[PamLine]) -> StrengthRule:
    """pam_cracklib's rule from its module arguments (it has no configuration file)."""
    return _credit_rule("pam_cracklib", _settings(CRACKLIB_DEFAULTS, {}, lines), CRACKLIB_MIN_MINLEN)


def _credit_rule(module: str, s: dict[str, int], floor: int) -> StrengthRule:
    """The rule of the credit-based modules (pwquality and cracklib share the scheme)."""
    minlen = max(s["minlen"], floor)
    credits = [s[c] for c in CREDITS]
    classes = min(4, max(s["minclass"], sum(1 for c in credits if c < 0)))
    return StrengthRule(real_min_length(minlen, credits), classes,
                        f"{module} minlen={minlen} " + " ".join(f"{c}={s[c]}" for c in CREDITS)
                        + f" minclass={s['minclass']}")


def _set_days(facts: dict[str, Any], key: str, raw: str | None, none_values: tuple[int, ...] = (-1,)) -> None:
    """Set a day count; -1 (or 99999 for a maximum) is the files' "no limit" and becomes null.
    A value that is not a number is left out rather than read as "no limit"."""
    parsed = to_int(raw)
    if parsed is not None:
        facts[key] = None if parsed in none_values or parsed < 0 else parsed


def password_policy(login_defs: dict[str, str] | None, useradd: dict[str, str] | None,
                    stack: list[PamLine] | None, stack_file: str,
                    pwquality_conf: dict[str, str] | None, pwhistory_conf: dict[str, str]) -> dict[str, Any]:
    """The ``password_policy`` facts from parsed inputs.

    ``None`` for an input means it could not be read: the keys derived from it are left
    out. ``pwquality_conf`` None with pam_pwquality in the stack leaves the strength keys out.
    """
    facts: dict[str, Any] = {}
    sources: list[str] = []
    # A key the file leaves unset takes the documented default, -1 ("no limit"), per
    # login.defs(5) and useradd(8); it is known, so it is null rather than absent.
    if login_defs is not None:
        sources.append("/etc/login.defs")
        _set_days(facts, "max_age_days", login_defs.get("PASS_MAX_DAYS", "-1"), (-1, 99999))
        _set_days(facts, "min_age_days", login_defs.get("PASS_MIN_DAYS", "-1"))
        _set_days(facts, "warn_age_days", login_defs.get("PASS_WARN_AGE", "-1"))
    if useradd is not None:
        sources.append("/etc/default/useradd")
        _set_days(facts, "inactive_days", useradd.get("INACTIVE", "-1"))

    if stack is not None:
        sources.append(stack_file)
        _strength(facts, sources, stack, stack_file, pwquality_conf)
        _history(facts, sources, stack, pwhistory_conf)
        unix_hash = None
        for line in stack:
            if line.module == "pam_unix":
                for arg in line.args:
                    unix_hash = UNIX_HASHES.get(arg, unix_hash)
        if unix_hash:
            facts["hash_algorithm"] = unix_hash
            sources.append(f"hash_algorithm: pam_unix option ({stack_file})")
    if "hash_algorithm" not in facts and login_defs and login_defs.get("ENCRYPT_METHOD"):
        facts["hash_algorithm"] = login_defs["ENCRYPT_METHOD"].upper()
        sources.append("hash_algorithm: ENCRYPT_METHOD (/etc/login.defs)")
    facts["sources"] = sources
    return facts


def _strength(facts: dict[str, Any], sources: list[str], stack: list[PamLine], stack_file: str,
              pwquality_conf: dict[str, str] | None) -> None:
    pwq = [line for line in stack if line.module == "pam_pwquality" and line.enforcing]
    crack = [line for line in stack if line.module == "pam_cracklib" and line.enforcing]
    unix = [line for line in stack if line.module == "pam_unix" and line.enforcing]
    rules: list[StrengthRule] = []
    if pwq:
        if pwquality_conf is None:
            return  # pwquality.conf unreadable: the real rule is unknown
        sources.append(PWQUALITY_CONF)
        rule = pwquality_rule(pwquality_conf, pwq)
        if rule:
            rules.append(rule)
    if crack:
        rules.append(cracklib_rule(crack))
    unix_minlen = None
    for line in unix:
        unix_minlen = to_int(line.option("minlen")) if line.option("minlen") is not None else unix_minlen
    if unix_minlen is not None:
        rules.append(StrengthRule(unix_minlen, 0, f"pam_unix minlen={unix_minlen}"))
    elif any(line.flag("obscure") for line in unix):
        rules.append(StrengthRule(PAM_UNIX_OBSCURE_MINLEN, 0,
                                  f"pam_unix obscure built-in minimum {PAM_UNIX_OBSCURE_MINLEN}"))
    if rules:
        longest = max(rules, key=lambda r: r.min_length)
        facts["min_length"] = longest.min_length
        facts["min_char_classes"] = max(r.min_char_classes for r in rules)
        sources.extend(f"min_length: {r.note} ({stack_file})" for r in rules)
    else:
        facts["min_length"] = 0
        facts["min_char_classes"] = 0
        sources.append(f"min_length: no length rule in the password stack ({stack_file})")
    # Windows "complexity" means three of the four character classes; the same bar here.
    facts["complexity"] = facts["min_char_classes"] >= 3


def _history(facts: dict[str, Any], sources: list[str], stack: list[PamLine],
             pwhistory_conf: dict[str, str]) -> None:
    remembered = [0]
    for line in stack:
        if not line.enforcing:
            continue
        if line.module == "pam_pwhistory":
            value = to_int(line.option("remember"))
            if value is None:
                value = to_int(pwhistory_conf.get("remember"))
            if value is None:
                value = PWHISTORY_DEFAULT_REMEMBER
            remembered.append(value)
            sources.append(f"history: pam_pwhistory remember={value}")
        elif line.module == "pam_unix" and line.option("remember") is not None:
            value = to_int(line.option("remember")) or 0
            remembered.append(value)
            sources.append(f"history: pam_unix remember={value}")
    facts["history"] = max(remembered)


def _read_pwquality(builder: BundleBuilder, ctx: Context) -> dict[str, str] | None:
    """pwquality.conf.d/*.conf in order, then pwquality.conf (later values win), as libpwquality does."""
    conf: dict[str, str] = {}
    for path in list_dir(builder, ctx, PWQUALITY_CONF + ".d", AREA, "*.conf") + [PWQUALITY_CONF]:
        text = read_optional(builder, ctx, path, AREA, "linux.pwquality_conf")
        if text is None:
            if ctx.path(path).exists():
                return None
            continue
        conf.update(parse_name_value(text))
    return conf


def collect(builder: BundleBuilder, ctx: Context) -> None:
    """login.defs, useradd defaults and the password stack passwd(1) runs."""
    defs_text = read_text(builder, ctx, "/etc/login.defs", AREA, "linux.login_defs")
    useradd_text = read_text(builder, ctx, "/etc/default/useradd", AREA, "linux.useradd")
    start = stack_files(ctx, "common-password", ("system-auth", "password-auth"))[0]
    stacks = load_stacks(builder, ctx, AREA, [start], "password")
    stack = stacks[start] if stacks is not None else None
    pwquality = _read_pwquality(builder, ctx) if stack and any(
        line.module == "pam_pwquality" for line in stack) else {}
    history_text = read_optional(builder, ctx, PWHISTORY_CONF, AREA, "linux.pwhistory_conf")
    facts = password_policy(
        parse_login_defs(defs_text) if defs_text is not None else None,
        parse_login_defs(useradd_text) if useradd_text is not None else None,
        stack, f"/etc/pam.d/{start}", pwquality, parse_name_value(history_text or ""))
    builder.set_fact(AREA, facts)
