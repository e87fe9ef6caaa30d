"""A feed address opened in a browser (issue 13): the Fetch Metadata headers decide
between a page and the feed; readers get the feed exactly as before."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from publisher.db import session_scope
from publisher.feeds.page import items_from_json_feed
from publisher.feeds.views import FEED_CSP
from publisher.models import FeedDocument
from tests.feeds.conftest import BASE_URL, add_change, rebuild

# Changes are dated from now, and entries checked a month before it (tests/clock.py).
pytestmark = pytest.mark.date_sensitive

NAVIGATION = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Sec-Fetch-Site": "none"}
FORMATS = ("rss", "atom", "json")


def vary(response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("Vary", "").split(",") if v.strip()}


@pytest.fixture()
def clubs(feed_env):
    add_change("added", "Sensory play group", minimum_age=0, maximum_age=5)
    add_change("added", "Teen <b>games</b> night", minimum_age=12, maximum_age=15)
    rebuild()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_browser_opening_a_feed_gets_a_page(client, clubs, fmt):
    response = client.get(f"/feeds/changes.{fmt}?age=0-5", headers=NAVIGATION)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "This is a news feed." in html
    address = f"{BASE_URL}/feeds/changes.{fmt}?age=0-5"
    assert f'readonly spellcheck="false" autocomplete="off">{address}</textarea>' in html
    assert ">New: Sensory play group</a>" in html
    assert "Teen" not in html  # only what this feed holds
    assert {"accept", "sec-fetch-dest", "sec-fetch-mode"} <= vary(response)
    # A page of the site: the site's policy (scripts by nonce), not the feed's.
    assert response.headers["Content-Security-Policy"] != FEED_CSP
    assert "ETag" not in response.headers
    assert response.headers["Link"] == f'<{address}>; rel="self"'


@pytest.mark.parametrize("fmt", FORMATS)
def test_readers_and_scripts_get_the_feed_exactly_as_stored(client, clubs, fmt):
    with session_scope() as session:
        stored = session.scalar(select(FeedDocument.body).where(FeedDocument.key == f"{fmt}:"))
    assert stored is not None
    for headers in (
        {},  # a feed reader: no Fetch Metadata
        {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"},  # fetch() from a page
        {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"},  # not a whole page
        {"Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "document"},
    ):
        response = client.get(f"/feeds/changes.{fmt}", headers=headers)
        assert response.status_code == 200
        assert response.data == stored, headers
        assert response.mimetype != "text/html"
        assert response.headers["Content-Security-Policy"] == FEED_CSP
        assert {"accept", "sec-fetch-dest", "sec-fetch-mode"} <= vary(response)
        again = client.get(
            f"/feeds/changes.{fmt}",
            headers={**headers, "If-None-Match": response.headers["ETag"]},
        )
        assert again.status_code == 304
        assert {"accept", "sec-fetch-dest", "sec-fetch-mode"} <= vary(again)
    # Older browsers (no Fetch Metadata) still get the stylesheet instruction.
    if fmt != "json":
        assert b'<?xml-stylesheet type="text/xsl" href="/feeds/feed.xsl"?>' in stored[:200]


def test_a_page_is_never_answered_with_the_feeds_304(client, clubs):
    feed = client.get("/feeds/changes.atom")
    page = client.get(
        "/feeds/changes.atom", headers={**NAVIGATION, "If-None-Match": feed.headers["ETag"]}
    )
    assert page.status_code == 200 and page.mimetype == "text/html"


def test_a_page_for_a_feed_nobody_asked_for_yet_builds_it(client, clubs):
    response = client.get("/feeds/changes.rss?age=0-5&age=11-16", headers=NAVIGATION)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "New: Sensory play group" in html
    # Directory text stays text: the stored item's name was cleaned, and the page escapes.
    assert "<b>" not in html
    bad = client.get("/feeds/changes.rss?age=nine", headers=NAVIGATION)
    assert bad.status_code == 400 and "Valid age values are" in bad.get_data(as_text=True)


def test_the_page_shows_no_link_that_is_not_a_web_link():
    body = (
        b'{"title":"T","items":[{"title":"A","url":"javascript:alert(1)",'
        b'"content_text":"x","date_published":"2026-03-01T23:30:00Z"},'
        b'{"title":"B","url":"https://example.org/b","date_published":"nonsense"}]}'
    )
    title, items = items_from_json_feed(body)
    assert title == "T"
    assert [(i.title, i.link) for i in items] == [("A", None), ("B", "https://example.org/b")]
    assert items[0].when == "1 March 2026"  # 23:30 UTC is still 1 March in the UK (GMT)
    assert items[1].when == ""
