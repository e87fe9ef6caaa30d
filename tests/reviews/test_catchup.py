"""The loop closes by itself: a later crawl that shows the entry re-checked, changed or
removed closes its open review with a note (a real crawl of a loopback ORUK directory)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from publisher.config import reset_settings
from publisher.db import session_scope
from publisher.demo.directory import DirectoryServer, DirectoryState
from publisher.demo.generate import make_services, touch
from publisher.ingest import add_source, crawl_source
from publisher.models import AuditEvent, ReplyKind, Review, ReviewStatus
from publisher.reviews.holds import held_entry_pks
from publisher.reviews.sending import run_daily
from tests.reviews.conftest import TODAY

pytestmark = pytest.mark.date_sensitive


@pytest.fixture()
def oruk(db, monkeypatch: pytest.MonkeyPatch) -> Iterator[DirectoryServer]:
    monkeypatch.setenv("CRAWL_MIN_REQUEST_INTERVAL", "0")
    monkeypatch.setenv("CRAWL_PAGE_SIZE", "50")
    monkeypatch.setenv("CRAWL_MAX_REMOVED", "5")
    monkeypatch.setenv("CRAWL_MAX_REMOVED_SHARE", "0.5")
    reset_settings()
    services = make_services(12, seed=3, today=TODAY)
    # Every service stale, so that each gets a review request.
    for s in services:
        old = (TODAY - dt.timedelta(days=600)).isoformat()
        s["assured_date"] = old
        s["pc_metadata"]["date_assured"] = old
    server = DirectoryServer(DirectoryState(services=services, version="3")).start()
    with session_scope() as session:
        add_source(session, "north", server.url, "https://lo.example/s/{id}")
    yield server
    server.stop()


def reviews() -> dict[str, Review]:
    with session_scope() as session:
        found = {r.entry_id: r for r in session.scalars(select(Review))}
        session.expunge_all()
        return found


def test_a_later_crawl_closes_reviews_the_directory_caught_up_with(oruk, mail_sink):
    assert crawl_source("north", today=TODAY, notify=False).status == "complete"
    assert run_daily().sent == 12
    services = oruk.state.services
    rechecked, renamed, removed, closed_by_provider = (s["id"] for s in services[:4])
    # A provider says one has closed: it is held until the directory catches up.
    with session_scope() as session:
        review = session.scalars(select(Review).where(Review.entry_id == closed_by_provider)).one()
        review.reply = ReplyKind.CLOSED
    with session_scope() as session:
        assert len(held_entry_pks(session)) == 1

    later = TODAY + dt.timedelta(days=20)
    touch(services[0], later)
    services[1]["name"] = services[1]["name"] + " (new name)"
    services[2]["status"] = "inactive"
    services[3]["status"] = "inactive"
    assert crawl_source("north", today=later, notify=False).status == "complete"

    found = reviews()
    assert found[rechecked].status is ReviewStatus.CLOSED
    assert found[rechecked].closed_reason == (
        f"Closed automatically: the directory says it was checked on {later.isoformat()}"
    )
    assert "details for this entry changed" in (found[renamed].closed_reason or "")
    assert "removed this entry" in (found[removed].closed_reason or "")
    assert "removed this entry" in (found[closed_by_provider].closed_reason or "")
    untouched = [
        r
        for key, r in found.items()
        if key not in {rechecked, renamed, removed, closed_by_provider}
    ]
    assert len(untouched) == 8 and {r.status for r in untouched} == {ReviewStatus.OPEN}
    with session_scope() as session:
        assert held_entry_pks(session) == set()
        notes = session.scalars(
            select(AuditEvent.note).where(AuditEvent.action == "review.caught_up")
        ).all()
        assert len(notes) == 4
