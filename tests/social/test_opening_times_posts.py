"""A change of opening times drafts posts that fit every platform."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.models import ChangeKind, Platform, Post
from publisher.social import rules
from publisher.social.drafting import draft_posts
from tests.factories import make_entry, make_source, record_change
from tests.social.conftest import make_account

pytestmark = pytest.mark.date_sensitive


def test_an_hours_change_is_posted_within_each_platform_s_limit(session: Session) -> None:
    for platform in Platform:
        make_account(session, platform)
    source = make_source(session)
    old = "; ".join(f"{d}, 9:30am to 12:15pm and 1:45pm to 4:30pm" for d in ("Monday", "Friday"))
    new = old.replace("4:30pm", "5:15pm") + "; closed 24 December 2026 to 2 January 2027"
    name = "Bright Lights Sensory Play and Stay for Children with Additional Needs"
    entry = make_entry(session, source, "hours", name, opening_times=new, summary="x " * 200)
    change = record_change(
        session,
        entry,
        ChangeKind.UPDATED,
        changed_fields=["opening_times"],
        details={"opening_times": {"old": old, "new": new}},
    )
    session.commit()
    draft_posts([change.id])
    session.expire_all()
    drafted = list(session.scalars(select(Post)))
    assert {p.account.platform for p in drafted} == set(Platform)
    for post in drafted:
        assert f"{name} on the Local Offer: opening times now Monday" in post.text
        assert "5:15pm …" in post.text and "(was" not in post.text
        assert rules.check(post.account.platform, post.text).ok, post.text
