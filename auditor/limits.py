"""Limits on input, enforced before any work is done on it.

Every document this program reads may come from a careless or hostile source: a bundle
carried out of the My Number segment on a USB stick, a firewall backup from a vendor, a
tailoring file mailed in. Each limit below is far above what a real input reaches (the
reason is given beside it) and low enough that an input beyond it is refused with a clear
message (exit 2, naming the file and line) instead of exhausting memory, the stack or the
clock. The README's "Limits" table lists them; change both together.
"""

from __future__ import annotations

import os
from pathlib import Path

from auditor.errors import InputError

# Nesting of JSON documents (bundles, results, PowerShell's ConvertTo-Json output): PowerShell's
# own ConvertTo-Json stops at 100 levels; a bundle is under 10 deep.
MAX_JSON_DEPTH = 100
# Nesting of YAML documents (policies, profiles, tailoring, zones, mappings, waivers): a
# check's condition is under 15 deep.
MAX_YAML_DEPTH = 64
# Digits of one integer in any input: an IPv6 address as a number has 39.
MAX_INT_DIGITS = 40
# Nesting of firewall object groups (FortiGate address and service groups): FortiOS nests
# address groups a few levels at most.
MAX_GROUP_DEPTH = 64
# Depth of jumps between firewall chains (iptables user chains, nftables jump/goto): the
# Linux kernel stops nftables at 16 nested jumps.
MAX_CHAIN_DEPTH = 64

MIB = 1 << 20
# Largest file read, per kind of input: several times the largest real export (a 1-million-row
# AD export is 175 MB; a 100,000-account bundle 50 MB; a 10,000-policy FortiGate backup 15 MB).
MAX_FILE_BYTES: dict[str, int] = {
    "bundle": 2048 * MIB,        # auditor-evidence/1 JSON
    "results": 2048 * MIB,       # auditor-results/1 JSON (auditor report, export)
    "policy": 4 * MIB,           # one policy, control, check or profile YAML file
    "config": 16 * MIB,          # tailoring, zones, column mapping, waivers, attestations
    "table": 2048 * MIB,         # CSV exports (AD users, HR roster, training, hotfix, auditpol)
    "workbook": 512 * MIB,       # XLSX exports (a zip: its members are limited when read)
    "text": 64 * MIB,            # small text exports: secedit, net accounts, registry, tool output
    "firewall": 512 * MIB,       # FortiGate, iptables-save, nft list ruleset
    "collection": 1024 * MIB,    # a Windows collection zip or folder, all members together
    "package": 8192 * MIB,       # an evidence package (auditor export), all members together
}


def _human(size: int) -> str:
    return f"{size / MIB:,.0f} MiB" if size >= MIB else f"{size:,} bytes"


def check_size(path: str | Path, kind: str, size: int | None = None) -> None:
    """Refuse a file larger than its kind's limit before it is read.

    ``size`` when already known (a zip member, bytes in memory); else the file is stat'ed. A
    file that cannot be stat'ed is left for the reader to report.
    """
    limit = MAX_FILE_BYTES[kind]
    if size is None:
        try:
            size = os.stat(path).st_size
        except OSError:
            return
    if size > limit:
        raise InputError(str(path), f"{_human(size)} is larger than the {_human(limit)} allowed for a {kind} "
                         "input (see the README's Limits)")


def check_int_text(text: str, file: str, line: int | None = None, where: str | None = None) -> None:
    """Refuse an integer written with more digits than :data:`MAX_INT_DIGITS` (before ``int()``,
    which refuses 4,300 digits with a ValueError and is slow well before that)."""
    digits = len(text.strip().lstrip("+-"))
    if digits > MAX_INT_DIGITS:
        raise InputError(file, f"an integer of {digits:,} digits; at most {MAX_INT_DIGITS} are allowed",
                         where=where, line=line)
