"""The two-person rule follows a post through its redrafts (issue 11, point 3), over HTTP.

The probe, as an approver with the rule on: edit a draft, reject it, "make a new draft
from this post", approve the new draft: their own words went out unchecked. A redraft
now carries its lineage, and anyone who edited any post in the chain cannot approve it.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from publisher.console.users import create_user
from publisher.db import session_scope, utcnow
from publisher.models import AppSetting, Post, PostState
from tests.factories import drafted_post, make_social_account
from tests.security.conftest import Site, Visitor

PASSWORD = "correct horse battery staple"
TEXT = (
    "Sunny Days Play Group is new: my own words. https://localoffer.example.gov.uk/services/svc-1"
)


@pytest.fixture()
def draft_id(site: Site) -> int:
    with session_scope() as session:
        for email, role in (
            ("approver@council.example", "approver"),
            ("approver2@council.example", "approver"),
            ("editor@council.example", "editor"),
        ):
            create_user(session, email, role, PASSWORD)
        session.add(AppSetting(key="social.two_person_rule", value=True, updated_at=utcnow()))
        account = make_social_account(
            session, name="Council Mastodon", creds={"access_token": "mastodon-secret-token-123456"}
        )
        session.commit()
        return drafted_post(session, account).id


def _officer(site: Site, email: str) -> Visitor:
    visitor = site.visitor()
    assert visitor.form("/console/login", {"email": email, "password": PASSWORD}).status_code == 302
    return visitor


def _redraft_chain(officer: Visitor, post_id: int, times: int) -> int:
    """Reject and redraft ``times`` times; the newest draft's id."""
    for _ in range(times):
        page = f"/console/posts/{post_id}"
        assert officer.form(f"{page}/reject", {"reason": "Try again"}, page=page).status_code == 302
        answer = officer.form(f"{page}/redraft", {}, page=page)
        assert answer.status_code == 302
        found = re.search(r"/console/posts/(\d+)$", answer.headers["Location"])
        assert found and int(found.group(1)) != post_id
        post_id = int(found.group(1))
    return post_id


@pytest.mark.parametrize("redrafts", [1, 3])
def test_an_approver_cannot_approve_their_own_words_after_redrafting(
    site: Site, draft_id: int, redrafts: int
) -> None:
    approver = _officer(site, "approver@council.example")
    page = f"/console/posts/{draft_id}"
    assert approver.form(page, {"text": TEXT}).status_code == 302
    newest = _redraft_chain(approver, draft_id, redrafts)
    page = f"/console/posts/{newest}"
    refused = approver.form(f"{page}/approve", {}, page=page)
    assert refused.status_code == 403
    assert "someone else must approve it" in refused.text
    with session_scope() as session:
        post = session.get(Post, newest)
        assert post is not None and post.state is PostState.DRAFT and post.text == TEXT
    # Another approver may.
    other = _officer(site, "approver2@council.example")
    assert other.form(f"{page}/approve", {}, page=page).status_code == 302


def test_an_editor_earlier_in_the_chain_counts_too(site: Site, draft_id: int) -> None:
    editor = _officer(site, "editor@council.example")
    page = f"/console/posts/{draft_id}"
    assert editor.form(page, {"text": TEXT}).status_code == 302
    approver2 = _officer(site, "approver2@council.example")
    newest = _redraft_chain(approver2, draft_id, 2)
    # approver2 only rejected and redrafted: they did not write the words, so may approve.
    page = f"/console/posts/{newest}"
    assert approver2.form(f"{page}/approve", {}, page=page).status_code == 302
    with session_scope() as session:
        chain = session.scalars(select(Post).order_by(Post.id)).all()
        assert [p.redrafted_from_id for p in chain] == [None, chain[0].id, chain[1].id]
