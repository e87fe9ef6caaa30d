"""The subscribe and manage pages in a real browser (Chromium), checked with axe-core."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from publisher.db import session_scope
from publisher.models import Subscriber, SubscriberStatus
from publisher.subscriptions.links import manage_url, unsubscribe_url
from tests.browser import assert_accessible, check_widths
from tests.subscriptions.conftest import BASE_URL, links_in

pytestmark = pytest.mark.browser


def _local(server, url: str) -> str:
    return server.url + url.removeprefix(BASE_URL)


def test_subscribe_confirm_manage_and_leave_in_a_browser(app, browser, live_app, mail_sink):
    server = live_app(app)
    page = browser.new_page()
    try:
        page.goto(server.url + "/subscriptions/")
        assert_accessible(page)

        # A mistake: the error summary comes first and its link takes you to the field.
        page.fill("#email", "not an address")
        page.get_by_label("Ages 16 to 25: preparing for adulthood").check()
        page.get_by_role("button", name="Sign up").click()
        assert page.title().startswith("Error:")
        summary = page.locator("#error-summary")
        assert summary.is_visible()
        assert_accessible(page)
        summary.get_by_role("link").first.click()
        assert page.evaluate("document.activeElement.id") == "email"
        assert page.get_by_label("Ages 16 to 25: preparing for adulthood").is_checked()

        page.fill("#email", "browser@example.org")
        page.get_by_label("Health", exact=True).check()
        page.get_by_label("Once a month").check()
        # Free services are never hidden: only paid ones need the box, and it says so.
        assert "We always tell you about free services" in page.inner_text("form")
        check_widths(page, "sign-up")
        page.get_by_role("button", name="Sign up").click()
        page.get_by_role("heading", name="Check your email").wait_for()
        assert_accessible(page)

        confirm = links_in(mail_sink.messages[0].message)[0]
        page.goto(server.url + confirm)
        assert_accessible(page)
        page.get_by_role("button", name="Yes, send me emails").click()
        page.get_by_role("heading", name="You are signed up").wait_for()
        # The choices are read back, with the way to change them.
        shown = page.inner_text("main")
        assert "Types of service" in shown and "Health" in shown
        assert "Ages 16 to 25" in shown and "Once a month" in shown
        check_widths(page, "signed-up")
        page.get_by_role("link", name="Change your choices or stop the emails").click()
        page.get_by_role("heading", name="Your Local Offer emails").wait_for()

        # The welcome email says the same, and keeps the links.
        welcome = mail_sink.messages[1].message
        assert welcome["Subject"].startswith("You are signed up")
        html = welcome.get_body(("html",)).get_content()
        assert "Types of service:</strong> Health" in html
        page.set_content(html)
        check_widths(page, "welcome-email")

        with session_scope() as session:
            sub = session.scalars(select(Subscriber)).one()
            assert sub.status is SubscriberStatus.ACTIVE
            assert sub.age_bands == ["16-25"] and sub.categories == ["health"]
            manage, unsubscribe = manage_url(sub), unsubscribe_url(sub)

        page.goto(_local(server, manage))
        assert_accessible(page)
        page.get_by_label("Education", exact=True).check()
        page.get_by_role("button", name="Save my choices").click()
        page.get_by_text("Your choices are saved").wait_for()
        assert_accessible(page)

        page.get_by_role("link", name="Delete your data now").click()
        page.get_by_role("heading", name="Delete your data").wait_for()
        assert_accessible(page)
        page.get_by_role("link", name="Go back").click()

        # "Stop all emails" is its own button, apart from deleting data.
        page.get_by_role("button", name="Stop all emails").click()
        page.get_by_role("heading", name="Your emails have stopped").wait_for()
        assert_accessible(page)

        page.goto(_local(server, unsubscribe))
        page.get_by_role("heading", name="Your emails have stopped").wait_for()
        assert_accessible(page)

        page.goto(server.url + "/subscriptions/link")
        assert_accessible(page)
        page.goto(server.url + "/subscriptions/manage/forged")
        assert_accessible(page)
    finally:
        page.close()
    with session_scope() as session:
        sub = session.scalars(select(Subscriber)).one()
        assert sub.status is SubscriberStatus.ENDED
        assert sub.categories == ["education", "health"]
