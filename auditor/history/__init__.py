"""The history of audit runs: every ``auditor audit`` is recorded, so that a month can be compared with the last.

- :mod:`~auditor.history.store`: where the history is (``--history URL``, ``$AUDITOR_HISTORY``, the
  default SQLite file), opening it, its transactions;
- :mod:`~auditor.history.schema`: the tables of every schema version and the migrations (SQLAlchemy Core);
- :mod:`~auditor.history.pack`: how a target's results are packed into one row;
- :mod:`~auditor.history.record`: recording a run, streamed;
- :mod:`~auditor.history.query` and :mod:`~auditor.history.diff`: listing runs, comparing two;
- :mod:`~auditor.history.render`: the listing and the diff as text, JSON, CSV, Markdown and HTML.

The audit's side of it is one call, :func:`record_run`. Nothing here evaluates: the history stores
what the results document says, and the diff compares what two runs stored.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

from auditor.errors import InputError


def preload() -> None:
    """Import what recording a run needs (SQLAlchemy and the tables: a quarter of a second), for an
    audit to call while its workers judge, instead of after them."""
    import sqlalchemy.engine  # noqa: F401

    import auditor.history.record  # noqa: F401
    import auditor.history.schema  # noqa: F401
    import auditor.history.store  # noqa: F401


def record_run(url: str | None, doc: Mapping[str, Any], results: Iterable[dict[str, Any]] | Any
               ) -> list[dict[str, Any]]:
    """Record one audit run; return the score trend of the runs up to it, for the report.

    ``url``: the ``--history`` value; None takes ``$AUDITOR_HISTORY``, else the default SQLite file in the
    user's data directory; ``off`` (either way) records nothing and returns ``[]``.
    ``doc``: the run's ``auditor-results/1`` document; its ``results`` key is not read (it may be absent).
    ``results``: the result entries (the dicts of ``doc["results"]``), consumed once, in the document's
    order: targets by id, then checks by id; or the run's targets already packed by the workers that
    judged them (:class:`auditor.history.record.PackedRun`, see ``auditor.results.packed_history``).

    Returns the trend, oldest first and this run last (at most 12 runs): ``run`` (the history's run
    number), ``id``, ``finished_at``, ``as_of``, ``score``, ``grade``, ``gate_passed``, ``targets``; the
    audit puts it in the document as ``trend``.

    A store that ``--history`` or ``$AUDITOR_HISTORY`` names and that cannot be written is an
    InputError (exit 2). The default store failing (a read-only home directory, say) does not stop
    the audit: a warning goes to standard error, the results are consumed all the same, and the
    trend is empty.
    """
    from auditor.history.record import PackedRun, record
    from auditor.history.store import locate, open_store

    location = locate(url)
    if not isinstance(results, PackedRun):
        results = iter(results)
    if location is None:
        _drain(results)
        return []
    try:
        store = open_store(location, create=True)
        try:
            return record(store, doc, results)
        finally:
            store.close()
    except InputError as exc:
        if not location.default:
            raise
        _drain(results)
        print(f"auditor: warning: this run was not recorded in the history: {exc}", file=sys.stderr)
        return []


def _drain(results: Any) -> None:
    """Consume a stream of results that is not recorded (whoever made it may be waiting on it)."""
    from auditor.history.record import PackedRun

    if not isinstance(results, PackedRun):
        for _ in results:
            pass
