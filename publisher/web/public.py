"""Public pages: home, the feed directory, the accessibility statement, the privacy notice.

Every page uses templates/web/base.html, which advertises the all-changes feeds with
``<link rel="alternate">``; pages about one topic add their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, render_template

from publisher.config import get_settings
from publisher.feeds.filters import (
    MAX_VALUES,
    PARAMETERS,
    FeedFilter,
    FilterError,
    parse_filter,
    vocabulary,
)
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
        # ux (issue 13.2): the council's contact, on the home, accessibility and privacy pages.
        "contact_email": settings.council_contact_email,
        "contact_phone": settings.council_contact_phone,
    }


# ux (issue 13.2): the home page shows news, not only how to get it.
HOME_CHANGES = 5
HOME_BULLETINS = 3


def _home_news() -> tuple[list[Any], list[dict[str, Any]]]:
    """The latest changes families hear about (as the all-changes feed tells them) and
    the latest emails that went out."""
    from sqlalchemy import exists, select

    from publisher.db import session_scope
    from publisher.feeds.store import History, newest_change_id
    from publisher.models import Delivery, DeliveryStatus, Edition
    from publisher.newsletters.frequencies import frequency_rule
    from publisher.newsletters.rendering import headline
    from publisher.newsletters.windows import describe

    with session_scope() as session:
        history = History(session, newest_change_id(session), get_settings())
        changes = history.items_for(FeedFilter(), HOME_CHANGES)
        sent = exists().where(
            (Delivery.edition_id == Edition.id) & (Delivery.status == DeliveryStatus.SENT)
        )
        editions = session.scalars(
            select(Edition)
            .where(sent)
            .order_by(Edition.window_end.desc(), Edition.id.desc())
            .limit(HOME_BULLETINS)
        ).all()
        bulletins = [
            {
                "id": e.id,
                "label": frequency_rule(e.frequency).label,
                "period": describe(e.frequency, e.window_start, e.window_end),
                "headline": headline(e.items),
            }
            for e in editions
            if e.items
        ]
    return changes, bulletins


@bp.get("/")
def home() -> str:
    from publisher.db import session_scope
    from publisher.reviews.measures import freshness

    # Worked out on each visit from the entries (two counts): always as of the last crawl.
    with session_scope() as session:
        fresh = freshness(session)
    changes, bulletins = _home_news()
    return render_template(
        "web/home.html",
        freshness=fresh,
        stale_after_days=get_settings().stale_after_days,
        changes=changes,
        bulletins=bulletins,
    )


BUILDER_LEGENDS = {
    "age": ("Which ages?", "Any age"),
    "need": ("Which needs?", "Any need"),
    "category": ("Which kinds of service?", "Any kind"),
    "locality": ("Which areas?", "Any area"),
}


def _built() -> tuple[FeedListing | None, FeedFilter, str]:
    """ux (issue 13.2): the feed builder's answer: the feed for the boxes ticked in the
    query string (none ticked in a topic means "any"), or the error in words."""
    from flask import request

    pairs = [(k, v) for k, v in request.args.items(multi=True) if k in PARAMETERS and v]
    if not request.args.get("build"):
        return None, FeedFilter(), ""
    try:
        flt = parse_filter(pairs)
    except FilterError as exc:
        return None, FeedFilter(), str(exc)
    vocab = vocabulary()
    return _listing(flt, f"Your feed: {flt.describe(vocab)}", vocab), flt, ""


@bp.get("/feeds")
def feed_directory() -> Any:
    built, chosen, error = _built()
    vocab = vocabulary()
    groups = []
    for name in PARAMETERS:
        listings = [
            _listing(FeedFilter(**{name: (slug,)}), label, vocab)
            for slug, label in vocab[name].items()
        ]
        groups.append((GROUP_HEADINGS[name], name, listings))
    example = FeedFilter(age=("0-5", "5-11"), need=("sensory-physical",))
    return render_template(
        "web/feeds.html",
        everything=_listing(FeedFilter(), "All changes", vocab),
        groups=groups,
        vocab=vocab,
        example_url=feed_url("atom", example),
        example_label=example.describe(vocab),
        max_items=get_settings().feed_max_items,
        max_values=MAX_VALUES,
        built=built,
        chosen=chosen,
        builder_error=error,
        legends=BUILDER_LEGENDS,
        feed_count=1 + sum(len(v) for v in vocab.values()),
    ), (400 if error else 200)


@bp.get("/accessibility")
def accessibility() -> str:
    return render_template(
        "web/accessibility.html", prepared=STATEMENT_PREPARED, reviewed=STATEMENT_REVIEWED
    )


@bp.get("/privacy")
def privacy() -> str:
    return render_template("web/privacy.html")
