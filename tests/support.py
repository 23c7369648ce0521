"""Shared test data: a small policy in tests/fixtures/policy-mini and a valid bundle to vary."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"
MINI_POLICY = FIXTURES / "policy-mini"

BASE_BUNDLE: dict[str, Any] = {
    "format": "auditor-evidence/1",
    "target": {"id": "pc-001", "kind": "endpoint", "segment": "lgwan", "department": "総務課", "labels": {}},
    "collected_at": "2026-11-02T08:41:07+09:00",
    "collector": {"name": "test", "version": "0", "host": "pc-001"},
    "facts": {
        "password_policy": {"min_length": 8},
        "accounts": [{"name": "root", "password_empty": False}],
        "patches": {"last_installed_at": "2026-10-20T10:00:00+09:00"},
        "routing": {"ip_forward_v4": False},
    },
    "sources": [],
    "errors": [],
}


def make_bundle(**changes: Any) -> dict[str, Any]:
    """A valid bundle with top-level keys, ``target.*`` or ``facts.*`` replaced."""
    bundle = copy.deepcopy(BASE_BUNDLE)
    for key, value in changes.items():
        head, _, rest = key.partition("__")
        if rest:
            bundle[head][rest] = value
        else:
            bundle[head] = value
    return bundle


def core(findings: list[dict]) -> list[dict]:
    """Findings without the texts for people (expected_text, source): what the condition found."""
    return [{k: f[k] for k in ("item", "actual", "expected") if k in f} for f in findings]
