"""A real crawl keeps what changed, and emails, feeds and posts tell it in plain words."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from publisher.change_words import post_sentence
from publisher.db import session_scope
from publisher.demo.directory import DirectoryServer
from publisher.demo.generate import touch
from publisher.feeds.items import summary_for
from publisher.ingest import add_source, crawl_source
from publisher.models import Change, ChangeKind
from publisher.newsletters.items import collapse
from tests.ingest.conftest import TODAY

pytestmark = pytest.mark.date_sensitive

LATER = TODAY + dt.timedelta(days=1)


def test_ages_cost_and_description_changes_are_told_with_old_and_new(
    crawl_env, directory: DirectoryServer
) -> None:
    with session_scope() as session:
        add_source(session, "north", directory.url, "https://localoffer.example.gov.uk/s/{id}")
    crawl_source("north", today=TODAY, notify=False)
    svc = directory.state.services[3]
    svc["eligibilitys"][0]["minimum_age"] = 14
    svc["cost_options"] = [{"id": "c", "option": "Per session", "amount": 5}]
    touch(svc, TODAY, note="Now open on Saturdays too.")
    summary = crawl_source("north", today=LATER, notify=False)
    assert summary.counts["updated"] == 1
    with session_scope() as session:
        (change,) = session.scalars(select(Change)).all()
        assert change.kind is ChangeKind.UPDATED
        assert change.details["minimum_age"] == {"old": 16, "new": 14}
        assert change.details["costs"]["added"] == ["Per session 5"]
        assert change.details["summary"]["added"] == ["Now open on Saturdays too."]
        (item,) = collapse([change])
        fields, details, snap = change.changed_fields, change.details, change.snapshot
        feed = summary_for(change.kind, snap, fields, details)
        post = post_sentence(change.name, fields, details, snap)
    assert item["what_changed"] == [
        "Now for ages 14 to 25 (was 16 to 25).",
        "Cost now Per session 5 (none given before).",
        "The description now also says “Now open on Saturdays too.”",
    ]
    assert item["what_changed_text"].startswith("What changed: Now for ages 14 to 25")
    assert feed.startswith("What changed: Now for ages 14 to 25 (was 16 to 25). Cost now")
    assert post == (
        f"{svc['name']} on the Local Offer: now for ages 14 to 25 (was 16 to 25), "
        "and other details."
    )
