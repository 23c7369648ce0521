"""Schemas of the policy documents: policy manifest, controls, checks, profiles, tailoring.

Conditions are checked for shape here (a mapping) and in depth by the condition
registry, which knows each operator's argument.
"""

from __future__ import annotations

SEVERITIES = ("critical", "high", "medium", "low")
SEGMENTS = ("mynumber", "lgwan", "internet")
TARGET_KINDS = ("endpoint", "directory", "network", "organization")
MODELS = ("alpha", "alpha-prime", "beta", "beta-prime")
OS_FAMILIES = ("linux", "windows")
EVIDENCE_KINDS = ("endpoint", "firewall", "directory", "hr", "training", "document")

_TEXT = {"type": "string", "empty": False}


def localized(required: bool = True) -> dict:
    """A text in Japanese and English: both are required, since reports exist in both."""
    return {"type": "dict", "required": required, "schema": {"ja": {**_TEXT, "required": True},
                                                             "en": {**_TEXT, "required": True}}}


_ID_LIST = {"type": "list", "schema": {"type": "string", "empty": False}}

POLICY = {
    "format": {"type": "string", "allowed": ["auditor-policy/1"], "required": True},
    "id": {**_TEXT, "required": True, "regex": r"[a-z0-9][a-z0-9._-]*"},
    "version": {**_TEXT, "required": True},
    "title": localized(),
    "default_profile": {**_TEXT, "required": True},
    "controls": {**_TEXT, "default": "controls"},
    "profiles": {**_TEXT, "default": "profiles"},
    "families": {**_TEXT, "default": "families.yaml"},
    "parameters": {**_TEXT, "default": "parameters.yaml"},
    "checks": {**_TEXT, "default": "checks"},
}

PARAMETER_TYPES = ("integer", "number", "boolean", "string", "regex", "date", "list", "mapping", "flows")
_VALUE_SPEC = {
    "type": {"type": "string", "allowed": list(PARAMETER_TYPES), "required": True},
    "min": {"type": "number"},
    "max": {"type": "number"},
    "min_items": {"type": "integer", "min": 0},
    "max_items": {"type": "integer", "min": 0},
    "allowed": {"type": "list", "minlength": 1},
    "nullable": {"type": "boolean"},
}
PARAMETER = {
    **_VALUE_SPEC,
    "items": {"type": "dict", "schema": _VALUE_SPEC},
    "values": {"type": "dict", "schema": _VALUE_SPEC},
    "title": localized(),
    "description": localized(required=False),
}
PARAMETERS = {
    "format": {"type": "string", "allowed": ["auditor-parameters/1"], "required": True},
    "parameters": {"type": "dict", "required": True, "keysrules": {"type": "string", "regex": r"[a-z][a-z0-9_]*"},
                   "valuesrules": {"type": "dict", "schema": PARAMETER}},
}

FAMILIES = {"type": "dict", "keysrules": {"type": "string"}, "valuesrules": localized()}

CONTROL = {
    "id": {**_TEXT, "required": True, "regex": r"[A-Z][A-Z0-9]*-[A-Z0-9-]+"},
    "group": {**_TEXT, "required": True},
    "family": {**_TEXT, "required": True},
    "reference": {**_TEXT, "required": True},
    "revision": {**_TEXT},
    "severity": {"type": "string", "allowed": list(SEVERITIES), "required": True},
    "mode": {"type": "string", "allowed": ["automatic", "manual", "mixed"], "required": True},
    "applies": {
        "type": "dict",
        "required": True,
        "schema": {
            "segments": {"type": "list", "allowed": list(SEGMENTS), "required": True},
            "scope": {"type": "string", "allowed": ["target", "organization"], "required": True},
            "models": {"type": "list", "allowed": list(MODELS), "required": True},
        },
    },
    "evidence": {"type": "list", "allowed": list(EVIDENCE_KINDS), "required": True},
    "parameters": {"type": "list", "schema": {"type": "string", "regex": r"[a-z][a-z0-9_]*"}, "default": []},
    "title": localized(),
    "rationale": localized(),
    "remediation": localized(),
    "withdrawn": {"type": "boolean", "default": False},
    "not_automated": localized(required=False),  # why no check reads evidence for it (policy coverage)
    # the audit guideline's 監査項目 numbers for this control, where the policy's author records them
    "audit_items": {"type": "list", "default": [], "schema": {"type": "string", "regex": r"[^\n]{1,40}"}},
}

_FACT_PATH = {"type": "string", "regex": r"[a-z_][a-z0-9_]*(\.[A-Za-z0-9_-]+)*"}

CHECK = {
    "id": {**_TEXT, "required": True, "regex": r"[a-z0-9][a-z0-9.-]*"},
    "controls": {**_ID_LIST, "required": True, "minlength": 1},
    "title": localized(),
    "severity": {"type": "string", "allowed": list(SEVERITIES)},
    "applies_to": {
        "type": "dict",
        "default": {},
        "schema": {
            "kind": {"type": "list", "allowed": list(TARGET_KINDS)},
            "segment": {"type": "list", "allowed": list(SEGMENTS)},
            "os": {"type": "list", "allowed": list(OS_FAMILIES)},
            "labels": {"type": "dict", "valuesrules": {"type": "string"}},
        },
    },
    "applies_if": {"type": "dict"},
    "manual": {"type": "boolean", "default": False},
    "reads": {"anyof": [_FACT_PATH, {"type": "list", "minlength": 1, "schema": _FACT_PATH}]},
    # A record field naming each item, or a template of fields such as "{protocol}/{port} ({address})".
    # Grouped: Cerberus matches a pattern from the start and appends "$", which without the group
    # would bind to the second alternative only, letting "facts.os" through as a field name.
    "item": {"type": "string", "regex": r"(?:[a-z_][a-z0-9_]*|.*\{[a-z_][a-z0-9_.]*\}.*)", "dependencies": "reads"},
    "condition": {"type": "dict", "dependencies": "reads"},
    "message": localized(required=False),
    "remediation": localized(),
}

_SELECTION = {"type": "dict", "default": {}, "schema": {"select": _ID_LIST, "unselect": _ID_LIST}}

PROFILE = {
    "id": {**_TEXT, "required": True, "regex": r"[a-z0-9][a-z0-9._-]*"},
    "title": localized(),
    "description": localized(required=False),
    "extends": {"type": "string", "nullable": True, "default": None},
    "model": {"type": "string", "allowed": list(MODELS)},
    "controls": _SELECTION,
    "checks": _SELECTION,
    "parameters": {"type": "dict", "default": {}, "keysrules": {"type": "string", "regex": r"[a-z][a-z0-9_]*"}},
}

_REASONED = {"type": "dict", "schema": {"id": {**_TEXT, "required": True}, "reason": {**_TEXT, "required": True}}}

TAILORING = {
    "format": {"type": "string", "allowed": ["auditor-tailoring/1"], "required": True},
    "id": {**_TEXT, "required": True},
    "profile": {**_TEXT, "required": True},
    "select": {"type": "list", "default": [], "schema": _REASONED},
    "unselect": {"type": "list", "default": [], "schema": _REASONED},
    "parameters": {
        "type": "dict",
        "default": {},
        "keysrules": {"type": "string", "regex": r"[a-z][a-z0-9_]*"},
        "valuesrules": {"type": "dict", "schema": {"value": {"required": True, "nullable": True},
                                                   "reason": {**_TEXT, "required": True}}},
    },
}

_DATE = {"type": ["date", "string"], "required": True}
_PATTERNS = {"type": "list", "minlength": 1, "schema": {"type": "string", "empty": False}}

WAIVERS = {
    "format": {"type": "string", "allowed": ["auditor-waivers/1"], "required": True},
    "waivers": {
        "type": "list",
        "required": True,
        "schema": {
            "type": "dict",
            "schema": {
                "id": {**_TEXT, "required": True},
                "controls": _PATTERNS,
                "checks": _PATTERNS,
                "targets": {**_PATTERNS, "default": ["*"]},
                "reason": {**_TEXT, "required": True},
                "approver": {**_TEXT, "required": True},
                "approval_number": {**_TEXT, "required": True},
                "granted": _DATE,
                "expires": _DATE,
                "notes": {"type": "string"},
            },
        },
    },
}

ATTESTATION = {
    "control": {**_TEXT},
    "check": {**_TEXT},
    "targets": {**_PATTERNS, "default": ["*"]},
    "attested_by": {**_TEXT, "required": True},
    "attested_on": _DATE,
    "valid_until": _DATE,
    "document": {"type": "dict", "required": True, "schema": {
        "name": {**_TEXT, "required": True},
        "sha256": {"type": "string", "regex": r"[0-9a-fA-F]{64}", "nullable": True},
    }},
    "statement": {"type": "string"},
}

ATTESTATIONS = {
    "format": {"type": "string", "allowed": ["auditor-attestations/1"], "required": True},
    "attestations": {"type": "list", "required": True, "schema": {"type": "dict", "schema": ATTESTATION}},
}
