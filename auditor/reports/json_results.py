"""``--format json``: the `auditor-results/1` document itself.

The run, scores and summaries are indented for reading; each result is one compact
line, which keeps a ten-thousand-target report greppable and lets the C encoder do
the bulk of the work.
"""

from __future__ import annotations

import json
from typing import Any

from auditor.reports import register


@register("json")
def render(doc: dict[str, Any], lang: str) -> str:
    head = json.dumps({k: v for k, v in doc.items() if k != "results"}, ensure_ascii=False, indent=2)
    encode = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode  # one encoder for every line
    results = [encode(r) for r in doc.get("results", [])]
    body = ["[\n    ", ",\n    ".join(results), "\n  ]"] if results else ["[]"]
    return "".join([head[:-2], ',\n  "results": ', *body, "\n}\n"])  # one copy of a report of many megabytes
