"""The three formats are valid for real clients, and nothing from a directory runs."""

from __future__ import annotations

import datetime as dt
import json

import feedparser
import lxml.etree as etree
import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publisher.feeds.items import item_for
from publisher.feeds.render import FeedMeta, render
from publisher.models import ChangeKind

# Editions, windows, staleness or tokens: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive

ATOM = "{http://www.w3.org/2005/Atom}"
WHEN = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)
META = FeedMeta(
    id="tag:news.example.gov.uk,2026:feed:changes",
    title="Example Council Local Offer news",
    description="Services added to, changed on, or taken off the Local Offer.",
    self_url="https://news.example.gov.uk/feeds/changes.atom",
    home_url="https://news.example.gov.uk/",
    author="Example Council Local Offer",
    updated=WHEN,
)


def snapshot(name: str = "Sensory play group", summary: str = "Messy play for under 5s.", **kw):
    base = {
        "name": name,
        "summary": summary,
        "page_url": "https://localoffer.example.gov.uk/services/1",
        "url": "https://provider.example.org/1",
        "minimum_age": 0,
        "maximum_age": 5,
        "age_bands": ["0-5"],
        "needs": ["sensory-physical"],
        "categories": ["leisure"],
        "localities": ["scunthorpe"],
        "stale": False,
    }
    base.update(kw)
    return base


def make_item(change_id: int, kind: ChangeKind = ChangeKind.ADDED, **kw):
    return item_for(
        change_id=change_id,
        kind=kind,
        occurred_at=WHEN + dt.timedelta(minutes=change_id),
        changed_fields=kw.pop("changed_fields", []),
        snapshot=snapshot(**kw),
        authority="news.example.gov.uk",
        fallback_link="https://news.example.gov.uk/",
        locality_labels={"scunthorpe": "Scunthorpe"},
    )


def assert_atom_required(body: bytes, entries: int) -> None:
    root = etree.fromstring(body)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"{ATOM}{name}")) == 1, name
    # RFC 4287 4.1.1: an author on the feed, or on every entry.
    assert root.findall(f"{ATOM}author/{ATOM}name")
    found = root.findall(f"{ATOM}entry")
    assert len(found) == entries
    for entry in found:
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name
        # 4.1.2: an entry without content needs an alternate link and a summary. A link
        # with no rel is an alternate link (4.2.7.2); feedgen writes entry links so.
        links = entry.findall(f"{ATOM}link")
        assert any(link.get("rel", "alternate") == "alternate" for link in links)
        assert entry.find(f"{ATOM}summary") is not None


def assert_rss_required(body: bytes, items: int) -> None:
    root = etree.fromstring(body)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    for name in ("title", "link", "description"):
        assert channel.findtext(name), name
    found = channel.findall("item")
    assert len(found) == items
    for item in found:
        assert item.findtext("title") or item.findtext("description")
        assert item.find("guid").get("isPermaLink") == "false"


def assert_json_feed_required(body: bytes, items: int) -> dict:
    doc = json.loads(body)
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(doc["title"], str) and doc["title"]
    assert isinstance(doc["items"], list) and len(doc["items"]) == items
    for item in doc["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert "content_html" in item or "content_text" in item
        dt.datetime.fromisoformat(item["date_published"])
    return doc


def test_atom_is_valid_and_complete():
    items = [make_item(2), make_item(1, ChangeKind.REMOVED, name="Swim club")]
    body = render("atom", META, items)
    assert_atom_required(body, 2)
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    first, second = parsed.entries
    assert first.id == "tag:news.example.gov.uk,2026:change-2"
    assert first.title == "New: Sensory play group in Scunthorpe"
    assert second.title == "No longer available: Swim club in Scunthorpe"
    assert first.link == "https://localoffer.example.gov.uk/services/1"
    assert "Messy play for under 5s." in first.summary
    assert {t.term for t in first.tags} >= {"leisure", "0-5", "sensory-physical", "scunthorpe"}
    assert first.published_parsed[:5] == (2026, 11, 27, 9, 32)
    assert first.updated_parsed is not None


def test_rss_is_valid_and_complete():
    items = [
        make_item(3, ChangeKind.REOPENED),
        make_item(4, ChangeKind.UPDATED, changed_fields=["email"]),
    ]
    body = render("rss", META, items)
    assert_rss_required(body, 2)
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.feed.link == "https://news.example.gov.uk/"
    assert [e.title for e in parsed.entries] == [
        "Back again: Sensory play group in Scunthorpe",
        "Updated: Sensory play group in Scunthorpe",
    ]
    assert parsed.entries[1].summary.startswith("What changed: The email address has changed.")
    assert parsed.entries[0].id == "tag:news.example.gov.uk,2026:change-3"
    assert parsed.entries[0].published_parsed is not None


def test_json_feed_is_valid_and_complete():
    body = render("json", META, [make_item(5)])
    doc = assert_json_feed_required(body, 1)
    item = doc["items"][0]
    assert item["title"] == "New: Sensory play group in Scunthorpe"
    assert item["url"] == "https://localoffer.example.gov.uk/services/1"
    assert item["id"] == "tag:news.example.gov.uk,2026:change-5"
    assert "Ages 0 to 5" in item["tags"]


def test_empty_feeds_are_valid():
    assert_atom_required(render("atom", META, []), 0)
    assert_rss_required(render("rss", META, []), 0)
    assert_json_feed_required(render("json", META, []), 0)
    assert not feedparser.parse(render("atom", META, [])).bozo
    assert not feedparser.parse(render("rss", META, [])).bozo


def test_same_input_same_bytes():
    items = [make_item(7)]
    for fmt in ("rss", "atom", "json"):
        assert render(fmt, META, items) == render(fmt, META, items)


def test_unsafe_link_falls_back_to_the_site():
    item = make_item(8, page_url="javascript:alert(1)", url="data:text/html,x")
    assert item.link == "https://news.example.gov.uk/"


def _no_live_markup(fragment: str) -> None:
    """HTML a reader would render: nothing but text (and our own <p>)."""
    if not fragment.strip():
        return
    tree = lxml.html.fragment_fromstring(f"<div>{fragment}</div>")
    tags = {el.tag for el in tree.iter() if isinstance(el.tag, str)}
    assert tags <= {"div", "p"}, tags
    for el in tree.iter():
        assert not any(a.startswith("on") for a in el.attrib)


hostile = st.one_of(
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            '<img src=x onerror="alert(1)">',
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "]]><script>x</script>",
            "<a href='javascript:alert(1)'>click</a>",
            "Tom & Jerry's <b>club</b>\x00\x0b\ud800",
        ]
    ),
    st.text(max_size=80),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=hostile, summary=hostile)
def test_hostile_names_and_descriptions_come_out_inert(name: str, summary: str):
    items = [make_item(9, name=name, summary=summary)]
    atom = render("atom", META, items)
    rss = render("rss", META, items)
    json_body = render("json", META, items)

    # Well-formed for every parser, whatever the directory sent.
    assert_atom_required(atom, 1)
    assert_rss_required(rss, 1)
    doc = assert_json_feed_required(json_body, 1)
    for body in (atom, rss):
        parsed = feedparser.parse(body)
        assert not parsed.bozo, parsed.get("bozo_exception")
        entry = parsed.entries[0]
        # Titles carry no markup at all, in any format.
        assert "<" not in entry.title and ">" not in entry.title
        if entry.summary_detail.type == "text/html":
            _no_live_markup(entry.summary)
    # Atom says its summary is text, so readers never render it as HTML.
    atom_summary = etree.fromstring(atom).find(f"{ATOM}entry/{ATOM}summary")
    assert atom_summary.get("type") == "text"
    # JSON Feed: content_html is inert; the text fields are text.
    _no_live_markup(doc["items"][0]["content_html"])
    assert "<" not in doc["items"][0]["title"]


def test_every_format_names_the_websub_hub_when_there_is_one():
    from dataclasses import replace

    meta = replace(META, hub_url="https://hub.example.org/")
    items = [make_item(10)]
    rss = etree.fromstring(render("rss", meta, items))
    assert rss.find(f"channel/{ATOM}link[@rel='hub']").get("href") == "https://hub.example.org/"
    assert rss.find(f"channel/{ATOM}link[@rel='self']") is not None
    atom = etree.fromstring(render("atom", meta, items))
    assert atom.find(f"{ATOM}link[@rel='hub']").get("href") == "https://hub.example.org/"
    doc = json.loads(render("json", meta, items))
    assert doc["hubs"] == [{"type": "WebSub", "url": "https://hub.example.org/"}]
    for fmt in ("rss", "atom"):
        assert not feedparser.parse(render(fmt, meta, items)).bozo
    assert (
        etree.fromstring(render("rss", META, items)).find(f"channel/{ATOM}link[@rel='hub']") is None
    )
