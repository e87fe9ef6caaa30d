"""Pages built once per refresh and kept in the database, so that every web process
answers them with one read until the summaries change.

The worker builds them right after the refresh that changed the summaries
(``publisher.tasks.insight``); a page asked for before that (or on a new day before the
next refresh) is built by the request, kept in that process only (``memo``), and not
written: a GET never waits for the database's write lock.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from publisher.insight.store import insert_for
from publisher.models import InsightBuilt

# Read on every request that builds a page: a statement built once (the ORM's own path
# cost more than the read).
_READ = select(InsightBuilt.body).where(
    InsightBuilt.name == bindparam("name"),
    InsightBuilt.generation == bindparam("generation"),
    InsightBuilt.day == bindparam("day"),
)


def read(session: Session, name: str, generation: int, day: dt.date) -> str | None:
    """The page as built from this generation of the summaries on this day, if it was."""
    params = {"name": name, "generation": generation, "day": day}
    body: str | None = session.connection().execute(_READ, params).scalar()
    return body


def keep(session: Session, name: str, generation: int, day: dt.date, body: str) -> None:
    """Replace the kept page (the caller commits)."""
    values = {"name": name, "generation": generation, "day": day, "body": body}
    stmt = insert_for(session, InsightBuilt.__table__).values(**values)
    session.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=values))
