"""Recording one audit run, streamed: the run's own rows, then one row per target, written in batches.

The results are read once, in the document's order (targets by id, then checks by id), and never
held beyond one target's, and so are the document's targets and evidence (spooled lists in a
fleet): a run of 100,000 targets is recorded in flat memory. Each run names its predecessor, the
latest run before it that audited one of its first targets (:func:`_predecessor`; when those are
all new, any of its targets, once they are written): a city's monthly runs form a chain even in a
history that a prefecture's team shares between towns, and a check's failure streak (in how many
runs in a row it failed) is carried along that chain as the targets are recorded, by reading the
predecessor's rows in step with the results.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import chain, compress, groupby, islice
from operator import itemgetter
from typing import Any, NamedTuple

import orjson

from auditor import jsonio
from auditor.errors import InputError
from auditor.history.pack import (
    CODES,
    db_text,
    fail_positions,
    findings_digest,
    first_streaks,
    pack_streaks,
    unpack_streaks,
)
from auditor.history.store import Store

TREND_RUNS = 12  # runs in the trend the audit's report draws (this one included)
SAMPLE_TARGETS = 32  # the run's first targets, looked up to find its predecessor
BATCH_ROWS = 1000

_TARGET, _CHECK, _STATUS, _FINDINGS = (itemgetter(k) for k in ("target", "check", "status", "findings"))
_SCOPES = (("segments", "segment", "segment"), ("departments", "department", "department"),
           ("families", "family", "id"), ("controls", "control", "id"))


def _json(value: Any) -> str:
    return jsonio.compact(value).decode("utf-8")


def _packed_run(run: Mapping[str, Any]) -> tuple[bytes, str]:
    """The results' ``run`` object, zlib-compressed JSON ``{"run": {...}, "evidence": [...]}``, its evidence
    list (a spooled list in a fleet) compressed item by item; and the newest evidence's date."""
    compressor = zlib.compressobj(1)
    head = {k: v for k, v in run.items() if k != "evidence"}
    parts = [compressor.compress(b'{"run":' + jsonio.compact(head) + b',"evidence":[')]
    newest = ""
    for n, entry in enumerate(run.get("evidence") or []):
        parts.append(compressor.compress((b"," if n else b"") + jsonio.compact(entry)))
        newest = max(newest, str(entry.get("collected_at") or "")[:10])
    parts += [compressor.compress(b"]}"), compressor.flush()]
    return b"".join(parts), newest


def reference_day(doc: Mapping[str, Any], newest_evidence: str = "") -> str | None:
    """The day the run's waivers and attestations were judged on: ``--as-of``, else the newest evidence's date."""
    run = doc["run"]
    if run.get("as_of"):
        return str(run["as_of"])
    for waiver in doc.get("waivers") or []:
        if waiver.get("as_of"):
            return str(waiver["as_of"])
    return newest_evidence or str(run.get("finished_at") or "")[:10] or None


class Packed(NamedTuple):
    """One target's history row before it is numbered: its head (from the document's ``targets``), the
    check ids its results came in, and its results packed (see :mod:`auditor.history.pack`)."""

    target: str
    kind: Any
    segment: Any
    department: Any
    score: Any
    grade: Any
    checks: tuple[str, ...]
    statuses: str
    digests: bytes


@dataclass
class PackedRun:
    """A run's targets already packed, in target order (a fleet's workers pack their own slices), and
    what the history keeps of each check (``severity``, ``controls``, ``title``)."""

    rows: Iterable[Packed]
    checks: Mapping[str, Mapping[str, Any]]


def record(store: Store, doc: Mapping[str, Any], results: Iterable[dict[str, Any]] | PackedRun
           ) -> list[dict[str, Any]]:
    """Record the run; the trend of its chain (oldest first, this run last, at most TREND_RUNS).

    ``results``: the result entries in the document's order, or the run already packed. The document's
    ``targets`` (a list, or a fleet's spooled list) are read once, in step with the results.
    """
    with store.write() as conn:
        sample = [t["id"] for t in islice(doc.get("targets") or [], SAMPLE_TARGETS)]
        if isinstance(results, PackedRun):
            meta: Mapping[str, Mapping[str, Any]] = results.checks
            rows: Iterator[Packed] = iter(results.rows)
        else:
            entries = iter(results)
            if not sample:  # a document without its targets' summary: the first result names one
                first = next(entries, None)
                if first is not None:
                    sample = [first["target"]]
                    entries = chain([first], entries)
            meta = {}
            rows = packed(entries, doc.get("targets") or [], meta)
        previous = _predecessor(store, conn, sample)
        run_id = _insert_run(store, conn, doc, previous)
        count = _Targets(store, conn, run_id, previous).write(rows, meta)
        values: dict[str, Any] = {"target_count": count}
        if previous is None:
            values["previous"] = _predecessor_of(store, conn, run_id)
        conn.execute(store.runs.update().where(store.runs.c.id == run_id).values(**values))
        return trend(store, conn, run_id)


def _predecessor(store: Store, conn: Any, targets: list[str]) -> int | None:
    """The latest run recorded that audited one of the targets (the run's first targets)."""
    from sqlalchemy import func, select

    if not targets:
        return None
    t = store.targets
    return conn.execute(select(func.max(t.c.run)).where(t.c.target.in_(sorted({db_text(x) for x in targets})))
                        ).scalar()


def _predecessor_of(store: Store, conn: Any, run_id: int) -> int | None:
    """The latest earlier run that audited any target of this run, once its rows are written (when its first
    targets are new, say): the run joins its chain, its failures starting their streaks anew."""
    from sqlalchemy import and_, func, select

    t = store.targets
    new, old = t.alias("new"), t.alias("old")
    return conn.execute(select(func.max(old.c.run)).select_from(
        new.join(old, and_(old.c.target == new.c.target, old.c.run < run_id))).where(new.c.run == run_id)).scalar()


def _insert_run(store: Store, conn: Any, doc: Mapping[str, Any], previous: int | None) -> int:
    from sqlalchemy.exc import IntegrityError

    from auditor.clock import now_iso

    run, gate = doc["run"], doc["gate"]
    packed, newest = _packed_run(run)
    policy = run.get("policy") or {}
    tailoring = policy.get("tailoring") or {}
    values = {
        "uuid": str(run["id"]), "recorded_at": now_iso(), "started_at": run.get("started_at"),
        "finished_at": run.get("finished_at"), "tool_version": run.get("tool_version"), "lang": run.get("lang"),
        "as_of": run.get("as_of"), "reference_day": reference_day(doc, newest), "policy_id": policy.get("id"),
        "policy_version": policy.get("version"), "policy_sha256": policy.get("sha256"),
        "profile": policy.get("profile"), "tailoring_id": tailoring.get("id"),
        "tailoring_sha256": tailoring.get("sha256"), "score": doc.get("score"), "grade": doc.get("grade"),
        "gate_passed": bool(gate.get("passed")), "failed_critical": len(gate.get("failed_critical") or []),
        "incomplete": ",".join(gate.get("incomplete") or []), "summary": _json(doc.get("summary") or {}),
        "coverage": _json(doc.get("coverage")), "target_count": len(doc.get("targets") or []),
        "evidence_count": len(run.get("evidence") or []), "unread_count": len(run.get("unread") or []),
        "previous": previous, "record": packed,
    }
    try:
        run_id = conn.execute(store.runs.insert().values(**values)).inserted_primary_key[0]
    except IntegrityError:
        raise InputError(store.location.shown, f"run {run['id']} is in the history already") from None
    scores = [{"run": run_id, "scope": scope, "key": db_text(entry.get(key) or ""),
               "title": db_text(entry.get("title")), "score": entry.get("score"),
               "grade": entry.get("grade"), "summary": _json(entry.get("summary") or {}),
               "coverage": _json(entry.get("coverage"))}
              for doc_key, scope, key in _SCOPES for entry in doc.get(doc_key) or []]
    if scores:
        conn.execute(store.scores.insert(), scores)
    expiries = [{"run": run_id, "seq": n, **row} for n, row in enumerate(_expiries(doc))]
    if expiries:
        conn.execute(store.expiries.insert(), expiries)
    return int(run_id)


def _expiries(doc: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The run's waivers and attestations, each with its expiry and state, for the diff to warn of."""
    for w in doc.get("waivers") or []:
        yield {"kind": "waiver", "ident": db_text(str(w.get("id"))), "label": db_text(w.get("approval_number")),
               "scope": db_text(",".join(w.get("targets") or [])), "expires": str(w.get("expires")),
               "state": str(w.get("state")),
               "detail": _json({k: w.get(k) for k in ("reason", "approver", "granted", "checks", "controls")})}
    for a in doc.get("attestations") or []:
        document = a.get("document")
        name = document.get("name") if isinstance(document, dict) else document
        ident = str(a.get("control") or "") + (f"/{a['check']}" if a.get("check") else "")
        yield {"kind": "attestation", "ident": db_text(ident), "label": db_text(name),
               "scope": db_text(",".join(a.get("targets") or [])), "expires": str(a.get("valid_until")),
               "state": str(a.get("state")),
               "detail": _json({k: a.get(k) for k in ("attested_by", "attested_on", "statement")})}


def by_target(results: Iterable[dict[str, Any]]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Each target's results, in the order given (consecutive results of one target together).

    Every target of an audit has one result per selected check: after the first target, results are
    taken that many at a time (a C-level slice, several times faster than grouping one by one), and
    one by one from the first slice that is not one whole target on.
    """
    it = iter(results)
    first = next(it, None)
    if first is None:
        return
    target, rows, following = first["target"], [first], None
    for r in it:
        if r["target"] != target:
            following = r
            break
        rows.append(r)
    if following is None:
        yield target, rows
        return
    size, rest = len(rows), chain([following], it)
    while True:
        chunk = list(islice(rest, size))
        if not chunk:
            yield target, rows
            return
        head = chunk[0]["target"]
        if len(chunk) == size and head == chunk[-1]["target"] and head != target:
            yield target, rows
            target, rows = head, chunk
            continue
        for each, group in groupby(chain(chunk, rest), _TARGET):
            if each == target:
                rows.extend(group)
            else:
                yield target, rows
                target, rows = each, list(group)
        yield target, rows
        return


class _BulkInsert:
    """Rows (tuples in the table's column order) inserted many at a time.

    The statement is SQLAlchemy's own insert, compiled once for the connection's dialect; the rows go
    to the driver's executemany as they are, without SQLAlchemy's per-row parameter processing, which
    costs more than the database's work here (the columns are integers, floats, text and bytes, which
    need none).
    """

    def __init__(self, conn: Any, table: Any) -> None:
        self.conn = conn
        compiled = table.insert().compile(dialect=conn.dialect)
        self.sql = str(compiled)
        names = [c.name for c in table.columns]
        self.names = names
        self.positional = bool(compiled.positional)
        if self.positional and list(compiled.positiontup or []) != names:
            raise AssertionError(f"unexpected parameter order {compiled.positiontup}")

    def __call__(self, rows: list[tuple[Any, ...]]) -> None:
        if self.positional:
            self.conn.exec_driver_sql(self.sql, rows)
        else:
            names = self.names
            self.conn.exec_driver_sql(self.sql, [dict(zip(names, row, strict=True)) for row in rows])


def packed(results: Iterable[dict[str, Any]], heads: Iterable[dict[str, Any]],
           meta: dict[str, Mapping[str, Any]]) -> Iterator[Packed]:
    """Each target's row packed from its result entries (in the document's order), its head read from
    the document's ``targets`` in step; ``meta`` gets each check's first entry."""
    heads = iter(heads)
    head: dict[str, Any] | None = next(heads, None)
    empty: dict[str, Any] = {}
    last_checks: tuple[str, ...] = ()
    for target, rows in by_target(results):
        checks = tuple(map(_CHECK, rows))
        if checks != last_checks:
            last_checks = checks
            for r in rows:
                meta.setdefault(r["check"], r)
        try:
            codes = list(map(CODES.__getitem__, map(_STATUS, rows)))
        except KeyError as exc:
            raise ValueError(f"unknown status {exc.args[0]!r} of target {target!r}") from None
        found = list(compress(range(len(rows)), map(_FINDINGS, rows)))
        digests = b""
        if found:
            for i in found:
                codes[i] = codes[i].upper()
            digests = b"".join([findings_digest(rows[i]["findings"]) for i in found])
        while head is not None and str(head.get("id")) < target:  # the document's targets, read in step
            head = next(heads, None)
        this = head if head is not None and head.get("id") == target else empty
        yield Packed(target, this.get("kind"), this.get("segment"), this.get("department"), this.get("score"),
                     this.get("grade"), checks, "".join(codes), digests)


class _Targets:
    """Writes a run's target rows as they stream by, with the predecessor's rows read in step."""

    def __init__(self, store: Store, conn: Any, run_id: int, previous: int | None) -> None:
        self.store, self.conn, self.run_id = store, conn, run_id
        self.sets: dict[tuple[str, ...], int] = {}
        self.before_sets: dict[int, tuple[str, ...]] = {}
        self.aligned: dict[tuple[int, int], list[int]] = {}
        self.before: Iterator[Any] = iter(())
        if previous is not None:
            from sqlalchemy import select

            cs = store.checksets
            for number, checks in conn.execute(select(cs.c.number, cs.c.checks).where(cs.c.run == previous)):
                self.before_sets[number] = tuple(checks.split("\n"))
            t = store.targets
            # read as the rows are written, on this connection: a server-side cursor for this statement only
            self.before = iter(conn.execute(
                select(t.c.target, t.c.checkset, t.c.statuses, t.c.streaks).where(t.c.run == previous)
                .order_by(t.c.seq).execution_options(stream_results=True, yield_per=BATCH_ROWS)))

    def write(self, rows: Iterable[Packed], meta: Mapping[str, Mapping[str, Any]]) -> int:
        insert = _BulkInsert(self.conn, self.store.targets)
        batch: list[tuple[Any, ...]] = []
        texts: dict[Any, Any] = {}  # kind, segment, department: few values, each checked once
        last: str | None = None
        before = next(self.before, None)
        seq = -1
        last_checks: tuple[str, ...] = ()
        number = -1
        run_id = self.run_id
        for seq, row in enumerate(rows):  # noqa: B007 - seq is the count after
            target, checks, statuses = row.target, row.checks, row.statuses
            if last is not None and not target > last:
                raise ValueError(f"results out of order: target {target!r} after {last!r} (expected targets by id)")
            last = target
            if checks != last_checks:
                last_checks = checks
                known = self.sets.get(checks)
                if known is None:
                    known = self.sets[checks] = len(self.sets)
                number = known
            stored = db_text(target)
            while before is not None and before.target < stored:
                before = next(self.before, None)
            fails = fail_positions(statuses)
            streaks = b""
            if fails:
                if before is not None and before.target == stored:
                    streaks = self._streaks(fails, number, checks, before, statuses)
                else:
                    streaks = first_streaks(len(fails))
            kind, segment, department = row.kind, row.segment, row.department
            for value in (kind, segment, department):
                if value not in texts:
                    texts[value] = db_text(value)
            batch.append((run_id, seq, stored, texts[kind], texts[segment], texts[department], row.score,
                          row.grade, number, statuses, row.digests, streaks))
            if len(batch) >= BATCH_ROWS:
                insert(batch)
                batch = []
        if batch:
            insert(batch)
        self._write_checks(meta)
        return seq + 1

    def _streaks(self, fails: list[int], number: int, checks: tuple[str, ...], before: Any,
                 statuses: str) -> bytes:
        """The packed streaks of the failed positions: one more than the predecessor's, or 1."""
        key = (before.checkset, number)
        aligned = self.aligned.get(key)
        if aligned is None:
            old = self.before_sets.get(before.checkset, ())
            if old == checks:
                aligned = (list(range(len(checks))), True)
            else:
                where = {c: i for i, c in enumerate(old)}
                aligned = ([where.get(c, -1) for c in checks], False)
            self.aligned[key] = aligned
        align, same = aligned
        if same and before.statuses.lower() == statuses.lower():  # the same failures as last time: each one more
            return pack_streaks([n + 1 for n in unpack_streaks(before.streaks)])
        earlier = fail_positions(before.statuses)
        if not earlier:
            return first_streaks(len(fails))
        streak_at = dict(zip(earlier, unpack_streaks(before.streaks), strict=False))
        return pack_streaks([streak_at.get(align[i], 0) + 1 for i in fails])

    def _write_checks(self, meta: Mapping[str, Mapping[str, Any]]) -> None:
        sets = [{"run": self.run_id, "number": n, "checks": "\n".join(db_text(c) for c in checks)}
                for checks, n in self.sets.items()]
        if sets:
            self.conn.execute(self.store.checksets.insert(), sets)
        used = set(chain.from_iterable(self.sets))  # the checks of the run's targets
        rows = [{"run": self.run_id, "check_id": db_text(c), "severity": r.get("severity"),
                 "controls": db_text(",".join(r.get("controls") or [])), "title": db_text(r.get("title"))}
                for c, r in meta.items() if c in used]
        if rows:
            self.conn.execute(self.store.checks.insert(), rows)


def trend(store: Store, conn: Any, run_id: int, runs: int = TREND_RUNS) -> list[dict[str, Any]]:
    """The run and those before it in its chain, oldest first: what the report's trend chart draws."""
    from sqlalchemy import select

    r = store.runs
    points: list[dict[str, Any]] = []
    current: int | None = run_id
    while current is not None and len(points) < runs:
        row = conn.execute(select(r.c.id, r.c.uuid, r.c.finished_at, r.c.as_of, r.c.score, r.c.grade,
                                  r.c.gate_passed, r.c.target_count, r.c.previous).where(r.c.id == current)).first()
        if row is None:
            break
        points.append({"run": row.id, "id": row.uuid, "finished_at": row.finished_at, "as_of": row.as_of,
                       "score": row.score, "grade": row.grade, "gate_passed": bool(row.gate_passed),
                       "targets": row.target_count})
        current = row.previous
    points.reverse()
    return points


def summary_of(raw: str | None) -> Any:
    return orjson.loads(raw) if raw else None
