"""The command line: wires policy, evidence, engine, scoring and a report together.

Exit codes (the contract in DESIGN.md): 0 audited and the gate and ``--fail-under``
were met; 1 audited and they were not; 2 could not audit (the message names the
file, the field or line, and what was expected).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import marshal
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from auditor import __version__, jsonio, output
from auditor.clock import evaluation_date_problem, parse_date, parse_instant
from auditor.errors import InputError
from auditor.evidence import importers
from auditor.evidence.importers import csvrows
from auditor.i18n import LANGS
from auditor.memory import paused_gc
from auditor.reports import VIEWS, ReportOptions, Streamed, formats, streams
from auditor.reports.dates import STYLES

# Each command imports what only it needs (the engine and the policy for audit, the collectors
# for collect, tabulate for policy): start-up is paid by every command, and an import of a
# large export or an audit of two bundles is a few seconds in all.

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2
MAX_JOBS = 256
ORGANIZATION_TARGET = "organization"  # the target of the organisation's records read by audit --import


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own exit code is 2 too; keep its one-line style
        self.print_usage(sys.stderr)
        self.exit(EXIT_INPUT, f"auditor: {message}\n")


def _score_arg(value: str) -> float:
    try:
        score = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 100, got {value!r}") from None
    if not 0 <= score <= 100:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 100, got {value!r}")
    return score


def _date_arg(value: str) -> Any:
    try:
        day = parse_date(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date such as 2026-11-02, got {value!r}") from None
    problem = evaluation_date_problem(day)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return day


def _instant_arg(value: str) -> str:
    try:
        moment = parse_instant(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an instant with its offset such as 2026-11-02T08:41:07+09:00, "
                                         f"got {value!r}") from None
    problem = evaluation_date_problem(moment.date())
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return moment.isoformat(timespec="seconds")


def _offset_arg(value: str) -> str:
    try:
        csvrows.parse_offset(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _jobs_arg(value: str) -> int:
    problem = f"expected a number of processes from 1 to {MAX_JOBS}, got {value!r}"
    try:
        jobs = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(problem) from None
    if not 1 <= jobs <= MAX_JOBS:
        raise argparse.ArgumentTypeError(problem)
    return jobs


def _label_arg(value: str) -> tuple[str, str]:
    key, sep, val = value.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {value!r}")
    return key, val


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="auditor", description="Information-security policy compliance auditor "
                     "for Japanese local governments (総務省ガイドライン, 三層の対策).")
    parser.add_argument("--version", action="version", version=f"auditor {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    audit = sub.add_parser("audit", help="audit evidence bundles (or this host) against a profile")
    audit.add_argument("evidence", nargs="*", metavar="EVIDENCE",
                       help="bundle files or directories of them; none: collect this host")
    audit.add_argument("--policy", metavar="DIR", help="policy directory (default: the embedded policy)")
    audit.add_argument("--profile", metavar="NAME", help="profile id (default: the policy's default profile)")
    audit.add_argument("--tailoring", metavar="FILE", help="tailoring file (auditor-tailoring/1)")
    audit.add_argument("--waivers", metavar="FILE", help="approved exceptions (例外措置, auditor-waivers/1)")
    audit.add_argument("--attestations", metavar="FILE",
                       help="attestations of manual controls (auditor-attestations/1 YAML, or CSV)")
    audit.add_argument("--format", default="table", choices=list(formats()), help="report format")
    audit.add_argument("--out", metavar="FILE", help="write the report here instead of standard output")
    audit.add_argument("--lang", default="ja", choices=LANGS, help="report language (default: ja)")
    _report_arguments(audit)
    audit.add_argument("--fail-under", type=_score_arg, metavar="SCORE", help="exit 1 when the score is below")
    audit.add_argument("--as-of", type=_date_arg, metavar="DATE",
                       help="judge time-dependent checks as of this date instead of each bundle's collected_at")
    audit.add_argument("--segment", choices=["mynumber", "lgwan", "internet"],
                       help="with no EVIDENCE: the segment this host belongs to")
    audit.add_argument("--department", metavar="NAME", help="with no EVIDENCE: this host's department")
    audit.add_argument("--import", dest="imports", nargs=2, action="append", default=[], metavar=("KIND", "FILE"),
                       help="read an export as `auditor import KIND FILE` would, and audit it without writing a "
                       "bundle (repeatable; the files of one kind are one target)")
    audit.add_argument("--utc-offset", type=_offset_arg, default="+09:00", metavar="OFFSET",
                       help="for --import: time zone of times an export writes without one (default: +09:00)")
    audit.add_argument("--zones", metavar="FILE",
                       help="auditor-zones/1 file: this host's segments (with no EVIDENCE), and the zones of "
                       "--import firewall rule sets")
    audit.add_argument("--vdom", metavar="NAME", help="for --import fortigate: read this VDOM only (default: every "
                       "VDOM of a multi-VDOM configuration, each its own rule set)")
    audit.add_argument("--jobs", type=_jobs_arg, default=None, metavar="N",
                       help="worker processes judging the fleet's targets (default: the number of cores; "
                       "the results are the same for any N)")
    audit.add_argument("--history", metavar="URL", help="record the run in this history: an SQLite file or "
                       "postgresql://USER@HOST/DB (default: $AUDITOR_HISTORY, else the user's data directory)")
    audit.add_argument("--no-history", action="store_true", help="do not record this run in the history")

    report = sub.add_parser("report", help="render a stored run (an auditor-results/1 JSON file) in another format")
    report.add_argument("results", metavar="RESULTS.json")
    report.add_argument("--format", default="table", choices=list(formats()), help="report format")
    report.add_argument("--out", metavar="FILE", help="write the report here instead of standard output")
    report.add_argument("--lang", choices=LANGS, help="language of the report's frame (default: the run's)")
    _report_arguments(report)

    export = sub.add_parser("export", help="pack a stored run with its evidence, policy and reports for an inspection")
    export.add_argument("results", metavar="RESULTS.json")
    export.add_argument("--out", metavar="FILE.zip", required=True, help="the package to write")
    export.add_argument("--pseudonymize", action="store_true",
                        help="replace the people named by keyed pseudonyms (key: --key-file or $AUDITOR_PSEUDONYM_KEY)")
    export.add_argument("--key-file", metavar="FILE", help="the pseudonym key (kept outside the package)")
    verify = sub.add_parser("verify", help="check an evidence package: every hash, nothing added or removed")
    verify.add_argument("package", metavar="FILE.zip")
    verify.add_argument("--manifest-sha256", metavar="HEX",
                        help="the manifest digest auditor export printed, to catch a package rewritten whole")

    collect = sub.add_parser("collect", help="collect this host's evidence into a bundle")
    collect.add_argument("--out", metavar="FILE", help="bundle file (default: standard output)")
    collect.add_argument("--segment", choices=["mynumber", "lgwan", "internet"])
    collect.add_argument("--department", metavar="NAME")
    collect.add_argument("--target", metavar="ID", help="target id (default: the host name)")
    collect.add_argument("--label", type=_label_arg, action="append", default=[], metavar="KEY=VALUE")
    collect.add_argument("--zones", metavar="FILE", help="auditor-zones/1 file: record which segments this host's "
                         "addresses are in")
    collect.add_argument("--windows-script", metavar="FILE",
                         help="write the Windows collection script (PowerShell 5.1) to FILE and exit without "
                         "collecting; run it on the terminal, then: auditor import windows-raw ZIP")
    from auditor.upload import add_client_arguments  # the options of auditor upload, with --upload for --url

    add_client_arguments(collect, "--upload")

    imp = sub.add_parser("import", help="turn exports (secedit, ...) into an evidence bundle")
    imp.add_argument("kind", choices=importers.kinds(), help="the kind of export")
    imp.add_argument("files", nargs="+", metavar="FILE")
    imp.add_argument("--out", metavar="FILE", help="bundle file (default: standard output)")
    imp.add_argument("--target", metavar="ID", help="target id (default: the first file's name)")
    imp.add_argument("--segment", choices=["mynumber", "lgwan", "internet"])
    imp.add_argument("--department", metavar="NAME")
    imp.add_argument("--label", type=_label_arg, action="append", default=[], metavar="KEY=VALUE")
    imp.add_argument("--collected-at", type=_instant_arg, metavar="INSTANT",
                     help="when the export was made (default: the newest file's modification time)")
    imp.add_argument("--utc-offset", type=_offset_arg, default="+09:00", metavar="OFFSET",
                     help="time zone of times the export writes without one (default: +09:00)")
    imp.add_argument("--mapping", metavar="FILE", help="column mapping for hr-roster or training exports")
    imp.add_argument("--sheet", metavar="NAME", help="the XLSX sheet to read (default: the first)")
    imp.add_argument("--zones", metavar="FILE", help="auditor-zones/1 file for firewall imports")
    imp.add_argument("--vdom", metavar="NAME", help="fortigate: import this VDOM only (default: every VDOM of a "
                     "multi-VDOM configuration, each its own rule set)")

    policy = sub.add_parser("policy", help="list, show or validate policy content")
    policy.add_argument("--policy", metavar="DIR", help="policy directory (default: the embedded policy)")
    psub = policy.add_subparsers(dest="action", required=True, parser_class=_Parser)
    psub.add_parser("list", help="profiles, controls and checks")
    show = psub.add_parser("show", help="one control, check or profile")
    show.add_argument("id")
    show.add_argument("--lang", default="ja", choices=LANGS)
    validate = psub.add_parser("validate", help="validate a policy directory or one policy, check, profile, "
                               "tailoring or evidence file")
    validate.add_argument("path")
    copy = psub.add_parser("copy", help="copy the embedded policy into DIR (policies/ and checks/) to write a "
                           "city's own controls, checks and profiles")
    copy.add_argument("directory", metavar="DIR")
    cover = psub.add_parser("coverage", help="requirement -> controls -> checks -> evidence, and what is not "
                            "checked from evidence, with the reason")
    cover.add_argument("--profile", help="only the controls and checks this profile selects")
    cover.add_argument("--format", default="table", choices=("table", "json", "md"))
    cover.add_argument("--lang", default="ja", choices=LANGS)
    from auditor.commands import register_all

    register_all(sub)
    return parser


def _report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--view", default="admin", choices=VIEWS,
                        help="audience: admin (everything), trainer (no personal names), inspector (by control)")
    parser.add_argument("--date-style", default="iso", choices=STYLES,
                        help="dates as ISO 8601 or in the Japanese era (wareki: 令和8年11月2日)")


def _report_options(args: argparse.Namespace, lang: str | None = None) -> ReportOptions:
    return ReportOptions(lang=lang or args.lang, view=args.view, date_style=args.date_style)


def _collect(args: argparse.Namespace, labels: dict[str, str] | None = None) -> dict[str, Any]:
    from auditor.evidence import collectors

    zones_file = getattr(args, "zones", None)
    zones = None
    if zones_file:
        from auditor.evidence.zones import load_zones

        zones = load_zones(zones_file)
    collectors.prestart()  # the slowest OS tool (apt list --upgradable) first: the rest overlaps it
    collector = collectors.for_this_host()
    if collector is None:
        raise InputError("(this host)", f"no collector supports this platform ({sys.platform}); "
                         "collect on a supported host or import exports, then audit the bundles")
    options = collectors.CollectOptions(target_id=getattr(args, "target", None), segment=args.segment,
                                        department=args.department, labels=labels or {},
                                        zones=zones, zones_file=zones_file)
    return collector.collect(options)


def _render(doc: dict[str, Any], name: str, options: ReportOptions) -> str | bytes | Streamed:
    """Format ``name`` of a run's document: given its spooled lists when the format streams them,
    else the document read into memory."""
    if streams(name):
        return formats()[name](doc, options)
    from auditor.results import materialized

    return formats()[name](materialized(doc), options)


def _write(text: str | bytes | Streamed, out: str | None, private: bool = True) -> None:
    """Write a report or a bundle to ``out`` (whole or not at all: see :mod:`auditor.output`), or to
    standard output without one.

    Text that cannot be encoded (a lone surrogate read from a bundle, or from a file name that is
    not UTF-8) is written as its escape (``\\udc80``) rather than failing the run.
    """
    if isinstance(text, Streamed):
        binary = getattr(sys.stdout, "buffer", None)
        if out is None and binary is None:  # standard output replaced by a text stream (a caller's)
            import io

            held = io.BytesIO()
            text.write_to(held)
            output.write_stdout(held.getvalue())
        elif out is None:
            sys.stdout.flush()
            text.write_to(binary)
            binary.flush()
        else:
            with output.atomic(out, private=private) as stream:
                text.write_to(stream)
        return
    if out is None:
        output.write_stdout(text)
        return
    output.write(text.encode("utf-8", "backslashreplace") if isinstance(text, str) else text, out, private=private)


def _guard_out(out: str | None, *inputs: str | None) -> None:
    """Refuse, before any work, an ``--out`` that is one of the run's inputs or inside an input directory."""
    if out is not None:
        output.Inputs().add(inputs).refuse_overlap(out)


def cmd_audit(args: argparse.Namespace) -> int:
    from auditor import bundles, fleet, inventory
    from auditor.clock import now_iso
    from auditor.policy import load_policy
    from auditor.results import ResultsDocument, SpooledList
    from auditor.selection import load_tailoring, resolve

    started_at = now_iso()

    _guard_out(args.out, *args.evidence, *(file for _, file in args.imports), args.tailoring, args.policy,
               args.zones, args.waivers, args.attestations)
    collecting = None
    if not args.evidence and not args.imports:
        from concurrent.futures import ThreadPoolExecutor

        # Collection mostly waits on OS tools: let it run while the policy loads.
        pool = ThreadPoolExecutor(max_workers=1)
        collecting = pool.submit(_collect, args)
        pool.shutdown(wait=False)
    policy = load_policy(args.policy)
    tailoring = load_tailoring(args.tailoring) if args.tailoring else None
    selection = resolve(policy, args.profile, tailoring)
    decisions, inputs = _decisions(args, policy)
    # A run of a few large exports holds their parsed bundles (hundreds of thousands of acyclic
    # records), and its results as many findings, until it ends; each pass of the cycle collector
    # would scan them all for nothing (measured: 0.35 s of an audit of a 100,000-account
    # directory). So it is paused while they are made, and what was made is frozen before it
    # resumes, as its first pass would scan everything made while it was paused. (Judging a target
    # makes no cycles, so a fleet streamed target by target is freed as it goes all the same:
    # tests/test_engine.py holds it to that.)
    # One file named alone that cannot be read is exit 2; in a fleet (a directory, several paths)
    # what cannot be read is listed in the results and fails the gate, and the rest is audited.
    alone = len(args.evidence) == 1 and os.path.isfile(args.evidence[0])
    unread: list[bundles.Unread] = []
    jobs = args.jobs or fleet.default_jobs()
    with paused_gc():
        if collecting is not None:
            groups = bundles.from_document("(collected from this host)", collecting.result())
        else:
            found = [bundles.index(args.evidence, unread=None if alone else unread, jobs=jobs)] if args.evidence else []
            groups = bundles.merged(*found, *_imported(args))
        gc.freeze()
    try:
        with paused_gc(), tempfile.TemporaryDirectory(prefix="auditor-results-") as folder:
            record = ResultsDocument(selection=selection, lang=args.lang, as_of=args.as_of, unread=unread,
                                     waivers=decisions.get("waivers"), attestations=decisions.get("attestations"),
                                     inputs=inputs, started_at=started_at)
            org = inventory.attach(bundles.organization(groups), groups)  # + the run's targets (GL-C15)
            # attestations decide manual checks, then waivers except failures
            judging = fleet.Judging(selection=selection, lang=args.lang, as_of=args.as_of, org=org,
                                    stages=list(decisions.values()), groups=groups, folder=folder,
                                    history=not args.no_history)
            outcomes = fleet.judge(judging, jobs, meanwhile=_preload(args))
            doc = record.assemble(outcomes)
            doc["trend"] = []
            if not args.no_history:
                from auditor.history import record_run  # SQLAlchemy: imported only when a run is recorded
                from auditor.results import packed_history

                doc["trend"] = record_run(args.history, doc, packed_history(outcomes, selection, args.lang))
            if isinstance(doc["results"], SpooledList):
                doc["results"].written_last()  # the report is the results' last reader
            _write(_render(doc, args.format, _report_options(args)), args.out)
            _leave_for_exit(groups, org, doc)
            gc.freeze()
    finally:
        gc.unfreeze()
    below = args.fail_under is not None and (doc["score"] is None or doc["score"] < args.fail_under)
    return EXIT_FINDINGS if below or not doc["gate"]["passed"] else EXIT_OK


def _preload(args: argparse.Namespace) -> Callable[[], None]:
    """What an audit imports after judging (uuid for the run's id, the history's SQLAlchemy),
    imported while workers judge instead."""

    def preload() -> None:
        import uuid  # noqa: F401 - a slow import (platform)

        if not args.no_history:
            from auditor.history import preload as history

            history()

    return preload


def _decisions(args: argparse.Namespace, policy: Any) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """The attestations and waivers files of an audit, loaded against the policy, in the order they apply;
    and each file with its SHA-256 for the run's record (an inspector checks what was excepted)."""
    stages: dict[str, Any] = {}
    inputs: dict[str, dict[str, str]] = {}
    if args.attestations:
        from auditor.attestations import load_attestations

        stages["attestations"] = load_attestations(args.attestations, policy)
        inputs["attestations"] = {"file": args.attestations, "sha256": _file_sha256(args.attestations)}
    if args.waivers:
        from auditor.waivers import load_waivers

        stages["waivers"] = load_waivers(args.waivers, policy)
        inputs["waivers"] = {"file": args.waivers, "sha256": _file_sha256(args.waivers)}
    return stages, inputs


def _file_sha256(path: str) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _imported(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The bundles of ``audit --import KIND FILE``, indexed: the files of one kind make one
    target, exactly as one ``auditor import KIND FILE ...`` of them would, named after the first
    file; the organisation's records (HR roster, training) make the one target ``organization``,
    as the checks that compare them need.

    Several kinds of large exports are read on two cores where the system can fork (Linux): the
    largest here, the others in a worker process; errors are reported in the order given, as
    one after the other would report them.
    """
    from auditor import bundles

    by_kind: dict[str, list[str]] = {}
    for kind, file in args.imports:
        by_kind.setdefault(kind, []).append(file)
    jobs = [(kind, files, args.utc_offset, args.zones, args.vdom) for kind, files in by_kind.items()]
    outcomes = _import_jobs(jobs)
    found = []
    for (kind, files, *_), (status, value) in zip(jobs, outcomes, strict=True):
        if status == "error":
            raise InputError(*value)
        index = bundles.from_document(f"{', '.join(files)} (imported as {kind})", value,
                                      _exports_sha256(files, value["sources"]), trusted=True)
        for bundle_files in index.values():
            for bundle in bundle_files:
                bundle.imported = {"kind": kind, "files": list(files)}
        found.append(index)
    return found


ImportJob = tuple[str, list[str], str, str | None, str | None]  # kind, files, UTC offset, zones file, VDOM
PARALLEL_MIN_BYTES = 1_000_000  # below this, a worker process costs more than it saves


def _import_jobs(jobs: list[ImportJob]) -> list[tuple[str, Any]]:
    """("ok", bundle) or ("error", InputError's fields) for each job, in order."""
    sizes = [sum(Path(f).stat().st_size if Path(f).is_file() else 0 for f in job[1]) for job in jobs]
    if len(jobs) < 2 or not sys.platform.startswith("linux") or sum(sizes) - max(sizes) < PARALLEL_MIN_BYTES:
        return _run_jobs(jobs)
    largest = sizes.index(max(sizes))
    others = [job for i, job in enumerate(jobs) if i != largest]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        elsewhere = pool.submit(_packed_jobs, others)
        here = _run_jobs([jobs[largest]])
        with paused_gc():
            done = iter(marshal.loads(elsewhere.result()))  # noqa: S302 - from our own forked worker, no file
    return [here[0] if i == largest else next(done) for i in range(len(jobs))]


def _packed_jobs(jobs: list[ImportJob]) -> bytes:
    """:func:`_run_jobs` in a worker, its outcomes marshalled for the way back.

    Bundles are JSON data, which marshal carries: it writes a 100,000-row roster in a third of
    the time pickle takes and reads it faster, which is what the process waiting for it pays.
    """
    return marshal.dumps(_run_jobs(jobs))


def _run_jobs(jobs: list[ImportJob]) -> list[tuple[str, Any]]:
    """Each job's bundle, or the fields of the InputError it met (an InputError does not pickle)."""
    out: list[tuple[str, Any]] = []
    for kind, files, utc_offset, zones, vdom in jobs:
        try:
            factory = importers.load(kind)
            importer = factory() if factory is not None else None  # an unknown kind: import_files says so
            shared = ORGANIZATION_TARGET if importer and importer.target_kind == "organization" else None
            options = importers.ImportOptions(target_id=shared, utc_offset=utc_offset,
                                              zones=zones if importer and importers.uses_zones(importer) else None,
                                              vdom=vdom if getattr(importer, "uses_vdom", False) else None)
            out.append(("ok", importers.import_files(kind, files, options)))
        except InputError as exc:
            out.append(("error", (exc.file, exc.problem, exc.where, exc.line)))
    return out


def _exports_sha256(files: list[str], sources: list[dict[str, Any]]) -> str | None:
    """SHA-256 of the exports' bytes one after the other (``cat FILE ... | sha256sum``), which an
    inspector holding them can check; None when one is a folder (a Windows collection).

    For one file, that is the hash its importer recorded as it read it (``sources``).
    """
    if len(files) == 1:
        recorded = [s["sha256"] for s in sources if s["name"] == str(Path(files[0]))]
        if len(recorded) == 1:
            return recorded[0]
    digest = hashlib.sha256()
    for name in files:
        path = Path(name)
        if not path.is_file():
            return None
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cmd_import(args: argparse.Namespace) -> int:
    _guard_out(args.out, *args.files, args.mapping, args.zones)
    options = importers.ImportOptions(target_id=args.target, segment=args.segment, department=args.department,
                                      labels=dict(args.label), collected_at=args.collected_at,
                                      utc_offset=args.utc_offset, mapping=args.mapping, sheet=args.sheet,
                                      zones=args.zones, vdom=args.vdom)
    # Written as the export is read: the records of a large export are encoded batch by batch and
    # not kept (see import_to_file), so there is no bundle to hold, or to keep from the cycle collector.
    importers.import_to_file(args.kind, args.files, options, args.out)
    return EXIT_OK


def cmd_package(args: argparse.Namespace) -> int:
    from auditor import package

    if args.command == "export":
        _guard_out(args.out, *package.guard_paths(args.results), args.key_file)
        digest = package.export(args.results, args.out, args.pseudonymize, args.key_file)
        output.write_stdout(f"{args.out}: written; manifest SHA-256 {digest} (record it apart from the package: "
                            f"auditor verify {args.out} --manifest-sha256 {digest})\n")
        return EXIT_OK
    verdict = package.verify(args.package, args.manifest_sha256)
    output.write_stdout(package.verify_lines(verdict, args.package))
    return EXIT_OK if verdict.ok else EXIT_FINDINGS


def cmd_collect(args: argparse.Namespace) -> int:
    if args.windows_script:
        from auditor.evidence.collectors.windows import script_bytes

        _guard_out(args.windows_script, args.zones)
        _write(script_bytes(), args.windows_script, private=False)  # UTF-8 with BOM and CRLF, as 5.1 needs
        return EXIT_OK
    _guard_out(args.out, args.zones)
    dest = None
    if args.upload_url:
        from auditor.upload import destination, send_collected

        dest = destination(args)  # the URL, the CA file and the token, before the host is collected
    data = jsonio.encode(_collect(args, dict(args.label)))
    if dest is None or args.out:
        _write(data, args.out)
    if dest is not None:
        output.write_stdout(send_collected(dest, data, args.out))  # the bytes --out wrote, exactly
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    # Evidence is millions of small acyclic objects (one per account field); with the default
    # threshold the cycle collector rescans them all the time, for nothing (measured: 15% of a run).
    gc.set_threshold(200_000, 50, 50)
    args = build_parser().parse_args(argv)
    try:
        from auditor.commands import handler_of

        handler = handler_of(args)
        if handler is not None:
            return handler(args)
        if args.command == "audit":
            return cmd_audit(args)
        if args.command == "collect":
            return cmd_collect(args)
        if args.command == "import":
            return cmd_import(args)
        if args.command in ("export", "verify"):
            return cmd_package(args)
        if args.command == "report":
            from auditor.report_cli import run as report_command

            return report_command(args)
        from auditor.policy_cli import run as policy_command

        return policy_command(args)
    except InputError as exc:
        print(f"auditor: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        return 130


# Large evidence the command no longer needs, kept from being freed object by object when
# the process is about to end anyway (see run). None: running inside another program (tests).
_LEFT_FOR_EXIT: list[Any] | None = None


def _leave_for_exit(*objects: Any) -> None:
    if _LEFT_FOR_EXIT is not None:
        _LEFT_FOR_EXIT.extend(objects)


def run() -> None:
    """The ``auditor`` program: :func:`main`, then the process ends without tearing down its evidence.

    An import or audit of a 100,000-account directory holds a few million small objects; freeing
    them one by one as the interpreter shuts down costs 0.1–0.2 s per command, while the
    operating system takes the memory back at once. Output is flushed first; an unexpected
    error, and a run under a profiler or a coverage tracer, end the usual way.
    """
    global _LEFT_FOR_EXIT
    observed = sys.getprofile() is not None or sys.gettrace() is not None  # a profiler or coverage
    if observed:  # writes its data as the interpreter shuts down: end the usual way
        raise SystemExit(main())
    _LEFT_FOR_EXIT = []
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more can be shown
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
