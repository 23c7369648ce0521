"""Where the history is, opening it (creating or migrating its schema), and transactions on it.

The store is named by a URL (``--history``, else ``$AUDITOR_HISTORY``, else the default):

- by default, the SQLite file ``history.sqlite`` in the user's data directory (platformdirs:
  ``~/.local/share/auditor`` on Linux, ``%LOCALAPPDATA%\\auditor`` on Windows);
- a file path or ``sqlite:///PATH``: an SQLite file;
- ``postgresql://user@host:port/db`` (driver: psycopg 3, the ``postgresql`` extra), for a team
  that shares one history; give the password with ``PGPASSWORD`` or ``~/.pgpass`` rather than
  in the URL, which the process list shows;
- ``off``: record nothing (``AUDITOR_HISTORY=off`` in a test suite or a one-off run).

Two audits may record into one SQLite file at once: a writer takes the file's write lock when its
transaction begins (``BEGIN IMMEDIATE``) and another waits for it (a busy timeout of a minute)
instead of failing half-way; every run is one transaction, whole or not at all.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.errors import InputError

ENV = "AUDITOR_HISTORY"
OFF = "off"
DEFAULT_FILE = "history.sqlite"
BUSY_TIMEOUT_S = 60


@dataclass(frozen=True)
class Location:
    """A history store: its SQLAlchemy URL, how messages name it, and whether it is the default one."""

    url: str
    shown: str
    default: bool = False
    path: Path | None = None  # the SQLite file

    @property
    def sqlite(self) -> bool:
        return self.path is not None


def default_path() -> Path:
    import platformdirs

    return platformdirs.user_data_path("auditor", appauthor=False) / DEFAULT_FILE


def locate(given: str | None) -> Location | None:
    """The store ``--history`` names (None: ``$AUDITOR_HISTORY``, else the default), or None for ``off``."""
    value = given if given is not None else os.environ.get(ENV)
    source = "--history" if given is not None else f"${ENV}"
    if value is None or not value.strip():
        path = default_path()
        return Location(f"sqlite:///{path}", str(path), default=True, path=path)
    value = value.strip()
    if value.lower() == OFF:
        return None
    if "://" not in value:
        path = Path(value).expanduser().absolute()
        return Location(f"sqlite:///{path}", str(path), path=path)
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise InputError(source, f"not a database URL: {_hidden(value)} (expected a file, sqlite:///PATH or "
                         "postgresql://USER@HOST:PORT/DATABASE)") from None
    shown = url.render_as_string(hide_password=True)
    backend, _, driver = url.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        if not url.database or url.database == ":memory:":
            raise InputError(source, f"{shown}: an SQLite history needs a file (sqlite:///PATH)")
        path = Path(url.database).expanduser().absolute()
        return Location(f"sqlite:///{path}", str(path), path=path)
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        return Location(url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False), shown)
    raise InputError(source, f"{shown}: unsupported history store (expected a file, sqlite:///PATH or "
                     "postgresql://USER@HOST:PORT/DATABASE)")


def _hidden(value: str) -> str:
    """A URL as a message may show it: no password."""
    head, sep, rest = value.partition("://")
    if sep and "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{head}://{user}:***@{host}" if ":" in credentials else value
    return value


class Store:
    """An open history: its engine and tables at the current schema version."""

    def __init__(self, location: Location, engine: Any) -> None:
        from auditor.history.schema import tables

        self.location = location
        self.engine = engine
        self.md = tables()
        t = self.md.tables
        self.meta, self.runs, self.scores = t["auditor_meta"], t["auditor_runs"], t["auditor_run_scores"]
        self.checksets, self.targets = t["auditor_run_checksets"], t["auditor_run_targets"]
        self.checks, self.expiries = t["auditor_run_checks"], t["auditor_run_expiries"]
        self.opened_version: int | None = None  # the version found on opening (before any migration)

    @contextlib.contextmanager
    def write(self) -> Iterator[Any]:
        """A connection in a write transaction (SQLite: the write lock taken at its start), committed at the end."""
        with self.errors(), self.engine.connect() as conn:
            conn.execution_options(auditor_write=True)
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Any]:
        with self.errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        """Database errors as an InputError naming the store (exit 2), never a traceback."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            yield
        except SQLAlchemyError as exc:
            raise InputError(self.location.shown, f"history store: {_reason(exc)}") from None
        except OSError as exc:
            raise InputError(self.location.shown, f"history store: {exc.strerror or exc}") from None

    def close(self) -> None:
        self.engine.dispose()


def _reason(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def open_store(location: Location, create: bool) -> Store:
    """The store, its schema created (``create``) or migrated to the current version.

    Without ``create``, a store that does not exist yet is an InputError: the history and diff
    commands read, and must not leave an empty file behind a mistyped path.
    """
    if location.path is not None and not location.path.exists():
        if not create:
            raise InputError(location.shown, "no history here: auditor audit records each run "
                             "(in the default store, or the one --history names)")
        _create_file(location.path)
    engine = _engine(location)
    store = Store(location, engine)
    try:
        with store.read() as conn:
            found = _version(store, conn)
        if found == _current():  # nothing to change: no write lock taken (a read-only copy opens too)
            store.opened_version = found
            return store
        for attempt in (1, 2):
            try:
                with store.write() as conn:
                    store.opened_version = _prepare(store, conn, create)
                break
            except InputError as exc:
                # two first audits creating one PostgreSQL schema at once: the loser sees the winner's tables
                if attempt == 2 or "already exists" not in exc.problem and "duplicate" not in exc.problem:
                    raise
    except BaseException:
        engine.dispose()
        raise
    return store


def _create_file(path: Path) -> None:
    """An empty SQLite file readable by its owner only (the history names every target), in a private folder."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    except OSError as exc:
        raise InputError(str(path), f"cannot create the history: {exc.strerror or exc}") from None


def _engine(location: Location) -> Any:
    from sqlalchemy import create_engine, event

    if location.sqlite:
        engine = create_engine(location.url, connect_args={"timeout": BUSY_TIMEOUT_S})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            # The driver's own transaction handling off, so that ours (below) decides how each begins.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            write = conn.get_execution_options().get("auditor_write")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    try:
        import psycopg  # noqa: F401 - the driver SQLAlchemy loads for postgresql+psycopg
    except ImportError:
        raise InputError(location.shown, "a PostgreSQL history needs the psycopg driver: "
                         "pip install 'lg-security-auditor[postgresql]'") from None
    return create_engine(location.url, connect_args={"connect_timeout": 15, "application_name": "auditor"})


def _current() -> int:
    from auditor.history.schema import SCHEMA_VERSION

    return SCHEMA_VERSION


def _version(store: Store, conn: Any) -> int | None:
    """The schema version the store holds, None when it has no history yet."""
    from sqlalchemy import inspect, select

    from auditor.history.schema import SCHEMA_VERSION

    names = set(inspect(conn).get_table_names())
    if store.meta.name not in names:
        if any(name.startswith("auditor_") for name in names) or (store.location.sqlite and names):
            raise InputError(store.location.shown, "not an auditor history (it has other tables and no "
                             "auditor_meta): give another file or database")
        return None
    found = conn.execute(select(store.meta.c.value).where(store.meta.c.key == "schema_version")).scalar()
    try:
        version = int(found)
    except (TypeError, ValueError):
        raise InputError(store.location.shown, f"history schema version {found!r} is not a number") from None
    if version > SCHEMA_VERSION:
        raise InputError(store.location.shown, f"written by a newer auditor (history schema {version}; this one "
                         f"reads up to {SCHEMA_VERSION}): upgrade auditor to read it")
    if version < 1:
        raise InputError(store.location.shown, f"history schema version {version} is unknown")
    return version


def _prepare(store: Store, conn: Any, create: bool) -> int:
    """The schema version found; the schema created or migrated to the current version."""
    from auditor.history.schema import MIGRATIONS, SCHEMA_VERSION, tables

    version = _version(store, conn)
    if version is None:
        if not create:
            raise InputError(store.location.shown, "no history here: auditor audit records each run")
        tables().create_all(conn)
        conn.execute(store.meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
        return SCHEMA_VERSION
    for step in range(version, SCHEMA_VERSION):
        MIGRATIONS[step](conn)
    if version != SCHEMA_VERSION:
        conn.execute(store.meta.update().where(store.meta.c.key == "schema_version")
                     .values(value=str(SCHEMA_VERSION)))
    return version
