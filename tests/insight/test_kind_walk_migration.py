"""Migration 0640 gives each topic row its change's kind (for the kind walk index): rows
summarised before it get their kind from their change, and it goes back down cleanly.
On a database of its own (SQLite, or a fresh PostgreSQL database on a PostgreSQL run)."""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session

from publisher.insight import upkeep
from publisher.migrate import downgrade, upgrade
from tests.factories import make_entry, make_source, record_change
from tests.newsletters.test_variant_migration import own_engine  # noqa: F401 - fixture

BEFORE = "0630_variant_needs_note"
THIS = "0640_insight_kind_walk"


def _has_kind(engine: Engine) -> bool:
    return "kind" in {c["name"] for c in inspect(engine).get_columns("insight_change_topics")}


def test_topic_rows_get_their_changes_kind_and_it_goes_back_down(
    own_engine: Engine,  # noqa: F811 - the fixture imported above
) -> None:
    upgrade(own_engine)
    with Session(own_engine) as session:
        source = make_source(session)
        first = make_entry(session, source, "a", "Swim club", needs=["sensory-physical"])
        second = make_entry(session, source, "b", "Reading group")
        record_change(session, first, "added")
        record_change(session, second, "added")
        record_change(session, first, "removed")
        upkeep.refresh_changes(session)
        session.commit()
    downgrade(own_engine, BEFORE)
    assert not _has_kind(own_engine)
    upgrade(own_engine, THIS)
    assert _has_kind(own_engine)
    with own_engine.connect() as conn:
        pairs = conn.execute(
            text(
                "SELECT t.kind, c.kind FROM insight_change_topics AS t"
                " JOIN insight_changes AS c ON c.change_id = t.change_id"
            )
        ).all()
        assert len(pairs) > 3 and all(walked == own for walked, own in pairs)
        assert {own for _, own in pairs} == {"added", "removed"}
        indexes = {i["name"] for i in inspect(own_engine).get_indexes("insight_change_topics")}
        assert "ix_insight_change_topics_kind_walk" in indexes
