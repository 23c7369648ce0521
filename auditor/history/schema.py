"""The history's tables, version by version, and the migrations from one version to the next.

Everything is SQLAlchemy Core, so one definition serves SQLite and PostgreSQL alike. The layout
of every version stays here (:func:`tables` builds it for any version), so that a history written
by an earlier auditor can be recreated in a test and opened by this one.

Rules that keep old histories readable:

- the version is the ``schema_version`` row of ``auditor_meta``; a history newer than this code
  is refused (it may hold what this code cannot read), an older one is migrated when opened;
- a migration only adds: new tables (created from their Core definition) and rows; it never
  alters or drops a column, so it needs no dialect's ALTER TABLE, and what an older version
  wrote is read the same way by every later one;
- what an older version did not record is absent, never invented: runs recorded under
  version 1 have no check titles or severities and no waiver or attestation records, and
  the diff says so.

Version 1: runs (metadata, the run's summary and its record), scores per segment, department,
family and control, one row per (run, target) with the packed statuses, finding digests and
failure streaks of its checks (see :mod:`auditor.history.pack`), and each run's check lists.
Version 2 adds, per run, the checks' severity, controls and title (``auditor_run_checks``) and the
waivers and attestations with their expiry (``auditor_run_expiries``).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

SCHEMA_VERSION = 2
PREFIX = "auditor_"  # a shared PostgreSQL database may hold other programs' tables


def tables(version: int = SCHEMA_VERSION) -> MetaData:
    """The tables of one schema version."""
    md = MetaData()
    Table(f"{PREFIX}meta", md,
          Column("key", String(64), primary_key=True),
          Column("value", Text, nullable=False))
    Table(f"{PREFIX}runs", md,
          Column("id", Integer, primary_key=True, autoincrement=True),
          Column("uuid", String(64), nullable=False, unique=True),
          Column("recorded_at", String(40), nullable=False),
          Column("started_at", String(40)),
          Column("finished_at", String(40)),
          Column("tool_version", String(40)),
          Column("lang", String(8)),
          Column("as_of", String(10)),
          Column("reference_day", String(10)),  # the day expiries are counted from
          Column("policy_id", Text),
          Column("policy_version", Text),
          Column("policy_sha256", String(64)),
          Column("profile", Text),
          Column("tailoring_id", Text),
          Column("tailoring_sha256", String(64)),
          Column("score", Float),
          Column("grade", String(4)),
          Column("gate_passed", Boolean, nullable=False),
          Column("failed_critical", Integer, nullable=False),
          Column("incomplete", Text, nullable=False),  # gate.incomplete, comma-separated
          Column("summary", Text, nullable=False),  # JSON
          Column("coverage", Text),  # JSON
          Column("target_count", Integer, nullable=False),
          Column("evidence_count", Integer, nullable=False),
          Column("unread_count", Integer, nullable=False),
          Column("previous", Integer, ForeignKey(f"{PREFIX}runs.id")),  # the run before, of the same targets
          Column("record", LargeBinary, nullable=False))  # zlib of the results' "run" object as JSON
    Table(f"{PREFIX}run_scores", md,
          Column("run", Integer, ForeignKey(f"{PREFIX}runs.id"), primary_key=True),
          Column("scope", String(16), primary_key=True),  # segment, department, family, control
          Column("key", Text, primary_key=True),  # "" for no segment or department
          Column("title", Text),  # of a family or a control, in the run's language
          Column("score", Float),
          Column("grade", String(4)),
          Column("summary", Text, nullable=False),
          Column("coverage", Text))
    Table(f"{PREFIX}run_checksets", md,
          Column("run", Integer, ForeignKey(f"{PREFIX}runs.id"), primary_key=True),
          Column("number", Integer, primary_key=True),
          Column("checks", Text, nullable=False))  # check ids, one a line, in the results' order
    targets = Table(f"{PREFIX}run_targets", md,
                    Column("run", Integer, ForeignKey(f"{PREFIX}runs.id"), primary_key=True),
                    Column("seq", Integer, nullable=False),  # the position in the run: targets by id, as recorded
                    Column("target", Text, primary_key=True),
                    Column("kind", Text),
                    Column("segment", Text),
                    Column("department", Text),
                    Column("score", Float),
                    Column("grade", String(4)),  # the counts by status are the letters of statuses
                    Column("checkset", Integer, nullable=False),
                    Column("statuses", Text, nullable=False),
                    Column("digests", LargeBinary, nullable=False),
                    Column("streaks", LargeBinary, nullable=False),
                    sqlite_with_rowid=False)
    Index(f"{PREFIX}run_targets_by_target", targets.c.target, targets.c.run)
    if version >= 2:
        Table(f"{PREFIX}run_checks", md,
              Column("run", Integer, ForeignKey(f"{PREFIX}runs.id"), primary_key=True),
              Column("check_id", Text, primary_key=True),
              Column("severity", String(16)),
              Column("controls", Text),  # comma-separated
              Column("title", Text))
        Table(f"{PREFIX}run_expiries", md,
              Column("run", Integer, ForeignKey(f"{PREFIX}runs.id"), primary_key=True),
              Column("seq", Integer, primary_key=True, autoincrement=False),
              Column("kind", String(16), nullable=False),  # waiver, attestation
              Column("ident", Text, nullable=False),  # the waiver's id; the attestation's control (and check)
              Column("label", Text),  # approval number; document name
              Column("scope", Text),  # targets, comma-separated
              Column("expires", String(10), nullable=False),
              Column("state", String(16), nullable=False),
              Column("detail", Text))  # JSON: reason, approver, attested_by ...
    return md


def _v1_to_v2(conn: Connection) -> None:
    """Check titles and severities, waivers and attestations: new tables, empty for the runs before, and
    the first run number that records them (``schema_2_from_run``), so that the diff can tell a run
    without waivers from a run that could not record them."""
    from sqlalchemy import func, select

    current = tables(2)
    for name in (f"{PREFIX}run_checks", f"{PREFIX}run_expiries"):
        current.tables[name].create(conn, checkfirst=True)
    runs, meta = current.tables[f"{PREFIX}runs"], current.tables[f"{PREFIX}meta"]
    latest = conn.execute(select(func.max(runs.c.id))).scalar() or 0
    conn.execute(meta.insert().values(key="schema_2_from_run", value=str(latest + 1)))


# MIGRATIONS[n] takes a history from version n to n + 1, inside the transaction that opens it.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _v1_to_v2}
