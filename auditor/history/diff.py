"""Comparing two recorded runs: what failed anew, what was fixed, what came back, what still fails.

Both runs are read target by target as the database joins them (run B's rows, each with run A's row
of the same target, then A's targets that B no longer has); a target whose packed row is the same in
both costs a string comparison. Per result (a check on a target present in both runs):

- ``new``: fails in B, and in A it did not run, could not be evaluated, was not applicable,
  was waived or needed an attestation;
- ``regressed``: passed in A, fails in B;
- ``fixed``: failed in A, passes in B;
- ``still_failing``: fails in both, with ``runs``, the failures in a row up to B (the streak
  recorded with B), and ``findings_changed`` when what was found is not the same;
- ``no_longer_failing``: failed in A, and in B it neither fails nor passes (waived, could not be
  evaluated, not applicable, or not run): not a fix, and listed so that it is not lost;
- ``new_errors``: could not be evaluated in B, and in A it passed, did not run or was not
  applicable, waived or manual (evidence that stopped arriving).

Targets only in B are ``targets_added`` (with their failures counted there, not as new), targets only
in A ``targets_removed``. Waivers and attestations of B in force that end within ``days`` of B's
reference day (its ``--as-of``, else its newest evidence) are ``expiring``; those that lapsed by then
and had not in A, ``expired``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from auditor.history.pack import digest_at, fail_positions, status_of, unpack_streaks
from auditor.history.query import check_meta, checksets, expiries, get_run, recorded_in_v2, scores
from auditor.history.record import trend
from auditor.history.store import Store

FORMAT = "auditor-diff/1"
DEFAULT_DAYS = 30
ROWS_AT_ONCE = 1000
KINDS = ("new", "regressed", "fixed", "still_failing", "no_longer_failing", "new_errors")


class _Changes:
    """The changes found, as compact tuples (target, check position and set, ...) until the end."""

    def __init__(self, sets_a: dict[int, tuple[str, ...]], sets_b: dict[int, tuple[str, ...]]) -> None:
        self.sets_a, self.sets_b = sets_a, sets_b
        self.found: dict[str, list[tuple[Any, ...]]] = {k: [] for k in KINDS}
        self.aligned: dict[tuple[int, int], tuple[list[int], list[int], bool]] = {}

    def align(self, set_a: int, set_b: int) -> tuple[list[int], list[int], bool]:
        """For each of B's positions A's position of the same check (-1: none); A's positions B lacks; and
        whether the two lists are the same."""
        key = (set_a, set_b)
        done = self.aligned.get(key)
        if done is None:
            checks_a, checks_b = self.sets_a.get(set_a, ()), self.sets_b.get(set_b, ())
            if checks_a == checks_b:
                done = (list(range(len(checks_b))), [], True)
            else:
                where = {c: i for i, c in enumerate(checks_a)}
                in_b = set(checks_b)
                done = ([where.get(c, -1) for c in checks_b], [i for i, c in enumerate(checks_a) if c not in in_b],
                        False)
            self.aligned[key] = done
        return done

    def target(self, row: Any) -> None:
        target, checks_b = row.target, self.sets_b.get(row.checkset, ())
        sb, sa = row.statuses, row.a_statuses
        fails_b = fail_positions(sb)
        streaks = unpack_streaks(row.streaks) if fails_b else []
        align, only_a, same_checks = self.align(row.a_checkset, row.checkset)
        still = self.found["still_failing"]
        if same_checks and sa == sb:
            same_findings = bytes(row.digests) == bytes(row.a_digests)
            if fails_b:
                if same_findings:
                    still.extend((target, checks_b[i], n, False) for i, n in zip(fails_b, streaks, strict=False))
                else:
                    da, db = digest_at(sa, row.a_digests), digest_at(sb, row.digests)
                    still.extend((target, checks_b[i], n, da.get(i) != db.get(i))
                                 for i, n in zip(fails_b, streaks, strict=False))
            return
        streak_at = dict(zip(fails_b, streaks, strict=False))
        da = db = None
        found = self.found
        for i, code in enumerate(sb):
            now = code.lower()
            j = align[i]
            was = sa[j].lower() if j >= 0 else None
            if now == "f":
                if was == "f":
                    if da is None:
                        da, db = digest_at(sa, row.a_digests), digest_at(sb, row.digests)
                    still.append((target, checks_b[i], streak_at.get(i, 1), da.get(j) != db.get(i)))
                elif was == "p":
                    found["regressed"].append((target, checks_b[i], was, now))
                else:
                    found["new"].append((target, checks_b[i], was, now))
            elif was == "f":
                found["fixed" if now == "p" else "no_longer_failing"].append((target, checks_b[i], was, now))
            elif now == "e" and was != "e":
                found["new_errors"].append((target, checks_b[i], was, now))
        checks_a = self.sets_a.get(row.a_checkset, ())
        for j in only_a:
            if sa[j].lower() == "f":
                found["no_longer_failing"].append((target, checks_a[j], "f", None))


def diff(store: Store, a: int, b: int, days: int = DEFAULT_DAYS) -> dict[str, Any]:
    """The changes from run ``a`` to run ``b`` (an ``auditor-diff/1`` document)."""
    from sqlalchemy import and_, select

    t = store.targets
    ta, tb = t.alias("a"), t.alias("b")
    with store.read() as conn:
        run_a, run_b = get_run(store, conn, a), get_run(store, conn, b)
        changes = _Changes(checksets(store, conn, a), checksets(store, conn, b))
        meta_a, meta_b = check_meta(store, conn, a), check_meta(store, conn, b)
        added: list[dict[str, Any]] = []
        removed: list[dict[str, Any]] = []
        streamed = {"stream_results": True, "yield_per": ROWS_AT_ONCE}  # a server-side cursor where there is one
        both = (select(tb.c.target, tb.c.kind, tb.c.segment, tb.c.department, tb.c.score, tb.c.grade,
                       tb.c.checkset, tb.c.statuses, tb.c.digests, tb.c.streaks,
                       ta.c.seq.label("a_seq"), ta.c.checkset.label("a_checkset"),
                       ta.c.statuses.label("a_statuses"), ta.c.digests.label("a_digests"))
                .select_from(tb.outerjoin(ta, and_(ta.c.run == a, ta.c.target == tb.c.target)))
                .where(tb.c.run == b).execution_options(**streamed))
        for row in conn.execute(both):
            if row.a_seq is None:
                added.append(_target_entry(row))
            else:
                changes.target(row)
        gone = (select(ta.c.target, ta.c.kind, ta.c.segment, ta.c.department, ta.c.score, ta.c.grade,
                       ta.c.statuses)
                .select_from(ta.outerjoin(tb, and_(tb.c.run == b, tb.c.target == ta.c.target)))
                .where(ta.c.run == a, tb.c.seq.is_(None)).execution_options(**streamed))
        for row in conn.execute(gone):
            removed.append(_target_entry(row))
        scope_scores = _score_changes(scores(store, conn, a), scores(store, conn, b))
        full = recorded_in_v2(store, conn, b)
        soon, lapsed = _expiring(expiries(store, conn, a), expiries(store, conn, b), run_b["reference_day"], days)
        chain = trend(store, conn, b)
    out: dict[str, Any] = {
        "format": FORMAT, "history": store.location.shown, "from": run_a, "to": run_b, "days": days,
        "score": {"from": run_a["score"], "to": run_b["score"], "change": _change(run_a["score"], run_b["score"])},
        "recorded": {"checks": bool(meta_b) or not full, "waivers_and_attestations": full},
    }
    for kind in KINDS:
        out[kind] = sorted((_result_entry(kind, item, meta_b, meta_a) for item in changes.found[kind]),
                           key=lambda e: (e["target"], e["check"]))
    out["still_failing"].sort(key=lambda e: (-e["runs"], e["target"], e["check"]))
    out.update({"targets_added": sorted(added, key=lambda e: e["target"]),
                "targets_removed": sorted(removed, key=lambda e: e["target"]),
                "scores": scope_scores, "expiring": soon, "expired": lapsed, "trend": chain})
    out["counts"] = {k: len(out[k]) for k in (*KINDS, "targets_added", "targets_removed", "expiring", "expired")}
    return out


def _result_entry(kind: str, item: tuple[Any, ...], meta_b: dict[str, Any], meta_a: dict[str, Any]) -> dict[str, Any]:
    check = item[1]
    meta = meta_b.get(check) or meta_a.get(check) or {}
    entry = {"target": item[0], "check": check, "severity": meta.get("severity"), "title": meta.get("title"),
             "controls": meta.get("controls") or []}
    if kind == "still_failing":
        entry.update(runs=item[2], findings_changed=item[3])
    else:
        entry.update(was=status_of(item[2]) if item[2] else None, now=status_of(item[3]) if item[3] else None)
    return entry


def _target_entry(row: Any) -> dict[str, Any]:
    letters = row.statuses.lower()
    return {"target": row.target, "kind": row.kind, "segment": row.segment, "department": row.department,
            "score": row.score, "grade": row.grade, "fail": letters.count("f"), "error": letters.count("e")}


def _change(before: float | None, after: float | None) -> float | None:
    if before is None or after is None:
        return None
    return round(after - before, 1)


def _score_changes(a: dict[tuple[str, str], dict[str, Any]],
                   b: dict[tuple[str, str], dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Segment, department and family scores of both runs, side by side."""
    out: dict[str, list[dict[str, Any]]] = {}
    for scope in ("segment", "department", "family"):
        keys = sorted({k for s, k in a if s == scope} | {k for s, k in b if s == scope})
        rows = []
        for key in keys:
            before, after = a.get((scope, key), {}), b.get((scope, key), {})
            rows.append({"key": key or None, "title": after.get("title") or before.get("title"),
                         "from": before.get("score"), "to": after.get("score"),
                         "grade_from": before.get("grade"), "grade_to": after.get("grade"),
                         "change": _change(before.get("score"), after.get("score"))})
        out[scope] = rows
    return out


def _expiring(in_a: list[dict[str, Any]], in_b: list[dict[str, Any]], day: str | None,
              days: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """B's waivers and attestations that end within ``days`` of its day, and those lapsed since A."""
    try:
        today = date.fromisoformat(day) if day else None
    except ValueError:
        today = None
    if today is None:
        return [], []
    before = {(e["kind"], e["id"]): e["state"] for e in in_a}
    soon, lapsed = [], []
    for entry in in_b:
        try:
            left = (date.fromisoformat(entry["expires"]) - today).days
        except ValueError:
            continue
        item = {**entry, "days_left": left}
        if entry["state"] in ("active", "valid") and 0 <= left <= days:
            soon.append(item)
        elif entry["state"] == "expired" and before.get((entry["kind"], entry["id"])) != "expired":
            lapsed.append(item)
    soon.sort(key=lambda e: (e["days_left"], e["kind"], e["id"]))
    lapsed.sort(key=lambda e: (e["expires"], e["kind"], e["id"]))
    return soon, lapsed
