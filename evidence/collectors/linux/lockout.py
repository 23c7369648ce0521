"""Area ``lockout_policy``: pam_faillock (or the older pam_tally2) in the auth stack.

On RHEL-style systems both system-auth (local logins) and password-auth (sshd and
other remote services) are auth entry points; lockout counts as enabled only when
every one of them carries it, since an attacker uses the unprotected path.
"""

from __future__ import annotations

from typing import Any

from auditor.evidence.bundle import BundleBuilder

from .common import Context, read_optional, to_int
from .pam import PamLine, load_stacks, stack_files
from .passwords import parse_name_value

AREA = "lockout_policy"
FAILLOCK_CONF = "/etc/security/faillock.conf"
# pam_faillock(8) defaults.
FAILLOCK_DEFAULTS = {"deny": "3", "unlock_time": "600", "fail_interval": "900"}


def _minutes(seconds: int) -> int:
    """Whole minutes, rounded up so that a short but non-zero time never reads as 0."""
    return -(-seconds // 60)


def _arguments(lines: list[PamLine]) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in lines:
        for arg in line.args:
            key, eq, value = arg.partition("=")
            values[key] = value if eq else ""
    return values


def faillock_settings(conf: dict[str, str], lines: list[PamLine]) -> dict[str, str]:
    """Effective pam_faillock options: defaults, faillock.conf, then module arguments (which win)."""
    return {**FAILLOCK_DEFAULTS, **conf, **_arguments(lines)}


def lockout_policy(stacks: dict[str, list[PamLine]], faillock_conf: dict[str, str]) -> dict[str, Any]:
    """The ``lockout_policy`` facts from the expanded auth stacks (one per entry-point file)."""
    per_stack_faillock = [[ln for ln in lines if ln.module == "pam_faillock" and ln.enforcing]
                          for lines in stacks.values()]
    per_stack_tally = [[ln for ln in lines if ln.module == "pam_tally2" and ln.enforcing]
                       for lines in stacks.values()]
    if stacks and all(per_stack_faillock):
        s = faillock_settings(faillock_conf, per_stack_faillock[0])
        deny = to_int(s.get("deny")) or 0
        unlock = 0 if s.get("unlock_time") == "never" else to_int(s.get("unlock_time")) or 0
        facts: dict[str, Any] = {
            "enabled": deny > 0, "threshold": max(deny, 0), "duration_minutes": _minutes(max(unlock, 0)),
            "window_minutes": _minutes(max(to_int(s.get("fail_interval")) or 0, 0)),
            "applies_to_root": "even_deny_root" in s,
        }
        return facts if deny > 0 else {"enabled": False, "threshold": 0, "applies_to_root": False}
    if stacks and all(per_stack_tally):
        s = _arguments(per_stack_tally[0])  # pam_tally2 has no configuration file
        deny = to_int(s.get("deny")) or 0
        if deny <= 0:
            return {"enabled": False, "threshold": 0, "applies_to_root": False}
        # pam_tally2 keeps counting until a successful login: it has no window.
        unlock = to_int(s.get("unlock_time")) or 0
        return {"enabled": True, "threshold": deny, "duration_minutes": _minutes(max(unlock, 0)),
                "applies_to_root": "even_deny_root" in s}
    return {"enabled": False, "threshold": 0, "applies_to_root": False}


def collect(builder: BundleBuilder, ctx: Context) -> None:
    """Auth stacks of this distribution style, plus faillock.conf when pam_faillock is used."""
    starts = stack_files(ctx, "common-auth", ("system-auth", "password-auth"))
    stacks = load_stacks(builder, ctx, AREA, starts, "auth")
    if stacks is None:
        return
    faillock = [line for lines in stacks.values() for line in lines if line.module == "pam_faillock"]
    conf: dict[str, str] = {}
    if faillock:
        conf_path = next((ln.option("conf") for ln in faillock if ln.option("conf")), None) or FAILLOCK_CONF
        conf_text = read_optional(builder, ctx, conf_path, AREA, "linux.faillock_conf")
        if conf_text is None and ctx.path(conf_path).exists():
            return  # faillock.conf exists but is unreadable: the error is recorded, values unknown
        conf = parse_name_value(conf_text or "")
    builder.set_fact(AREA, lockout_policy(stacks, conf))
