"""Opening times through a real crawl: a change of hours is one update told in plain
words everywhere, and the release that starts keeping them announces nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, update

from publisher.change_words import post_sentence
from publisher.changes import MATERIAL_FIELDS
from publisher.db import session_scope
from publisher.demo.directory import DirectoryServer
from publisher.demo.generate import add_saturday_mornings, touch, weekday_hours
from publisher.feeds.items import summary_for
from publisher.ingest import add_source, crawl_source
from publisher.models import Change, ChangeKind, Entry
from publisher.newsletters.items import collapse
from publisher.sources.records import digest
from tests.ingest.conftest import TODAY

pytestmark = pytest.mark.date_sensitive

LATER = TODAY + dt.timedelta(days=1)
WEEKDAYS = "MO,TU,WE,TH,FR"
MON_TO_FRI = "Monday to Friday, 9am to 5pm"
MON_TO_THU = "Monday to Thursday, 9am to 5pm"


def hours(byday: str, opens: str = "09:00:00", closes: str = "17:00:00") -> list[dict[str, Any]]:
    return [{"id": "s", "freq": "WEEKLY", "byday": byday, "opens_at": opens, "closes_at": closes}]


def edited(svc: dict[str, Any], day: dt.date) -> None:
    """The provider saved the record: the directory's modified date moves on."""
    svc["pc_metadata"] = {**svc["pc_metadata"], "date_modified": day.isoformat()}


def entry_rows() -> dict[str, tuple[str | None, str]]:
    with session_scope() as session:
        return {
            e.entry_id: (e.opening_times, e.content_hash)
            for e in session.scalars(select(Entry).order_by(Entry.entry_id))
        }


@pytest.fixture()
def directory(directory: DirectoryServer) -> DirectoryServer:
    """The demo directory without its own weekday hours: each test sets the hours it tells."""
    for service in directory.state.services:
        service.pop("regular_schedules", None)
    return directory


def test_a_change_of_hours_is_one_update_told_with_old_and_new(
    crawl_env, directory: DirectoryServer
) -> None:
    svc = directory.state.services[2]
    svc["schedules"] = hours(WEEKDAYS)
    with session_scope() as session:
        add_source(session, "north", directory.url, "https://localoffer.example.gov.uk/s/{id}")
    crawl_source("north", today=TODAY, notify=False)
    assert entry_rows()[svc["id"]][0] == MON_TO_FRI
    assert entry_rows()[directory.state.services[3]["id"]][0] == ""

    svc["schedules"] = hours("MO,TU,WE,TH")
    edited(svc, LATER)
    summary = crawl_source("north", today=LATER, notify=False)
    assert summary.counts["updated"] == 1
    with session_scope() as session:
        (change,) = session.scalars(select(Change)).all()
        assert change.kind is ChangeKind.UPDATED
        assert change.changed_fields == ["opening_times"]
        assert change.notable  # as a change of cost, contact or address is
        assert change.details == {"opening_times": {"old": MON_TO_FRI, "new": MON_TO_THU}}
        assert change.snapshot["opening_times"] == MON_TO_THU
        (item,) = collapse([change])
        fields, details, snap = change.changed_fields, change.details, change.snapshot
        feed = summary_for(change.kind, snap, fields, details)
        post = post_sentence(change.name, fields, details, snap)
    told = f"Opening times now {MON_TO_THU} (was {MON_TO_FRI})."
    assert item["what_changed"] == [told]
    assert " ".join(item["what_changed_text"].split()) == f"What changed: {told}"
    assert feed.startswith(f"What changed: {told}")
    assert post == (
        f"{svc['name']} on the Local Offer: opening times now {MON_TO_THU} (was {MON_TO_FRI})."
    )


def test_the_demo_providers_saturday_sessions_are_told_as_new_hours(
    crawl_env, directory: DirectoryServer
) -> None:
    """What `make run` shows: the demo's change of a service adds Saturday mornings."""
    svc = directory.state.services[0]
    svc["regular_schedules"] = weekday_hours(0)
    with session_scope() as session:
        add_source(session, "north", directory.url, "https://localoffer.example.gov.uk/s/{id}")
    crawl_source("north", today=TODAY, notify=False)
    touch(svc, LATER, "New: sessions now also on Saturday mornings.")
    add_saturday_mornings(svc)
    crawl_source("north", today=LATER, notify=False)
    with session_scope() as session:
        (change,) = session.scalars(select(Change)).all()
        (item,) = collapse([change])
    assert "opening_times" in change.changed_fields
    assert (
        "Opening times now Monday to Thursday, 9am to 5pm; Saturday, 9am to midday "
        "(was Monday to Thursday, 9am to 5pm)." in item["what_changed"]
    )


def test_the_first_crawl_after_the_release_fills_the_hours_silently(
    crawl_env, directory: DirectoryServer
) -> None:
    services = directory.state.services
    services[0]["schedules"] = hours(WEEKDAYS)
    services[1]["service_at_locations"][0]["location"]["regular_schedules"] = [
        {"weekday": day, "opens_at": "10:00", "closes_at": "12:30"} for day in ("Sat", "Sun")
    ]
    services[2]["schedules"] = hours(WEEKDAYS)
    services[6]["schedules"] = hours("WE", "09:30:00", "12:00:00")
    with session_scope() as session:
        add_source(session, "north", directory.url, "https://localoffer.example.gov.uk/s/{id}")
    crawl_source("north", today=TODAY, notify=False)
    # The state a crawl before this release left: no opening times, and content hashes
    # made without them.
    with session_scope() as session:
        session.execute(update(Entry).values(opening_times=None))
        for entry in session.scalars(select(Entry)):
            old_material = {f: getattr(entry, f) for f in MATERIAL_FIELDS if f != "opening_times"}
            entry.content_hash = digest(old_material)
    before = entry_rows()
    assert {times for times, _ in before.values()} == {None}

    # Since then: one provider changed the hours, one the description, one saved the
    # record without changing anything material; the rest did nothing.
    services[2]["schedules"] = hours("MO,TU,WE,TH")
    edited(services[2], LATER)
    touch(services[5], TODAY, note="Now with a quiet room.")
    edited(services[6], LATER)
    summary = crawl_source("north", today=LATER, notify=False)

    assert summary.counts["updated"] == 2
    with session_scope() as session:
        changes = {c.entry_id: c for c in session.scalars(select(Change))}
    assert set(changes) == {services[2]["id"], services[5]["id"]}
    # The hours that changed since the last crawl are told against the old record's...
    assert changes[services[2]["id"]].details["opening_times"] == {
        "old": MON_TO_FRI,
        "new": MON_TO_THU,
    }
    # ...and filling in hours that did not change is no part of any change.
    assert "opening_times" not in changes[services[5]["id"]].changed_fields
    after = entry_rows()
    assert after[services[0]["id"]][0] == MON_TO_FRI
    assert after[services[1]["id"]][0] == "Saturday and Sunday, 10am to 12:30pm"
    assert after[services[2]["id"]][0] == MON_TO_THU
    assert after[services[6]["id"]][0] == "Wednesday, 9:30am to midday"
    assert after[services[7]["id"]][0] == ""
    # Entries that did not change keep their content hash (reviews would read a new
    # one as "the directory changed this entry").
    unchanged = set(before) - {services[2]["id"], services[5]["id"]}
    assert len(unchanged) == 8
    assert all(after[key][1] == before[key][1] for key in unchanged)

    # And from then on, as before: nothing changed, nothing told.
    summary = crawl_source("north", today=LATER + dt.timedelta(days=1), notify=False)
    assert summary.counts["updated"] == 0
    assert entry_rows() == after
