"""Reading evidence bundles: discovery, validation, and merging by target.

The engine streams: a first pass reads each file's header (format, target,
collected_at) to group files by target; the second pass re-reads one target's files
at a time, so memory stays flat however large the fleet.

A single file named alone that cannot be read or attributed to a target (not JSON, wrong
``format``, invalid ``target``) is an :class:`InputError` (exit 2). In a fleet (a directory,
or several paths) such a file, an unreadable subdirectory or a broken link is listed as
:class:`Unread` and the rest is audited: the results name it and the gate fails ("evidence
incomplete"), as a fleet with a hole in it is not proven. A file that names its target but
whose body is broken makes that target's results ``error``, and the rest is audited.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from auditor import jsonio
from auditor.clock import evaluation_date_problem, parse_date, parse_instant
from auditor.errors import InputError
from auditor.limits import check_size
from auditor.memory import paused_gc
from auditor.schemas import bundle as B
from auditor.schemas import with_defaults
from auditor.schemas.compiled import Checker, compile_rules, compile_schema
from auditor.schemas.facts import FACT_SCHEMAS
from auditor.yamldoc import format_path


@dataclass(slots=True)
class BundleFile:
    """One file of the run, as indexed: a fleet's index holds 100,000 of these, so the target's kind,
    segment, department and labels (``header``) are one dict shared by all the files that agree on them."""

    path: str
    sha256: str  # "" until the file is read whole (a fleet's files are indexed from their first bytes)
    target_id: str
    header: dict[str, Any]
    collected_at: str
    document: dict[str, Any] | None = None  # the parsed bundle, when kept in memory (see index)
    trusted: bool = False  # made by this program's importers in this process: its body is not checked again
    imported: dict[str, Any] | None = None  # {kind, files}: the exports audit --import read, which are the evidence

    @property
    def target(self) -> dict[str, Any]:
        """The bundle's ``target`` as written (with its defaults)."""
        return {"id": self.target_id, **self.header}


_SHARED_HEADERS: dict[tuple[Any, ...], dict[str, Any]] = {}
MAX_SHARED_HEADERS = 100_000


def _shared(target: dict[str, Any]) -> dict[str, Any]:
    """The target's header without its id, one dict for all the files that agree on it."""
    header = {k: v for k, v in target.items() if k != "id"}
    try:
        key = tuple((k, tuple(sorted(v.items())) if isinstance(v, dict) else v) for k, v in header.items())
        hash(key)
    except TypeError:
        return header
    found = _SHARED_HEADERS.get(key)
    if found is None:
        if len(_SHARED_HEADERS) >= MAX_SHARED_HEADERS:
            return header
        found = _SHARED_HEADERS[key] = header
    return found


@dataclass
class Target:
    """One target's evidence, merged from all of its bundles, area by area."""

    id: str
    kind: str
    segment: str | None
    department: str | None
    labels: dict[str, str]
    files: list[BundleFile]
    facts: dict[str, Any] = field(default_factory=dict)
    area_file: dict[str, str] = field(default_factory=dict)
    area_date: dict[str, date] = field(default_factory=dict)
    area_problems: dict[str, str] = field(default_factory=dict)
    area_problem_at: dict[str, tuple[str, str]] = field(default_factory=dict)  # area → (file(s), field)
    collector_errors: list[dict[str, str]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    problem: str | None = None  # the whole target cannot be judged
    problem_at: tuple[str | None, str | None] = (None, None)  # (file(s), field) of the problem
    # Areas merged but not yet checked against their schema (a lazily loaded target): checked when a
    # check first reads them (:meth:`validate`), so that an area no selected check reads costs nothing.
    pending: dict[str, str] = field(default_factory=dict)  # area -> the file it came from
    unread: list[Unread] = field(default_factory=list)  # its files found unreadable when loaded
    root: dict[str, Any] | None = None  # the facts as the engine's conditions see them (see Engine), kept

    def validate(self, area: str) -> None:
        """Check a pending area against its schema; an invalid one becomes an area problem, as an
        eager load would have made it (its readers are ``error``, the rest of the target is judged)."""
        file = self.pending.pop(area, None)
        if file is None or area in self.area_problems:
            return
        checker = _checkers().areas.get(area)
        if checker is None:
            return
        bad: list[tuple[tuple[Any, ...], str]] = []
        checker(self.facts[area], (area,), bad)
        if bad:
            keys, message = bad[0]
            self.area_problems[area] = f"{file}: facts.{format_path(keys)}: {message}"
            self.area_problem_at[area] = (file, f"facts.{format_path(keys)}")
            del self.facts[area]
            if self.root is not None:
                self.root.pop(area, None)

    def validate_read(self, areas: Iterable[tuple[bool, str]], org: Target | None) -> None:
        """:meth:`validate` each pending area of ``areas`` (``(in the organisation's evidence?, area)``),
        this target's or the organisation's: what judging a check that reads them checks first."""
        for in_org, area in areas:
            owner = org if in_org else self
            if owner is not None and area in owner.pending:
                owner.validate(area)

    @property
    def collected_on(self) -> date:
        """The newest collection date among the target's bundles (for checks that read no dated area)."""
        return max(parse_date(b.collected_at) for b in self.files)

    @property
    def os_family(self) -> str | None:
        self.validate("os")
        os_facts = self.facts.get("os")
        return os_facts.get("family") if isinstance(os_facts, dict) else None


@dataclass(frozen=True)
class Unread:
    """A path of the fleet that could not be read or attributed to a target, and why."""

    path: str
    problem: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "problem": self.problem}


def _is_bundle_name(name: str) -> bool:
    return name.lower().endswith(".json")  # PC-101.JSON as Windows tools name it is one too


def _walk(root: Path, found: list[Path], unread: list[Unread]) -> None:
    """Every bundle file under ``root``, following links to directories once each (a link loop is
    not walked twice); what cannot be listed or is not a regular file is reported, not skipped."""
    seen: set[tuple[int, int]] = set()
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            info = folder.stat()
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            unread.append(Unread(str(folder), f"cannot read this directory: {exc.strerror or exc}"))
            continue
        subfolders = []
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()  # follows a link
            except OSError as exc:
                unread.append(Unread(str(path), f"cannot read: {exc.strerror or exc}"))
                continue
            if is_dir:
                subfolders.append(path)
                continue
            try:
                mode = entry.stat().st_mode
            except FileNotFoundError:  # a link to nothing: what it stood for (a bundle, a folder) is missing
                unread.append(Unread(str(path), f"a broken symbolic link (to {os.readlink(path)!r})"
                                     if entry.is_symlink() else "vanished while the directory was read"))
                continue
            except OSError as exc:
                unread.append(Unread(str(path), f"cannot read: {exc.strerror or exc}"))
                continue
            if not _is_bundle_name(entry.name):
                continue
            if stat.S_ISREG(mode):
                found.append(path)
            else:
                unread.append(Unread(str(path), "not a regular file (a device, pipe or socket): not read"))
        pending.extend(reversed(subfolders))


def discover(paths: Iterable[str | Path], unread: list[Unread] | None = None) -> list[Path]:
    """Bundle files named, or found recursively (``*.json``, any case) in directories named.

    A named path that does not exist, or is not a regular file or directory, is an
    InputError. What cannot be read inside a directory is added to ``unread`` (an InputError
    for the first of them when ``unread`` is None).
    """
    found: list[Path] = []
    problems: list[Unread] = [] if unread is None else unread
    for raw in paths:
        path = Path(raw)
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise InputError(str(path), "a broken symbolic link" if path.is_symlink() else
                             "no such file or directory") from None
        except OSError as exc:
            raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None
        if stat.S_ISDIR(mode):
            before = len(problems)
            _walk(path, found, problems)
            if unread is None and len(problems) > before:
                first = problems[before]
                raise InputError(first.path, first.problem)
        elif stat.S_ISREG(mode):
            found.append(path)
        else:
            raise InputError(str(path), "not a regular file or directory (a device, pipe or socket)")
    return found


def _read(path: Path) -> tuple[dict[str, Any], bytes, str]:
    """The parsed bundle, its bytes and their SHA-256."""
    try:
        with open(path, "rb", buffering=0) as stream:  # one open and one fstat: a fleet reads 100,000 of them
            check_size(path, "bundle", os.fstat(stream.fileno()).st_size)
            raw = stream.readall()
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None
    return _parse(path, raw), raw, hashlib.sha256(raw).hexdigest()


def _parse(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        with paused_gc():  # a large bundle is hundreds of thousands of new, acyclic containers
            data = jsonio.decode(raw)
    except UnicodeDecodeError as exc:
        raise InputError(str(path), "not UTF-8 text: an evidence bundle is UTF-8 JSON",
                         line=raw[: exc.start].count(b"\n") + 1) from None
    except json.JSONDecodeError as exc:
        raise InputError(str(path), f"not valid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
    except jsonio.Refused as exc:
        raise InputError(str(path), exc.problem, line=exc.line) from None
    if not isinstance(data, dict):
        raise InputError(str(path), f"expected a JSON object ({B.FORMAT}), got {type(data).__name__}")
    return data


def _header(path: Path, data: dict[str, Any], sha256: str) -> BundleFile:
    if data.get("format") != B.FORMAT:
        found = data.get("format")
        raise InputError(str(path), f"expected {B.FORMAT!r}, found {found!r}" if found is not None
                         else f"missing (expected {B.FORMAT!r})", where="format")
    header_doc = {k: data[k] for k in B.HEADER if k in data}
    found = _checkers().header(header_doc)
    if found:
        keys, message = sorted(found, key=lambda p: format_path(p[0]))[0]
        raise InputError(str(path), message, where=format_path(keys) or None)
    header = with_defaults(header_doc, B.HEADER)
    try:
        problem = evaluation_date_problem(parse_instant(header["collected_at"]).date())
    except ValueError as exc:
        problem = str(exc)
    if problem:
        raise InputError(str(path), problem, where="collected_at")
    return BundleFile(path=str(path), sha256=sha256, target_id=header["target"]["id"],
                      header=_shared(header["target"]), collected_at=header["collected_at"])


KEEP_PARSED_FILES = 16
HEADER_BYTES = 8192  # a bundle's header (format, target, collected_at) is read from its first bytes
_DECODER = json.JSONDecoder(object_pairs_hook=lambda pairs: _unique(pairs))


class _Unfound(Exception):
    """The header is not wholly in a file's first bytes (a key order of another writer, a truncation)."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise _Unfound  # a key given twice: the whole file's parse says where
    return found


def prefix_header(prefix: bytes) -> dict[str, Any] | None:
    """The header keys of a bundle, from its first bytes, when they come before every other key (as
    this program's collectors and importers write them); None otherwise, and the file is read whole.

    Each value is parsed by the standard library's decoder; nothing after the header is looked at.
    That the rest of the file is a valid bundle, with the same header, is checked when it is loaded.
    """
    body = prefix[3:] if prefix.startswith(b"\xef\xbb\xbf") else prefix
    text = body.decode("utf-8", "ignore")[: len(body)]  # a character cut at the end is dropped
    found: dict[str, Any] = {}
    ws = json.decoder.WHITESPACE.match  # type: ignore[attr-defined]
    try:
        at = ws(text, 0).end()
        if text[at:at + 1] != "{":
            return None
        at += 1
        while len(found) < len(B.HEADER):
            at = ws(text, at).end()
            key, at = _DECODER.raw_decode(text, at)
            at = ws(text, at).end()
            if not isinstance(key, str) or key not in B.HEADER or key in found or text[at:at + 1] != ":":
                return None
            found[key], at = _DECODER.raw_decode(text, ws(text, at + 1).end())
            at = ws(text, at).end()
            if text[at:at + 1] != ",":
                return None
            at += 1
    except (ValueError, _Unfound, RecursionError):
        return None
    return found


def _index_one(path: Path, keep: bool) -> BundleFile:
    """A file's header: from its first bytes when they hold it (the file is read whole, once, when its
    target is loaded); else from the whole file, kept parsed when ``keep``."""
    if not keep:
        check_size(path, "bundle")
        try:
            with open(path, "rb") as stream:
                data = prefix_header(stream.read(HEADER_BYTES))
        except OSError as exc:
            raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None
        if data is not None:
            return _header(path, data, "")
    data, _, sha256 = _read(path)
    bundle = _header(path, data, sha256)
    if keep:
        bundle.document = data
    return bundle


PARALLEL_INDEX_FILES = 2000  # below this, forking a worker costs more than indexing the files takes


def index(paths: Iterable[str | Path], keep_files: int = KEEP_PARSED_FILES,
          unread: list[Unread] | None = None, jobs: int = 1) -> dict[str, list[BundleFile]]:
    """First pass: every file's header, grouped by target id (ids sorted).

    A run over a few files (large exports: a directory of 100,000 accounts) reads and keeps them
    parsed. A fleet's files are indexed from their first bytes and read whole once, one target at a
    time (:func:`load_target`), so that memory stays flat however many endpoints there are; on
    ``jobs`` cores where the system can fork (see :func:`_index_shared_out`).

    With ``unread``, a file that cannot be read or attributed to a target is added to it and
    the rest is indexed (a fleet); without, it is an InputError (a single file named alone).
    """
    files = discover(paths, unread)
    groups: dict[str, list[BundleFile]] = {}
    if unread is not None and len(files) > keep_files:
        for item in _index_shared_out(files, jobs):
            if isinstance(item, Unread):
                unread.append(item)
            else:
                groups.setdefault(item.target_id, []).append(item)
        return dict(sorted(groups.items()))
    for path in files:
        try:
            bundle = _index_one(path, True)
        except InputError as exc:
            if unread is None:
                raise
            unread.append(Unread(str(path), exc.problem_text()))
            continue
        groups.setdefault(bundle.target_id, []).append(bundle)
    return dict(sorted(groups.items()))


def _index_part(files: list[Path]) -> list[BundleFile | Unread]:
    """Each file's header, or why it is unread, in order (a fleet's files: see :func:`_index_one`)."""
    out: list[BundleFile | Unread] = []
    for path in files:
        try:
            out.append(_index_one(path, False))
        except InputError as exc:
            out.append(Unread(str(path), exc.problem_text()))
    return out


def _index_shared_out(files: list[Path], jobs: int) -> list[BundleFile | Unread]:
    """:func:`_index_part` of every file, the files cut into ``jobs`` runs: the last indexed here, the
    others in forked workers at the same time (Linux; a fleet of at least PARALLEL_INDEX_FILES)."""
    if jobs <= 1 or len(files) < PARALLEL_INDEX_FILES or not sys.platform.startswith("linux"):
        return _index_part(files)
    share = -(-len(files) // jobs)
    import marshal
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    runs = [files[at:at + share] for at in range(0, len(files), share)]
    with ProcessPoolExecutor(max_workers=len(runs) - 1, mp_context=multiprocessing.get_context("fork")) as pool:
        elsewhere = [pool.submit(_index_packed, run) for run in runs[:-1]]
        here = _index_part(runs[-1])
        out: list[BundleFile | Unread] = []
        with paused_gc():
            for future in elsewhere:
                out.extend(_unpacked(item) for item in marshal.loads(future.result()))  # noqa: S302 - our worker's
    out.extend(here)
    return out


def _index_packed(files: list[Path]) -> bytes:
    """:func:`_index_part` in a worker, marshalled for the way back (plain data: faster than pickle)."""
    import marshal

    return marshal.dumps([(i.path, i.problem) if isinstance(i, Unread)
                          else (i.path, i.sha256, i.target_id, i.header, i.collected_at) for i in _index_part(files)])


def _unpacked(item: tuple[Any, ...]) -> BundleFile | Unread:
    if len(item) == 2:
        return Unread(*item)
    path, sha256, target_id, header, collected_at = item
    return BundleFile(path=path, sha256=sha256, target_id=target_id, header=_shared(header), collected_at=collected_at)


def _merge_header(target: Target, bundle: BundleFile) -> None:
    for key in ("kind", "segment", "department"):
        mine, theirs = getattr(target, key), bundle.header[key]
        if mine is None:
            setattr(target, key, theirs)
        elif theirs is not None and theirs != mine and target.problem is None:
            target.problem = (f"bundles disagree on target.{key}: {target.files[0].path} says {mine!r}, "
                              f"{bundle.path} says {theirs!r}")
            target.problem_at = (f"{target.files[0].path}, {bundle.path}", f"target.{key}")
    for k, v in bundle.header["labels"].items():
        target.labels.setdefault(k, v)


@dataclass(frozen=True)
class _Checkers:
    header: Callable[[Any], list[tuple[tuple[Any, ...], str]]]
    body: Callable[[Any], list[tuple[tuple[Any, ...], str]]]
    areas: dict[str, Checker]


@functools.cache
def _checkers() -> _Checkers:
    """The bundle schemas compiled, once, when the first bundle is read (not at every start-up):
    Cerberus itself is far too slow for fleets (see auditor/schemas/compiled.py)."""
    return _Checkers(header=compile_schema(B.HEADER), body=compile_schema(B.BODY),
                     areas={area: compile_rules(rules) for area, rules in FACT_SCHEMAS.items()})


def _merge_body(target: Target, bundle: BundleFile, data: dict[str, Any], lazy: bool = False) -> None:
    body = {k: data[k] for k in B.BODY if k in data}
    found = [] if bundle.trusted else _checkers().body(body)
    if found:
        keys, message = found[0]
        if target.problem is None:
            target.problem = f"{bundle.path}: {format_path(keys)}: {message}"
            target.problem_at = (bundle.path, format_path(keys))
        return
    day = parse_date(bundle.collected_at)
    for entry in body["errors"]:
        target.collector_errors.append({**entry, "file": bundle.path})
    for entry in body["sources"]:
        target.sources.append({**entry, "file": bundle.path})
    areas = _checkers().areas
    for area, value in body["facts"].items():
        checker = None if bundle.trusted else areas.get(area)
        if checker is not None and lazy:
            checker = None
            if area not in target.facts:
                target.pending[area] = bundle.path
        if checker is not None:
            bad: list[tuple[tuple[Any, ...], str]] = []
            checker(value, (area,), bad)
            if bad:
                keys, message = bad[0]
                target.area_problems[area] = f"{bundle.path}: facts.{format_path(keys)}: {message}"
                target.area_problem_at[area] = (bundle.path, f"facts.{format_path(keys)}")
                continue
        if area in target.facts and target.facts[area] != value:
            target.area_problem_at[area] = (f"{target.area_file[area]}, {bundle.path}", f"facts.{area}")
            target.area_problems[area] = (f"{target.area_file[area]} and {bundle.path} give different "
                                          f"values for facts.{area}")
            continue
        target.facts[area] = value
        target.area_file[area] = bundle.path
        target.area_date[area] = day


def load_target(target_id: str, bundles: list[BundleFile], lazy: bool = False) -> Target:
    """Second pass for one target: read its files (those not kept parsed by :func:`index`), validate
    bodies and merge facts.

    ``lazy``: fact areas are checked against their schemas when first read (:meth:`Target.validate`).
    A file indexed from its first bytes that proves unreadable as a whole (not JSON, a key given
    twice, another header than its first bytes said) is left out of the target and listed in its
    ``unread``, as :func:`index` would have listed it; a target with no file left has no ``files``.
    """
    first = bundles[0].header
    target = Target(id=target_id, kind=None, segment=None, department=None, labels={}, files=[])  # type: ignore[arg-type]
    for bundle in bundles:
        if bundle.document is not None:
            data = bundle.document
        else:
            path = Path(bundle.path)
            try:
                data, _, sha256 = _read(path)
                if bundle.sha256 and sha256 != bundle.sha256:
                    raise InputError(bundle.path, "changed while the audit was reading it")
                if not bundle.sha256:
                    again = _header(path, data, sha256)
                    if (again.target_id, again.header, again.collected_at) != \
                            (bundle.target_id, bundle.header, bundle.collected_at):
                        raise InputError(bundle.path, "changed while the audit was reading it (its header differs "
                                         "from the one indexed)")
                    bundle.sha256 = sha256
            except InputError as exc:
                target.unread.append(Unread(bundle.path, exc.problem_text()))
                continue
        target.files.append(bundle)
        _merge_header(target, bundle)
        _merge_body(target, bundle, data, lazy)
    if target.kind is None:  # no file left: the kind the index read
        target.kind = first["kind"]
    return target


def organization(groups: dict[str, list[BundleFile]]) -> Target | None:
    """The organisation's evidence: every ``organization`` bundle of the run, merged area by area.

    Checks on any target read it as ``org.<area>`` (a directory's accounts against the HR
    roster, say). None when the run has no organisation bundle.
    """
    ids = [i for i, bundles in groups.items() if bundles[0].header["kind"] == "organization"]
    if len(ids) == 1:  # the usual case: the organisation is one target, loaded once for both uses
        return load_target(ids[0], groups[ids[0]])
    files = [b for i in ids for b in groups[i]]
    return load_target("(organization)", files) if files else None


def from_document(name: str, data: dict[str, Any], sha256: str | None = None,
                  trusted: bool = False) -> dict[str, list[BundleFile]]:
    """Index a bundle made in this process (collected from this host, or imported by ``audit --import``).

    ``sha256`` identifies what it was made from (the exports read); without it, the bundle's own
    compact JSON (keys in order) is hashed, as it is never a file.

    ``trusted``: the body was built by an importer, which checked every cell of the export as it
    read it, and is not checked against the bundle schemas again (that costs a tenth of an
    audit of a 100,000-account directory). The schemas guard what crosses a file: a bundle may
    have been edited, cut short or written by another version. That every importer's output
    meets them is the test suite's to show (tests/conftest.py checks every bundle a test builds). The
    header is checked all the same.
    """
    if not isinstance(data, dict):
        raise InputError(name, f"expected a JSON object ({B.FORMAT}), got {type(data).__name__}")
    bundle = _header(Path(name), data, sha256 or hashlib.sha256(jsonio.compact(data)).hexdigest())
    bundle.document = data
    bundle.trusted = trusted
    return {bundle.target_id: [bundle]}


def merged(*indexes: dict[str, list[BundleFile]]) -> dict[str, list[BundleFile]]:
    """Several indexes as one, the files of one target together (ids sorted, as :func:`index` gives them)."""
    groups: dict[str, list[BundleFile]] = {}
    for found in indexes:
        for target_id, files in found.items():
            groups.setdefault(target_id, []).extend(files)
    return dict(sorted(groups.items()))


def stream(groups: dict[str, list[BundleFile]], loaded: Target | None = None) -> Iterator[Target]:
    """Targets in id order, each fully merged, loading one target's files at a time
    (``loaded``, a target already in memory such as the organisation, is not read again)."""
    for target_id, bundles in groups.items():
        yield loaded if loaded is not None and loaded.id == target_id else load_target(target_id, bundles)
