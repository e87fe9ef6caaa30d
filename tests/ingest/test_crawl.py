"""Crawling a real HTTP directory into the change log."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from sqlalchemy import func, select

from publisher.db import session_scope
from publisher.demo.directory import DirectoryServer, Fault
from publisher.demo.generate import touch
from publisher.ingest import CrawlBusy, add_source, crawl_source, take_lease
from publisher.models import Change, ChangeKind, Crawl, Entry, QuarantinedRecord, Source
from tests.ingest.conftest import TODAY

# Editions, windows, staleness or tokens: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive

LATER = TODAY + dt.timedelta(days=1)


def _add(server: DirectoryServer, name: str = "north") -> None:
    with session_scope() as session:
        add_source(session, name, server.url, "https://localoffer.example.gov.uk/s/{id}")


def _changes() -> list[Change]:
    with session_scope() as session:
        return list(session.scalars(select(Change).order_by(Change.id)))


def _entry(entry_id: str) -> Entry:
    with session_scope() as session:
        return session.scalars(select(Entry).where(Entry.entry_id == entry_id)).one()


def test_first_crawl_is_a_baseline_and_announces_nothing(crawl_env, directory):
    _add(directory)
    summary = crawl_source("north", today=TODAY, notify=False)
    assert summary.status == "complete" and summary.baseline
    assert summary.counts["added"] == 10
    assert _changes() == []
    # v3 lists leave nested data out, so each new service's detail was fetched once.
    detail_hits = sum(
        n for path, n in directory.state.hits.items() if path.startswith("/services/")
    )
    assert detail_hits == 10
    assert summary.requests_made == 1 + 3 + 10  # GET /, three pages of 4, ten details
    with session_scope() as session:
        assert session.scalar(select(Source.oruk_version)) == "3"
    first = directory.state.services[0]
    entry = _entry(first["id"])
    assert entry.minimum_age == 0 and entry.maximum_age == 5 and entry.age_bands == ["0-5"]
    assert entry.postcodes and entry.categories and "sensory-physical" in entry.needs
    assert "Â" not in entry.summary and "<p>" not in entry.summary


def test_recrawl_of_unchanged_data_writes_nothing_and_fetches_no_details(crawl_env, directory):
    _add(directory)
    crawl_source("north", today=TODAY, notify=False)
    directory.state.hits.clear()
    summary = crawl_source("north", today=TODAY, notify=False)
    assert summary.status == "complete" and not summary.baseline
    assert summary.counts["unchanged"] == 10
    assert summary.rows_written == 0
    assert _changes() == []
    assert not any(p.startswith("/services/") for p in directory.state.hits)


def test_a_changed_service_is_one_update_with_old_and_new_values(crawl_env, directory):
    _add(directory)
    crawl_source("north", today=TODAY, notify=False)
    svc = directory.state.services[3]
    old_name = svc["name"]
    svc["name"] = "Renamed group"
    touch(svc, TODAY)
    directory.state.hits.clear()
    summary = crawl_source("north", today=LATER, notify=False)
    assert summary.counts["updated"] == 1
    (change,) = _changes()
    assert change.kind is ChangeKind.UPDATED and change.notable
    assert "name" in change.changed_fields and "summary" in change.changed_fields
    assert change.details["name"] == {"old": old_name, "new": "Renamed group"}
    assert change.snapshot["page_url"] == f"https://localoffer.example.gov.uk/s/{svc['id']}"
    # Only the changed service's detail was fetched again.
    assert [p for p in directory.state.hits if p.startswith("/services/")] == [
        f"/services/{svc['id']}"
    ]
    # Crawling again announces nothing more.
    crawl_source("north", today=LATER, notify=False)
    assert len(_changes()) == 1


def test_list_level_change_with_same_timestamp_reuses_stored_detail(crawl_env, directory):
    _add(directory)
    crawl_source("north", today=TODAY, notify=False)
    svc = directory.state.services[2]
    svc["email"] = "new-address@provider.example.org"  # date_modified unchanged
    directory.state.hits.clear()
    summary = crawl_source("north", today=TODAY, notify=False)
    assert summary.counts["updated"] == 1
    assert not any(p.startswith("/services/") for p in directory.state.hits)
    (change,) = _changes()
    assert change.changed_fields == ["email"]
    entry = _entry(svc["id"])
    assert entry.postcodes  # nested data kept from the stored detail


def test_cosmetic_differences_produce_nothing(crawl_env, directory):
    _add(directory)
    crawl_source("north", today=TODAY, notify=False)
    svc = directory.state.services[1]
    text = svc["description"]
    # Same words in other markup and spacing, keys in another order, a new timestamp.
    svc["description"] = (
        "<div>" + text.replace("<p>", "<p>  \n ").replace("</p>", " </p>") + "</div>"
    )
    svc["name"] = "  " + svc["name"] + " "
    svc["pc_metadata"] = {**svc["pc_metadata"], "date_modified": "2026-11-20"}
    directory.state.services[1] = dict(reversed(list(svc.items())))
    summary = crawl_source("north", today=TODAY, notify=False)
    assert summary.counts["updated"] == 0
    assert _changes() == []


def test_removal_needs_two_complete_crawls_and_return_is_reopened(crawl_env, directory):
    _add(directory)
    crawl_source("north", today=TODAY, notify=False)
    gone = directory.state.services.pop(5)
    crawl_source("north", today=TODAY, notify=False)
    assert _changes() == []
    assert _entry(gone["id"]).missing_crawls == 1
    crawl_source("north", today=TODAY, notify=False)
    (removed,) = _changes()
    assert removed.kind is ChangeKind.REMOVED and removed.entry_id == gone["id"]
    assert "two complete crawls" in (removed.reason or "")
    assert not _entry(gone["id"]).present
    directory.state.services.append(gone)
    crawl_source("north", today=TODAY, notify=False)
    kinds = [c.kind for c in _changes()]
    assert kinds == [ChangeKind.REMOVED, ChangeKind.REOPENED]


def test_one_absence_then_back_is_not_news(crawl_env, directory):
    _add(directory)
    crawl_source("north", today=TODAY, notify=False)
    gone = directory.state.services.pop(0)
    crawl_source("north", today=TODAY, notify=False)
    directory.state.services.insert(0, gone)
    crawl_source("north", today=TODAY, notify=False)
    assert _changes() == []
    assert _entry(gone["id"]).missing_crawls == 0


def test_inactive_status_is_removal_at_once_and_active_again_is_reopened(crawl_env, directory):
    _add(directory)
    crawl_source("north", today=TODAY, notify=False)
    svc = directory.state.services[4]
    svc["status"] = "defunct"
    touch(svc, TODAY)
    crawl_source("north", today=TODAY, notify=False)
    svc["status"] = "active"
    svc["pc_metadata"] = {**svc["pc_metadata"], "date_modified": "2026-11-26"}
    crawl_source("north", today=TODAY, notify=False)
    kinds = [(c.kind, c.entry_id) for c in _changes()]
    assert kinds == [(ChangeKind.REMOVED, svc["id"]), (ChangeKind.REOPENED, svc["id"])]
    assert "defunct" in (_changes()[0].reason or "")


def test_temporarily_closed_is_an_update_not_a_removal(crawl_env, directory):
    _add(directory)
    crawl_source("north", today=TODAY, notify=False)
    svc = directory.state.services[4]
    svc["status"] = "temporarily closed"
    svc["pc_metadata"] = {**svc["pc_metadata"], "date_modified": "2026-11-26"}
    crawl_source("north", today=TODAY, notify=False)
    (change,) = _changes()
    assert change.kind is ChangeKind.UPDATED
    assert change.details["status"] == {"old": "active", "new": "temporarily closed"}


def test_entries_become_stale_once_as_time_passes(crawl_env, directory):
    _add(directory)
    for svc in directory.state.services:
        svc["assured_date"] = "2026-01-10"
        svc["pc_metadata"]["date_assured"] = "2026-01-10"
    crawl_source("north", today=TODAY, notify=False)
    assert _changes() == []
    with session_scope() as session:
        assert session.scalar(select(func.count()).where(Entry.stale)) == 0
    next_year = dt.date(2027, 1, 20)
    summary = crawl_source("north", today=next_year, notify=False)
    assert summary.counts["stale"] == 10
    changes = _changes()
    assert {c.kind for c in changes} == {ChangeKind.BECAME_STALE}
    assert all(c.snapshot["stale"] for c in changes)
    crawl_source("north", today=next_year, notify=False)
    assert len(_changes()) == 10  # not announced twice


def test_failing_page_after_retries_is_incomplete_and_keeps_the_last_good_snapshot(
    crawl_env, directory
):
    _add(directory)
    crawl_source("north", today=TODAY, notify=False)
    directory.state.services.pop(0)  # would be an absence if the crawl were trusted
    directory.state.faults.append(Fault(path="/services", page=2, status=503, times=10))
    summary = crawl_source("north", today=TODAY, notify=False)
    assert summary.status == "incomplete"
    assert "page 2" in (summary.error or "") and "503" in (summary.error or "")
    with session_scope() as session:
        crawl = session.get_one(Crawl, summary.crawl_id)
        assert crawl.error == summary.error and not crawl.complete
        assert session.scalar(select(func.count()).where(Entry.missing_crawls > 0)) == 0
        assert session.scalar(select(func.count()).where(Entry.present)) == 10
        assert session.scalar(select(Source.lock_token)) is None  # lease released
    assert _changes() == []


def test_retry_after_and_5xx_are_retried_and_the_crawl_completes(crawl_env, directory):
    _add(directory)
    directory.state.faults += [
        Fault(path="/services", page=1, status=429, retry_after="0", times=1),
        Fault(path="/services", page=2, status=502, times=1),
    ]
    summary = crawl_source("north", today=TODAY, notify=False)
    assert summary.status == "complete"
    assert directory.state.hits["/services"] == 3 + 2


def test_slow_server_times_out_then_succeeds(crawl_env, directory, monkeypatch):
    monkeypatch.setenv("CRAWL_READ_TIMEOUT", "0.3")
    from publisher.config import reset_settings

    reset_settings()
    _add(directory)
    directory.state.faults.append(Fault(path="/services", page=1, status=200, delay=1.0, times=1))
    summary = crawl_source("north", today=TODAY, notify=False)
    assert summary.status == "complete"


@pytest.mark.parametrize(
    "fault, words",
    [
        (Fault(path="/services", page=2, status=200, body=b"{not json", times=5), "valid JSON"),
        (Fault(path="/services", page=1, status=200, body=b'{"items": []}', times=5), "'contents'"),
        (Fault(path="/services", page=1, status=403, times=5), "HTTP 403"),
    ],
)
def test_broken_pages_make_an_incomplete_crawl(crawl_env, directory, fault, words):
    _add(directory)
    crawl_source("north", today=TODAY, notify=False)
    directory.state.faults.append(fault)
    summary = crawl_source("north", today=TODAY, notify=False)
    assert summary.status == "incomplete" and words in (summary.error or "")
    assert _changes() == []


def test_empty_feed_where_there_were_entries_removes_nothing(crawl_env, directory):
    _add(directory)
    crawl_source("north", today=TODAY, notify=False)
    saved = copy.deepcopy(directory.state.services)
    directory.state.services.clear()
    for _ in range(3):
        summary = crawl_source("north", today=TODAY, notify=False)
        assert summary.status == "incomplete" and "no services" in (summary.error or "")
    directory.state.services.extend(saved)
    crawl_source("north", today=TODAY, notify=False)
    assert _changes() == []


def test_feed_that_declares_more_than_it_serves_is_incomplete(crawl_env, directory):
    _add(directory)
    crawl_source("north", today=TODAY, notify=False)
    directory.state.declared_extra = 5
    directory.state.services.pop()
    summary = crawl_source("north", today=TODAY, notify=False)
    assert summary.status == "incomplete" and "said it had 14" in (summary.error or "")


def test_detail_404_quarantines_that_record_only(crawl_env, directory):
    _add(directory)
    victim = directory.state.services[6]["id"]
    directory.state.faults.append(Fault(path=f"/services/{victim}", status=404, times=99))
    summary = crawl_source("north", today=TODAY, notify=False)
    assert summary.status == "complete"
    assert summary.counts["added"] == 9 and summary.counts["quarantined"] == 1
    with session_scope() as session:
        q = session.scalars(select(QuarantinedRecord)).one()
        assert q.record_key == victim and "404" in q.reason


def test_v1_api_with_full_list_items_fetches_no_details(crawl_env, directory):
    directory.state.version = "1"
    directory.state.summary_lists = False
    _add(directory)
    summary = crawl_source("north", today=TODAY, notify=False)
    assert summary.status == "complete" and summary.counts["added"] == 10
    assert not any(p.startswith("/services/") for p in directory.state.hits)
    with session_scope() as session:
        assert session.scalar(select(Source.oruk_version)) == "1"


def test_two_crawls_of_one_source_never_run_at_once(crawl_env, directory):
    _add(directory)
    with session_scope() as session:
        source_id = session.scalars(select(Source.id)).one()
    take_lease(source_id, 60)
    with pytest.raises(CrawlBusy):
        crawl_source("north", today=TODAY, notify=False)
    with pytest.raises(CrawlBusy):
        take_lease(source_id, 60)


def test_expired_lease_can_be_taken_again(crawl_env, directory):
    _add(directory)
    with session_scope() as session:
        source_id = session.scalars(select(Source.id)).one()
    take_lease(source_id, -1)  # a crashed crawl's lease, already expired
    assert crawl_source("north", today=TODAY, notify=False).status == "complete"


def test_racing_crawls_from_threads_run_one_at_a_time(crawl_env, directory):
    import threading

    _add(directory)
    directory.state.faults.append(Fault(path="/", status=200, delay=0.5, body=b'{"version":"3.0"}'))
    results: list[str] = []

    def run() -> None:
        try:
            results.append(crawl_source("north", today=TODAY, notify=False).status)
        except CrawlBusy:
            results.append("busy")

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["busy", "busy", "complete"]


def test_unchanged_pages_skip_work_but_keep_quarantine_and_absences(crawl_env, directory):
    """Pages that come back byte for byte are not re-hashed record by record; what the
    last crawl concluded about their records (quarantine, absences) must still hold."""
    directory.state.services[5]["status"] = "open for business"  # refused every time
    _add(directory)
    crawl_source("north", today=TODAY, notify=False)
    with session_scope() as session:
        fingerprints = session.scalar(select(Source.page_fingerprints))
    assert fingerprints and set(fingerprints) == {"1", "2", "3"}
    for _ in range(2):
        summary = crawl_source("north", today=TODAY, notify=False)
        assert summary.rows_written == 0 and summary.counts["quarantined"] == 1
        assert summary.counts["unchanged"] == 9
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(QuarantinedRecord)) == 1
    # A change on the last page only: the other pages are skipped, the change is found.
    last = directory.state.services[9]
    last["name"] = "Renamed on page three"
    touch(last, TODAY)
    summary = crawl_source("north", today=TODAY, notify=False)
    assert summary.counts["updated"] == 1 and summary.counts["unchanged"] == 8
    (change,) = _changes()
    assert change.entry_id == last["id"]
