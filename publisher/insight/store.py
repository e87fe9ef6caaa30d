"""Small write helpers for the summary tables: add to counts, replace a day's snapshot,
read and move a watermark. The same SQL on SQLite and PostgreSQL (both speak
``INSERT ... ON CONFLICT``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from publisher.models import InsightCount, InsightSnapshot, InsightState

CountKey = tuple[str, str, str]  # (metric, period, key)


def insert_for(session: Session, table: Any) -> Any:
    """An INSERT that takes ``ON CONFLICT`` on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def add_counts(session: Session, counts: Mapping[CountKey, int]) -> None:
    """Add to counts (made at zero when new); one statement for all of them."""
    rows = [
        {"metric": m, "period": p, "key": k, "count": n} for (m, p, k), n in counts.items() if n
    ]
    if not rows:
        return
    stmt = insert_for(session, InsightCount.__table__)
    stmt = stmt.on_conflict_do_update(
        index_elements=["metric", "period", "key"],
        set_={"count": InsightCount.__table__.c.count + stmt.excluded.count},
    )
    session.execute(stmt, rows)


def set_counts(session: Session, metric: str, counts: Mapping[tuple[str, str], int]) -> None:
    """Replace every count of one metric (for metrics recomputed whole)."""
    session.execute(delete(InsightCount).where(InsightCount.metric == metric))
    rows = [{"metric": metric, "period": p, "key": k, "count": n} for (p, k), n in counts.items()]
    if rows:
        session.execute(insert(InsightCount), rows)


def set_snapshot(session: Session, day: dt.date, metric: str, counts: Mapping[str, int]) -> None:
    """Replace one day's counts of one metric."""
    session.execute(
        delete(InsightSnapshot).where(InsightSnapshot.day == day, InsightSnapshot.metric == metric)
    )
    rows = [{"day": day, "metric": metric, "key": k, "count": n} for k, n in counts.items()]
    if rows:
        session.execute(insert(InsightSnapshot), rows)


# Read on every page request (the summaries' generation): a statement built once, run on
# the session's connection (the ORM's own path cost more than the read).
_READ_WATERMARK = select(InsightState.value).where(InsightState.name == bindparam("name"))


def watermark(session: Session, name: str) -> int:
    value = session.connection().execute(_READ_WATERMARK, {"name": name}).scalar()
    return int(value or 0)


def set_watermark(session: Session, name: str, value: int) -> None:
    stmt = insert_for(session, InsightState.__table__).values(name=name, value=value)
    stmt = stmt.on_conflict_do_update(index_elements=["name"], set_={"value": value})
    session.execute(stmt)
