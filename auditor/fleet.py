"""Judging a fleet: contiguous slices of its targets, in worker processes, merged in target order.

Targets are independent: each is judged from its own bundles and the organisation's records
alone. So the targets (in id order) are cut into contiguous slices, each slice is judged by a
worker process into its own spool files (:class:`auditor.results.SliceBuilder`), and the
slices are joined in order: the results document is byte for byte the one a single process
writes (``--jobs 1``), apart from the run's id and times.

A few targets holding many records (a directory of 100,000 accounts and the organisation's
roster) are shared out by their checks instead (see :func:`parts`): each worker judges a
contiguous run of the (target, check) sequence, and the entry of a target judged in parts is
made from what each part counted (:func:`auditor.results.joined`), so the document is again the
one a single process writes.

Workers are forked (Linux): they inherit the loaded policy, the organisation's evidence and the
decision files instead of receiving them, and send back only their counts and spool names.
Where the system cannot fork, or the fleet is small and light, the targets are judged in the
process.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from auditor import bundles
from auditor.bundles import BundleFile, Target
from auditor.engine import Engine
from auditor.memory import paused_gc
from auditor.results import SliceBuilder, SliceOutcome, Unjudged, joined
from auditor.selection import Selection

MIN_PARALLEL_TARGETS = 64  # below this, starting workers costs more than it saves
SHARE_PER_JOB = 2  # each slice is 1/(2 x jobs) of what is left to cut (see slices)
MIN_SLICE_FILES = 100  # about 0.2 s of a worker's time: below this, a slice's start costs more than it saves
SPLIT_MIN_RECORDS = 20_000  # records read by a small fleet's checks (about 0.3 s) for them to be shared out
SPLIT_MAX_RECORDS = 1_000_000  # records of a small fleet held at once to share its checks out (about 1.3 GB)
SPLIT_MIN_PART = 50_000  # records read by the checks of one run of them (about 0.1 s)
SPLIT_SHARE_PER_JOB = 4  # finer than slices: one check may cost a tenth of the whole (see parts)


@dataclass
class Judging:
    """What every slice is judged with: made once, before the workers are forked."""

    selection: Selection
    lang: str
    as_of: Any
    org: Target | None
    stages: list[Any]  # decision stages (attestations, then waivers), applied to each result in order
    groups: dict[str, list[BundleFile]]
    folder: str  # where the spool files go
    history: bool = False  # each target's history row spooled too (see auditor.results.packed_history)
    loaded: dict[str, Target] = dataclasses.field(default_factory=dict)  # targets loaded before the fork (parts)


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def slices(groups: dict[str, list[BundleFile]], jobs: int) -> list[list[str]]:
    """Target ids cut into contiguous runs for ``jobs`` workers (ids stay in order), each run about
    1 / (SHARE_PER_JOB * jobs) of the files not yet cut, and no smaller than MIN_SLICE_FILES (or a
    small fleet's 1 / (4 * SHARE_PER_JOB * jobs)): large runs first (few spools, few starts), small
    ones last, so that the workers finish together instead of one waiting on the other's last large
    run."""
    ids = list(groups)
    if jobs <= 1 or len(ids) <= 1:
        return [ids]
    left = sum(len(files) for files in groups.values())
    least = min(MIN_SLICE_FILES, left / (4 * SHARE_PER_JOB * jobs))  # a small fleet is still shared out
    out: list[list[str]] = [[]]
    size = 0
    for target_id in ids:
        if out[-1] and size >= max(least, left / (SHARE_PER_JOB * jobs)):
            left -= size
            out.append([])
            size = 0
        out[-1].append(target_id)
        size += len(groups[target_id])
    return out


def judge_slice(judging: Judging, ids: Iterable[str], start: int = 0, stop: int | None = None,
                engine: Engine | None = None) -> SliceOutcome:
    """The results of the targets ``ids`` (in order), written to spools as they are made: of the first
    target only the checks from position ``start`` on, of the last only those before ``stop`` (a
    target judged in parts, see :func:`parts`; None: to its last check). ``engine``: one that judged
    the slices before (what it worked out for a target, its lists' columns, serves the next part of it)."""
    if engine is None:
        engine = Engine(judging.selection, as_of=judging.as_of, org=judging.org)
    builder = SliceBuilder(judging.selection, judging.lang, judging.folder, history=judging.history)
    stages = judging.stages
    checks = judging.selection.checks
    layouts: dict[int, list[tuple[int, int | Unjudged | _Validate]]] = {}
    ids = list(ids)
    with paused_gc():
        for n, target_id in enumerate(ids):
            target = _target(judging, target_id)
            low = start if n == 0 else 0
            high = stop if n == len(ids) - 1 else None
            builder.begin(target, first=low == 0, last=high is None)
            if not target.files:  # none of its files could be read: listed as unread, not judged
                continue
            plan = _plan(engine, target)
            for at, step in _steps(judging, engine, builder, target, plan, layouts):
                if at < low or (high is not None and at >= high):
                    continue
                if type(step) is int:
                    result = engine.evaluate(checks[step], target, plan[step][:2])
                    for stage in stages:
                        result = stage.apply(result)
                    builder.add(result)
                elif type(step) is _Validate:
                    step.apply(target, judging.org)
                else:
                    builder.add_unjudged(step, target)  # type: ignore[arg-type]
    return builder.outcome(stages)


def _target(judging: Judging, target_id: str) -> Target:
    """A target of the run: the organisation, one loaded before the workers were forked, or its files read now."""
    org = judging.org
    if org is not None and org.id == target_id:
        return org
    found = judging.loaded.get(target_id)
    return found if found is not None else bundles.load_target(target_id, judging.groups[target_id], lazy=True)


def _plan(engine: Engine, target: Target) -> list[tuple[bool | None, str, dict[str, str] | None]]:
    # A broken target's checks are errors whatever their applies_if says (see Engine.decided).
    return engine.plan(target) if target.problem else engine.decided(target)


def _steps(judging: Judging, engine: Engine, builder: SliceBuilder | None, target: Target,
           plan: list[tuple[bool | None, str, dict[str, str] | None]],
           layouts: dict[int, list[tuple[int, Any]]]) -> list[tuple[int, Any]]:
    """The target's :func:`_layout`, made once per kind of target (the engine keeps one plan per kind)."""
    layout = layouts.get(id(plan))
    if layout is None:
        layout = layouts[id(plan)] = _layout(judging.selection.checks, engine.plan(target), plan, judging.stages,
                                             builder, engine, target)
    return layout


@dataclass(frozen=True)
class _Validate:
    """The areas that evaluating the next checks would have checked against their schemas (those
    whose ``applies_if`` was decided for their kind of target: Engine.decided), as (organisation's?,
    area): checked at the same place, so that what a later check sees of the evidence is the same."""

    areas: tuple[tuple[bool, str], ...]

    def apply(self, target: Target, org: Target | None) -> None:
        target.validate_read(self.areas, org)


def _layout(checks: list[Any], base: list[tuple[bool | None, str, dict[str, str] | None]],
            plan: list[tuple[bool | None, str, dict[str, str] | None]], stages: list[Any],
            builder: SliceBuilder | None, engine: Engine, target: Target) -> list[tuple[int, Any]]:
    """A kind of target's checks in order: the position of each to be judged, and the runs of those
    that do not apply and that no stage looks at, as one step each (most of a fleet's results);
    ``base``: the plan by ``applies_to`` alone, ``plan`` the one followed. Each step comes with the
    position of the first check it is for (a run of checks cut out of one is never cut in two);
    without a builder, runs are None (what :func:`parts` weighs)."""
    layout: list[tuple[int, Any]] = []
    run: list[tuple[Any, dict[str, str]]] = []
    validated: list[tuple[bool, str]] = []
    begun = 0  # the first check of the run and of the areas validated

    def close_run() -> None:
        if validated:
            layout.append((begun, _Validate(tuple(dict.fromkeys(validated)))))
            validated.clear()
        if run:
            layout.append((begun, builder.unjudged(run, target) if builder is not None else None))
            run.clear()

    for n, (check, (applies, _, message)) in enumerate(zip(checks, plan, strict=True)):
        if not run and not validated:
            begun = n
        if applies is False and base[n][0] is not False:  # decided by applies_if: evaluate reads its areas
            validated.extend(engine.areas_read(check))
        if applies is False and message is not None and all(stage.passes_over(check) for stage in stages):
            run.append((check, message))
            continue
        close_run()
        layout.append((n, n))
    close_run()
    return layout


def parts(judging: Judging, jobs: int) -> list[tuple[list[str], int, int | None]] | None:
    """A small fleet's (target, check) sequence cut into contiguous runs for ``jobs`` workers, as
    (target ids, first check of the first, end of the last: see :func:`judge_slice`), each reading
    about 1 / (SPLIT_SHARE_PER_JOB * jobs) of the records not yet cut and no fewer than SPLIT_MIN_PART:
    what a check costs is not known before it is judged (a check with 100,000 findings costs ten
    times one without), so the workers take the runs as they become free, the smallest last.
    None when the checks read fewer than SPLIT_MIN_RECORDS records in all (judged in the process).

    Its targets are loaded here, before the workers are forked, and the areas its checks read checked
    against their schemas (as an eager load would have), so that no worker does that again; a fleet
    of more than SPLIT_MAX_RECORDS records is not held at once, and None."""
    engine = Engine(judging.selection, as_of=judging.as_of, org=judging.org)
    layouts: dict[int, list[tuple[int, Any]]] = {}
    weighed: list[tuple[int, int, int]] = []  # (target's place, check's position, records it reads)
    ids = list(judging.groups)
    held = 0  # records of the targets loaded
    for place, target_id in enumerate(ids):
        target = judging.loaded[target_id] = _target(judging, target_id)
        if not target.files:
            continue
        held += sum(_records(target, area) for area in target.facts)
        if held > SPLIT_MAX_RECORDS:  # too many to hold at once: judged here, a target at a time
            judging.loaded.clear()
            return None
        for at, step in _steps(judging, engine, None, target, _plan(engine, target), layouts):
            if type(step) is _Validate:
                target.validate_read(step.areas, judging.org)
            elif type(step) is int:
                check = judging.selection.checks[step]
                target.validate_read(engine.areas_checked(check), judging.org)
                weighed.append((place, at, 1 + sum(_records(judging.org if in_org else target, area)
                                                   for in_org, area in engine.areas_read(check))))
    total = sum(w for _, _, w in weighed)
    if total < SPLIT_MIN_RECORDS or len(weighed) < 2:
        return None
    cuts: list[tuple[int, int]] = []  # where each run after the first begins
    left, size = total, 0
    for place, at, weight in weighed:  # runs that get smaller towards the end, as slices cuts them
        if size and size >= max(SPLIT_MIN_PART, left / (SPLIT_SHARE_PER_JOB * jobs)):
            cuts.append((place, at))
            left -= size
            size = 0
        size += weight
    bounds = [(0, 0), *cuts, (len(ids), 0)]
    out = []
    for (first, start), (last, stop) in zip(bounds, bounds[1:], strict=False):
        if stop == 0:  # the run ends where a target begins
            out.append((ids[first:last], start, None))
        else:
            out.append((ids[first:last + 1], start, stop))
    return out


def _records(owner: Target | None, area: str) -> int:
    """How many records a fact area holds (1 for anything but a list or mapping)."""
    value = owner.facts.get(area) if owner is not None else None
    return len(value) if isinstance(value, list | dict) else 1


_JUDGING: Judging | None = None  # the forked workers' copy (see judge)
_ENGINE: list[Engine] = []  # a worker's engine for the runs of checks it judges (see judge)


def _judge_in_worker(work: tuple[list[str], int, int | None]) -> SliceOutcome:
    if _JUDGING is None:
        raise RuntimeError("a worker started without the run's judging set up")
    # A worker judges several slices: each starts from the stages as forked, so that what it sends
    # back counts its own slice alone.
    # Runs of checks keep one engine per worker, so that the next run of a target reuses what the last
    # worked out of it (its lists' columns); slices of a fleet, each its own (memory as of one slice).
    if _JUDGING.loaded and not _ENGINE:
        _ENGINE.append(Engine(_JUDGING.selection, as_of=_JUDGING.as_of, org=_JUDGING.org))
    return judge_slice(dataclasses.replace(_JUDGING, stages=copy.deepcopy(_JUDGING.stages)), *work,
                       engine=_ENGINE[0] if _ENGINE else None)


def judge(judging: Judging, jobs: int, meanwhile: Callable[[], object] | None = None) -> list[SliceOutcome]:
    """Every target's results, in slices in target order; ``jobs`` worker processes at most.

    The decision stages' counters (waivers used, attestations used) of every slice are added to
    the stages of ``judging``, as if one process had applied them all. ``meanwhile`` is called in
    this process while the workers judge, once they are started (what the run needs next, made
    ready in time that would be spent waiting); not called when the targets are judged here.
    """
    global _JUDGING
    work: list[tuple[list[str], int, int | None]] | None = None
    if jobs > 1 and sys.platform.startswith("linux"):
        if len(judging.groups) >= MIN_PARALLEL_TARGETS:
            work = [(ids, 0, None) for ids in slices(judging.groups, jobs)]
        else:
            work = parts(judging, jobs)
    if not work:
        try:
            return [judge_slice(judging, judging.groups)]  # the stages count in this process already
        finally:
            judging.loaded.clear()
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    _JUDGING = judging
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, len(work)),
                                 mp_context=multiprocessing.get_context("fork")) as pool:
            judged = pool.map(_judge_in_worker, work)  # every slice handed out: the workers are forked
            if meanwhile is not None:
                meanwhile()
            outcomes = list(judged)
    finally:
        _JUDGING = None
        judging.loaded.clear()
    for outcome in outcomes:
        for stage, counted in zip(judging.stages, outcome.stages, strict=True):
            stage.absorb(counted)
    return _with_joined(outcomes, judging)


def _with_joined(outcomes: list[SliceOutcome], judging: Judging) -> list[SliceOutcome]:
    """The slices, and before the slice that judged the last checks of a target judged in parts, that
    target's entry made from its parts (see :func:`auditor.results.joined`): after the entries of the
    targets before it, and before those after it."""
    pieces: dict[str, list[Any]] = {}
    out: list[SliceOutcome] = []
    for outcome in outcomes:
        for piece in outcome.pieces:
            pieces.setdefault(piece.id, []).append(piece)
            if piece.last:
                out.append(joined(pieces.pop(piece.id), judging.folder, judging.history))
        out.append(outcome)
    return out
