"""Area ``firewall``: the packet filter loaded in the kernel, from nftables or iptables.

nftables is asked first; when its ruleset is empty, iptables-save is asked too, since
rules may be loaded through the legacy iptables backend. A tool that is not installed
is not an error (there is simply no such filter); a tool that fails is.
"""

from __future__ import annotations

import json
from typing import Any

from auditor.evidence.bundle import BundleBuilder

from .common import Context, not_live, which

AREA = "firewall"
HOOKS = ("input", "forward", "output")
_FAMILY_VERSIONS = {"inet": {4, 6}, "ip": {4}, "ip6": {6}}


def _summary(policies: dict[str, str], rule_count: int, filtering_default: bool) -> dict[str, Any]:
    facts: dict[str, Any] = {f"{hook}_policy": policies[hook] for hook in HOOKS}
    facts["rule_count"] = rule_count
    facts["enabled"] = rule_count > 0 or filtering_default or any(p != "accept" for p in policies.values())
    return facts


def parse_nft_ruleset(text: str) -> dict[str, Any]:
    """``nft -j list ruleset``: base-chain policies per hook and the number of rules.

    Several filter chains may hang on one hook (one per table); a packet is dropped if
    any of them drops it. A hook's policy is ``drop`` only when that holds for both IPv4
    and IPv6 (an ``ip`` table alone leaves IPv6 open); no chain at all means accept.
    The filter still counts as enabled when a drop chain covers only one of them.
    """
    items = json.loads(text).get("nftables", [])
    dropped: dict[str, set[int]] = {hook: set() for hook in HOOKS}
    rules = 0
    for item in items:
        if "rule" in item:
            rules += 1
            continue
        chain = item.get("chain")
        if not chain or chain.get("type", "filter") != "filter" or chain.get("hook") not in HOOKS:
            continue
        versions = _FAMILY_VERSIONS.get(chain.get("family", ""))
        if versions and chain.get("policy", "accept") == "drop":
            dropped[chain["hook"]] |= versions
    policies = {hook: "drop" if dropped[hook] >= {4, 6} else "accept" for hook in HOOKS}
    return _summary(policies, rules, any(dropped.values()))


def parse_iptables_save(text: str) -> dict[str, Any]:
    """``iptables-save``: default policies of the filter table's built-in chains and the
    number of rules (``-A`` lines) in all tables. A filter table that is not loaded accepts."""
    policies = {hook: "accept" for hook in HOOKS}
    table = None
    rules = 0
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith(":") and table == "filter":
            parts = line[1:].split()
            if len(parts) >= 2 and parts[0].lower() in policies and parts[1] != "-":
                policies[parts[0].lower()] = parts[1].lower()
        elif line.startswith("-A "):
            rules += 1
    return _summary(policies, rules, False)


def collect(builder: BundleBuilder, ctx: Context) -> None:
    """Live only: the rules in the kernel matter, not a saved rule file that may not be loaded."""
    if not ctx.live:
        not_live(builder, ctx, AREA, "loaded packet-filter rules")
        return
    nft, iptables_save = which("nft"), which("iptables-save")
    found: tuple[str, dict[str, Any]] | None = None
    if nft:
        out = builder.run([nft, "-j", "list", "ruleset"], AREA, "linux.nft_json")
        if out is not None:
            try:
                found = ("nftables", parse_nft_ruleset(out or '{"nftables": []}'))
            except (ValueError, AttributeError) as exc:
                builder.add_error(AREA, f"nft -j list ruleset: unreadable JSON ({exc})")
    if iptables_save and (found is None or not found[1]["enabled"]):
        out = builder.run([iptables_save], AREA, "linux.iptables_save")
        if out is not None:
            legacy = parse_iptables_save(out)
            if found is None or legacy["enabled"]:
                found = ("iptables", legacy)
    if found is not None:
        builder.set_fact(AREA, {"backend": found[0], **found[1]})
    elif not nft and not iptables_save:
        builder.set_fact(AREA, {"enabled": False, "backend": "none"})
