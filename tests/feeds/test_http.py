"""Feeds over HTTP: stored documents, validators, conditional GETs, bad input."""

from __future__ import annotations

import email.utils
import json

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from publisher.config import reset_settings
from publisher.db import session_scope
from publisher.feeds.filters import single_topic_filters
from publisher.models import FeedDocument
from tests.feeds.conftest import BASE_URL, add_change, rebuild

# Editions, windows, staleness or tokens: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive


def titles(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.data
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return [e.title for e in parsed.entries]


def document_count() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(FeedDocument)) or 0


def test_feed_is_served_with_validators_and_links(client):
    add_change("added", "Sensory play group", minimum_age=0, maximum_age=5)
    rebuild()
    for fmt, ctype in (
        ("rss", "application/rss+xml"),
        ("atom", "application/atom+xml"),
        ("json", "application/feed+json"),
    ):
        response = client.get(f"/feeds/changes.{fmt}")
        assert response.status_code == 200
        assert response.mimetype == ctype
        assert response.headers["ETag"].startswith('"')
        assert email.utils.parsedate_to_datetime(response.headers["Last-Modified"])
        assert "max-age=300" in response.headers["Cache-Control"]
        assert response.headers["Link"] == f'<{BASE_URL}/feeds/changes.{fmt}>; rel="self"'
    doc = json.loads(client.get("/feeds/changes.json").data)
    assert [i["title"] for i in doc["items"]] == ["New: Sensory play group"]
    assert doc["items"][0]["url"].startswith("https://localoffer.example.gov.uk/services/svc-")


def test_conditional_gets_answer_304(client):
    add_change()
    rebuild()
    first = client.get("/feeds/changes.atom?category=leisure")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = client.get("/feeds/changes.atom?category=leisure", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag and "Cache-Control" in again.headers
    since = client.get(
        "/feeds/changes.atom?category=leisure", headers={"If-Modified-Since": modified}
    )
    assert since.status_code == 304
    other = client.get("/feeds/changes.atom?category=leisure", headers={"If-None-Match": '"nope"'})
    assert other.status_code == 200 and other.data == first.data
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
    both = client.get(
        "/feeds/changes.atom?category=leisure",
        headers={"If-None-Match": '"nope"', "If-Modified-Since": modified},
    )
    assert both.status_code == 200


def test_bodies_change_when_the_log_does_not_per_request(client):
    add_change("added", "Swim club")
    rebuild()
    before = client.get("/feeds/changes.rss")
    add_change("added", "Drama group")
    # The change is logged but the feeds are not rebuilt yet: same stored bytes.
    same = client.get("/feeds/changes.rss")
    assert same.headers["ETag"] == before.headers["ETag"] and same.data == before.data
    result = rebuild()
    assert "rss:" in result.rewritten
    after = client.get("/feeds/changes.rss")
    assert after.headers["ETag"] != before.headers["ETag"]
    assert [e.title for e in feedparser.parse(after.data).entries] == [
        "New: Drama group",
        "New: Swim club",
    ]
    assert email.utils.parsedate_to_datetime(after.headers["Last-Modified"]) > (
        email.utils.parsedate_to_datetime(before.headers["Last-Modified"])
    )
    # Nothing new: a second rebuild rewrites nothing.
    assert rebuild().rewritten == []


def test_only_feeds_a_change_belongs_to_get_new_bytes(client):
    add_change("added", "Youth club", minimum_age=16, maximum_age=25)
    rebuild()
    older = client.get("/feeds/changes.atom?age=16-25")
    newest = add_change("added", "Toddler group", minimum_age=0, maximum_age=4)
    result = rebuild()
    assert "atom:age=0-5" in result.rewritten and "atom:" in result.rewritten
    assert "atom:age=16-25" not in result.rewritten
    newer = client.get("/feeds/changes.atom?age=16-25")
    assert newer.headers["ETag"] == older.headers["ETag"]
    with session_scope() as session:
        built = set(session.scalars(select(FeedDocument.built_from_change_id)))
    assert built == {newest}


def test_every_one_topic_feed_is_built_before_anyone_asks(client):
    add_change()
    rebuild()
    with session_scope() as session:
        keys = set(session.scalars(select(FeedDocument.key)))
    expected = {
        f"{fmt}:{flt.query}" for flt in single_topic_filters() for fmt in ("rss", "atom", "json")
    }
    assert keys == expected


def test_a_new_combination_is_built_once_then_served_from_the_store(client):
    add_change("added", "Sensory swim", needs=["sensory-physical"], categories=["leisure"])
    rebuild()
    count = document_count()
    url = "/feeds/changes.atom?category=leisure&need=sensory-physical"
    first = client.get(url)
    assert first.status_code == 200
    # Stored in all three formats at once: the same items serve each.
    assert document_count() == count + 3
    assert titles(client, url) == ["New: Sensory swim"]
    assert titles(client, url.replace(".atom", ".rss")) == ["New: Sensory swim"]
    add_change("added", "Sensory art", needs=["sensory-physical"], categories=["leisure"])
    assert client.get(url).headers["ETag"] == first.headers["ETag"]
    assert document_count() == count + 3
    # The rebuild keeps every stored combination current, not only the one-topic feeds.
    assert "atom:need=sensory-physical&category=leisure" in rebuild().rewritten
    assert titles(client, url) == ["New: Sensory art", "New: Sensory swim"]


def test_only_news_for_families_is_published(client):
    add_change("added", "Added club")
    add_change("added", "Old club", stale=True)
    add_change("became_stale", "Forgotten club", stale=True)
    add_change("updated", "Rechecked club", notable=False, changed_fields=["assured_date"])
    add_change("updated", "Moved club", changed_fields=["addresses"])
    add_change("removed", "Closed club", present=False)
    add_change("reopened", "Returning club")
    rebuild()
    assert titles(client, "/feeds/changes.atom") == [
        "Back again: Returning club",
        "No longer available: Closed club",
        "Updated: Moved club",
        "New: Added club",
    ]


def test_topic_filters_select_matching_changes(client):
    add_change("added", "Teen sensory", minimum_age=12, maximum_age=18, needs=["sensory-physical"])
    add_change(
        "added", "Teen talk", minimum_age=12, maximum_age=18, needs=["communication-interaction"]
    )
    add_change("added", "Baby sensory", minimum_age=0, maximum_age=2, needs=["sensory-physical"])
    rebuild()
    assert titles(client, "/feeds/changes.rss?age=16-25&need=sensory-physical") == [
        "New: Teen sensory"
    ]
    assert titles(client, "/feeds/changes.rss?need=sensory-physical") == [
        "New: Baby sensory",
        "New: Teen sensory",
    ]
    # None of them names an area: open to all, as in emails, so in the area's feed too.
    assert len(titles(client, "/feeds/changes.rss?locality=out-of-area")) == 3
    assert titles(client, "/feeds/changes.rss?category=leisure") == []  # no kind named


def test_feed_size_is_bounded(client, feed_env):
    feed_env.setenv("FEED_MAX_ITEMS", "3")
    reset_settings()
    for n in range(5):
        add_change("added", f"Club {n}")
    rebuild()
    assert titles(client, "/feeds/changes.atom") == ["New: Club 4", "New: Club 3", "New: Club 2"]


def test_unknown_values_answer_400_with_the_valid_ones(client):
    response = client.get("/feeds/changes.atom?age=12-14")
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert "0-5, 5-11, 11-16, 16-25" in response.get_data(as_text=True)
    response = client.get("/feeds/changes.json?category=<script>")
    assert response.status_code == 400 and response.mimetype == "text/plain"
    assert client.get("/feeds/changes.html").status_code == 404
    assert client.post("/feeds/changes.atom").status_code in (400, 405)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    query=st.one_of(
        st.binary(max_size=60),
        st.lists(
            st.tuples(
                st.sampled_from(["age", "need", "category", "locality", "x", "age[]", ""]),
                st.text(max_size=20),
            ),
            max_size=4,
        ),
    )
)
def test_no_malformed_query_is_a_server_error(client, query):
    if isinstance(query, bytes):
        # Raw bytes as a server would pass them on: bad percent escapes, bad UTF-8, NULs.
        raw = query.decode("latin-1")
        response = client.get("/feeds/changes.atom", environ_overrides={"QUERY_STRING": raw})
    else:
        response = client.get("/feeds/changes.atom", query_string=query)
    assert response.status_code in (200, 400), response.data


def test_processes_keep_a_copy_until_the_next_rebuild(client):
    from sqlalchemy import update

    from publisher.feeds.memory import mark_rebuilt

    add_change("added", "Swim club")
    rebuild()
    first = client.get("/feeds/changes.atom")
    # Changed behind the process's back (as another host's rebuild would, before this
    # host's marker moves): the copy in memory is still served...
    with session_scope() as session:
        session.execute(
            update(FeedDocument)
            .where(FeedDocument.key == "atom:")
            .values(etag='"other"', body=b"x")
        )
    assert client.get("/feeds/changes.atom").data == first.data
    # ...until the rebuild marker changes.
    mark_rebuilt(0)
    assert client.get("/feeds/changes.atom").headers["ETag"] == '"other"'


def test_the_feed_directory_lists_every_feed_with_its_address(client):
    from publisher.feeds.store import feed_url

    page = client.get("/feeds").get_data(as_text=True)
    for flt in single_topic_filters():
        for fmt in ("rss", "atom", "json"):
            url = feed_url(fmt, flt).replace("&", "&amp;")
            assert f'<code class="address">{url}</code>' in page
            assert f'data-copy="{url}"' in page
    assert "age=0-5&amp;age=5-11&amp;need=sensory-physical" in page  # how to combine topics


def test_hostile_directory_text_is_inert_end_to_end(client):
    add_change(
        "added",
        '<script>alert("x")</script>Play & learn',
        summary='<img src=x onerror="alert(1)"> Fun for all',
        url="javascript:alert(1)",
    )
    rebuild()
    rss = feedparser.parse(client.get("/feeds/changes.rss").data)
    assert not rss.bozo
    entry = rss.entries[0]
    assert entry.title == "New: Play & learn"
    assert "<img" not in entry.summary and "&lt;img" in entry.summary
    doc = json.loads(client.get("/feeds/changes.json").data)
    assert doc["items"][0]["content_text"].startswith('<img src=x onerror="alert(1)"> Fun')
    assert "<img" not in doc["items"][0]["content_html"]


def test_new_settings_rewrite_every_feed_at_the_next_rebuild(client, feed_env):
    add_change()
    rebuild()
    before = client.get("/feeds/changes.atom?age=0-5")
    assert b"North Lincolnshire Council" in before.data
    feed_env.setenv("COUNCIL_NAME", "North East Lincolnshire Council")
    reset_settings()
    result = rebuild()
    assert result.unchanged == 0 and len(result.rewritten) == document_count()
    after = client.get("/feeds/changes.atom?age=0-5")
    assert after.headers["ETag"] != before.headers["ETag"]
    assert feedparser.parse(after.data).feed.title.startswith("North East Lincolnshire Council")
    assert rebuild().rewritten == []


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    if_none_match=st.one_of(st.none(), st.text(max_size=40), st.just("*"), st.just('W/"x", "y"')),
    if_modified_since=st.one_of(
        st.none(), st.text(max_size=40), st.just("Thu, 01 Jan 1970 00:00:00 GMT")
    ),
)
def test_odd_conditional_headers_are_never_a_server_error(client, if_none_match, if_modified_since):
    headers = {}
    for name, value in (("If-None-Match", if_none_match), ("If-Modified-Since", if_modified_since)):
        if value is not None and all(0x20 <= ord(c) < 0x7F for c in value):
            headers[name] = value
    response = client.get("/feeds/changes.json", headers=headers)
    assert response.status_code in (200, 304)
    if if_none_match == "*" and "If-None-Match" in headers:
        assert response.status_code == 304  # "*" matches any current representation


def test_head_gives_the_headers_without_the_body(client):
    add_change()
    rebuild()
    get = client.get("/feeds/changes.rss")
    head = client.head("/feeds/changes.rss")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["ETag"] == get.headers["ETag"]
    assert head.headers["Content-Length"] == str(len(get.data))


def test_combinations_nobody_reads_are_dropped_and_come_back_when_asked(client):
    import datetime as dt

    from sqlalchemy import update

    from publisher.feeds import memory

    add_change("added", "Sensory swim", needs=["sensory-physical"], categories=["leisure"])
    rebuild()
    url = "/feeds/changes.json?category=leisure&need=sensory-physical"
    key = "json:need=sensory-physical&category=leisure"
    assert client.get(url).status_code == 200

    def last_read() -> dt.date | None:
        with session_scope() as session:
            return session.scalar(
                select(FeedDocument.last_requested_on).where(FeedDocument.key == key)
            )

    today = dt.datetime.now(dt.UTC).date()
    assert last_read() == today

    def age(days: int) -> None:
        with session_scope() as session:
            session.execute(
                update(FeedDocument)
                .where(FeedDocument.last_requested_on.is_not(None))
                .values(last_requested_on=today - dt.timedelta(days=days))
            )
        memory.documents.clear()

    # Read again on a later day: noted (once), so it is kept.
    age(3)
    client.get(url)
    assert last_read() == today
    assert key not in rebuild().dropped
    # Unread for longer than FEED_UNUSED_DAYS (30): dropped at the next rebuild...
    age(31)
    result = rebuild()
    assert {key, "rss:need=sensory-physical&category=leisure"} <= set(result.dropped)
    assert last_read() is None
    # The always-built feeds are never dropped.
    assert all("&" in k for k in result.dropped)
    # ...and built again on its next request.
    memory.documents.clear()
    response = client.get(url)
    assert response.status_code == 200
    assert json.loads(response.data)["items"][0]["title"] == "New: Sensory swim"
    assert last_read() == today
