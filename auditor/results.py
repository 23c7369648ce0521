"""Assembling the `auditor-results/1` document from the engine's results.

This document is the single input of every report format: reports render it and
never re-evaluate. Order is fixed (targets by id, then checks by id), so the same
inputs give the same bytes apart from the run's id and times, however many processes
judged the fleet (see :mod:`auditor.fleet`).

A fleet's results are written out as they are made (each slice of targets to its own spool
files) and joined into the document at the end, after the header and the totals known only
then; what is kept in memory is counts per (segment, department, check, status), rolled up
at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, BinaryIO

import orjson

from auditor import __version__, jsonio
from auditor.bundles import Unread
from auditor.clock import now_iso
from auditor.conditions import shown
from auditor.engine import Result
from auditor.history.pack import CODES, findings_digest, findings_digest_chunked
from auditor.scoring import Tally
from auditor.selection import Selection

FORMAT = "auditor-results/1"


def _tallied(t: Tally) -> dict[str, Any]:
    return {"score": t.score, "grade": t.grade, "coverage": t.coverage, "summary": dict(t.counts)}


# Where each spooled list sits in the document as jsonio.encode lays it out: its items' column.
RESULTS_INDENT = TARGETS_INDENT = 4  # "results": [...] and "targets": [...], keys of the document
EVIDENCE_INDENT = GATE_INDENT = 6  # "evidence": [...] of "run", "failed_critical" and "waived_critical" of "gate"


@dataclass(frozen=True)
class SpoolPart:
    """One spool file: ``count`` items, each as :func:`auditor.jsonio.encode_item` wrote it, joined by ``,\\n``."""

    path: str
    count: int
    indent: int


class Spool:
    """One list of the results document (results, targets, evidence) of one slice of a fleet, written
    item by item to a temporary file as its items are made, in the bytes the whole document has.

    Items are gathered and written SPOOL_WRITE_BYTES at a time: a fleet's slice has hundreds of
    thousands of entries, each a few hundred bytes (a write call per entry was 5% of a worker's profile)."""

    def __init__(self, folder: str, indent: int) -> None:
        handle, self.path = tempfile.mkstemp(dir=folder, prefix="results-", suffix=".spool")
        self.stream = os.fdopen(handle, "wb")
        self.count = 0
        self.indent = indent
        self._held: list[bytes] = []
        self._size = 0

    def add(self, item: dict[str, Any]) -> None:
        self.add_encoded(jsonio.encode_item(item, self.indent))

    def add_encoded(self, item: bytes, count: int = 1) -> None:
        """``count`` items already encoded as :func:`auditor.jsonio.encode_item` would at this spool's
        indent (and joined by ``,\\n``)."""
        if self.count:
            self._held.append(b",\n")
        self._held.append(item)
        self.count += count
        self._size += len(item)
        if self._size >= SPOOL_WRITE_BYTES:
            self._write()

    def add_pieces(self, pieces: Iterator[bytes]) -> None:
        """One item given in pieces (already encoded, in order), written as they come."""
        if self.count:
            self._held.append(b",\n")
        for piece in pieces:
            self._held.append(piece)
            self._size += len(piece)
            if self._size >= SPOOL_WRITE_BYTES:
                self._write()
        self.count += 1

    def _write(self) -> None:
        self.stream.write(b"".join(self._held))
        self._held.clear()
        self._size = 0

    def close(self) -> SpoolPart:
        self._write()
        self.stream.close()
        return SpoolPart(self.path, self.count, self.indent)


SPOOL_WRITE_BYTES = 256 << 10


class SpooledList(Sequence[dict[str, Any]]):
    """A list of the document held in spool files, not in memory: iterated (as often as a report
    needs) by reading the items back one at a time, and copied into the JSON document as bytes."""

    def __init__(self, parts: list[SpoolPart]) -> None:
        self.parts = [p for p in parts if p.count]
        self._count = sum(p.count for p in self.parts)
        self.last_use = False  # see write_to

    def written_last(self) -> None:
        """Say that the next :meth:`write_to` is the list's last use: each spool file is deleted once it
        is copied, while the next is copied (deleting a fleet's gigabyte of results takes as long as
        copying it, and both are the kernel's work)."""
        self.last_use = True

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: Any) -> Any:  # a report that needs indexing holds a list of its own
        return list(self)[index]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for part in self.parts:
            # Items are joined by ",\n"; each ends with a line closing an object at the items' column.
            # A string cannot hold a raw newline, so that line is found only where an item ends.
            end = b"\n" + b" " * part.indent + b"}"
            cut = end + b",\n"
            with open(part.path, "rb") as stream:
                rest = b""
                while chunk := stream.read(SPOOL_READ_BYTES):
                    pieces = (rest + chunk).split(cut)
                    rest = pieces.pop()
                    for piece in pieces:
                        yield _decoded(piece + end)
                if rest:
                    yield _decoded(rest)

    def write_to(self, stream: BinaryIO) -> None:
        deleting = None
        if self.last_use:
            from concurrent.futures import ThreadPoolExecutor

            deleting = ThreadPoolExecutor(max_workers=1)
        try:
            for n, part in enumerate(self.parts):
                if n:
                    stream.write(b",\n")
                with open(part.path, "rb") as source:
                    _copy(source, stream)
                if deleting is not None:
                    deleting.submit(os.unlink, part.path)
        finally:
            if deleting is not None:
                deleting.shutdown(wait=True)
                self.parts, self._count, self.last_use = [], 0, False  # gone: nothing more to read


def _copy(source: BinaryIO, stream: BinaryIO) -> None:
    """A spool's bytes appended to ``stream``: by the kernel where both are files (gigabytes of
    results, not copied through this process), else read and written. Each piece the kernel copied
    is handed to the disk at once (POSIX_FADV_DONTNEED starts writing it back, and lets its pages
    go once written), so that the output's closing fsync does not wait for a gigabyte at the end."""
    target = _file_descriptor(stream)
    if target is not None and hasattr(os, "copy_file_range"):
        stream.flush()
        size = os.fstat(source.fileno()).st_size
        done = 0
        try:
            at = os.lseek(target, 0, os.SEEK_CUR)
            while done < size:
                copied = os.copy_file_range(source.fileno(), target, min(COPY_PIECE_BYTES, size - done))
                if not copied:
                    break
                done += copied
                if hasattr(os, "posix_fadvise"):
                    with contextlib.suppress(OSError):
                        os.posix_fadvise(target, at + done - copied, copied, os.POSIX_FADV_DONTNEED)
        except OSError:
            pass
        source.seek(done)
    shutil.copyfileobj(source, stream, 1 << 20)  # whatever the kernel did not copy


COPY_PIECE_BYTES = 64 << 20


def _file_descriptor(stream: BinaryIO) -> int | None:
    """The descriptor of a regular file (written at its current position), else None (a pipe, memory)."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    import stat

    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
    except OSError:
        return None
    return fd


SPOOL_READ_BYTES = 1 << 22


def _decoded(item: bytes) -> dict[str, Any]:
    """An item this run spooled (so not checked as a file from outside is: see auditor.jsonio.decode)."""
    try:
        return orjson.loads(item)
    except orjson.JSONDecodeError:  # written by the standard library's encoder (a lone surrogate)
        import json

        return json.loads(item)


def write_document(doc: dict[str, Any], stream: BinaryIO) -> None:
    """The document as :func:`auditor.jsonio.encode` would write it whole, its spooled lists copied in
    from their files: a fleet's results are never all in memory."""
    import uuid  # a slow import (platform), for one call

    tokens: dict[bytes, SpooledList] = {}
    marker = uuid.uuid4().hex

    def swapped(value: Any) -> Any:
        if isinstance(value, SpooledList):
            token = f"spooled-{marker}-{len(tokens)}"
            tokens[jsonio.compact(token)] = value
            return token
        if isinstance(value, dict):
            return {k: swapped(v) for k, v in value.items()}
        return value

    data = jsonio.encode(swapped(doc))
    at = 0
    for token, spooled in tokens.items():
        found = data.index(token, at)
        line_start = data.rindex(b"\n", 0, found) + 1
        column = len(data[line_start:found]) - len(data[line_start:found].lstrip(b" "))
        stream.write(data[at:found])
        if not len(spooled):
            stream.write(b"[]")
        else:
            if any(p.indent != column + 2 for p in spooled.parts):
                raise AssertionError("a spooled list was written for another place in the document")
            stream.write(b"[\n")
            spooled.write_to(stream)
            stream.write(b"\n" + b" " * column + b"]")
        at = found + len(token)
    stream.write(data[at:])


def materialized(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with its spooled lists read into lists, for a report that holds it whole."""
    if isinstance(doc, SpooledList):
        return list(doc)  # type: ignore[return-value]
    if isinstance(doc, dict):
        return {k: materialized(v) for k, v in doc.items()}  # type: ignore[misc]
    return doc


# Where a templated entry's target id and evidence list go (see SliceBuilder._templated).
_TARGET_MARK = "\x00target\x00"
_EVIDENCE_MARK = "\x00evidence\x00"
_TARGET_TOKEN, _EVIDENCE_TOKEN = orjson.dumps(_TARGET_MARK), orjson.dumps(_EVIDENCE_MARK)
_EVIDENCE_PAD = b"\n" + b" " * (RESULTS_INDENT + 2)  # the entry's keys' column
_FINDINGS_MARK = "\x00findings\x00"
_FINDINGS_TOKEN = orjson.dumps(_FINDINGS_MARK)
_FINDING_INDENT = RESULTS_INDENT + 4  # an entry's findings' column
FINDINGS_CHUNK = 2000  # a result with more findings is written this many at a time (see _add_large)
MAX_TEMPLATES = 4096  # entries' templates kept at once (then begun again): shared messages come back


def _plain(result: Result) -> bool:
    """A result whose entry is its check's, status's, message's and cause's but for its target and evidence."""
    return not (result.findings or result.waiver or result.attestation or result.notes)


# A result's tally key: what the run, segment, department, family and control tallies are rolled up
# from at the end, once per distinct key rather than once per result.
TallyKey = tuple[str | None, str | None, str, str, str, str | None, str | None]


@dataclass(frozen=True)
class Unjudged:
    """A run of consecutive checks that do not apply to a kind of target, and that no decision stage
    looks at (see :meth:`SliceBuilder.unjudged`): their entries are the same for every such target
    but for its id, so each target gets them as one piece of bytes."""

    number: int  # its place in the builder's list (what the counts are kept under)
    checks: tuple[Any, ...]  # (check, message) pairs, in the selection's order
    pieces: tuple[bytes, ...]  # the entries, encoded and joined, cut where the target's id goes
    tally: tuple[tuple[tuple[str, str, None, None], int], ...]  # what they add to the target's tally
    codes: str  # their letters in the target's history row


@dataclass(frozen=True)
class TargetPiece:
    """What judging part of a target's checks made of its entry (see :func:`joined`)."""

    id: str
    head: dict[str, Any] | None  # its id, kind, segment and department; None: no result in this part
    counted: dict[tuple[Any, ...], int]  # its tally's counts, as SliceBuilder keeps them
    codes: list[str]  # its history letters and findings' digests, in check order
    digests: list[bytes]
    last: bool  # the part that judged its last checks


@dataclass
class SliceOutcome:
    """What judging one slice of the fleet's targets made: its spools, counts and lists, in target order."""

    results: SpoolPart
    targets: SpoolPart
    evidence: SpoolPart
    counts: dict[TallyKey, int]
    blockers: SpoolPart
    waived_critical: SpoolPart
    unread: list[Unread]
    stages: list[Any]  # each decision stage's counters (see Waivers.counters)
    history: SpoolPart | None = None  # each target's history row (see packed_history), when recorded
    pieces: list[TargetPiece] = field(default_factory=list)  # of the targets judged in part (see joined)


class SliceBuilder:
    """Consumes one slice's results one by one (the engine streams) and writes them out as it goes,
    keeping only counts: memory does not grow with the fleet."""

    def __init__(self, selection: Selection, lang: str, folder: str, history: bool = False) -> None:
        self.selection = selection
        self.lang = lang
        self.results = Spool(folder, RESULTS_INDENT)
        self.targets = Spool(folder, TARGETS_INDENT)
        self.evidence = Spool(folder, EVIDENCE_INDENT)
        self.counts: dict[TallyKey, int] = defaultdict(int)
        self.blockers = Spool(folder, GATE_INDENT)  # a fleet may have a critical failure on every target
        self.waived_critical = Spool(folder, GATE_INDENT)
        self.unread: list[Unread] = []
        self.sentences: dict[str, dict[str, str]] = {}  # expected_text by check id
        self._target: tuple[dict[str, Any], dict[tuple[Any, ...], int]] | None = None  # head, counts
        self._templates: dict[tuple[Any, ...], tuple[bytes, bytes, bytes]] = {}  # see _templated
        self._evidence: tuple[Any, bytes] = (None, b"")  # the last evidence list encoded, and its bytes
        self._runs: list[Unjudged] = []
        self._run_counts: dict[tuple[str | None, str | None, int], int] = defaultdict(int)
        # The history's row of each target (auditor.history.pack): its letters and findings' digests.
        self.history = Spool(folder, 0) if history else None
        self._codes: list[str] = []
        self._digests: list[bytes] = []
        self._piece: tuple[str, bool] | None = None  # (id, judged to its end?) of a target judged in part here
        self.pieces: list[TargetPiece] = []

    def begin(self, target: Any, first: bool = True, last: bool = True) -> None:
        """A target's files (its evidence) and those of them that could not be read. ``first``/``last``:
        whether its first and last checks are judged here; a target judged in part (its checks shared
        out between workers, see :func:`auditor.fleet.parts`) lists its files with its first part, and
        its entry is made from its parts' pieces (:func:`joined`)."""
        self.end()
        if not (first and last):
            self._piece = (target.id, last)
        if not first:
            return
        self.unread.extend(target.unread)
        for f in target.files:
            entry = {"target": f.target_id, "file": f.path, "sha256": f.sha256, "collected_at": f.collected_at}
            if f.imported is not None:
                entry["imported"] = f.imported
            self.evidence.add(entry)

    def end(self) -> None:
        begun, self._target = self._target, None
        codes, digests = self._codes, self._digests
        self._codes, self._digests = [], []
        if self._piece is not None:
            (target_id, last), self._piece = self._piece, None
            head, counted = begun if begun is not None else (None, {})
            self.pieces.append(TargetPiece(target_id, head, dict(counted), codes, digests, last))
        elif begun is not None:
            _write_target(*begun, codes, digests, self.targets, self.history)

    def _start(self, target: Any) -> dict[tuple[Any, ...], int]:
        """The counts of the target's tally, begun with its first result."""
        if self._target is None:
            self._target = ({"id": target.id, "kind": target.kind, "segment": target.segment,
                             "department": target.department}, defaultdict(int))
        return self._target[1]

    def unjudged(self, checks: list[tuple[Any, dict[str, str]]], target: Any) -> Unjudged:
        """A run of not-applicable checks (with their messages) for every target like ``target``: their
        entries encoded once (see :meth:`add_unjudged`)."""
        entries = []
        tally: dict[tuple[str, str, None, None], int] = defaultdict(int)
        for check, message in checks:
            entry = self._entry(Result(check, target, "notapplicable", message))
            entry["target"] = _TARGET_MARK
            entries.append(jsonio.encode_item(entry, RESULTS_INDENT))
            tally[("notapplicable", check.severity, None, None)] += 1
        pieces = tuple(b",\n".join(entries).split(_TARGET_TOKEN))
        run = Unjudged(number=len(self._runs), checks=tuple(checks),
                       pieces=pieces if len(pieces) == len(checks) + 1 else (),  # () : a reason holding the mark
                       tally=tuple(tally.items()), codes=CODES["notapplicable"] * len(checks))
        self._runs.append(run)
        return run

    def add_unjudged(self, run: Unjudged, target: Any) -> None:
        """The run's results for ``target``: what :meth:`add` makes of each, in one piece."""
        try:
            encoded = orjson.dumps(target.id)
        except TypeError:  # not encodable by orjson (a lone surrogate): one by one, the usual way
            encoded = b""
        if not encoded or not run.pieces:
            for check, message in run.checks:
                self.add(Result(check, target, "notapplicable", message))
            return
        counted = self._start(target)
        self._run_counts[(target.segment, target.department, run.number)] += 1
        for key, n in run.tally:
            counted[key] += n
        self.results.add_encoded(encoded.join(run.pieces), len(run.checks))
        if self.history is not None:
            self._codes.append(run.codes)

    def add(self, result: Result) -> None:
        check, target, status, severity = result.check, result.target, result.status, result.check.severity
        cause = result.cause["kind"] if result.cause else None
        self.counts[(target.segment, target.department, check.id, status, severity, result.waived_status,
                     cause)] += 1
        self._start(target)[(status, severity, result.waived_status, cause)] += 1
        if severity == "critical" and status in ("fail", "error"):
            self.blockers.add({"check": check.id, "target": target.id, "status": status,
                                  "controls": list(check.controls)})
        elif severity == "critical" and status == "waived":
            self.waived_critical.add({"check": check.id, "target": target.id, "status": result.waived_status,
                                         "controls": list(check.controls), "waiver": result.waiver["id"]})
        if len(result.findings) > FINDINGS_CHUNK and self._add_large(result):
            return
        if _plain(result):
            encoded = self._templated(result)
            if encoded is not None:
                self.results.add_encoded(encoded)
                if self.history is not None:
                    self._codes.append(CODES[status])
                return
        entry = self._entry(result)
        self.results.add(entry)
        if self.history is not None:
            code = CODES[status]
            if entry["findings"]:
                code = code.upper()
                self._digests.append(findings_digest(entry["findings"]))
            self._codes.append(code)

    def _entry(self, result: Result, findings: bool = True) -> dict[str, Any]:
        check, status = result.check, result.status
        entry: dict[str, Any] = {
            "check": check.id,
            "controls": list(check.controls),
            "target": result.target.id,
            "status": status,
            "severity": check.severity,
            "title": check.title[self.lang],
            "message": result.message[self.lang],
            "findings": self._findings(result) if findings else [],
            "evidence": result.evidence,
        }
        if result.cause is not None:
            entry["cause"] = result.cause
        if result.waiver is not None:
            entry["waived_status"] = result.waived_status
            entry["waiver"] = result.waiver
        if result.attestation is not None:
            entry["attestation"] = result.attestation
        if result.notes:
            entry["notes"] = result.notes
        if status in ("fail", "error") or result.waiver is not None:
            entry["remediation"] = check.remediation[self.lang]
        return entry

    def _templated(self, result: Result) -> bytes | None:
        """The entry of a result without findings, waiver, attestation or notes, from a template: most of a
        fleet's entries (passes, not applicable, evidence not supplied) are the same for every target of a
        kind but for its id and its evidence, so each is encoded once per check, status, message and
        cause, and the id and evidence are put in. None where orjson cannot encode them (a lone
        surrogate): that result is encoded whole, the usual way."""
        try:
            target = orjson.dumps(result.target.id)
            cause = orjson.dumps(result.cause) if result.cause is not None else None
            evidence = self._evidence_bytes(result.evidence)
        except TypeError:
            return None
        key = (result.check.id, result.status, result.message[self.lang], cause)
        pieces = self._templates.get(key)
        if pieces is None:
            entry = self._entry(result)
            entry["target"], entry["evidence"] = _TARGET_MARK, _EVIDENCE_MARK
            data = jsonio.encode_item(entry, RESULTS_INDENT)
            if data.count(_TARGET_TOKEN) != 1 or data.count(_EVIDENCE_TOKEN) != 1:  # a message holding a mark
                return None
            before, rest = data.split(_TARGET_TOKEN)
            if _EVIDENCE_TOKEN not in rest:
                return None
            middle, after = rest.split(_EVIDENCE_TOKEN)
            if len(self._templates) >= MAX_TEMPLATES:
                self._templates.clear()
            pieces = self._templates[key] = (before, middle, after)
        return b"".join((pieces[0], target, pieces[1], evidence, pieces[2]))

    def _evidence_bytes(self, evidence: list[str]) -> bytes:
        """An evidence list as it is written in an entry; the checks of a target that read the same areas
        share one list (see Engine._evidence), so the last one encoded is kept."""
        last, data = self._evidence
        if last is not evidence:
            data = orjson.dumps(evidence, option=orjson.OPT_INDENT_2).replace(b"\n", _EVIDENCE_PAD)
            self._evidence = (evidence, data)
        return data

    def _findings(self, result: Result, start: int = 0, stop: int | None = None) -> list[dict[str, Any]]:
        """The findings (``start:stop`` of them), each with what was expected as sentences
        (``expected_text``, ja and en) and where its item is written (``source``: file, and row or
        line where the evidence records it)."""
        if not result.findings:
            return []
        check = result.check
        said = self.sentences.get(check.id)
        if said is None:
            from auditor.conditions.wording import expected_text  # loaded only when there is a finding

            titles = {name: p.title for name, p in self.selection.policy.parameters.items()}
            said = self.sentences[check.id] = expected_text(check.condition, check.reads, self.selection.params,
                                                            titles)
        fallback = result.source
        if result.attestation is not None:
            fallback = {"file": result.attestation["file"], "line": result.attestation["line"]}
        # Only encoded (and hashed for the history), never changed: the findings of one call share
        # their expected sentences and their fallback source, and a finding's own source (made for it
        # by row_source) is not copied; a directory has 100,000 findings.
        sentences, fallback = dict(said), dict(fallback or {})
        return [{"item": f.item, "actual": shown(f.actual), "expected": f.expected, "expected_text": sentences,
                 "source": f.source or fallback} for f in result.findings[start:stop]]

    def _add_large(self, result: Result) -> bool:
        """The entry of a result with many findings (a directory's or a register's: 100,000 of them),
        written a chunk of findings at a time, in the bytes of the entry encoded whole; and its history
        letter and digest. False where it cannot be (a message holding the mark): encoded whole."""
        entry = self._entry(result, findings=False)
        entry["findings"] = _FINDINGS_MARK
        data = jsonio.encode_item(entry, RESULTS_INDENT)
        if data.count(_FINDINGS_TOKEN) != 1:
            return False
        before, after = data.split(_FINDINGS_TOKEN)
        count = len(result.findings)

        def chunks() -> Iterator[list[dict[str, Any]]]:
            for start in range(0, count, FINDINGS_CHUNK):
                yield self._findings(result, start, start + FINDINGS_CHUNK)

        def pieces() -> Iterator[bytes]:
            yield before + b"[\n"
            for n, chunk in enumerate(chunks()):
                yield (b",\n" if n else b"") + jsonio.encode_items(chunk, _FINDING_INDENT)
            yield b"\n" + b" " * (RESULTS_INDENT + 2) + b"]" + after

        self.results.add_pieces(pieces())
        if self.history is not None:
            digest = findings_digest_chunked(chunks())
            if digest is None:
                digest = findings_digest([f.as_dict() for f in result.findings])
            self._digests.append(digest)
            self._codes.append(CODES[result.status].upper())
        return True

    def outcome(self, stages: list[Any]) -> SliceOutcome:
        self.end()
        counts = self.counts
        for (segment, department, number), n in self._run_counts.items():
            for check, _ in self._runs[number].checks:
                counts[(segment, department, check.id, "notapplicable", check.severity, None, None)] += n
        return SliceOutcome(results=self.results.close(), targets=self.targets.close(),
                            evidence=self.evidence.close(), counts=dict(counts),
                            blockers=self.blockers.close(), waived_critical=self.waived_critical.close(),
                            unread=self.unread,
                            stages=[stage.counters() for stage in stages],
                            history=self.history.close() if self.history is not None else None,
                            pieces=self.pieces)


def _write_target(head: dict[str, Any], counted: dict[tuple[Any, ...], int], codes: list[str], digests: list[bytes],
                  targets: Spool, history: Spool | None) -> None:
    """A target's entry (its tally from the counts of its results) and its history row."""
    tally = Tally()
    for (status, severity, waived, cause), n in counted.items():
        tally.add(status, severity, waived, cause, n)
    entry = {**head, **_tallied(tally)}
    targets.add(entry)
    if history is not None:
        row = [entry["id"], entry["kind"], entry["segment"], entry["department"], entry["score"],
               entry["grade"], "".join(codes), b"".join(digests).hex()]
        history.add_encoded(jsonio.compact(row))


def joined(pieces: list[TargetPiece], folder: str, history: bool) -> SliceOutcome:
    """The entry and history row of a target judged in parts (``pieces``, in order of its checks), as
    the one slice that holds them: placed where the target's entry goes (after its first part's, before
    its last part's slice), it makes the document that judging it whole would make."""
    targets, rows = Spool(folder, TARGETS_INDENT), Spool(folder, 0) if history else None
    heads = [p.head for p in pieces if p.head is not None]
    if heads:  # a target with no result at all has no entry, judged whole or in parts
        counted: dict[tuple[Any, ...], int] = defaultdict(int)
        for piece in pieces:
            for key, n in piece.counted.items():
                counted[key] += n
        _write_target(heads[0], counted, [c for p in pieces for c in p.codes], [d for p in pieces for d in p.digests],
                      targets, rows)
    empty = [Spool(folder, indent).close() for indent in (RESULTS_INDENT, EVIDENCE_INDENT, GATE_INDENT, GATE_INDENT)]
    return SliceOutcome(results=empty[0], targets=targets.close(), evidence=empty[1], counts={}, blockers=empty[2],
                        waived_critical=empty[3], unread=[], stages=[],
                        history=rows.close() if rows is not None else None)


def packed_history(slices: list[SliceOutcome], selection: Selection, lang: str) -> Any:
    """The run's targets as the history records them (:class:`auditor.history.record.PackedRun`), read
    from the rows the slices spooled: the history is written without reading the results again."""
    from auditor.history.record import Packed, PackedRun

    checks = tuple(c.id for c in selection.checks)
    meta = {c.id: {"severity": c.severity, "controls": list(c.controls), "title": c.title[lang]}
            for c in selection.checks}

    def rows() -> Iterator[Packed]:
        for part in slices:
            if part.history is None:
                raise ValueError("a slice was judged without its history rows")
            with open(part.history.path, "rb") as stream:
                rest = b""
                while chunk := stream.read(SPOOL_READ_BYTES):
                    lines = (rest + chunk).split(b",\n")  # compact JSON rows hold no raw newline
                    rest = lines.pop()
                    for line in lines:
                        yield _packed(Packed, line, checks)
                if rest:
                    yield _packed(Packed, rest, checks)

    return PackedRun(rows=rows(), checks=meta)


def _packed(packed: Any, line: bytes, checks: tuple[str, ...]) -> Any:
    """One spooled history row as ``packed`` (history.record.Packed, imported once by the caller)."""
    target, kind, segment, department, score, grade, statuses, digests = _decoded(line)
    if len(statuses) != len(checks):  # every judged target has one result per selected check
        raise ValueError(f"target {target!r}: {len(statuses)} results for {len(checks)} checks")
    return packed(target, kind, segment, department, score, grade, checks, statuses, bytes.fromhex(digests))


@dataclass
class RunTallies:
    """The run's, segments', departments', families' and controls' tallies, rolled up from the slices' counts."""

    run: Tally = field(default_factory=Tally)
    segments: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    departments: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    families: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    controls: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))

    @classmethod
    def rolled_up(cls, counts: dict[TallyKey, int], selection: Selection) -> RunTallies:
        policy = selection.policy
        families_of: dict[str, list[str]] = {}
        out = cls()
        for (segment, department, check_id, status, severity, waived, cause), n in sorted(
                counts.items(), key=lambda kv: tuple("" if v is None else v for v in kv[0])):
            tallied = (status, severity, waived, cause, n)
            out.run.add(*tallied)
            out.segments[segment or ""].add(*tallied)
            out.departments[department or ""].add(*tallied)
            check = policy.checks[check_id]
            families = families_of.get(check_id)
            if families is None:
                families = families_of[check_id] = sorted({policy.controls[c].family for c in check.controls})
            for family in families:
                out.families[family].add(*tallied)
            for control in check.controls:
                out.controls[control].add(*tallied)
        return out


@dataclass
class ResultsDocument:
    """The run's record around its slices: assembled once every slice is judged (see :func:`assemble`)."""

    selection: Selection
    lang: str
    as_of: date | None = None
    started_at: str = field(default_factory=now_iso)
    waivers: Any = None  # auditor.waivers.Waivers, summarised in the document
    attestations: Any = None  # auditor.attestations.Attestations
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)  # waivers/attestations files with their hash
    unread: list[Unread] = field(default_factory=list)  # paths of the fleet that could not be read

    def assemble(self, slices: list[SliceOutcome]) -> dict[str, Any]:
        """The ``auditor-results/1`` document of the slices, in their order (each slice is a run of
        targets in id order, the slices one after the other): the same document whether one process
        judged every target or several judged a slice each. Its long lists are :class:`SpooledList`."""
        import uuid  # a slow import (platform), for one call

        counts: dict[TallyKey, int] = defaultdict(int)
        unread = {u.path: u for u in self.unread}
        for part in slices:
            for key, n in part.counts.items():
                counts[key] += n
            for u in part.unread:
                unread.setdefault(u.path, u)
        tallies = RunTallies.rolled_up(counts, self.selection)
        sel, lang = self.selection, self.lang
        policy = sel.policy
        tailoring = None
        if sel.tailoring is not None:
            tailoring = {"id": sel.tailoring.id, "file": sel.tailoring.source, "sha256": sel.tailoring.sha256,
                         "changes": sel.changes}
        return {
            "format": FORMAT,
            "run": {
                "id": str(uuid.uuid4()),
                "started_at": self.started_at,
                "finished_at": now_iso(),
                "tool_version": __version__,
                "lang": lang,
                "as_of": self.as_of.isoformat() if self.as_of else None,
                "policy": {"id": policy.id, "version": policy.version, "profile": sel.profile.id,
                           "sha256": policy.sha256, "root": None if policy.embedded else policy.root,
                           "embedded": policy.embedded, "tailoring": tailoring},
                "cwd": os.getcwd(),  # where the relative paths of this record are, for auditor export
                "evidence": SpooledList([s.evidence for s in slices]),
                "unread": [u.as_dict() for _, u in sorted(unread.items())],
                **self.inputs,
            },
            "score": tallies.run.score,
            "grade": tallies.run.grade,
            "gate": _gate(tallies.run, SpooledList([s.blockers for s in slices]),
                          SpooledList([s.waived_critical for s in slices]), bool(unread)),
            "summary": dict(tallies.run.counts),
            "coverage": tallies.run.coverage,
            "targets": SpooledList([s.targets for s in slices]),
            "segments": [{"segment": k or None, **_tallied(t)} for k, t in sorted(tallies.segments.items())],
            "departments": [{"department": k or None, **_tallied(t)}
                            for k, t in sorted(tallies.departments.items())],
            "families": [{"id": k, "title": policy.families[k][lang], **_tallied(t)}
                         for k, t in sorted(tallies.families.items())],
            "controls": [
                {"id": c, "reference": policy.controls[c].reference, "title": policy.controls[c].title[lang],
                 "severity": policy.controls[c].severity, "family": policy.controls[c].family,
                 "mode": policy.controls[c].mode, "rationale": policy.controls[c].rationale[lang],
                 "remediation": policy.controls[c].remediation[lang],
                 "audit_items": list(policy.controls[c].audit_items), **_tallied(tallies.controls.get(c, Tally()))}
                for c in sel.controls
            ],
            "waivers": self.waivers.summary(self.as_of, sel.params.get("exception_max_days"))
            if self.waivers is not None else [],
            "attestations": self.attestations.summary(self.as_of) if self.attestations is not None else [],
            "results": SpooledList([s.results for s in slices]),
        }


def _gate(run: Tally, blockers: SpooledList, waived_critical: SpooledList, unread: bool) -> dict[str, Any]:
    """Failed by a critical check that failed or could not be evaluated, and by incomplete evidence:
    a path that could not be read (its targets are missing from the run), or nothing evaluated at all
    (an empty directory must not read as a pass)."""
    incomplete = []
    if unread:
        incomplete.append("unread")
    if not any(run.counts[status] for status in ("pass", "fail", "error")):
        incomplete.append("nothing-evaluated")
    return {"passed": not len(blockers) and not incomplete, "failed_critical": blockers,
            "incomplete": incomplete, "waived_critical": waived_critical}
