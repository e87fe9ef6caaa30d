"""Officers are not flooded (issue 13.5): each account chooses which changes become
drafts, or gets one round-up a week; many drafts are rejected with one reason; officers
write posts of their own that follow the same rules, approval and slots."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.models import AuditEvent, ChangeKind, Platform, Post, PostState, User
from publisher.social import approve, rules
from publisher.social.drafting import draft_posts
from publisher.social.errors import PostInvalid
from publisher.social.officer_posts import bulk_reject, write_own_post
from publisher.social.roundup import draft_roundups, week_close
from publisher.uk_time import LONDON
from tests.factories import make_entry, make_source, record_change
from tests.social.conftest import make_account

pytestmark = pytest.mark.date_sensitive


def _posts(session: Session) -> list[Post]:
    session.expire_all()
    return list(session.scalars(select(Post).order_by(Post.id)))


def test_an_account_drafts_only_the_kinds_of_change_it_chose(session: Session) -> None:
    account = make_account(session, Platform.MASTODON, settings={"draft_kinds": ["added"]})
    session.commit()
    source = make_source(session)
    added = record_change(session, make_entry(session, source, "a", "New Club"), ChangeKind.ADDED)
    updated = record_change(
        session,
        make_entry(session, source, "b", "Old Club"),
        ChangeKind.UPDATED,
        changed_fields=["email"],
        details={"email": {"old": "a@x.org", "new": "b@x.org"}},
    )
    session.commit()
    draft_posts([added.id, updated.id])
    (post,) = _posts(session)
    assert post.account_id == account.id and post.change_ids == [added.id]


def test_a_weekly_round_up_instead_of_a_post_per_change(session: Session) -> None:
    now = dt.datetime.now(dt.UTC)
    close = week_close(now)
    account = make_account(session, Platform.MASTODON, settings={"roundup": "weekly"})
    account.created_at = close - dt.timedelta(days=30)
    session.commit()
    source = make_source(session)
    ids = []
    for i in range(5):
        entry = make_entry(session, source, f"n{i}", f"New Club {i}")
        at = close - dt.timedelta(days=1, hours=i)
        ids.append(record_change(session, entry, ChangeKind.ADDED, occurred_at=at).id)
    gone = make_entry(session, source, "g", "Gone Club", present=False)
    gone_at = close - dt.timedelta(hours=3)
    ids.append(record_change(session, gone, ChangeKind.REMOVED, occurred_at=gone_at).id)
    # Last week's news is not this week's round-up.
    old = make_entry(session, source, "o", "Old News")
    record_change(session, old, ChangeKind.ADDED, occurred_at=close - dt.timedelta(days=9))
    session.commit()
    assert draft_posts(ids) == []  # no post for each change
    made = draft_roundups(session, now)
    session.commit()
    assert len(made) == 1
    assert draft_roundups(session, now) == []  # a second sweep makes no second round-up
    (post,) = _posts(session)
    assert post.kind == "roundup" and post.state is PostState.DRAFT
    assert post.text.startswith(
        "This week on the Local Offer: 5 new services and 1 service that closed."
    )
    assert rules.check(Platform.MASTODON, post.text).ok
    assert sorted(post.change_ids) == sorted(ids)
    local_close = close.astimezone(LONDON)
    assert (local_close.weekday(), local_close.hour) == (4, 10)  # Friday 10:00 UK time


def test_many_drafts_are_rejected_with_one_reason(
    session: Session, officers: dict[str, User]
) -> None:
    account = make_account(session, Platform.MASTODON)
    session.commit()
    source = make_source(session)
    changes = [
        record_change(session, make_entry(session, source, f"s{i}", f"Club {i}"), ChangeKind.ADDED)
        for i in range(3)
    ]
    session.commit()
    draft_posts([c.id for c in changes])
    drafts = _posts(session)
    assert len(drafts) == 3 and all(p.account_id == account.id for p in drafts)
    with pytest.raises(Exception, match="Say why"):
        bulk_reject(session, officers["approver"], [p.id for p in drafts], " ")
    with pytest.raises(Exception, match="Only an admin or approver"):
        bulk_reject(session, officers["editor"], [p.id for p in drafts], "Too many")
    rejected, refused = bulk_reject(
        session, officers["approver"], [p.id for p in drafts] + [999], "We post events only."
    )
    session.commit()
    assert sorted(rejected) == sorted(p.id for p in drafts)
    assert refused == {999: "There is no such post."}
    for post in _posts(session):
        assert post.state is PostState.REJECTED and post.reject_reason == "We post events only."


def test_an_officer_writes_a_post_that_follows_the_same_rules(
    session: Session, officers: dict[str, User]
) -> None:
    account = make_account(session, Platform.MASTODON)
    session.commit()
    with pytest.raises(PostInvalid):
        write_own_post(session, officers["editor"], account, "x" * 600)
    with pytest.raises(PostInvalid):
        write_own_post(
            session,
            officers["editor"],
            account,
            "Two links https://a.example.org and https://b.example.org",
        )
    post = write_own_post(
        session,
        officers["editor"],
        account,
        "Come to our SEND information day on Saturday. https://localoffer.example.gov.uk/events "
        "#LocalOffer",
    )
    session.commit()
    assert post.state is PostState.DRAFT and post.kind == "own" and post.change_ids == []
    assert post.link == "https://localoffer.example.gov.uk/events"
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "social_post.write")
    ).one()
    assert event.actor_id == officers["editor"].id
    approve(session, officers["approver"], post)
    session.commit()
    assert post.state in (PostState.APPROVED, PostState.SCHEDULED) and post.publish_at is not None
