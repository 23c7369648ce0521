"""Reading the history: the runs recorded, a run named on the command line, a run's check lists."""

from __future__ import annotations

from typing import Any

import orjson

from auditor.errors import InputError
from auditor.history.store import Store

MIN_ID_PREFIX = 4  # characters of a run id that name it


def _loads(raw: Any) -> Any:
    return orjson.loads(raw) if raw else None


def run_row(row: Any) -> dict[str, Any]:
    """A run as the listing and the diff show it."""
    return {"run": row.id, "id": row.uuid, "finished_at": row.finished_at, "as_of": row.as_of,
            "reference_day": row.reference_day, "policy": row.policy_id, "policy_version": row.policy_version,
            "profile": row.profile, "tailoring": row.tailoring_id, "targets": row.target_count,
            "score": row.score, "grade": row.grade, "gate_passed": bool(row.gate_passed),
            "failed_critical": row.failed_critical,
            "incomplete": [x for x in (row.incomplete or "").split(",") if x],
            "summary": _loads(row.summary), "previous": row.previous}


def list_runs(store: Store, target: str | None = None, limit: int | None = 20) -> list[dict[str, Any]]:
    """The runs, newest first; with ``target``, those that audited it, with its own score and counts."""
    from sqlalchemy import select

    from auditor.history.pack import STATUSES, db_text

    r, t = store.runs, store.targets
    with store.read() as conn:
        if target is None:
            query = select(r).order_by(r.c.id.desc())
        else:
            query = (select(r, t.c.score.label("target_score"), t.c.grade.label("target_grade"),
                            t.c.statuses.label("target_statuses"))
                     .join(t, (t.c.run == r.c.id) & (t.c.target == db_text(target))).order_by(r.c.id.desc()))
        if limit:
            query = query.limit(limit)
        out = []
        for row in conn.execute(query):
            entry = run_row(row)
            if target is not None:
                letters = row.target_statuses.lower()
                entry["target"] = {"id": target, "score": row.target_score, "grade": row.target_grade,
                                   "summary": {status: letters.count(code) for code, status in STATUSES.items()}}
            out.append(entry)
        return out


def get_run(store: Store, conn: Any, run_id: int) -> dict[str, Any]:
    from sqlalchemy import select

    row = conn.execute(select(store.runs).where(store.runs.c.id == run_id)).first()
    if row is None:
        raise InputError(store.location.shown, f"no run {run_id} in the history (auditor history lists them)")
    return run_row(row)


def resolve(store: Store, conn: Any, ref: str) -> int:
    """The run a command-line argument names: its number in the history, or its id (or the id's start)."""
    from sqlalchemy import select

    r = store.runs
    ref = ref.strip()
    if ref.isdigit():
        found = conn.execute(select(r.c.id).where(r.c.id == int(ref))).scalar()
        if found is None:
            raise InputError(store.location.shown, f"no run {ref} in the history (auditor history lists them)")
        return int(found)
    if len(ref) < MIN_ID_PREFIX:
        raise InputError(store.location.shown, f"{ref!r} names no run: give a run number or at least "
                         f"{MIN_ID_PREFIX} characters of a run id (auditor history lists them)")
    matches = [row.id for row in conn.execute(select(r.c.id).where(r.c.uuid.startswith(ref, autoescape=True))
                                              .limit(2))]
    if not matches:
        raise InputError(store.location.shown, f"no run with id {ref!r} in the history")
    if len(matches) > 1:
        raise InputError(store.location.shown, f"run id {ref!r} is ambiguous: give more of it, or the run number")
    return int(matches[0])


def resolve_pair(store: Store, a: str | None, b: str | None) -> tuple[int, int]:
    """The two runs ``auditor diff [A] [B]`` compares: by default the latest run and the one before it
    (its predecessor: the latest earlier run of the same targets); A alone is compared with the latest."""
    from sqlalchemy import func, select

    r = store.runs
    with store.read() as conn:
        latest = conn.execute(select(func.max(r.c.id))).scalar()
        if latest is None:
            raise InputError(store.location.shown, "the history holds no run yet")
        if a is not None and b is not None:
            return resolve(store, conn, a), resolve(store, conn, b)
        first = resolve(store, conn, a) if a is not None else None
        if first is not None and first != latest:
            return first, int(latest)
        second = first if first is not None else int(latest)
        before = conn.execute(select(r.c.previous).where(r.c.id == second)).scalar()
        if before is None:
            raise InputError(store.location.shown, f"run {second} has no earlier run of the same targets to compare "
                             "with: give two runs (auditor diff A B; auditor history lists them)")
        return int(before), second


def checksets(store: Store, conn: Any, run_id: int) -> dict[int, tuple[str, ...]]:
    from sqlalchemy import select

    cs = store.checksets
    return {row.number: tuple(row.checks.split("\n"))
            for row in conn.execute(select(cs.c.number, cs.c.checks).where(cs.c.run == run_id))}


def check_meta(store: Store, conn: Any, run_id: int) -> dict[str, dict[str, Any]]:
    """The checks' severity, controls and title as the run recorded them (none for a version 1 run)."""
    from sqlalchemy import select

    c = store.checks
    return {row.check_id: {"severity": row.severity, "title": row.title,
                           "controls": [x for x in (row.controls or "").split(",") if x]}
            for row in conn.execute(select(c).where(c.c.run == run_id))}


def scores(store: Store, conn: Any, run_id: int) -> dict[tuple[str, str], dict[str, Any]]:
    from sqlalchemy import select

    s = store.scores
    return {(row.scope, row.key): {"score": row.score, "grade": row.grade, "title": row.title}
            for row in conn.execute(select(s.c.scope, s.c.key, s.c.title, s.c.score, s.c.grade)
                                    .where(s.c.run == run_id))}


def expiries(store: Store, conn: Any, run_id: int) -> list[dict[str, Any]]:
    from sqlalchemy import select

    e = store.expiries
    return [{"kind": row.kind, "id": row.ident, "label": row.label,
             "targets": [x for x in (row.scope or "").split(",") if x], "expires": row.expires, "state": row.state,
             **(_loads(row.detail) or {})}
            for row in conn.execute(select(e).where(e.c.run == run_id).order_by(e.c.seq))]


def recorded_in_v2(store: Store, conn: Any, run_id: int) -> bool:
    """Whether the run was recorded with check titles, waivers and attestations (schema 2 on)."""
    from sqlalchemy import select

    m = store.meta
    since = conn.execute(select(m.c.value).where(m.c.key == "schema_2_from_run")).scalar()
    return since is None or run_id >= int(since)
