"""Engine, sessions, the declarative base and the column types every model shares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import JSON, Connection, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from publisher.config import get_settings

# Stable constraint names, so Alembic migrations read the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both databases.

    SQLite has no time zone type, so values go in as naive UTC and come back with
    UTC attached; a naive datetime handed in is refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


# JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL and a busy timeout on every connection: several worker processes share one
    # file, and without these SQLite answers "database is locked".
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
    dbapi_conn.isolation_level = "IMMEDIATE"


# Execution option: this connection's transactions begin as write transactions at once.
IMMEDIATE = "sqlite_begin_immediate"


def _sqlite_begin(conn: Connection) -> None:
    """How a transaction begins on SQLite.

    In WAL mode a transaction that read and then writes must turn its read snapshot into
    the write lock; if another process committed in between, SQLite refuses at once with
    "database is locked", whatever the busy timeout (SQLITE_BUSY_SNAPSHOT; shown in
    tests/faults/test_concurrent_writes.py). So:

    - units of work (``session_scope``: every task, command and service write) begin
      with BEGIN IMMEDIATE: they wait for the write lock (up to busy_timeout) instead
      of failing, and what they read stays true until they commit;
    - other sessions (a console request's, which mostly reads) keep the sqlite3
      module's way: reads outside a transaction, BEGIN IMMEDIATE just before the first
      write, so a page that only reads never holds the write lock;
    - connections in AUTOCOMMIT (the ledger's one-statement updates) have one implicit
      transaction per statement.
    """
    options = conn.get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT":
        return
    driver = conn.connection.dbapi_connection
    assert driver is not None
    if options.get(IMMEDIATE):
        driver.isolation_level = None  # we say when it begins, not the sqlite3 module
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        # The pool sets "" (plain BEGIN) back after a connection was used in AUTOCOMMIT.
        driver.isolation_level = "IMMEDIATE"


def _sqlite_savepoint(conn: Connection, _name: str | None) -> None:
    # Left to itself, a SAVEPOINT outside a transaction starts one that its RELEASE
    # commits: an edition was once committed this way without its deliveries.
    driver = conn.connection.dbapi_connection
    if driver is not None and not driver.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    url = url or get_settings().database_url
    parsed = make_url(url)
    if parsed.drivername == "postgresql" or parsed.drivername == "postgres":
        # psycopg 3 is the driver we ship.
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            from publisher.datafiles import sqlite_files

            # Owner-only before SQLite opens it: its -wal and -shm files copy these modes.
            sqlite_files(Path(parsed.database))
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "savepoint", _sqlite_savepoint)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


_engine: Engine | None = None
_factory: sessionmaker[Session] | None = None
_units: sessionmaker[Session] | None = None  # sessions for session_scope (see _sqlite_begin)


def _unit_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine.execution_options(**{IMMEDIATE: True}), expire_on_commit=False)


def get_engine() -> Engine:
    global _engine, _factory, _units
    if _engine is None:
        _engine = make_engine()
        _factory = sessionmaker(_engine, expire_on_commit=False)
        _units = _unit_factory(_engine)
    return _engine


def set_engine(engine: Engine | None) -> None:
    """Point the process at another engine (tests, the CLI's --database option)."""
    global _engine, _factory, _units
    if _engine is not None and _engine is not engine:
        _engine.dispose()
    _engine = engine
    _factory = sessionmaker(engine, expire_on_commit=False) if engine is not None else None
    _units = _unit_factory(engine) if engine is not None else None


def session_factory() -> sessionmaker[Session]:
    get_engine()
    assert _factory is not None
    return _factory


@contextmanager
def session_scope() -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error. On SQLite it holds
    the write lock from its first statement (BEGIN IMMEDIATE): keep it short."""
    global _units
    engine = get_engine()
    if _units is None:
        _units = _unit_factory(engine)
    session = _units()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
