"""``auditor report RESULTS.json --format F``: render a stored run, with no evidence or policy at hand.

A report never re-evaluates: every format renders the ``auditor-results/1`` document alone, so
the HTML for the department head or the workbook for the inspector can be made later, on
another machine, from the file the audit wrote. The exit code is the run's own: 0 when its gate
passed, 1 when it did not, 2 when the file cannot be read as a results document.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from auditor import jsonio
from auditor.errors import InputError
from auditor.limits import check_size
from auditor.results import FORMAT

# The keys every renderer reads; a file without them is not a results document of this tool.
REQUIRED = ("format", "run", "score", "grade", "gate", "summary", "targets", "controls", "results")


def load_results(path: str) -> dict[str, Any]:
    """A stored results document, checked enough that every renderer can read it."""
    check_size(path, "results")
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        doc = jsonio.decode(raw)
    except UnicodeDecodeError as exc:
        raise InputError(path, "not UTF-8 text: a results file is UTF-8 JSON",
                         line=raw[: exc.start].count(b"\n") + 1) from None
    except json.JSONDecodeError as exc:
        raise InputError(path, f"not valid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
    except jsonio.Refused as exc:
        raise InputError(path, exc.problem, line=exc.line) from None
    if not isinstance(doc, dict):
        raise InputError(path, f"expected a JSON object ({FORMAT}), got {type(doc).__name__}")
    if doc.get("format") != FORMAT:
        raise InputError(path, f"expected {FORMAT!r}, found {doc.get('format')!r}", where="format")
    for key in REQUIRED:
        if key not in doc:
            raise InputError(path, "missing: a results document written by auditor audit --format json has it",
                             where=key)
    if not isinstance(doc["results"], list) or not isinstance(doc["run"], dict):
        raise InputError(path, "expected a list of results and a run mapping", where="results")
    return doc


def run(args: argparse.Namespace) -> int:
    from auditor.cli import EXIT_FINDINGS, EXIT_OK, _guard_out, _report_options, _write
    from auditor.reports import formats

    _guard_out(args.out, args.results)
    doc = load_results(args.results)
    options = _report_options(args, args.lang or doc["run"].get("lang") or "ja")
    try:
        rendered = formats()[args.format](doc, options)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:  # a document edited by hand, or cut
        raise InputError(args.results, f"not a complete results document ({type(exc).__name__}: {exc})") from None
    _write(rendered, args.out)
    return EXIT_OK if doc["gate"].get("passed") else EXIT_FINDINGS
