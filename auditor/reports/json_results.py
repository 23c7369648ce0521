"""``--format json``: the `auditor-results/1` document itself."""

from __future__ import annotations

import json
from typing import Any

from auditor.reports import register


@register("json")
def render(doc: dict[str, Any], lang: str) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
