"""Spotlights: drafted only when an account wants them, has free slots and nothing queued;
only about present, active, checked entries not spotlighted in 90 days; taking age bands
(16-25 included) in turn; withdrawn when the entry goes stale first."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher import social
from publisher.models import Post, PostState
from publisher.social.spotlights import draft_spotlights, withdraw_gone_spotlights
from tests.console.conftest import make_account
from tests.factories import make_entry, make_source

# Dates worked out from now: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive


def _entries(session: Session) -> dict[str, int]:
    src = make_source(session)
    today = dt.date.today()
    made = {
        "toddlers": make_entry(
            session,
            src,
            "t",
            "Toddler Splash",
            minimum_age=0,
            maximum_age=4,
            categories=["leisure"],
        ),
        "juniors": make_entry(
            session,
            src,
            "j",
            "Junior Chess",
            minimum_age=6,
            maximum_age=10,
            categories=["education"],
        ),
        "teens": make_entry(
            session, src, "k", "Teen Drama", minimum_age=12, maximum_age=15, categories=["leisure"]
        ),
        "adults": make_entry(
            session,
            src,
            "a",
            "Moving On Club",
            minimum_age=17,
            maximum_age=24,
            categories=["preparing-for-adulthood"],
        ),
        "stale": make_entry(
            session,
            src,
            "s",
            "Old Club",
            minimum_age=0,
            maximum_age=4,
            assured_date=today - dt.timedelta(days=800),
            stale=True,
        ),
        "closed": make_entry(
            session, src, "c", "Closed Club", minimum_age=0, maximum_age=4, status="inactive"
        ),
        "gone": make_entry(
            session, src, "g", "Gone Club", minimum_age=0, maximum_age=4, present=False
        ),
        "unchecked": make_entry(
            session, src, "u", "Never Checked", minimum_age=0, maximum_age=4, assured_date=None
        ),
    }
    return {k: e.id for k, e in made.items()}


def test_spotlights_rotate_and_respect_the_rules(db: Any, session: Session, officers: Any) -> None:
    ids = _entries(session)
    off = make_account(session, name="Switched off")
    on = make_account(session, name="Council Mastodon", settings={"spotlights_per_week": 7})
    session.commit()
    assert off.id != on.id
    now = dt.datetime.now(dt.UTC)
    bands = []
    for day in range(4):
        made = draft_spotlights(session, now + dt.timedelta(days=day))
        # One at a time: nothing else is made while one waits.
        assert draft_spotlights(session, now + dt.timedelta(days=day, hours=1)) == []
        assert len(made) == 1
        post = session.get(Post, made[0])
        assert post is not None and post.account_id == on.id and post.kind == "spotlight"
        assert post.text.startswith("Did you know?")
        assert social.check_post(post).ok
        bands.append(post.entry_refs[0]["band"])
        assert post.entry_refs[0]["entry_pk"] in {
            ids["toddlers"],
            ids["juniors"],
            ids["teens"],
            ids["adults"],
        }
        # It goes out (published), freeing the queue for the next one.
        post.state = PostState.PUBLISHED
        session.commit()
    assert bands == ["0-5", "5-11", "11-16", "16-25"]
    # Every fit entry has had its turn: none again within 90 days.
    assert draft_spotlights(session, now + dt.timedelta(days=5)) == []
    later = draft_spotlights(session, now + dt.timedelta(days=95))
    assert len(later) == 1


def test_a_spotlight_whose_entry_goes_stale_is_withdrawn(
    db: Any, session: Session, officers: Any
) -> None:
    ids = _entries(session)
    make_account(session, settings={"spotlights_per_week": 1})
    session.commit()
    [post_id] = draft_spotlights(session)
    post = session.get(Post, post_id)
    assert post is not None
    from publisher.models import Entry

    entry = session.get(Entry, post.entry_refs[0]["entry_pk"])
    assert entry is not None and entry.id == ids["toddlers"]
    entry.stale = True
    session.flush()
    assert withdraw_gone_spotlights(session) == [post_id]
    assert post.state is PostState.WITHDRAWN and "stale" in (post.withdrawn_reason or "")
    # Once a week: this week's spotlight was made (and withdrawn), so no other yet.
    assert draft_spotlights(session) == []
    session.commit()
    assert session.scalars(select(Post).where(Post.state == PostState.DRAFT)).all() == []


def test_the_account_setting_is_checked(db: Any, session: Session) -> None:
    import pytest

    from publisher.social.accounts import with_drafting_choices
    from publisher.social.errors import SocialError

    account = make_account(session)
    form = {"hashtags": "", "group_max": "1", "group_link": ""}
    assert (
        with_drafting_choices(account, {**form, "spotlights_per_week": "3"})["spotlights_per_week"]
        == 3
    )
    for bad in ("-1", "15", "lots"):
        with pytest.raises(SocialError, match="Spotlights a week"):
            with_drafting_choices(account, {**form, "spotlights_per_week": bad})
