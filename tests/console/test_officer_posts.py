"""The console's bulk reject, select all and own posts (issue 13.5), and the edit page's
counter for its own platform only (issue 13.6)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from publisher.models import Post, PostState
from tests.browser import check_widths
from tests.console.test_browser import sign_in_by_keyboard
from tests.factories import drafted_post

pytestmark = pytest.mark.date_sensitive


def test_bulk_reject_with_one_reason(sign_in, session, account):
    drafts = [drafted_post(session, account, name=f"Club {i}", entry_id=f"s{i}") for i in range(3)]
    approver = sign_in("approver")
    ids = [str(p.id) for p in drafts[:2]]
    empty = approver.post("/console/posts/reject", {"post_id": ids, "reason": ""})
    assert empty.status_code == 302
    page = approver.get("/console/posts").get_data(as_text=True)
    assert "Say why you are rejecting the posts" in page
    done = approver.post("/console/posts/reject", {"post_id": ids, "reason": "Not for us."})
    assert done.status_code == 302
    assert "Rejected 2 posts." in approver.get("/console/posts").get_data(as_text=True)
    session.expire_all()
    states = {p.id: session.get(Post, p.id).state for p in drafts}
    assert [states[p.id] for p in drafts] == [
        PostState.REJECTED,
        PostState.REJECTED,
        PostState.DRAFT,
    ]
    assert sign_in("editor").post("/console/posts/reject", {"post_id": ids}).status_code == 403


def test_an_officer_writes_a_post_in_the_console(sign_in, session, account):
    editor = sign_in("editor")
    form = editor.get("/console/posts/new").get_data(as_text=True)
    assert "Write a post" in form and account.name in form
    too_long = editor.post(
        "/console/posts/new",
        {"account_id": str(account.id), "text": "word " * 200},
        page="/console/posts/new",
    )
    assert too_long.status_code == 400
    assert "The post was not saved" in too_long.get_data(as_text=True)
    saved = editor.post(
        "/console/posts/new",
        {"account_id": str(account.id), "text": "Our SEND fair is on 3 March. #LocalOffer"},
        page="/console/posts/new",
    )
    assert saved.status_code == 302
    post = session.scalars(select(Post).where(Post.kind == "own")).one()
    assert saved.headers["Location"].endswith(f"/console/posts/{post.id}")
    assert post.text == "Our SEND fair is on 3 March. #LocalOffer"


@pytest.mark.browser
def test_select_all_bulk_reject_and_own_platform_counter_in_a_browser(
    session, account, officers, app, live_app, browser
):
    for i in range(3):
        drafted_post(session, account, name=f"Club {i}", entry_id=f"s{i}")
    server = live_app(app)
    page = browser.new_page()
    try:
        sign_in_by_keyboard(page, server.url, "approver@council.example")
        page.goto(server.url + "/console/posts")
        page.get_by_label("Tick all 3 drafts on this page").check()
        assert page.locator("input[name=post_id]:checked").count() == 3
        page.get_by_label("Why reject them?").fill("We only post events this month.")
        page.get_by_role("button", name="Reject ticked posts").click()
        page.get_by_text("Rejected 3 posts.").wait_for()
        check_widths(page, "console-bulk-rejected")

        page.goto(server.url + "/console/posts/new")
        check_widths(page, "console-write-post")
        page.get_by_label("Post text").fill("A long post. " + "Words and more words. " * 15)
        page.get_by_role("button", name="Save as a draft").click()
        page.get_by_role("heading", name="How it looks on Mastodon").wait_for()
        # Only this post's platform counts in red; X's shorter limit is not a warning here.
        assert page.locator(".counter-over").count() == 0
        assert not page.locator("details").evaluate("d => d.open")
        check_widths(page, "console-edit-post")
    finally:
        page.close()


@pytest.mark.browser
def test_the_audit_log_reads_as_sentences_and_fits_the_screen(
    sign_in, session, account, officers, app, live_app, browser
):
    post = drafted_post(session, account, name="Club", entry_id="a1")
    sign_in("approver").post(f"/console/posts/{post.id}/reject", {"reason": "Posted already."})
    server = live_app(app)
    page = browser.new_page()
    try:
        sign_in_by_keyboard(page, server.url, "admin@council.example")
        page.goto(server.url + "/console/admin/audit")
        first = page.locator(".audit-list li").filter(has_text="rejected post")
        assert first.inner_text().startswith(f"approver@council.example rejected post {post.id} on")
        # The detail waits behind its disclosure.
        assert not first.locator("table").is_visible()
        first.get_by_text("What changed").click()
        assert first.locator("table").is_visible()
        check_widths(page, "console-audit")
    finally:
        page.close()
