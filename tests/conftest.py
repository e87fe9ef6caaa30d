"""Shared fixtures: a real database (SQLite or PostgreSQL) and the real Redis.

Pick the database with TEST_DATABASE=sqlite (default) or TEST_DATABASE=postgresql.
PostgreSQL runs get a database of their own, made for the session and dropped after it,
so that several runs (and developers) can share one server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, create_engine, text

from publisher import db as dbmod
from publisher.config import reset_settings
from publisher.insight import memo
from publisher.migrate import upgrade
from tests.browser import browser, live_app  # noqa: F401 - fixtures for every area
from tests.clock import _shifted_clock, clock  # noqa: F401 - fixtures for every area
from tests.settings_env import _fresh_settings, env  # noqa: F401 - fixtures for every area

# The tests' servers (ORUK directories, platform stubs, Bluesky's PDS) are on loopback,
# which outgoing requests refuse unless allowed; tests/security/test_ssrf.py takes it away.
os.environ.setdefault("OUTGOING_ALLOWLIST", "127.0.0.0/8,::1")
# Outside the demo the web app needs a contact for families (publisher.web.create_app).
os.environ.setdefault("COUNCIL_CONTACT_EMAIL", "localoffer@example.gov.uk")

# Sample ORUK responses kept in the repository with their licence notice (NOTICE.md).
ORUK_SAMPLES = Path(__file__).resolve().parent / "data" / "oruk"

PG_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def backend() -> str:
    return os.environ.get("TEST_DATABASE", "sqlite")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if backend() == "postgresql":
        name = f"lop_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        try:
            yield url
        finally:
            dbmod.set_engine(None)
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        yield f"sqlite:///{path}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = dbmod.make_engine(database_url)
    # Build the schema with the real migrations, so that they are tested on every run.
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture()
def db(
    engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    """A clean database for one test; the application's own sessions use it too."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PUBLISHER_DATA_DIR", str(tmp_path / "data"))
    reset_settings()
    dbmod.set_engine(engine)
    # Answers kept per generation of the summaries: each test's database starts from
    # nothing, so its generation numbers repeat.
    memo.clear_all()
    yield engine
    memo.clear_all()
    dbmod._engine = None  # keep the session engine open for the next test
    dbmod._factory = None
    _truncate(engine)
    reset_settings()


def _truncate(engine: Engine) -> None:
    meta = dbmod.Base.metadata
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in meta.sorted_tables)
            if names:
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(meta.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture()
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own on the real Redis, removed afterwards."""
    prefix = f"lop-test-{uuid.uuid4().hex[:8]}:"
    yield prefix
    client = redis.Redis.from_url(TEST_REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture()
def redis_client(redis_prefix: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(TEST_REDIS_URL)
    yield client
    client.close()
