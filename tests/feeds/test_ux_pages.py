"""What a parent meets on the public site (issue 13.2): news and a contact on the home
page, a feed builder, and feeds that read well when opened in a browser. Checked in
Chromium with axe-core at 1280 and 320 px; screenshots go to var/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest

from publisher.config import reset_settings
from publisher.web import create_app
from tests.browser import assert_accessible, check_widths
from tests.feeds.conftest import BASE_URL, add_change, rebuild

pytestmark = pytest.mark.browser


@pytest.fixture()
def site(feed_env: Any, live_app: Any) -> Any:
    feed_env.setenv("COUNCIL_CONTACT_EMAIL", "localoffer@northlincs.example.gov.uk")
    feed_env.setenv("COUNCIL_CONTACT_PHONE", "01724 297000")
    reset_settings()
    add_change("added", "Sensory play group", minimum_age=0, maximum_age=5)
    add_change("removed", "Old Youth Club", minimum_age=11, maximum_age=16, present=False)
    rebuild()
    return live_app(create_app({"TESTING": True}))


def test_home_page_shows_latest_changes_a_sign_up_call_and_the_contact(browser, site):
    page = browser.new_page()
    try:
        page.goto(site.url + "/")
        latest = page.locator("section", has=page.get_by_role("heading", name="Latest changes"))
        titles = latest.get_by_role("listitem").all_inner_texts()
        assert titles[0].startswith("No longer available: Old Youth Club")
        assert titles[1].startswith("New: Sensory play group")
        assert page.get_by_role("link", name="Sign up for emails").get_attribute("href") == (
            "/subscriptions/"
        )
        mail = page.get_by_role("link", name="localoffer@northlincs.example.gov.uk")
        assert mail.get_attribute("href") == "mailto:localoffer@northlincs.example.gov.uk"
        assert page.get_by_role("link", name="01724 297000").get_attribute("href") == (
            "tel:01724297000"
        )
        check_widths(page, "home")
        for path in ("/accessibility", "/privacy"):
            page.goto(site.url + path)
            assert page.get_by_role("link", name="localoffer@northlincs.example.gov.uk").count()
            assert_accessible(page)
    finally:
        page.close()


def test_feed_builder_gives_one_address_for_the_choices(browser, site):
    page = browser.new_page()
    try:
        page.goto(site.url + "/feeds")
        check_widths(page, "feed-builder")
        # The full list is still there, folded away below the builder.
        assert page.get_by_text("Show all").count() == 1
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < 6000, height
        page.get_by_label("Ages 0 to 5").check()
        page.get_by_label("Sensory and physical needs").check()
        page.get_by_role("button", name="Make my feed").click()
        heading = page.get_by_role("heading", name="Your feed:")
        heading.wait_for()
        assert "Ages 0 to 5 and" in heading.inner_text()
        address = page.locator("#your-feed code.address").inner_text()
        assert address == f"{BASE_URL}/feeds/changes.rss?age=0-5&need=sensory-physical"
        # The choices stay ticked, so the next change is one click away.
        assert page.get_by_role("radio", name="Ages 0 to 5").is_checked()
        check_widths(page, "feed-builder-result")
    finally:
        page.close()


def test_feed_builder_explains_a_bad_choice(client: Any) -> None:
    bad = client.get("/feeds?build=1&age=99")
    assert bad.status_code == 400
    assert "Unknown age" in bad.get_data(as_text=True)


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_a_feed_opened_in_a_browser_is_a_readable_page(browser, site, fmt):
    page = browser.new_page()
    try:
        page.goto(f"{site.url}/feeds/changes.{fmt}")
        page.get_by_role("heading", name="North Lincolnshire Council Local Offer news").wait_for()
        assert "This is a news feed." in page.inner_text("main")
        assert page.get_by_role("link", name="New: Sensory play group").count() == 1
        assert f"{BASE_URL}/feeds/changes.{fmt}" in page.inner_text("main")
        # Chromium adds an "XSLT is going away" banner of its own; axe checks our page.
        check_widths(page, f"feed-{fmt}", exclude=["xslt-warning-banner"])
    finally:
        page.close()


def test_feed_documents_carry_the_stylesheet_and_stay_valid(site: Any, client: Any) -> None:
    import feedparser

    for fmt in ("rss", "atom"):
        body = client.get(f"/feeds/changes.{fmt}").data
        assert b'<?xml-stylesheet type="text/xsl" href="/feeds/feed.xsl"?>' in body[:200]
        parsed = feedparser.parse(body)
        assert not parsed.bozo and parsed.entries
    xsl = client.get("/feeds/feed.xsl")
    assert xsl.status_code == 200 and xsl.mimetype == "text/xsl"
    assert b'"/feeds/feed.xsl"' not in client.get("/feeds/changes.json").data
