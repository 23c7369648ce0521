"""``--format json``: the `auditor-results/1` document itself, indented by two spaces.

A report of a large directory holds 100,000 findings (tens of megabytes); it is encoded
by orjson (see :mod:`auditor.jsonio`). A fleet's results are not held: they are copied into
the document from the spool files they were written to as they were made.
"""

from __future__ import annotations

from typing import Any

from auditor import jsonio
from auditor.reports import ReportOptions, Streamed, register


@register("json", streams=True)
def render(doc: dict[str, Any], options: ReportOptions) -> bytes | Streamed:
    """The document; a fleet's (its results spooled) as a writer that copies the spools in."""
    from auditor.results import SpooledList, write_document

    if isinstance(doc.get("results"), SpooledList):
        return Streamed(lambda stream: write_document(doc, stream))
    return jsonio.encode(doc)
