"""Schema of the ``auditor-zones/1`` file: which address belongs to which segment and role.

The zones file is a contract between the city and the firewall checks (guideline §3.1):
a wrong or ambiguous zone would silently move a flow into another row of the permitted
flows table, so the file is validated strictly (no unknown keys) and every problem names
its line. Zones may nest (a host inside its office network); evidence/zones.py checks that
they do so cleanly.
"""

from __future__ import annotations

FORMAT = "auditor-zones/1"
ZONE_SEGMENTS = ("mynumber", "lgwan", "internet", "external")
ZONE_ROLES = ("office", "server", "sanitizer", "mail-relay", "screen-transfer", "proxy", "security-cloud",
              "lgwan-backbone", "specified-destination")

_TEXT = {"type": "string", "empty": False}

ZONE = {
    "name": {**_TEXT, "required": True},
    "segment": {"type": "string", "allowed": list(ZONE_SEGMENTS), "required": True},
    "role": {"type": "string", "allowed": list(ZONE_ROLES), "required": True},
    "networks": {"type": "list", "required": True, "empty": False, "schema": _TEXT},
    # a list of interface names, or a mapping of target id to such a list (checked by evidence/zones.py)
    "interfaces": {"type": ["list", "dict"], "default": []},
}

ZONES = {
    "format": {"type": "string", "allowed": [FORMAT], "required": True},
    "zones": {"type": "list", "required": True, "schema": {"type": "dict", "schema": ZONE}},
}
