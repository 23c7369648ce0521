"""Area ``removable_media``: whether USB mass storage can be used (docs/facts.md).

Two mechanisms count. The kernel module: ``usb-storage`` blacklisted in modprobe.d *and*
prevented from loading by ``install usb-storage /bin/false`` (or ``/bin/true``); a blacklist
alone stops only automatic loading. And usbguard: its daemon running with an implicit
``block`` (or ``reject``) policy, where its ``allow`` rules are the registered devices.

usbguard's files are readable by root only; without them its part is left out, with an error.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from auditor.evidence.bundle import BundleBuilder

from .common import Context, exists, list_dir, read_optional, read_text, running

AREA = "removable_media"
MODULE = "usb_storage"
# modprobe.d(5): a file in an earlier directory hides one of the same name in a later one.
MODPROBE_DIRS = ("/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d", "/usr/lib/modprobe.d",
                 "/lib/modprobe.d")
DISABLING_COMMANDS = {"false", "true"}
USBGUARD_BINARIES = ("/usr/sbin/usbguard-daemon", "/usr/bin/usbguard-daemon", "/sbin/usbguard-daemon")
USBGUARD_CONF = "/etc/usbguard/usbguard-daemon.conf"
USBGUARD_RULES = "/etc/usbguard/rules.conf"
USBGUARD_RULES_DIR = "/etc/usbguard/rules.d"
USBGUARD_PROCESS = "usbguard-daemon"
_ID = re.compile(r"\bid\s+(\{[^}]*\}|\S+)")


def _module(name: str) -> str:
    return name.replace("-", "_")


def parse_modprobe(texts: list[str]) -> dict[str, bool]:
    """Whether modprobe.d text (files in the order modprobe reads them) blacklists usb-storage
    and whether the install command in effect for it (the first one) refuses to load it."""
    blacklisted = False
    install: str | None = None
    for text in texts:
        logical = re.sub(r"\\\n", " ", text)
        for raw in logical.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            words = line.split(None, 2)
            if len(words) >= 2 and words[0] == "blacklist" and _module(words[1]) == MODULE:
                blacklisted = True
            elif len(words) == 3 and words[0] == "install" and _module(words[1]) == MODULE and install is None:
                install = words[2].strip()
    disabled = False
    if install is not None:
        try:
            argv = shlex.split(install)
        except ValueError:
            argv = install.split()
        disabled = bool(argv) and argv[0].rsplit("/", 1)[-1] in DISABLING_COMMANDS
    return {"blacklisted": blacklisted, "install_disabled": disabled}


def parse_usbguard_conf(text: str) -> dict[str, str]:
    """``Key=Value`` settings of usbguard-daemon.conf (later lines win)."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        out[key.strip()] = value.strip()
    return out


def parse_usbguard_rules(text: str) -> list[str]:
    """The device ids of the ``allow`` rules, as written (``1d6b:0002``, ``0781:*``); an
    ``id { a b }`` set gives each member. Rules without an id give none."""
    ids: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line.startswith("allow") or (len(line) > 5 and not line[5].isspace()):
            continue
        m = _ID.search(line)
        if not m:
            continue
        value = m.group(1)
        members = value[1:-1].split() if value.startswith("{") else [value]
        ids.extend(v.strip('"') for v in members if v not in ("one-of", "all-of", "none-of", "equals",
                                                              "equals-ordered", "match-all"))
    return list(dict.fromkeys(ids))


def _modprobe_texts(builder: BundleBuilder, ctx: Context) -> list[str] | None:
    chosen: dict[str, str] = {}
    for directory in MODPROBE_DIRS:
        for path in list_dir(builder, ctx, directory, AREA, "*.conf"):
            chosen.setdefault(path.rsplit("/", 1)[-1], path)
    texts = []
    for name in sorted(chosen):
        text = read_text(builder, ctx, chosen[name], AREA, "linux.modprobe_d")
        if text is None:
            return None  # an unreadable file might hold the decisive line
        texts.append(text)
    legacy = read_optional(builder, ctx, "/etc/modprobe.conf", AREA, "linux.modprobe_d")
    if legacy is not None:
        texts.append(legacy)
    return texts


def _usbguard(builder: BundleBuilder, ctx: Context) -> dict[str, Any]:
    """usbguard's state: installed, active, blocking (implicit policy), allowed ids; a key is
    absent when its source could not be read."""
    state: dict[str, Any] = {"installed": any(exists(ctx, p) for p in USBGUARD_BINARIES)}
    if not state["installed"]:
        return {"installed": False, "active": False, "blocking": False, "allowed": []}
    procs = running(builder, ctx, AREA, [USBGUARD_PROCESS])
    if procs is not None:
        state["active"] = procs[USBGUARD_PROCESS]
    conf_text = read_text(builder, ctx, USBGUARD_CONF, AREA, "linux.usbguard_daemon_conf")
    rule_file = USBGUARD_RULES
    rule_dir = None
    if conf_text is not None:
        conf = parse_usbguard_conf(conf_text)
        target = conf.get("ImplicitPolicyTarget", "").lower()
        if target:
            state["blocking"] = target in ("block", "reject")
        else:
            builder.add_error(AREA, f"usbguard: ImplicitPolicyTarget is not set in {USBGUARD_CONF}", USBGUARD_CONF)
        rule_file = conf.get("RuleFile") or None
        rule_dir = conf.get("RuleFolder") or None
    allowed: list[str] = []
    ok = True
    paths = [rule_file] if rule_file else []
    if rule_dir:
        paths += list_dir(builder, ctx, rule_dir.rstrip("/"), AREA, "*.conf")
    elif conf_text is None:
        paths += list_dir(builder, ctx, USBGUARD_RULES_DIR, AREA, "*.conf")
    for path in paths:
        text = read_text(builder, ctx, path, AREA, "linux.usbguard_rules")
        if text is None:
            ok = False
            continue
        allowed.extend(i for i in parse_usbguard_rules(text) if i not in allowed)
    if ok and conf_text is not None:
        state["allowed"] = allowed
    return state


def build_fact(modprobe: dict[str, bool] | None, usbguard: dict[str, Any]) -> dict[str, Any]:
    """The ``removable_media`` area from the modprobe verdict (None: unreadable) and usbguard's
    state; a key whose deciding source is missing is left out."""
    mechanisms: list[str] = []
    module_blocked: bool | None = None
    if modprobe is not None:
        if modprobe["blacklisted"]:
            mechanisms.append("modprobe-blacklist")
        if modprobe["install_disabled"]:
            mechanisms.append("modprobe-install-disabled")
        module_blocked = modprobe["blacklisted"] and modprobe["install_disabled"]

    guard: bool | None
    if "active" in usbguard and "blocking" in usbguard:
        guard = usbguard["active"] and usbguard["blocking"]
    elif usbguard.get("active") is False or usbguard.get("blocking") is False:
        guard = False
    else:
        guard = None
    if guard:
        mechanisms.append("usbguard")

    facts: dict[str, Any] = {}
    if module_blocked or guard:
        facts["storage_blocked"] = True
    elif module_blocked is False and guard is False:
        facts["storage_blocked"] = False
    if "storage_blocked" in facts:
        facts["write_blocked"] = facts["storage_blocked"]
    if guard is not None and "allowed" in usbguard:
        facts["allowlist_enforced"] = bool(guard and usbguard["allowed"])
    elif guard is False:
        facts["allowlist_enforced"] = False
    if "allowed" in usbguard:
        facts["allowed_devices"] = usbguard["allowed"]
    if modprobe is not None and guard is not None:
        facts["mechanisms"] = mechanisms
    elif mechanisms:
        facts["mechanisms"] = mechanisms  # what is known to enforce it; more may exist
    return facts


def collect(builder: BundleBuilder, ctx: Context) -> None:
    """modprobe.d and usbguard, combined as docs/facts.md describes."""
    texts = _modprobe_texts(builder, ctx)
    modprobe = parse_modprobe(texts) if texts is not None else None
    builder.set_fact(AREA, build_fact(modprobe, _usbguard(builder, ctx)))
