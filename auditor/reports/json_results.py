"""``--format json``: the `auditor-results/1` document itself, indented by two spaces.

A report of a large directory holds 100,000 findings (tens of megabytes); it is encoded
by orjson (see :mod:`auditor.jsonio`).
"""

from __future__ import annotations

from typing import Any

from auditor import jsonio
from auditor.reports import ReportOptions, register


@register("json")
def render(doc: dict[str, Any], options: ReportOptions) -> bytes:
    return jsonio.encode(doc)
