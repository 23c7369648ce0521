"""Schema of the `auditor-evidence/1` bundle: the header decides whether a file can be
attributed to a target at all; the body's problems become `error` results for that target."""

from __future__ import annotations

from auditor.schemas.documents import SEGMENTS, TARGET_KINDS

FORMAT = "auditor-evidence/1"
INSTANT = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})"

TARGET = {
    "id": {"type": "string", "empty": False, "required": True},
    "kind": {"type": "string", "allowed": list(TARGET_KINDS), "required": True},
    "segment": {"type": "string", "allowed": list(SEGMENTS), "nullable": True, "default": None},
    "department": {"type": "string", "nullable": True, "default": None},
    "labels": {"type": "dict", "valuesrules": {"type": "string"}, "default": {}},
}

HEADER = {
    "format": {"type": "string", "allowed": [FORMAT], "required": True},
    "target": {"type": "dict", "required": True, "schema": TARGET},
    "collected_at": {"type": "string", "required": True, "regex": INSTANT},
}

BODY = {
    "collector": {
        "type": "dict",
        "required": True,
        "schema": {"name": {"type": "string", "required": True}, "version": {"type": "string", "required": True},
                   "host": {"type": "string", "nullable": True}},
    },
    # "org" is reserved: checks read the organisation's evidence as org.<area>.
    "facts": {"type": "dict", "required": True, "keysrules": {"type": "string", "regex": r"(?!org$)[a-z_][a-z0-9_]*"}},
    "sources": {
        "type": "list",
        "required": True,
        "schema": {"type": "dict", "schema": {
            "name": {"type": "string", "required": True},
            "parser": {"type": "string", "required": True},
            "size": {"type": "integer", "min": 0, "required": True},
            "sha256": {"type": "string", "regex": "[0-9a-f]{64}", "required": True},
            "area": {"type": "string"},
        }},
    },
    "errors": {
        "type": "list",
        "required": True,
        "schema": {"type": "dict", "schema": {
            "area": {"type": "string", "required": True},
            "message": {"type": "string", "required": True},
            "source": {"type": "string"},
        }},
    },
}
