"""``auditor history`` lists the recorded audit runs; ``auditor diff [A] [B]`` says what changed between two
(see :mod:`auditor.history`). Both read the store ``--history`` names, else ``$AUDITOR_HISTORY``, else the
default SQLite file that every ``auditor audit`` records into."""

from __future__ import annotations

import argparse
from typing import Any

from auditor.i18n import LANGS

HISTORY_FORMATS = ("table", "json", "csv")
DIFF_FORMATS = ("table", "json", "md", "html")


def _count(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) <= 1_000_000:
        raise argparse.ArgumentTypeError(f"expected a number from 1 to 1000000, got {value!r}")
    return int(value)


def _days(value: str) -> int:
    if not value.isdigit() or int(value) > 36_500:
        raise argparse.ArgumentTypeError(f"expected a number of days from 0 to 36500, got {value!r}")
    return int(value)


def _common(parser: argparse.ArgumentParser) -> None:
    from auditor.reports.dates import STYLES

    parser.add_argument("--history", metavar="URL", help="the history: an SQLite file or postgresql://USER@HOST/DB "
                        "(default: $AUDITOR_HISTORY, else the file auditor audit records into)")
    parser.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    parser.add_argument("--lang", default="ja", choices=LANGS, help="language (default: ja)")
    parser.add_argument("--date-style", default="iso", choices=STYLES, help="dates as ISO 8601 or in the Japanese era")


def register(sub: Any) -> None:
    history = sub.add_parser("history", help="list the audit runs recorded in the history, newest first")
    history.add_argument("--target", metavar="ID", help="only the runs that audited this target, with its score")
    history.add_argument("--limit", type=_count, default=20, metavar="N", help="at most N runs (default: 20)")
    history.add_argument("--format", default="table", choices=HISTORY_FORMATS, help="output format")
    _common(history)
    history.set_defaults(handler=run_history)

    diff = sub.add_parser("diff", help="what changed between two recorded runs (default: the last two)")
    diff.add_argument("runs", nargs="*", metavar="RUN",
                      help="A and B: a run number or run id (auditor history lists them); none: the latest run "
                      "and the one before it of the same targets; A alone: A and the latest run")
    diff.add_argument("--days", type=_days, default=30, metavar="N",
                      help="list waivers and attestations ending within N days of run B (default: 30)")
    diff.add_argument("--format", default="table", choices=DIFF_FORMATS, help="output format")
    _common(diff)
    diff.set_defaults(handler=run_diff)


def _open(args: argparse.Namespace) -> Any:
    from auditor.errors import InputError
    from auditor.history.store import ENV, locate, open_store

    location = locate(args.history)
    if location is None:
        raise InputError("--history" if args.history else f"${ENV}", "the history is off: give --history URL")
    return open_store(location, create=False)


def run_history(args: argparse.Namespace) -> int:
    from auditor.cli import EXIT_OK, _guard_out, _write
    from auditor.history.query import list_runs
    from auditor.history.render import history

    store = _open(args)
    try:
        _guard_out(args.out, str(store.location.path) if store.location.path else None)
        runs = list_runs(store, args.target, args.limit)
    finally:
        store.close()
    _write(history(runs, args.format, args.lang, args.date_style, args.target), args.out)
    return EXIT_OK


def run_diff(args: argparse.Namespace) -> int:
    from auditor.cli import EXIT_INPUT, EXIT_OK, _guard_out, _write
    from auditor.history.diff import diff
    from auditor.history.query import resolve_pair
    from auditor.history.render import diff_document

    if len(args.runs) > 2:
        import sys

        print(f"auditor: diff compares two runs, {len(args.runs)} were given", file=sys.stderr)
        return EXIT_INPUT
    store = _open(args)
    try:
        _guard_out(args.out, str(store.location.path) if store.location.path else None)
        a, b = resolve_pair(store, *(args.runs + [None, None])[:2])
        found = diff(store, a, b, args.days)
    finally:
        store.close()
    _write(diff_document(found, args.format, args.lang, args.date_style), args.out)
    return EXIT_OK
