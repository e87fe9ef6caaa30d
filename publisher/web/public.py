"""Public pages: home, the feed directory, the accessibility statement, the privacy notice.

Every page uses templates/web/base.html, which advertises the all-changes feeds with
``<link rel="alternate">``; pages about one topic add their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, render_template

from publisher.config import get_settings
from publisher.feeds.filters import PARAMETERS, FeedFilter, vocabulary
from publisher.feeds.store import feed_url

bp = Blueprint("public", __name__)

# When the accessibility statement was prepared and last reviewed; councils that change
# the pages must test them again and update these dates.
STATEMENT_PREPARED = "27 November 2026"
STATEMENT_REVIEWED = "27 November 2026"

FORMAT_NAMES = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}
FORMAT_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}
GROUP_HEADINGS = {
    "age": "By age",
    "need": "By area of need",
    "category": "By kind of service",
    "locality": "By area",
}


@dataclass(frozen=True)
class FeedLink:
    format: str
    name: str
    type: str
    url: str


@dataclass(frozen=True)
class FeedListing:
    label: str
    holds: str
    links: tuple[FeedLink, ...]


def feed_links(flt: FeedFilter) -> tuple[FeedLink, ...]:
    return tuple(
        FeedLink(fmt, FORMAT_NAMES[fmt], FORMAT_TYPES[fmt], feed_url(fmt, flt))
        for fmt in FORMAT_NAMES
    )


def _listing(flt: FeedFilter, label: str, vocab: dict[str, dict[str, str]]) -> FeedListing:
    if flt.is_all:
        holds = "Every service added, changed or taken off the Local Offer."
    else:
        holds = f"Only services for: {flt.describe(vocab)}."
    return FeedListing(label=label, holds=holds, links=feed_links(flt))


@bp.app_context_processor
def _site() -> dict[str, Any]:
    settings = get_settings()
    return {
        "brand_colour": settings.brand_colour,
        "logo_url": settings.logo_url,
        "logo_alt": settings.logo_alt,
        "site_feeds": feed_links(FeedFilter()),
    }


@bp.get("/")
def home() -> str:
    from publisher.db import session_scope
    from publisher.reviews.measures import freshness

    # Worked out on each visit from the entries (two counts): always as of the last crawl.
    with session_scope() as session:
        fresh = freshness(session)
    return render_template(
        "web/home.html", freshness=fresh, stale_after_days=get_settings().stale_after_days
    )


@bp.get("/feeds")
def feed_directory() -> str:
    vocab = vocabulary()
    groups = []
    for name in PARAMETERS:
        listings = [
            _listing(FeedFilter(**{name: slug}), label, vocab)
            for slug, label in vocab[name].items()
        ]
        groups.append((GROUP_HEADINGS[name], name, listings))
    example = FeedFilter(age="16-25", need="sensory-physical")
    return render_template(
        "web/feeds.html",
        everything=_listing(FeedFilter(), "All changes", vocab),
        groups=groups,
        vocab=vocab,
        example_url=feed_url("atom", example),
        example_label=example.describe(vocab),
        max_items=get_settings().feed_max_items,
    )


@bp.get("/accessibility")
def accessibility() -> str:
    return render_template(
        "web/accessibility.html", prepared=STATEMENT_PREPARED, reviewed=STATEMENT_REVIEWED
    )


@bp.get("/privacy")
def privacy() -> str:
    return render_template("web/privacy.html")
