"""The console in a real browser (Debian's Chromium): an editor edits a draft with the live
preview, an approver approves it by keyboard, the posting engine publishes it to a local
Mastodon server, and the console shows it published. axe-core checks every console page
for WCAG 2.2 AA violations."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from publisher.models import AppSetting, ChangeKind, Platform, Post, PostState
from publisher.social import update_account
from publisher.social.publishing import publish_due
from tests.browser import assert_accessible, assert_landmarks
from tests.console.conftest import PASSWORD, make_account
from tests.factories import drafted_post, make_entry, make_source, record_change
from tests.social.servers import MastodonHandler, serve

pytestmark = pytest.mark.browser
TOKEN = "browser-test-mastodon-token-42"


def sign_in_by_keyboard(page, base: str, email: str) -> None:
    """Only the keyboard: Tab to each field, type, Enter to send."""
    page.goto(f"{base}/console/login")
    assert_accessible(page)
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "email":
            break
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/console/posts"))


def tab_to(page, text: str, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == text:
            return
    pytest.fail(f"could not reach {text!r} with the Tab key")


def sign_out(page) -> None:
    page.get_by_role("button", name=re.compile("Sign out")).click()
    page.wait_for_url(re.compile(r"/console/login"))


def test_edit_approve_publish_in_the_browser(browser, live_app, session, officers, app):
    with serve(MastodonHandler, TOKEN) as mastodon:
        account = make_account(session, Platform.MASTODON, settings={"api_base_url": mastodon.url})
        account_id = account.id
        session.commit()
        # Replace the made-up token with the one this server accepts.
        update_account(session, None, account, creds={"access_token": TOKEN})
        session.commit()
        draft = drafted_post(session, account)
        server = live_app(app)
        context = browser.new_context()
        page = context.new_page()

        # The editor edits the draft and watches the live counter.
        sign_in_by_keyboard(page, server.url, "editor@council.example")
        assert_accessible(page)
        page.get_by_role("link", name=f"Edit or check post {draft.id}").click()
        assert_accessible(page)
        text = (
            "Sunny Days Play Group is new on the Local Offer. It is for children aged 0 to 5. "
            "https://localoffer.example.gov.uk/services/svc-1 #LocalOffer"
        )
        page.get_by_label("Post text").fill(text)
        counter = page.locator("#counter-mastodon")
        counter.filter(has_text=f"{len(text) - 48 + 23} of 500 characters").wait_for()
        page.get_by_label("Post text").fill("x" * 501)
        counter.filter(has_text="1 too many").wait_for()
        assert "Too long for Mastodon" in page.locator("[data-problems=mastodon]").inner_text()
        page.get_by_label("Post text").fill(text)
        page.get_by_role("button", name="Save and send for approval").click()
        page.get_by_text("Saved and sent for approval.").wait_for()
        assert_accessible(page)
        # Editors see no approve button.
        assert page.get_by_role("button", name="Approve").count() == 0
        sign_out(page)

        # The approver approves it, by keyboard.
        sign_in_by_keyboard(page, server.url, "approver@council.example")
        page.goto(f"{server.url}/console/posts/{draft.id}")
        assert_accessible(page)
        tab_to(page, "Approve")
        page.keyboard.press("Enter")
        page.get_by_text("Post approved.").wait_for()
        assert_accessible(page)

        # The posting engine's every-minute job, run at the post's slot.
        session.expire_all()
        post = session.get(Post, draft.id)
        assert post.state is PostState.APPROVED and post.publish_at is not None
        counts = publish_due(now=post.publish_at + dt.timedelta(seconds=30))
        assert counts == {"published": 1}, counts
        assert [p["content"] for p in mastodon.posts] == [text]

        page.goto(f"{server.url}/console/posts?state=published")
        assert_accessible(page)
        article = page.locator("article", has_text=text)
        assert article.count() == 1
        assert "Went out" in article.inner_text()
        link = page.get_by_role("link", name=f"See post {draft.id} on Mastodon")
        assert link.get_attribute("href") == mastodon.posts[0]["url"]
        context.close()
    assert account_id


def test_every_console_page_is_accessible(browser, live_app, session, officers, app, account):
    draft = drafted_post(session, account)
    failed = drafted_post(session, account, "Riverside Youth Club", entry_id="svc-2")
    failed.state = PostState.FAILED
    failed.last_error = "Mastodon said: the access token is not valid."
    source = make_source(session, "stale-src")
    old = make_entry(
        session,
        source,
        "old",
        "Old Swim Club",
        stale=True,
        assured_date=dt.date(2020, 1, 1),
        email="swim@example.org",
    )
    record_change(session, old, ChangeKind.BECAME_STALE)
    session.add(AppSetting(key="social.two_person_rule", value=True))
    session.commit()
    server = live_app(app)
    page = browser.new_page()
    sign_in_by_keyboard(page, server.url, "admin@council.example")
    paths = [
        "/console/posts",
        *[f"/console/posts?state={s.value}" for s in PostState],
        f"/console/posts/{draft.id}",
        f"/console/posts/{failed.id}",
        "/console/calendar",
        "/console/stale",
        "/console/admin/users",
        "/console/admin/accounts",
        *[f"/console/admin/accounts/new/{p.value}" for p in Platform],
        "/console/admin/sources",
        "/console/admin/settings",
        "/console/admin/audit",
        "/console/account",
    ]
    raw_names = re.compile(
        r"api_base_url|service_url|app_password|page_access_token|access_token|api_key"
        r"|oruk_api|social_post|social_account|user\.sign_in|settings\.change"
    )
    for path in paths:
        response = page.goto(server.url + path)
        assert response.status == 200, path
        assert_accessible(page)
        assert_landmarks(page)
        assert page.evaluate("!!document.querySelector('.skip-link').closest('header, main')")
        # What people read: no stored names of settings, kinds or actions (the audit
        # log's before/after records are shown as stored, for now).
        if path != "/console/admin/audit":
            assert not raw_names.search(page.inner_text("body")), path
    # Pages that show errors are checked too.
    page.goto(server.url + "/console/admin/settings")
    page.get_by_label("Posts a day for each account").fill("many")
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("Posts a day must be a whole number").wait_for()
    assert_accessible(page)
    page.goto(server.url + f"/console/posts/{draft.id}")
    page.get_by_label("Post text").fill("y" * 600)
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("The post was not saved").wait_for()
    assert_accessible(page)
    # A forged CSRF token: the "form has expired" page, and nothing saved.
    page.goto(server.url + "/console/admin/settings")
    page.evaluate("document.querySelector('main form input[name=csrf_token]').value = 'forged'")
    page.get_by_label("Posts a day for each account").fill("7")
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("The form has expired").wait_for()
    assert_accessible(page)
    assert session.get(AppSetting, "social.slots_per_day") is None
    response = page.goto(server.url + "/console/posts/99999")
    assert response.status == 404
    assert_accessible(page)
    sign_out(page)
    assert_accessible(page)
    # The 403 page, as an editor.
    sign_in_by_keyboard(page, server.url, "editor@council.example")
    response = page.goto(server.url + "/console/admin/users")
    assert response.status == 403
    assert "Only admins can manage users" in page.content()
    assert_accessible(page)
    page.close()
    assert session.scalar(select(Post).where(Post.id == draft.id)).state is PostState.DRAFT
