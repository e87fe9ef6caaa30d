"""Publishing rules: an entry whose provider says it has closed is held at once: its
waiting posts are withdrawn, and no newsletter, feed or post promotes it until the
directory catches up or an officer dismisses the reply."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from publisher.config import get_settings
from publisher.db import utcnow
from publisher.feeds.store import History
from publisher.models import ChangeKind, Entry, Post, PostChange, PostState, ReplyKind, Review
from publisher.reviews.holds import held_entry_pks
from publisher.reviews.worklist import close
from publisher.social.drafting import draft_posts
from publisher.social.holds import hold_closed_entry
from tests.factories import (
    drafted_post,
    make_entry,
    make_social_account,
    make_source,
    record_change,
)

pytestmark = pytest.mark.date_sensitive


def _say_closed(session, entry) -> Review:
    review = Review(
        entry_pk=entry.id,
        source_id=entry.source_id,
        entry_id=entry.entry_id,
        address="p@example.org",
        reply=ReplyKind.CLOSED,
        hash_at_open="",
    )
    session.add(review)
    session.commit()
    return review


def test_closed_reply_withdraws_waiting_posts_and_stops_new_ones(session):
    account = make_social_account(session)
    post = drafted_post(session, account, assured_date=dt.date.today())
    entry_pk = session.scalars(
        select(PostChange.entry_pk).where(PostChange.post_id == post.id)
    ).one()
    entry = session.get(Entry, entry_pk)
    _say_closed(session, entry)
    assert hold_closed_entry(entry.id) == [post.id]
    session.expire_all()
    assert session.get(Post, post.id).state is PostState.WITHDRAWN
    assert "has closed" in session.get(Post, post.id).withdrawn_reason
    # A later change to the held entry is not drafted.
    change = record_change(session, entry, ChangeKind.UPDATED, changed_fields=["summary"])
    session.commit()
    draft_posts([change.id])
    assert session.scalars(select(Post).where(Post.id != post.id)).all() == []


def test_feeds_leave_out_held_entries_until_the_reply_is_dismissed(session, officers):
    source = make_source(session, "north")
    kept = make_entry(session, source, "k1", "Kept club", assured_date=dt.date.today())
    held = make_entry(session, source, "h1", "Held club", assured_date=dt.date.today())
    ids = [record_change(session, e, ChangeKind.ADDED).id for e in (kept, held)]
    session.commit()
    review = _say_closed(session, held)
    assert held_entry_pks(session) == {held.id}

    def names() -> set[str]:
        history = History(session, upto=max(ids), settings=get_settings())
        return {p.snapshot["name"] for p in history}

    assert names() == {"Kept club"}
    close(session, review, officers["editor"], "dismissed", "Dismissed: it is still running")
    session.commit()
    assert names() == {"Kept club", "Held club"}


def test_trusted_confirmations_count_as_checked_only_when_turned_on(session, monkeypatch):
    from publisher.config import reset_settings
    from publisher.db import utcnow

    account = make_social_account(session)
    source = make_source(session, "north")
    old = dt.date.today() - dt.timedelta(days=500)
    entry = make_entry(session, source, "s1", "Stale club", assured_date=old, stale=True)
    change = record_change(session, entry, ChangeKind.UPDATED, changed_fields=["summary"])
    session.add(
        Review(
            entry_pk=entry.id,
            source_id=source.id,
            entry_id="s1",
            hash_at_open="",
            reply=ReplyKind.STILL_CORRECT,
            replied_at=utcnow(),
        )
    )
    session.commit()

    def feed_names() -> set[str]:
        return {
            p.snapshot["name"] for p in History(session, upto=change.id, settings=get_settings())
        }

    assert feed_names() == set()
    draft_posts([change.id])
    assert session.scalars(select(Post)).all() == []

    monkeypatch.setenv("TRUST_PROVIDER_CONFIRMATIONS", "true")
    reset_settings()
    assert feed_names() == {"Stale club"}
    draft_posts([change.id])
    posts = session.scalars(select(Post).where(Post.account_id == account.id)).all()
    assert len(posts) == 1 and posts[0].state is not PostState.WITHDRAWN


def test_newsletters_leave_out_held_entries(session):
    from publisher.models import Edition, Frequency
    from publisher.newsletters.building import build_edition
    from tests.newsletters.helpers import change, subscriber

    source = make_source(session, "north")
    today = dt.date.today()
    yesterday = utcnow() - dt.timedelta(days=1)
    change(session, source, "k1", "Kept club", at=yesterday, assured_date=today)
    held = change(session, source, "h1", "Held club", at=yesterday, assured_date=today)
    subscriber(session, "parent@example.org")
    session.commit()
    _say_closed(session, session.get(Entry, held.entry_pk))
    built = build_edition(session, Frequency.WEEKLY, now=utcnow(), close_now=True)
    assert built.edition_id is not None
    edition = session.get(Edition, built.edition_id)
    assert [item["name"] for item in edition.items] == ["Kept club"]


def test_stored_feeds_drop_a_held_entry_at_the_next_catch_up(session, officers):
    from publisher.feeds.filters import FeedFilter
    from publisher.feeds.store import document_key, rebuild_all
    from publisher.models import FeedDocument

    source = make_source(session, "north")
    held = make_entry(session, source, "h1", "Held club", assured_date=dt.date.today())
    record_change(session, held, ChangeKind.ADDED)
    session.commit()
    key = document_key("atom", FeedFilter())

    def body() -> str:
        rebuild_all(session)
        session.commit()
        doc = session.get(FeedDocument, key)
        assert doc is not None
        return doc.body.decode()

    assert "Held club" in body()
    review = _say_closed(session, held)
    assert "Held club" not in body()  # no new change needed
    close(session, review, officers["editor"], "dismissed", "Dismissed: still running")
    session.commit()
    assert "Held club" in body()
