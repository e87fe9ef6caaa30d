"""Untrusted directory text (issue 11, point 10): a hostile directory, crawled for real,
then read from outside (feeds over HTTP) and through the drafts it makes.

Names and short fields are normalised when they are read (one line, no control or bidi
characters, capped with an ellipsis), entry ids are percent-encoded into the
``--page-url`` template, words such as ``<Club>`` survive into feed titles (inert), and
drafts made from descriptions that carry their own URL or ``#word`` pass the post rules.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import feedparser
import pytest
from sqlalchemy import select

from publisher.db import session_scope
from publisher.feeds.service import rebuild_feeds
from publisher.ingest import add_source, crawl_source
from publisher.models import Change, Entry, Platform, Post
from publisher.social import rules
from publisher.social.drafting import draft_for_changes
from publisher.sources.text import SHORT_FIELD_MAX
from tests.factories import make_social_account
from tests.security.conftest import Site

pytestmark = pytest.mark.date_sensitive

TEMPLATE = "https://localoffer.example.gov.uk/services/{id}"
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
LONG_NAME = "Holiday club " + "very " * 4000  # about 20,000 characters


def _service(sid: str, name: str, **extra: Any) -> dict[str, Any]:
    today = dt.datetime.now(dt.UTC).date()
    return {
        "id": sid,
        "name": name,
        "status": "active",
        "description": extra.pop("description", "A friendly group for families."),
        "assured_date": (today - dt.timedelta(days=10)).isoformat(),
        **extra,
    }


def hostile() -> list[dict[str, Any]]:
    """Made when the test runs (its dates are relative to the test's clock)."""
    return [
        _service("bcc", "Sunny Club\nBcc: victim@example.org\r\nSubject: free money"),
        _service(
            "bidi",
            "Play \u202egnp.exe\u202c group \u2066x\u2069",
            organization={"name": "Help\u202e Ltd\u0007"},
        ),
        _service("long", LONG_NAME),
        _service("angle", "Youth <Club> for <b>teens</b>"),
        _service("7 Call 0800 000 000 or visit https://evil.example/help", "Phone trick"),
        _service("../../console/login?next=//evil.example", "Path trick"),
        _service(
            "tags",
            "Tag #1 group",
            description="Join us! See https://provider.example/signup for times. "
            "We are #SENDfriendly and #1 in town. www.example.org",
        ),
    ]


HOSTILE_COUNT = 7


@pytest.fixture()
def crawled(db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    monkeypatch.setenv("CRAWL_MIN_REQUEST_INTERVAL", "0")
    path = tmp_path / "directory.json"
    path.write_text(json.dumps([_service("calm", "Calm Cafe")]))
    with session_scope() as session:
        add_source(session, "hostile", str(path), TEMPLATE)
        # Made before the news, so the news is drafted for it.
        make_social_account(
            session,
            Platform.MASTODON,
            "Council Mastodon",
            creds={"access_token": "mastodon-secret-token-123456"},
        )
    assert crawl_source("hostile", notify=False).status == "complete"  # the baseline
    path.write_text(json.dumps([_service("calm", "Calm Cafe"), *hostile()]))
    summary = crawl_source("hostile", notify=False)
    assert summary.status == "complete", summary
    assert summary.counts["added"] == HOSTILE_COUNT
    with session_scope() as session:
        return list(session.scalars(select(Change.id).order_by(Change.id)))


def test_names_and_short_fields_are_one_clean_capped_line(crawled: list[int]) -> None:
    with session_scope() as session:
        entries = session.scalars(select(Entry)).all()
        snapshots = [c.snapshot for c in session.scalars(select(Change))]
    for entry in entries:
        for value in (entry.name, entry.organisation or ""):
            assert "\n" not in value and "\r" not in value
            assert not BIDI.search(value) and not CONTROL.search(value), repr(value)
            assert len(value) <= SHORT_FIELD_MAX
    for snap in snapshots:
        assert "\n" not in snap["name"] and not BIDI.search(json.dumps(snap, ensure_ascii=False))
    names = {e.entry_id: e.name for e in entries}
    assert names["bcc"] == "Sunny Club Bcc: victim@example.org Subject: free money"
    assert names["long"].endswith("\u2026") and names["long"].startswith("Holiday club very")
    assert names["bidi"] == "Play gnp.exe group x"


def test_ids_are_percent_encoded_into_page_links(crawled: list[int]) -> None:
    with session_scope() as session:
        links = {c.entry_id: c.snapshot["page_url"] for c in session.scalars(select(Change))}
    phone = links["7 Call 0800 000 000 or visit https://evil.example/help"]
    assert phone == (
        "https://localoffer.example.gov.uk/services/"
        "7%20Call%200800%20000%20000%20or%20visit%20https%3A%2F%2Fevil.example%2Fhelp"
    )
    path = links["../../console/login?next=//evil.example"]
    assert path.startswith("https://localoffer.example.gov.uk/services/..%2F..%2Fconsole")
    assert "?" not in path and " " not in phone


def test_feeds_carry_clean_titles_and_keep_bracketed_words(crawled: list[int], site: Site) -> None:
    rebuild_feeds()
    for fmt in ("rss", "atom"):
        body = site.visitor().get(f"/feeds/changes.{fmt}")
        assert body.status_code == 200
        assert not BIDI.search(body.text)
        parsed = feedparser.parse(body.content)
        titles = [e.title for e in parsed.entries]
        assert any("\u2039Club\u203a" in t for t in titles), titles  # ‹Club›, not dropped
        assert all(len(t) <= SHORT_FIELD_MAX + 20 for t in titles)
        assert all("<" not in t and "\n" not in t for t in titles)
        links = " ".join(e.link for e in parsed.entries)
        assert "evil.example/help" not in links.replace("%2F", "/").split("%3A")[0]
        assert "/services/..%2F..%2Fconsole" in links
    doc = site.visitor().get("/feeds/changes.json").json()
    assert any("\u2039Club\u203a" in item["title"] for item in doc["items"])


def test_drafts_pass_the_post_rules_they_are_checked_against(
    crawled: list[int],
) -> None:
    with session_scope() as session:
        draft_for_changes(session, crawled)
        session.commit()
        posts = session.scalars(select(Post)).all()
        assert len(posts) >= HOSTILE_COUNT
        for post in posts:
            result = rules.check(post.account.platform, post.text)
            assert result.ok, (post.text, result.problems)
            assert len(rules.urls(post.text)) <= 1
            assert "Bcc:" not in post.text.split("\n")[0][:5]
            assert not BIDI.search(post.text)
        tagged = [p for p in posts if "Tag" in p.text]
        assert tagged and "provider.example" not in tagged[0].text
        assert "SENDfriendly" in tagged[0].text and "No. 1" in tagged[0].text
