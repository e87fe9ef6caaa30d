"""What a parent meets on the public site (issue 13.2): news and a contact on the home
page, a feed builder, and feeds that read well when opened in a browser. Checked in
Chromium with axe-core at 1280 and 320 px; screenshots go to var/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest

from publisher.config import reset_settings
from publisher.web import create_app
from tests.browser import assert_accessible, assert_landmarks, check_widths
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
        assert height < 7000, height
        ages = page.get_by_role("group", name="Which ages?")
        ages.get_by_label("Ages 11 to 16").check()  # ticked first, listed second
        ages.get_by_label("Ages 0 to 5").check()
        page.get_by_label("Sensory and physical needs").check()
        page.get_by_role("button", name="Make my feed").click()
        heading = page.get_by_role("heading", name="Your feed:")
        heading.wait_for()
        assert "Ages 0 to 5 or Ages 11 to 16, and Sensory" in heading.inner_text()
        address = page.locator("#your-feed code.address").inner_text()
        assert address == (f"{BASE_URL}/feeds/changes.rss?age=0-5&age=11-16&need=sensory-physical")
        # The choices stay ticked, so the next change is one click away.
        assert page.get_by_role("checkbox", name="Ages 0 to 5").is_checked()
        assert page.get_by_role("checkbox", name="Ages 11 to 16").is_checked()
        assert not page.get_by_role("checkbox", name="Ages 5 to 11").is_checked()
        check_widths(page, "feed-builder-result")
        # The address gives the feed: both clubs (no need named: open to all), one age
        # band each; a reader (no browser navigation) gets the feed itself.
        path = address.removeprefix(BASE_URL)
        feed = page.request.get(site.url + path)
        assert feed.headers["content-type"].startswith("application/rss+xml")
        assert feed_titles(feed.body()) == [
            "No longer available: Old Youth Club",
            ("New: Sensory play group"),
        ]
        only_young = page.request.get(site.url + "/feeds/changes.rss?age=0-5")
        assert feed_titles(only_young.body()) == ["New: Sensory play group"]
    finally:
        page.close()


def feed_titles(body: bytes) -> list[str]:
    import feedparser

    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return [e.title for e in parsed.entries]


def test_feed_builder_explains_a_bad_choice(client: Any) -> None:
    bad = client.get("/feeds?build=1&age=99")
    assert bad.status_code == 400
    assert "Unknown age" in bad.get_data(as_text=True)


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_a_feed_opened_in_a_browser_is_a_readable_page(browser, site, fmt):
    """Chromium is dropping XSLT: a feed opened in it is a page of the site, made on the
    server, with no "XSLT is going away" banner."""
    page = browser.new_page()
    try:
        response = page.goto(f"{site.url}/feeds/changes.{fmt}?age=0-5&age=11-16")
        assert response is not None and response.status == 200
        assert response.headers["content-type"].startswith("text/html")
        heading = "North Lincolnshire Council Local Offer news: Ages 0 to 5 or Ages 11 to 16"
        page.get_by_role("heading", name=heading).wait_for()
        assert "This is a news feed." in page.inner_text("main")
        assert page.get_by_role("link", name="New: Sensory play group").count() == 1
        assert page.get_by_role("link", name="No longer available: Old Youth Club").count() == 1
        address = page.get_by_label("Feed address")
        assert address.input_value() == (f"{BASE_URL}/feeds/changes.{fmt}?age=0-5&age=11-16")
        assert page.locator("xslt-warning-banner").count() == 0
        assert page.evaluate("document.contentType") == "text/html"
        assert_landmarks(page)
        check_widths(page, f"feed-page-{fmt}")
    finally:
        page.close()


def test_the_feed_address_can_be_copied_from_the_page(browser, site):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        page.goto(f"{site.url}/feeds/changes.atom")
        page.get_by_role("button", name="Copy the address").click()
        page.wait_for_function("document.getElementById('copy-status').textContent !== ''")
        assert page.evaluate("navigator.clipboard.readText()") == f"{BASE_URL}/feeds/changes.atom"
    finally:
        context.close()


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


def test_the_web_app_needs_a_contact_outside_the_demo(feed_env: Any) -> None:
    feed_env.delenv("COUNCIL_CONTACT_EMAIL", raising=False)
    feed_env.delenv("PUBLISHER_DEMO", raising=False)
    reset_settings()
    with pytest.raises(ValueError, match="Set COUNCIL_CONTACT_EMAIL"):
        create_app()
    feed_env.setenv("COUNCIL_CONTACT_PHONE", "call us")
    reset_settings()
    with pytest.raises(ValueError, match="COUNCIL_CONTACT_PHONE must be a phone number"):
        create_app({"TESTING": True})
    feed_env.delenv("COUNCIL_CONTACT_PHONE")
    feed_env.setenv("PUBLISHER_DEMO", "1")
    reset_settings()
    assert create_app().name  # the demo shows where a real contact would go
