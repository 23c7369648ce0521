"""Judging a fleet: contiguous slices of its targets, in worker processes, merged in target order.

Targets are independent: each is judged from its own bundles and the organisation's records
alone. So the targets (in id order) are cut into contiguous slices, each slice is judged by a
worker process into its own spool files (:class:`auditor.results.SliceBuilder`), and the
slices are joined in order: the results document is byte for byte the one a single process
writes (``--jobs 1``), apart from the run's id and times.

Workers are forked (Linux): they inherit the loaded policy, the organisation's evidence and the
decision files instead of receiving them, and send back only their counts and spool names.
Where the system cannot fork, or the fleet is small, the targets are judged in the process.
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
from auditor.results import SliceBuilder, SliceOutcome, Unjudged
from auditor.selection import Selection

MIN_PARALLEL_TARGETS = 64  # below this, starting workers costs more than it saves
SHARE_PER_JOB = 2  # each slice is 1/(2 x jobs) of what is left to cut (see slices)
MIN_SLICE_FILES = 100  # about 0.2 s of a worker's time: below this, a slice's start costs more than it saves


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


def judge_slice(judging: Judging, ids: Iterable[str]) -> SliceOutcome:
    """The results of the targets ``ids`` (in order), written to spools as they are made."""
    engine = Engine(judging.selection, as_of=judging.as_of, org=judging.org)
    builder = SliceBuilder(judging.selection, judging.lang, judging.folder, history=judging.history)
    org = judging.org
    stages = judging.stages
    checks = judging.selection.checks
    layouts: dict[int, list[int | Unjudged | _Validate]] = {}
    with paused_gc():
        for target_id in ids:
            files = judging.groups[target_id]
            target = org if org is not None and org.id == target_id else bundles.load_target(target_id, files,
                                                                                          lazy=True)
            builder.begin(target)
            if not target.files:  # none of its files could be read: listed as unread, not judged
                continue
            # A broken target's checks are errors whatever their applies_if says (see Engine.decided).
            plan = engine.plan(target) if target.problem else engine.decided(target)
            layout = layouts.get(id(plan))  # the engine keeps one plan per kind of target for the run
            if layout is None:
                layout = layouts[id(plan)] = _layout(checks, engine.plan(target), plan, stages, builder, engine,
                                                     target)
            for step in layout:
                if type(step) is int:
                    result = engine.evaluate(checks[step], target, plan[step][:2])
                    for stage in stages:
                        result = stage.apply(result)
                    builder.add(result)
                elif type(step) is _Validate:
                    step.apply(target, org)
                else:
                    builder.add_unjudged(step, target)  # type: ignore[arg-type]
    return builder.outcome(stages)


@dataclass(frozen=True)
class _Validate:
    """The areas that evaluating the next checks would have checked against their schemas (those
    whose ``applies_if`` was decided for their kind of target: Engine.decided), as (organisation's?,
    area): checked at the same place, so that what a later check sees of the evidence is the same."""

    areas: tuple[tuple[bool, str], ...]

    def apply(self, target: Target, org: Target | None) -> None:
        for in_org, area in self.areas:
            owner = org if in_org else target
            if owner is not None and area in owner.pending:
                owner.validate(area)


def _layout(checks: list[Any], base: list[tuple[bool | None, str, dict[str, str] | None]],
            plan: list[tuple[bool | None, str, dict[str, str] | None]], stages: list[Any],
            builder: SliceBuilder, engine: Engine, target: Target) -> list[int | Unjudged | _Validate]:
    """A kind of target's checks in order: the position of each to be judged, and the runs of those
    that do not apply and that no stage looks at, as one step each (most of a fleet's results);
    ``base``: the plan by ``applies_to`` alone, ``plan`` the one followed."""
    layout: list[int | Unjudged | _Validate] = []
    run: list[tuple[Any, dict[str, str]]] = []
    validated: list[tuple[bool, str]] = []

    def close_run() -> None:
        if validated:
            layout.append(_Validate(tuple(dict.fromkeys(validated))))
            validated.clear()
        if run:
            layout.append(builder.unjudged(run, target))
            run.clear()

    for n, (check, (applies, _, message)) in enumerate(zip(checks, plan, strict=True)):
        if applies is False and base[n][0] is not False:  # decided by applies_if: evaluate reads its areas
            validated.extend(engine.areas_read(check))
        if applies is False and message is not None and all(stage.passes_over(check) for stage in stages):
            run.append((check, message))
            continue
        close_run()
        layout.append(n)
    close_run()
    return layout


_JUDGING: Judging | None = None  # the forked workers' copy (see judge)


def _judge_in_worker(ids: list[str]) -> SliceOutcome:
    if _JUDGING is None:
        raise RuntimeError("a worker started without the run's judging set up")
    # A worker judges several slices: each starts from the stages as forked, so that what it sends
    # back counts its own slice alone.
    return judge_slice(dataclasses.replace(_JUDGING, stages=copy.deepcopy(_JUDGING.stages)), ids)


def judge(judging: Judging, jobs: int, meanwhile: Callable[[], object] | None = None) -> list[SliceOutcome]:
    """Every target's results, in slices in target order; ``jobs`` worker processes at most.

    The decision stages' counters (waivers used, attestations used) of every slice are added to
    the stages of ``judging``, as if one process had applied them all. ``meanwhile`` is called in
    this process while the workers judge, once they are started (what the run needs next, made
    ready in time that would be spent waiting); not called when the targets are judged here.
    """
    global _JUDGING
    parallel = jobs > 1 and len(judging.groups) >= MIN_PARALLEL_TARGETS and sys.platform.startswith("linux")
    if not parallel:
        return [judge_slice(judging, judging.groups)]  # the stages count in this process already
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    cut = slices(judging.groups, jobs)
    _JUDGING = judging
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, len(cut)),
                                 mp_context=multiprocessing.get_context("fork")) as pool:
            judged = pool.map(_judge_in_worker, cut)  # every slice handed out: the workers are forked
            if meanwhile is not None:
                meanwhile()
            outcomes = list(judged)
    finally:
        _JUDGING = None
    for outcome in outcomes:
        for stage, counted in zip(judging.stages, outcome.stages, strict=True):
            stage.absorb(counted)
    return outcomes
