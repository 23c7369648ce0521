"""Importer registry: each importer turns one kind of export into an evidence bundle.

``auditor import KIND FILE ...`` looks the kind up here. An importer module registers
itself with :func:`register`; adding a kind is one new module plus its tests.

An importer reads a file's bytes (``read``), or, when it has ``read_stream``, the open file
itself, so that a large export is parsed as it is read instead of being held whole (the
tabular importers: a 1-million-row AD export is 200 MB of bytes, twice that as text). A
streaming importer records the file's size and SHA-256 as it read them (:func:`add_source`),
and hands its records to the builder batch by batch (``BundleBuilder.add_records``).

Two ways out: :func:`import_files` builds the bundle in memory (``auditor audit --import``,
tests); :func:`import_to_file` writes it to a file or standard output (``auditor import``),
each batch of records encoded as it comes (:mod:`auditor.evidence.spool`), so that memory
grows with a batch of the export instead of with the whole of it. Both give the same bundle.
"""

from __future__ import annotations

import functools
import importlib
import io
import pkgutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from auditor.evidence.bundle import BundleBuilder, RecordSpool

from auditor import output
from auditor.errors import InputError
from auditor.memory import paused_gc


@dataclass(frozen=True)
class ImportOptions:
    """What the operator says about the target: the export itself rarely names it."""

    target_id: str | None = None
    segment: str | None = None
    department: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    collected_at: str | None = None  # default: the newest input file's modification time
    utc_offset: str = "+09:00"  # the zone of instants an export writes without one (2026/11/02 8:41:07)
    mapping: str | None = None  # a column-mapping file (hr-roster, training)
    sheet: str | None = None  # the XLSX sheet to read (default: the first)
    zones: str | None = None  # an auditor-zones/1 file (network importers store it as the `zones` area;
    # endpoint importers, whose class sets ``uses_zones = True``, map their addresses with it)
    vdom: str | None = None  # FortiGate: import this VDOM only (default: every VDOM, each its own rule set)


class Importer(Protocol):
    """One kind of export. An importer that takes options also has ``configure(options)``,
    called once before any file is read (so that a bad mapping file fails first)."""

    name: str
    target_kind: str
    description: str

    def read(self, path: Path, data: bytes, builder: BundleBuilder) -> None:
        """Parse one input file into facts; raise InputError naming the line when it cannot."""


class StreamImporter(Importer, Protocol):
    """An importer that reads the open file as it parses it (``read`` stays for callers that hold bytes)."""

    def read_stream(self, path: Path, file: BinaryIO, builder: BundleBuilder) -> None:
        """As ``read``, from a binary file open at its start; record the source with :func:`add_source`."""


def add_source(builder: BundleBuilder, name: str, parser: str, digest: Any, area: str | None = None) -> None:
    """Record a source read as a stream: ``digest`` (a ``textio.Digest``) has the size and SHA-256 of the
    file's exact bytes, taken as they were read; the entry is otherwise the one ``add_source`` makes."""
    builder.add_source(name, parser, b"", area)
    builder.sources[-1].update(size=digest.size, sha256=digest.hexdigest())


_REGISTRY: dict[str, Callable[[], Importer]] = {}
# modules and subpackages here that are not importers
HELPERS = {"textio", "tabular", "csvrows", "registers", "windows", "fortigate_interfaces", "linux_routes"}


def register(name: str) -> Callable[[Callable[[], Importer]], Callable[[], Importer]]:
    def deco(factory: Callable[[], Importer]) -> Callable[[], Importer]:
        _REGISTRY[name] = factory
        return factory

    return deco


def kinds() -> list[str]:
    """Every import kind, sorted, without importing the importers.

    An importer module is named after its kind (``ad_users.py`` registers ``ad-users``), so
    the command line can list the kinds and load only the one asked for: loading them all
    (the firewall importers bring the zones schema and Cerberus) cost every command 0.25 s.
    """
    return list(_kind_names())


@functools.cache
def _kind_names() -> tuple[str, ...]:
    """The package's importer modules, read once: they do not change while the program runs."""
    names = (mod.name for mod in pkgutil.iter_modules(__path__) if mod.name not in HELPERS)
    return tuple(sorted(name.replace("_", "-") for name in names))


def load(kind: str) -> Callable[[], Importer] | None:
    """The factory of one import kind (its module imported now), or None for an unknown kind."""
    if kind not in _kind_names():
        return None
    importlib.import_module(f"{__name__}.{kind.replace('-', '_')}")
    return _REGISTRY.get(kind)


def available() -> dict[str, Callable[[], Importer]]:
    """Every importer, by kind (all modules imported)."""
    for kind in kinds():
        load(kind)
    return dict(sorted(_REGISTRY.items()))


def uses_zones(importer: Importer) -> bool:
    """Whether an importer reads a zones file (firewall rule sets, endpoint collections)."""
    return bool(getattr(importer, "uses_zones", importer.target_kind == "network"))


def _mtime_iso(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime).astimezone().isoformat(timespec="seconds")


def import_files(kind: str, files: list[str], options: ImportOptions) -> dict[str, Any]:
    """Read every file with the named importer into one bundle for one target."""
    return _read(kind, files, options).build()


def import_to_file(kind: str, files: list[str], options: ImportOptions, out: str | None) -> None:
    """Import as :func:`import_files` does and write the bundle to ``out`` (None: standard output),
    as the bytes ``jsonio.encode`` gives for the bundle ``import_files`` returns.

    The records of list areas are encoded batch by batch as the export is read, into a spool
    beside the output, and not kept; the output is written once the whole export has been read
    (through :func:`auditor.output.atomic`, so an export refused on its last row leaves the
    previous file whole, and standard output gets nothing). Importers that build their facts
    whole (secedit, firewalls, ...) are written the same way, from memory.
    """
    from auditor.evidence.spool import BundleSpool, spool_directory

    name = out if out is not None else "(standard output)"
    with paused_gc(), BundleSpool(spool_directory(out), name) as spool:  # acyclic records: nothing to collect
        builder = _read(kind, files, options, spool)
        if out is not None:
            with output.atomic(out, private=True) as stream:
                spool.write(builder, stream)
            return
        stdout = sys.stdout
        stdout.flush()
        if hasattr(stdout, "buffer"):
            spool.write(builder, stdout.buffer)
            stdout.buffer.flush()
        else:  # a text stream without bytes underneath (tests capture this way)
            held = io.BytesIO()
            spool.write(builder, held)
            output.write_stdout(held.getvalue())


def _read(kind: str, files: list[str], options: ImportOptions, spool: RecordSpool | None = None) -> BundleBuilder:
    """The builder holding every file's facts, read with the named importer (list areas in ``spool``
    when one is given)."""
    factory = load(kind)
    if factory is None:
        raise InputError(kind, f"unknown import kind (available: {', '.join(kinds())})")
    importer = factory()
    if options.zones and not uses_zones(importer):
        raise InputError(options.zones, f"--zones is for firewall and endpoint imports; {kind} does not use it")
    if options.vdom and not getattr(importer, "uses_vdom", False):
        raise InputError(kind, f"--vdom is for FortiGate imports; {kind} does not use it")
    configure = getattr(importer, "configure", None)
    if configure is not None:
        configure(options)
    paths = [Path(f) for f in files]
    directories = getattr(importer, "accepts_directories", False)  # e.g. a collection folder (windows-raw)
    for path in paths:
        if not (path.is_file() or (directories and path.is_dir())):
            raise InputError(str(path), "no such file or directory" if directories else "no such file")
    builder = BundleBuilder(
        target_id=options.target_id or paths[0].stem, kind=importer.target_kind,
        collector_name=f"auditor-import-{kind}", segment=options.segment, department=options.department,
        labels=dict(options.labels),
        collected_at=options.collected_at or max(_mtime_iso(p) for p in paths), spool=spool,
    )
    read_stream = getattr(importer, "read_stream", None)
    for path in paths:
        if read_stream is not None and path.is_file():
            try:
                with path.open("rb") as file:
                    read_stream(path, file, builder)
            except OSError as exc:  # opening it, or a read that fails half-way (a network share gone)
                raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None
            continue
        try:
            data = b"" if path.is_dir() else path.read_bytes()  # a directory importer reads its files itself
        except OSError as exc:
            raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None
        importer.read(path, data, builder)
    return builder
