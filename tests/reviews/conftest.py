"""Fixtures for provider reviews: a fixed clock, a directory of entries with and without
contact addresses, the SMTP sink, and the console's signed-in officers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from publisher.db import session_factory
from publisher.models import Entry, Source
from tests.clock import Clock
from tests.console.conftest import Officer, app, officers, sign_in  # noqa: F401
from tests.factories import make_entry, make_source
from tests.mailsink import mail_sink  # noqa: F401

# Tests run at a fixed moment (a Tuesday, UK summer time); dates are counted from it.
NOW = dt.datetime(2026, 6, 16, 9, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 6, 16)


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


@pytest.fixture(autouse=True)
def _fixed_clock(clock: Clock) -> Clock:
    clock.set(NOW)
    return clock


@pytest.fixture()
def session(db: Engine) -> Iterator[Session]:
    s = session_factory()()
    yield s
    s.rollback()
    s.close()


def entry(session: Session, source: Source, entry_id: str, **kw: Any) -> Entry:
    kw.setdefault("assured_date", days_ago(400))
    kw.setdefault("stale", kw["assured_date"] is None or (TODAY - kw["assured_date"]).days > 365)
    return make_entry(session, source, entry_id, kw.pop("name", f"Service {entry_id}"), **kw)


@pytest.fixture()
def directory(session: Session) -> dict[str, Entry]:
    """Two providers and some entries: stale, about to go stale, fresh, without address."""
    source = make_source(session, "north")
    entries = {
        # Provider A: its own email on two entries, one stale, one going stale in 20 days.
        "a1": entry(session, source, "a1", email="Team@Provider-A.example", name="Swim club"),
        "a2": entry(
            session,
            source,
            "a2",
            email="team@provider-a.example",
            name="Art club",
            assured_date=days_ago(345),
        ),
        # Provider B: only the organisation's address (ORUK v1 organization.email).
        "b1": entry(
            session,
            source,
            "b1",
            name="Speech help",
            record={"organization": {"name": "B", "email": "office@b.example"}},
        ),
        # ORUK 3.0 contacts[].email.
        "c1": entry(
            session,
            source,
            "c1",
            name="Play scheme",
            record={"contacts": [{"name": "Sam", "email": "sam@c.example"}]},
        ),
        # No address anywhere.
        "n1": entry(session, source, "n1", name="Drop-in", record={"organization": {"name": "N"}}),
        # Fresh: not asked.
        "f1": entry(session, source, "f1", email="fresh@f.example", assured_date=days_ago(30)),
        # Removed: not asked.
        "r1": entry(session, source, "r1", email="gone@r.example", present=False),
    }
    session.commit()
    return entries
