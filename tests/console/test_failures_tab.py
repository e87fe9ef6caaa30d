"""Failures show at once in the queue (issue 13.4): failed and retrying posts share a
tab with a count, each with its error in words and, when retrying, the next try."""

from __future__ import annotations

import datetime as dt

import pytest

from publisher.db import utcnow
from publisher.models import Post, PostState
from publisher.social import approve
from tests.browser import check_widths
from tests.console.test_browser import sign_in_by_keyboard
from tests.factories import drafted_post

pytestmark = pytest.mark.date_sensitive


def _retrying(session, account, officers) -> Post:
    post = drafted_post(session, account, name="River Walk", entry_id="svc-r")
    approve(session, officers["approver"], post)
    post.attempts = 2
    post.last_error = (
        "Could not reach Mastodon: the connection was refused. Trying again after 120 seconds."
    )
    post.claimed_until = utcnow() + dt.timedelta(minutes=2)
    post.claim_token = None
    session.commit()
    return post


def _failed(session, account) -> Post:
    post = drafted_post(session, account, name="Lake Club", entry_id="svc-f")
    post.state = PostState.FAILED
    post.attempts = 6
    post.last_error = "Gave up after 6 attempts. Last error: Mastodon had a server error (503)."
    session.commit()
    return post


def test_failed_and_retrying_posts_share_a_tab_with_a_count(sign_in, session, account, officers):
    retrying = _retrying(session, account, officers)
    failed = _failed(session, account)
    drafted_post(session, account, name="Quiet Draft", entry_id="svc-d")
    session.commit()
    editor = sign_in("editor")
    drafts = editor.get("/console/posts").get_data(as_text=True)
    assert "Failed or retrying (2)" in drafts
    assert "2 posts could not go out yet." in drafts and "See what went wrong" in drafts
    listing = editor.get("/console/posts?state=failed").get_data(as_text=True)
    assert f"Post {retrying.id} for" in listing and f"Post {failed.id} for" in listing
    assert "The last try did not work: Could not reach Mastodon" in listing
    assert "Next try:" in listing and "Tries so far: 2." in listing
    assert "It did not go out, and we have stopped trying: Gave up after 6 attempts." in listing
    # No banner on the tab that already lists them.
    assert "could not go out yet" not in listing


@pytest.mark.browser
def test_the_failures_tab_reads_well_at_every_width(
    session, account, officers, app, live_app, browser
):
    _retrying(session, account, officers)
    _failed(session, account)
    server = live_app(app)
    page = browser.new_page()
    try:
        sign_in_by_keyboard(page, server.url, "approver@council.example")
        page.goto(server.url + "/console/posts")
        check_widths(page, "console-queue")
        page.get_by_role("link", name="See what went wrong").click()
        page.get_by_role("heading", name="Failed or retrying", level=2).wait_for()
        check_widths(page, "console-failures")
    finally:
        page.close()
