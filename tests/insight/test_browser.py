"""/changes and /health in headless Chromium: filters, pages and downloads work without
JavaScript, axe-core finds no WCAG 2.2 AA violations (charts included), and nothing
needs sideways scrolling at 320 CSS pixels."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pytest

from publisher.db import utcnow
from publisher.web import create_app
from tests.browser import assert_accessible
from tests.insight.conftest import Log

pytestmark = [pytest.mark.browser, pytest.mark.date_sensitive]


@pytest.fixture()
def site(log: Log, env: Any, live_app: Any) -> Any:
    now = utcnow()
    for i in range(25):
        entry = log.entry(
            f"Service {i:02d}",
            minimum_age=1 if i % 2 else 17,
            maximum_age=4 if i % 2 else 24,
            needs=["sensory-physical"] if i % 2 else ["cognition-learning"],
            summary="=cmd|' /C calc'!A0" if i == 24 else f"About service {i}.",
        )
        log.change(entry, "added", at=now - dt.timedelta(hours=30 - i))
    log.refresh()
    return live_app(create_app({"TESTING": True}))


def test_filters_pages_and_downloads_without_javascript(browser: Any, site: Any) -> None:
    context = browser.new_context(java_script_enabled=False, accept_downloads=True)
    page = context.new_page()
    try:
        # axe-core needs scripts: the accessibility checks are in the tests below.
        page.goto(site.url + "/changes")
        assert page.locator("ol.changes li").count() == 20
        page.select_option("#f-age", "0-5")
        page.select_option("#f-need", "sensory-physical")
        page.click("button[type=submit]")
        assert "age=0-5" in page.url and "need=sensory-physical" in page.url
        titles = page.locator("ol.changes h3").all_inner_texts()
        assert titles == [f"New: Service {i:02d}" for i in range(23, 0, -2)]
        assert page.eval_on_selector("#f-age", "e => e.value") == "0-5"
        # All 25 do not fit on one page: walk to the second page and back.
        page.goto(site.url + "/changes")
        page.click("text=Older changes")
        assert page.locator("ol.changes li").count() == 5
        page.click("text=Newer changes")
        assert page.locator("ol.changes li").count() == 20
        # Downloads: the same selection as the page, in full.
        page.goto(site.url + "/changes?need=cognition-learning")
        with page.expect_download() as got:
            page.click("text=Spreadsheet (CSV)")
        rows = list(csv.DictReader(io.StringIO(open(got.value.path(), encoding="utf-8").read())))
        assert len(rows) == 13
        assert rows[0]["summary"].startswith("'=cmd")
        with page.expect_download() as got:
            page.click("text=JSON")
        data = json.loads(open(got.value.path(), encoding="utf-8").read())
        assert len(data["items"]) == 13 and "Open Government Licence" in data["licence"]["name"]
    finally:
        context.close()


def test_bad_filter_page_is_accessible(browser: Any, site: Any) -> None:
    page = browser.new_page()
    try:
        response = page.goto(site.url + "/changes?age=7-9")
        assert response is not None and response.status == 400
        assert "Valid values" in page.inner_text("[role=alert]")
        assert_accessible(page)
    finally:
        page.close()


@pytest.mark.parametrize("path", ["/changes", "/changes?age=0-5&kind=added", "/health"])
def test_pages_accessible_and_reflow_at_320(browser: Any, site: Any, path: str) -> None:
    page = browser.new_page()
    try:
        page.goto(site.url + path)
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        assert_accessible(page)
    finally:
        page.close()
    narrow = browser.new_page(viewport={"width": 320, "height": 640})
    try:
        narrow.goto(site.url + path)
        width = narrow.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{path} is {width}px wide at a 320px viewport"
        if path == "/changes":
            narrow.click("text=Older changes")  # the second page, too
            assert narrow.evaluate("document.documentElement.scrollWidth") <= 320
            assert_accessible(narrow)
        if path == "/health":
            # Charts scale to the column: about 290 px wide, so 12-unit text stays ~11 px.
            sizes = narrow.eval_on_selector_all(
                "svg.chart", "els => els.map(e => e.getBoundingClientRect().width)"
            )
            assert sizes and all(250 <= w <= 320 for w in sizes), sizes
            narrow.screenshot(path="/tmp/health-320.png", full_page=True)
    finally:
        narrow.close()


def _signed_in(browser: Any, site: Any, session: Any) -> Any:
    from publisher.console.users import create_user
    from tests.console.conftest import PASSWORD

    create_user(session, "officer@council.example", "editor", PASSWORD)
    session.commit()
    page = browser.new_page()
    page.goto(site.url + "/console/login")
    page.fill("input[name=email]", "officer@council.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    return page


def test_reach_and_annual_report_pages_are_accessible_and_print(
    browser: Any, site: Any, session: Any
) -> None:
    page = _signed_in(browser, site, session)
    try:
        page.goto(site.url + "/console/reach")
        assert page.locator("h1").inner_text() == "Who the Local Offer reaches"
        assert_accessible(page)
        page.click("text=Annual report")
        assert "annual report" in page.locator("h1").inner_text()
        assert_accessible(page)
        page.emulate_media(media="print")
        assert not page.is_visible("text=Back to the console")
        page.pdf(path="/tmp/annual-report.pdf")  # prints without error
        page.emulate_media(media="screen")
        page.set_viewport_size({"width": 320, "height": 640})
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
    finally:
        page.close()
