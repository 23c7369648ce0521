"""Area ``audit_daemon``: auditd installed and running, its rules, and whether they are locked.

As root on the live system the kernel is asked (``auditctl -l`` for the loaded rules,
``auditctl -s`` for ``enabled 2``, the immutable flag). Otherwise the rule files are read:
/etc/audit/rules.d/*.rules as augenrules merges them (or /etc/audit/audit.rules when that
directory holds none); the last ``-e`` decides ``immutable``. Control lines (``-D``, ``-b``,
``-f``, ``-e``, ``-r``, ``--backlog_wait_time``, ``--loginuid-immutable``, ...) are not rules.
"""

from __future__ import annotations

import re
from typing import Any

from auditor.evidence.bundle import BundleBuilder

from .common import Context, exists, list_dir, read_text, run, running

AREA = "audit_daemon"
AUDITD_PATHS = ("/usr/sbin/auditd", "/sbin/auditd")
AUDITCTL_PATHS = ("/usr/sbin/auditctl", "/sbin/auditctl")
RULES_DIR = "/etc/audit/rules.d"
AUDIT_RULES = "/etc/audit/audit.rules"
PROCESS = "auditd"
_RULE_OPTIONS = ("-a", "-A", "-w")


def parse_rule_files(texts: list[str]) -> dict[str, Any]:
    """``{rule_count, immutable}`` of audit rule files in load order (``-e 2`` locks the
    configuration; a later ``-e 0|1`` before it is loaded would not, so the last ``-e`` wins)."""
    count = 0
    enabled: str | None = None
    for text in texts:
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            option = line.split(None, 1)[0]
            if option[:2] in _RULE_OPTIONS:
                count += 1
            elif option == "-D":
                count = 0  # delete all rules: what came before is not loaded
            elif option[:2] == "-e":
                value = line[2:].split()
                enabled = value[0] if value else enabled
    return {"rule_count": count, "immutable": enabled == "2"}


def parse_auditctl_list(text: str) -> int:
    """The number of rules ``auditctl -l`` prints (``No rules`` is none)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) == 1 and lines[0].strip().lower() == "no rules":
        return 0
    return sum(1 for line in lines if line.lstrip().startswith(_RULE_OPTIONS))


def parse_auditctl_status(text: str) -> bool | None:
    """Whether ``auditctl -s`` reports ``enabled 2`` (immutable); None without that line."""
    m = re.search(r"^enabled\s+(\d+)", text, re.M)
    return None if m is None else m.group(1) == "2"


def _rule_files(builder: BundleBuilder, ctx: Context) -> dict[str, Any] | None:
    paths = list_dir(builder, ctx, RULES_DIR, AREA, "*.rules")
    if not paths:
        if not exists(ctx, AUDIT_RULES):
            builder.add_error(AREA, f"no audit rule files in {RULES_DIR} nor {AUDIT_RULES}", RULES_DIR)
            return None
        paths = [AUDIT_RULES]
    texts = []
    for path in paths:
        text = read_text(builder, ctx, path, AREA, "linux.audit_rules")
        if text is None:
            return None
        texts.append(text)
    return parse_rule_files(texts)


def collect(builder: BundleBuilder, ctx: Context) -> None:
    """Installed from the binary; active from the process table; rules live as root, else from files."""
    installed = any(exists(ctx, p) for p in AUDITD_PATHS)
    facts: dict[str, Any] = {"installed": installed}
    if not installed:
        facts["active"] = False
        builder.set_fact(AREA, facts)
        return
    procs = running(builder, ctx, AREA, [PROCESS])
    if procs is not None:
        facts["active"] = procs[PROCESS]
    auditctl = next((p for p in AUDITCTL_PATHS if exists(ctx, p)), "auditctl")
    if ctx.root_user:
        listing = run(builder, ctx, [auditctl, "-l"], AREA, "linux.auditctl_list")
        status = run(builder, ctx, [auditctl, "-s"], AREA, "linux.auditctl_status")
        if listing is not None:
            facts["rule_count"] = parse_auditctl_list(listing)
        immutable = parse_auditctl_status(status) if status is not None else None
        if immutable is not None:
            facts["immutable"] = immutable
        elif status is not None:
            builder.add_error(AREA, "auditctl -s: no 'enabled' line", f"command: {auditctl} -s")
    else:
        if ctx.live:
            builder.add_error(AREA, "auditctl: not run, it needs root; rules counted from the rule files")
        files = _rule_files(builder, ctx)
        if files is not None:
            facts.update(files)
    builder.set_fact(AREA, facts)
