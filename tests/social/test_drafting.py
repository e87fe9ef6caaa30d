"""Drafts from the change log: what is news, per-account drafts from the templates,
grouping, idempotency, the sweep, and automatic withdrawal."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from publisher.models import AuditEvent, ChangeKind, Platform, Post, PostState, User
from publisher.social import approve, rules
from publisher.social.drafting import draft_posts, sweep
from tests.factories import make_entry, make_source, record_change
from tests.social.conftest import make_account

# Editions, windows, staleness or tokens: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive


def all_accounts(session: Session) -> None:
    for platform in Platform:
        make_account(session, platform)
    session.commit()


def posts(session: Session) -> list[Post]:
    session.expire_all()
    return list(session.scalars(select(Post).order_by(Post.id)))


def test_each_publishable_change_drafts_once_per_account(session: Session) -> None:
    all_accounts(session)
    source = make_source(session)
    added = record_change(
        session,
        make_entry(session, source, "a", "Riverside Youth Club", minimum_age=11, maximum_age=16),
        ChangeKind.ADDED,
    )
    reopened = record_change(
        session, make_entry(session, source, "b", "Hill Top Swim"), ChangeKind.REOPENED
    )
    updated = record_change(
        session,
        make_entry(session, source, "c", "Maple Speech Clinic"),
        ChangeKind.UPDATED,
        changed_fields=["email", "costs"],
        details={"email": {"old": "a@x.org", "new": "b@x.org"}},
    )
    removed = record_change(
        session,
        make_entry(session, source, "d", "Oak Tree Sensory Room", present=False),
        ChangeKind.REMOVED,
    )
    # Not news: a re-check of the same details, a lapse into staleness, a stale snapshot.
    quiet = record_change(
        session,
        make_entry(session, source, "e", "Quiet Update"),
        ChangeKind.UPDATED,
        changed_fields=["assured_date"],
        notable=False,
    )
    stale = record_change(
        session,
        make_entry(session, source, "f", "Old Service", stale=True),
        ChangeKind.BECAME_STALE,
    )
    stale_added = record_change(
        session, make_entry(session, source, "g", "Unchecked Service", stale=True), ChangeKind.ADDED
    )
    session.commit()
    ids = [c.id for c in (added, reopened, updated, removed, quiet, stale, stale_added)]

    made = draft_posts(ids)
    assert len(made) == 4 * 4
    assert draft_posts(ids) == []  # delivered twice: nothing new
    found = posts(session)
    assert len(found) == 16
    by_change = {tuple(p.change_ids) for p in found}
    assert by_change == {(added.id,), (reopened.id,), (updated.id,), (removed.id,)}
    mastodon = {p.change_ids[0]: p for p in found if p.account.platform is Platform.MASTODON}
    assert mastodon[added.id].text.startswith(
        "New on the Local Offer: Riverside Youth Club, for ages 11 to 16. About Riverside"
    )
    assert mastodon[reopened.id].text.startswith("Hill Top Swim is open again.")
    assert mastodon[updated.id].text.startswith(
        "Maple Speech Clinic on the Local Offer: email now b@x.org (was a@x.org), "
        "and other details."
    )
    assert mastodon[removed.id].text.startswith(
        "Oak Tree Sensory Room has closed or is no longer on the Local Offer."
    )
    assert mastodon[removed.id].kind == "closed"
    for post in found:
        assert post.state is PostState.DRAFT
        # One link (the service's page on the Local Offer), two CamelCase hashtags at the end.
        assert rules.urls(post.text) == [post.link]
        assert post.link is not None and post.link.startswith(
            "https://localoffer.example.gov.uk/services/"
        )
        assert post.text.endswith("#LocalOffer #SEND")
        assert rules.check(post.account.platform, post.text).ok


def test_long_summary_is_shortened_to_fit_x(session: Session) -> None:
    make_account(session, Platform.X)
    make_account(session, Platform.FACEBOOK)
    source = make_source(session)
    summary = "We run friendly sessions for children with sensory needs. " * 12
    entry = make_entry(session, source, "long", "Bright Lights Sensory Play", summary=summary)
    change = record_change(session, entry, ChangeKind.ADDED)
    session.commit()
    draft_posts([change.id])
    found = {p.account.platform: p for p in posts(session)}
    x_post, fb_post = found[Platform.X], found[Platform.FACEBOOK]
    assert rules.length(Platform.X, x_post.text) <= 280
    assert "…" in x_post.text
    assert x_post.text.endswith("#LocalOffer #SEND")
    # Facebook's limit is large: the whole summary stays.
    assert summary.strip() in fb_post.text


def test_similar_changes_are_grouped_when_configured(session: Session) -> None:
    make_account(
        session,
        Platform.MASTODON,
        settings={"group_max": 3, "group_link": "https://localoffer.example.gov.uk/whats-new"},
    )
    source = make_source(session)
    changes = [
        record_change(
            session, make_entry(session, source, f"s{i}", f"Service {i}"), ChangeKind.ADDED
        )
        for i in range(4)
    ]
    session.commit()
    draft_posts([c.id for c in changes])
    found = posts(session)
    assert [len(p.change_ids) for p in found] == [3, 1]
    assert found[0].text.startswith(
        "3 new services on the Local Offer: Service 0, Service 1 and Service 2."
    )
    assert found[0].link == "https://localoffer.example.gov.uk/whats-new"
    assert found[1].link == "https://localoffer.example.gov.uk/services/s3"
    # Each change is in one post only, however often it arrives.
    assert draft_posts([c.id for c in changes]) == []


def test_sweep_drafts_changes_the_hook_missed(session: Session) -> None:
    make_account(session, Platform.BLUESKY)
    source = make_source(session)
    change = record_change(
        session, make_entry(session, source, "m", "Missed Service"), ChangeKind.ADDED
    )
    session.commit()
    assert len(sweep()) == 1
    assert sweep() == []
    assert [p.change_ids for p in posts(session)] == [[change.id]]


def test_posts_withdrawn_when_entry_removed_or_stale(
    session: Session, officers: dict[str, User]
) -> None:
    make_account(session, Platform.MASTODON)
    source = make_source(session)
    gone = make_entry(session, source, "gone", "Closing Club")
    lapsing = make_entry(session, source, "lapse", "Lapsing Club")
    c1 = record_change(session, gone, ChangeKind.ADDED)
    c2 = record_change(session, lapsing, ChangeKind.ADDED)
    session.commit()
    draft_posts([c1.id, c2.id])
    # One still a draft, one approved: both wait to go out.
    approve(session, officers["approver"], posts(session)[1])
    session.commit()

    gone.present = False
    removal = record_change(session, gone, ChangeKind.REMOVED)
    lapsing.stale = True
    lapse = record_change(session, lapsing, ChangeKind.BECAME_STALE)
    session.commit()
    draft_posts([removal.id, lapse.id])

    found = posts(session)
    assert [p.state for p in found[:2]] == [PostState.WITHDRAWN, PostState.WITHDRAWN]
    assert "Closing Club was removed from the Local Offer" in (found[0].withdrawn_reason or "")
    assert "Lapsing Club has not been checked for too long" in (found[1].withdrawn_reason or "")
    # The closure itself is news: a new draft announces it, and is not withdrawn.
    assert len(found) == 3 and found[2].kind == "closed" and found[2].state is PostState.DRAFT
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "social_post.withdraw")
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.actor_id, e.object_id) for e in events] == [
        (None, str(found[0].id)),
        (None, str(found[1].id)),
    ]
    assert all(e.note and "Withdrawn automatically" in e.note for e in events)
    assert (session.scalar(select(func.count()).select_from(AuditEvent)) or 0) >= 3


def test_new_account_gets_no_backlog(session: Session) -> None:
    import datetime as dt

    from publisher.db import utcnow

    source = make_source(session)
    old = record_change(
        session,
        make_entry(session, source, "o", "Older News"),
        ChangeKind.ADDED,
        occurred_at=utcnow() - dt.timedelta(days=2),
    )
    session.commit()
    make_account(session, Platform.MASTODON)
    session.commit()
    new = record_change(session, make_entry(session, source, "n", "Newer News"), ChangeKind.ADDED)
    session.commit()
    sweep()
    assert [p.change_ids for p in posts(session)] == [[new.id]]
    assert draft_posts([old.id]) == []
