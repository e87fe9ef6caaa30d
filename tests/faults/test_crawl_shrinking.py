"""A shrinking directory is not a mass closure (issue 10, point 3).

A directory that suddenly serves half its services, with a consistent envelope or with
half-filled pages, must not make the change log announce closures: short pages that are
not the last page make the crawl incomplete, and a crawl that would remove more than
CRAWL_MAX_REMOVED_SHARE (10%) or CRAWL_MAX_REMOVED (25) at once is held until an officer
confirms or the next crawl finds the services again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from publisher.db import session_scope
from publisher.demo.directory import DirectoryServer
from publisher.ingest import add_source, crawl_source
from publisher.models import Change, ChangeKind, Crawl, CrawlStatus, Entry, Source
from tests.faults.crawl_servers import (
    directory_of,
    fault_crawl_env,  # noqa: F401 - fixture
    run_publisher,
    serve_half_filled_pages,
    wait_until,
)

# Staleness is worked out on every crawl: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive

COUNT = 60


@pytest.fixture()
def directory(fault_crawl_env) -> Iterator[DirectoryServer]:  # noqa: F811
    server = directory_of(COUNT, dt.date.today())
    with session_scope() as session:
        add_source(session, "north", server.url)
    assert crawl_source("north", notify=False).status == "complete"  # the baseline
    yield server
    server.stop()


def _removed() -> int:
    with session_scope() as session:
        return (
            session.scalar(
                select(func.count()).select_from(Change).where(Change.kind == ChangeKind.REMOVED)
            )
            or 0
        )


def _present() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Entry).where(Entry.present)) or 0


def _last_crawl() -> Crawl:
    with session_scope() as session:
        crawl = session.scalars(select(Crawl).order_by(Crawl.id.desc()).limit(1)).one()
        session.expunge(crawl)
        return crawl


def _shrink_to(server: DirectoryServer, keep: int) -> list[dict]:
    with server.state.lock:
        gone = server.state.services[keep:]
        server.state.services = server.state.services[:keep]
    return gone


def test_half_the_directory_gone_is_held_and_nothing_is_removed(directory, database_url, tmp_path):
    services = list(directory.state.services)
    _shrink_to(directory, COUNT // 2)
    first = crawl_source("north", notify=False)
    # One absence is a blip: nothing is removed yet, so there is nothing to hold.
    assert first.status == "complete" and first.counts["removed"] == 0
    second = crawl_source("north", notify=False)
    assert second.status == "held"
    assert "held: 30 of 60 services would be removed" in (second.error or "")
    crawl = _last_crawl()
    assert crawl.status is CrawlStatus.HELD and crawl.error == "held: 30 would be removed"
    assert crawl.counts["would_remove"] == 30
    assert _removed() == 0 and _present() == COUNT

    # An officer sees it in `publisher source list` (and on the Sources page).
    listing = run_publisher("source", "list", database_url=database_url, data_dir=tmp_path)
    assert listing.returncode == 0, listing.stderr
    assert "held: 30 would be removed; nothing was changed" in listing.stdout
    assert "publisher source confirm-removals north" in listing.stdout
    # `publisher ingest` says so and exits non-zero: someone has to look.
    again = run_publisher("ingest", "north", database_url=database_url, data_dir=tmp_path)
    assert again.returncode == 1 and "held: 30 of 60" in again.stdout
    assert _removed() == 0

    # The directory comes back: the next crawl decides, and nothing was lost.
    with directory.state.lock:
        directory.state.services = services
    took = wait_until(lambda: crawl_source("north", notify=False).status == "complete", 90)
    assert took is not None and took < 90
    assert _removed() == 0 and _present() == COUNT
    with session_scope() as session:
        assert session.scalar(select(func.max(Entry.missing_crawls))) == 0


def test_confirmed_removals_are_made_once_by_the_next_crawl(directory, database_url, tmp_path):
    gone = _shrink_to(directory, 20)
    crawl_source("north", notify=False)
    assert crawl_source("north", notify=False).status == "held"
    assert _removed() == 0

    done = run_publisher(
        "source", "confirm-removals", "north", database_url=database_url, data_dir=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "may remove up to 40 services" in done.stdout
    assert "crawl" in done.stdout and "removed 40" in done.stdout
    assert _removed() == 40 and _present() == 20
    with session_scope() as session:
        removed_ids = set(
            session.scalars(select(Change.entry_id).where(Change.kind == ChangeKind.REMOVED))
        )
        # A confirmation covers one crawl.
        assert session.scalar(select(Source.removals_confirmed)) is None
    assert removed_ids == {svc["id"] for svc in gone}
    # Nothing held now: confirming again is refused in plain words.
    again = run_publisher(
        "source", "confirm-removals", "north", database_url=database_url, data_dir=tmp_path
    )
    assert again.returncode == 1 and "was not held" in again.stderr


def test_half_filled_pages_that_declare_their_size_are_incomplete(directory):
    serve_half_filled_pages(directory, per_page=10, declare_size=True)
    for _ in range(2):
        summary = crawl_source("north", notify=False)
        assert summary.status == "incomplete"
        assert "page 1 had 5 services where a full page has 10" in (summary.error or "")
    assert _removed() == 0 and _present() == COUNT
    with session_scope() as session:
        assert session.scalar(select(func.max(Entry.missing_crawls))) == 0


def test_half_filled_pages_without_a_size_or_total_are_held(directory):
    served = serve_half_filled_pages(directory, per_page=10, declare_size=False)
    assert served == 30
    assert crawl_source("north", notify=False).status == "complete"
    held = crawl_source("north", notify=False)
    assert held.status == "held" and "30 of 60" in (held.error or "")
    assert _removed() == 0 and _present() == COUNT


def test_a_few_closures_at_once_are_not_held(directory):
    gone = _shrink_to(directory, COUNT - 2)  # 2 of 60: under 10% and under 25
    crawl_source("north", notify=False)
    summary = crawl_source("north", notify=False)
    assert summary.status == "complete" and summary.counts["removed"] == 2
    assert _removed() == 2
    with session_scope() as session:
        assert set(
            session.scalars(select(Change.entry_id).where(Change.kind == ChangeKind.REMOVED))
        ) == {svc["id"] for svc in gone}


def test_many_closures_by_status_are_held_too(directory, monkeypatch):
    monkeypatch.setenv("CRAWL_MAX_REMOVED", "5")
    from publisher.config import reset_settings

    reset_settings()
    with directory.state.lock:
        for svc in directory.state.services[:6]:
            svc["status"] = "defunct"
            svc["last_modified"] = dt.datetime.now(dt.UTC).isoformat()
    held = crawl_source("north", notify=False)
    assert held.status == "held" and "6 of 60" in (held.error or "")
    assert _removed() == 0 and _present() == COUNT
