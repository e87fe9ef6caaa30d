"""Feeds with several values of a topic (issue 13): over HTTP, one stored feed for the
same choices in any order, and the builder page's ticked boxes."""

from __future__ import annotations

import feedparser
import pytest
from sqlalchemy import select

from publisher.db import session_scope
from publisher.feeds.filters import MAX_VALUES
from publisher.models import FeedDocument
from tests.feeds.conftest import BASE_URL, add_change, rebuild

# Changes are dated from now, and entries checked a month before it (tests/clock.py).
pytestmark = pytest.mark.date_sensitive


def titles(client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, response.data
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return [e.title for e in parsed.entries]


def _clubs() -> None:
    add_change("added", "Toddler splash", minimum_age=0, maximum_age=4, needs=["sensory-physical"])
    add_change("added", "Junior drama", minimum_age=6, maximum_age=10, needs=["sensory-physical"])
    add_change("added", "Teen games", minimum_age=12, maximum_age=15, needs=["sensory-physical"])
    add_change(
        "added", "Little talkers", minimum_age=1, maximum_age=4, needs=["cognition-learning"]
    )
    rebuild()


def test_an_entry_matching_one_of_two_ages_is_in_the_feed(client):
    _clubs()
    assert titles(client, "/feeds/changes.rss?age=0-5&age=5-11") == [
        "New: Little talkers",
        "New: Junior drama",
        "New: Toddler splash",
    ]
    # Across topics all must match: the need rules out Little talkers.
    assert titles(client, "/feeds/changes.atom?age=0-5&age=5-11&need=sensory-physical") == [
        "New: Junior drama",
        "New: Toddler splash",
    ]
    both_needs = "/feeds/changes.atom?need=sensory-physical&need=cognition-learning&age=11-16"
    assert titles(client, both_needs) == ["New: Teen games"]


def test_the_same_choices_in_any_order_are_one_feed(client):
    _clubs()
    first = client.get("/feeds/changes.json?need=sensory-physical&age=5-11&age=0-5")
    second = client.get("/feeds/changes.json?age=0-5&age=0-5&age=5-11&need=sensory-physical")
    canonical = f"{BASE_URL}/feeds/changes.json?age=0-5&age=5-11&need=sensory-physical"
    assert first.status_code == second.status_code == 200
    assert first.headers["ETag"] == second.headers["ETag"]
    assert first.headers["Link"] == second.headers["Link"] == f'<{canonical}>; rel="self"'
    assert first.json["feed_url"] == canonical
    again = client.get(
        "/feeds/changes.json?age=5-11&need=sensory-physical&age=0-5",
        headers={"If-None-Match": first.headers["ETag"]},
    )
    assert again.status_code == 304
    with session_scope() as session:
        keys = set(
            session.scalars(
                select(FeedDocument.key).where(FeedDocument.query.like("%age=5-11%need%"))
            )
        )
    assert keys == {
        f"{fmt}:age=0-5&age=5-11&need=sensory-physical" for fmt in ("rss", "atom", "json")
    }


def test_one_value_addresses_are_unchanged(client):
    _clubs()
    response = client.get("/feeds/changes.atom?age=11-16")
    assert response.headers["Link"] == f'<{BASE_URL}/feeds/changes.atom?age=11-16>; rel="self"'
    assert titles(client, "/feeds/changes.atom?age=11-16") == ["New: Teen games"]
    with session_scope() as session:
        assert session.get(FeedDocument, "atom:age=11-16") is not None


def test_bad_choices_answer_400_naming_the_valid_ones(client):
    response = client.get("/feeds/changes.atom?age=0-5&age=12-14")
    assert response.status_code == 400 and response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert "Unknown age: '12-14'" in text and "0-5, 5-11, 11-16, 16-25" in text
    many = "&".join(
        f"category={c}"
        for c in [
            "education",
            "training-employment",
            "health",
            "social-care",
            "leisure",
            "travel-transport",
            "preparing-for-adulthood",
            "childcare",
        ]
    )
    many += "&age=0-5&age=5-11&age=11-16&age=16-25&need=sensory-physical"
    response = client.get(f"/feeds/changes.rss?{many}")
    assert response.status_code == 400
    assert f"at most {MAX_VALUES} values" in response.get_data(as_text=True)


def test_the_builder_ticks_several_boxes_and_gives_one_address(client):
    page = client.get("/feeds?build=1&age=5-11&age=0-5&need=sensory-physical&category=")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    address = f"{BASE_URL}/feeds/changes.rss?age=0-5&amp;age=5-11&amp;need=sensory-physical"
    assert f'<code class="address">{address}</code>' in html
    assert 'type="checkbox"' in html and 'type="radio"' not in html
    assert html.count(" checked>") == 3
    assert "Your feed: Ages 0 to 5 or Ages 5 to 11, and Sensory and physical needs" in html
    bad = client.get("/feeds?build=1&age=0-5&age=99")
    assert bad.status_code == 400 and "Unknown age" in bad.get_data(as_text=True)
