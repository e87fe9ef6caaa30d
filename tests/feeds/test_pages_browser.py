"""Public pages in headless Chromium: axe-core finds no WCAG 2.2 AA violations, and the
pages work with the keyboard alone."""

from __future__ import annotations

import pytest

from publisher.config import reset_settings
from publisher.web import create_app
from tests.browser import assert_accessible
from tests.feeds.conftest import BASE_URL, add_change, rebuild

PAGES = ["/", "/feeds", "/accessibility", "/privacy"]
pytestmark = pytest.mark.browser

LOGO = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='120' height='40'%3E"
    "%3Crect width='120' height='40' fill='%23005a30'/%3E%3C/svg%3E"
)


@pytest.fixture()
def site(feed_env, live_app):
    feed_env.setenv("BRAND_COLOUR", "#005a30")
    feed_env.setenv("LOGO_URL", LOGO)
    feed_env.setenv("LOGO_ALT", "North Lincolnshire Council")
    reset_settings()
    add_change("added", "Sensory play group", minimum_age=0, maximum_age=5)
    rebuild()
    return live_app(create_app({"TESTING": True}))


@pytest.mark.parametrize("path", PAGES)
def test_public_page_is_accessible_and_advertises_feeds(browser, site, path):
    page = browser.new_page()
    try:
        response = page.goto(site.url + path)
        assert response is not None and response.status == 200
        assert_accessible(page)
        feeds = page.eval_on_selector_all(
            "link[rel=alternate]", "els => els.map(e => [e.type, e.href])"
        )
        assert ["application/atom+xml", f"{BASE_URL}/feeds/changes.atom"] in feeds
        assert ["application/rss+xml", f"{BASE_URL}/feeds/changes.rss"] in feeds
        # Council colour and logo come from configuration.
        colour = page.eval_on_selector("header.site", "e => getComputedStyle(e).backgroundColor")
        assert colour == "rgb(0, 90, 48)"
        assert page.get_attribute("header.site img.logo", "alt") == "North Lincolnshire Council"
        assert page.locator("nav a[href='/newsletters']").count() == 1
    finally:
        page.close()


def _focused(page):
    return page.evaluate(
        """() => { const e = document.activeElement; const s = getComputedStyle(e);
        const r = e.getBoundingClientRect();
        return {text: e.textContent.trim(), href: e.getAttribute('href'), tag: e.tagName,
                outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2,
                visible: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0}; }"""
    )


def test_keyboard_alone_reaches_skip_link_and_main_links(browser, site):
    page = browser.new_page()
    try:
        page.goto(site.url + "/")
        page.keyboard.press("Tab")
        first = _focused(page)
        assert first["text"] == "Skip to main content" and first["visible"] and first["outline"]
        seen = []
        for _ in range(9):
            page.keyboard.press("Tab")
            now = _focused(page)
            assert now["visible"] and now["outline"], now
            seen.append(now["href"])
        for href in [
            "/",
            "/subscriptions/",
            "/newsletters",
            "/feeds",
            "/accessibility",
            "/privacy",
        ]:
            assert href in seen
        # The skip link moves focus to the main content.
        page.goto(site.url + "/")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        page.keyboard.press("Tab")
        assert _focused(page)["href"] == "/subscriptions/"  # first link in the page's text
    finally:
        page.close()


def test_feed_addresses_can_be_copied_with_the_keyboard(browser, site):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        page.goto(site.url + "/feeds")
        page.get_by_text("Show all").click()  # the full list sits below the feed builder
        button = page.get_by_role("button", name="Copy Atom address for Ages 0 to 5")
        button.focus()
        assert _focused(page)["outline"]
        page.keyboard.press("Enter")
        page.wait_for_function("document.getElementById('copy-status').textContent !== ''")
        assert (
            page.evaluate("navigator.clipboard.readText()")
            == f"{BASE_URL}/feeds/changes.atom?age=0-5"
        )
        # The feed the directory links to is served, and is a real feed.
        body = page.request.get(site.url + "/feeds/changes.atom?age=0-5")
        assert body.status == 200 and b"New: Sensory play group" in body.body()
    finally:
        context.close()


@pytest.mark.parametrize("path", PAGES)
def test_pages_reflow_at_320_css_pixels(browser, site, path):
    # WCAG 1.4.10: content at 320 CSS pixels wide (400% zoom) needs no sideways scrolling.
    page = browser.new_page(viewport={"width": 320, "height": 640})
    try:
        page.goto(site.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{path} is {width}px wide at a 320px viewport"
    finally:
        page.close()
