"""A feed address opened in a browser: a page of the site, not XML (issue 13).

Browsers are dropping XSLT (Chromium shows a "going away" banner on any page made by a
stylesheet), so a top-level navigation gets HTML made here. Browsers say what a request
is for in Fetch Metadata headers; feed readers and scripts send none, or not these
values, and keep getting the feed itself. The page is made from the stored JSON Feed
for the same choices (every format holds the same items), so showing it costs no
database query beyond the one the feed needs.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from flask import Request, render_template

from publisher.feeds.render import FORMATS
from publisher.uk_time import LONDON

# Fetch Metadata request headers that mark a browser opening a page (not a reader
# fetching the feed, nor a script's fetch(), whose Dest is "empty").
NAVIGATION_HEADERS = ("Sec-Fetch-Dest", "Sec-Fetch-Mode")
FORMAT_NAMES = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}
assert set(FORMAT_NAMES) == set(FORMATS)


def is_browser_navigation(request: Request) -> bool:
    return (
        request.headers.get("Sec-Fetch-Mode", "").strip().lower() == "navigate"
        and request.headers.get("Sec-Fetch-Dest", "").strip().lower() == "document"
    )


@dataclass(frozen=True)
class PageItem:
    title: str
    link: str | None
    summary: str
    when: str


def _link(value: Any) -> str | None:
    # The stored feed only holds web links and our own paths; checked again all the same.
    if isinstance(value, str) and value.lower().startswith(("https://", "http://", "/")):
        return value
    return None


def _when(value: Any) -> str:
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(LONDON).strftime("%-d %B %Y")


def items_from_json_feed(body: bytes) -> tuple[str, list[PageItem]]:
    """The title and items of a stored JSON Feed document."""
    doc = json.loads(body)
    items = [
        PageItem(
            title=str(item.get("title") or ""),
            link=_link(item.get("url")),
            summary=str(item.get("content_text") or ""),
            when=_when(item.get("date_published")),
        )
        for item in doc.get("items") or []
        if isinstance(item, dict)
    ]
    return str(doc.get("title") or ""), items


def render_page(fmt: str, self_url: str, json_body: bytes) -> str:
    title, items = items_from_json_feed(json_body)
    return render_template(
        "web/feed_page.html",
        feed_title=title,
        feed_url=self_url,
        feed_type=FORMATS[fmt].split(";")[0],
        format_name=FORMAT_NAMES[fmt],
        items=items,
    )
