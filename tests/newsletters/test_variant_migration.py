"""Migration 0630 adds ``edition_variants.needs_note``: variants already written read
false, and it goes back down cleanly. On a database of its own (SQLite, or a fresh
PostgreSQL database when the run is on PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, text

from publisher import db as dbmod
from publisher.migrate import downgrade, upgrade
from tests.conftest import PG_ADMIN_URL, backend

BEFORE = "0620_entry_opening_times"
THIS = "0630_variant_needs_note"


@pytest.fixture()
def own_engine(tmp_path: Path) -> Iterator[Engine]:
    if backend() != "postgresql":
        eng = dbmod.make_engine(f"sqlite:///{tmp_path / 'migrate.sqlite3'}")
        yield eng
        eng.dispose()
        return
    name = f"lop_migrate_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng = dbmod.make_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _columns(engine: Engine) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns("edition_variants")}


def _revision(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.scalar(text("SELECT version_num FROM alembic_version")))


def test_needs_note_goes_up_with_false_for_old_variants_and_back_down(
    own_engine: Engine,
) -> None:
    upgrade(own_engine, BEFORE)
    assert "needs_note" not in _columns(own_engine)
    with own_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO editions (id, frequency, window_start, window_end, status,"
                " created_at, items, change_count, recipients) VALUES (1, 'weekly',"
                " '2026-11-20 07:00:00', '2026-11-27 07:00:00', 'sending',"
                " '2026-11-27 07:00:00', '[]', 0, 1)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO edition_variants (edition_id, number, item_indexes,"
                " adulthood_section) VALUES (1, 0, '[0]', :no)"
            ),
            {"no": False},
        )
    upgrade(own_engine, THIS)
    assert _revision(own_engine) == THIS
    assert "needs_note" in _columns(own_engine)
    with own_engine.begin() as conn:
        assert conn.scalar(text("SELECT needs_note FROM edition_variants")) in (False, 0)
        # New rows may say true; the column takes no null.
        conn.execute(
            text(
                "INSERT INTO edition_variants (edition_id, number, item_indexes,"
                " adulthood_section, needs_note) VALUES (1, 1, '[0]', :no, :yes)"
            ),
            {"no": False, "yes": True},
        )
    downgrade(own_engine, BEFORE)
    assert _revision(own_engine) == BEFORE
    assert "needs_note" not in _columns(own_engine)
    with own_engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM edition_variants")) == 2
    upgrade(own_engine)  # and up again to the head
    assert "needs_note" in _columns(own_engine)
