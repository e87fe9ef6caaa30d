"""Feed documents as bytes: RSS 2.0 and Atom 1.0 (feedgen) and JSON Feed 1.1.

Pure functions: the same items and metadata always give the same bytes (so the ETag
only changes when the content does). Item text is plain text; where a format treats
text as HTML (RSS descriptions, JSON Feed content_html) it is escaped first and then
passed through nh3, so markup from a directory is shown, never run.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass

import nh3
from feedgen.feed import FeedGenerator
from lxml import etree

from publisher.feeds.items import FeedItem

FORMATS: dict[str, str] = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
ATOM_NS = "http://www.w3.org/2005/Atom"
CATEGORY_SCHEME = "https://github.com/local-offer-publisher/topics"


@dataclass(frozen=True)
class FeedMeta:
    id: str
    title: str
    description: str
    self_url: str
    home_url: str
    author: str
    # The newest item's time; for an empty feed, when the feed was first built.
    updated: dt.datetime
    hub_url: str = ""
    language: str = "en-GB"


def as_html(text: str) -> str:
    """Plain text made safe to use where a reader expects HTML."""
    return nh3.clean(html.escape(text, quote=True))


def _generator(meta: FeedMeta) -> FeedGenerator:
    fg = FeedGenerator()
    fg.id(meta.id)
    fg.title(meta.title)
    fg.subtitle(meta.description)
    fg.author({"name": meta.author})
    fg.link(href=meta.self_url, rel="self")
    if meta.hub_url:
        fg.link(href=meta.hub_url, rel="hub")
    # Last: feedgen uses the last link as the RSS channel's <link>.
    fg.link(href=meta.home_url, rel="alternate")
    fg.language(meta.language)
    fg.generator("Local Offer Publisher")
    # Set explicitly: feedgen would otherwise stamp the build time, changing the bytes.
    fg.updated(meta.updated)
    return fg


def render_atom(meta: FeedMeta, items: Sequence[FeedItem]) -> bytes:
    fg = _generator(meta)
    for item in items:
        fe = fg.add_entry(order="append")
        fe.id(item.id)
        fe.title(item.title)
        fe.link(href=item.link, rel="alternate")
        fe.summary(item.summary, type="text")
        fe.published(item.published)
        fe.updated(item.updated)
        for term, label in item.categories:
            fe.category(term=term, label=label, scheme=CATEGORY_SCHEME)
    return bytes(fg.atom_str(pretty=False))


def render_rss(meta: FeedMeta, items: Sequence[FeedItem]) -> bytes:
    fg = _generator(meta)
    fg.description(meta.description)
    for item in items:
        fe = fg.add_entry(order="append")
        fe.guid(item.id, permalink=False)
        fe.title(item.title)
        fe.link(href=item.link)
        # RSS readers treat a description as HTML.
        fe.description(as_html(item.summary))
        fe.pubDate(item.published)
        for _term, label in item.categories:
            fe.category(term=label)
    if not meta.hub_url:
        return bytes(fg.rss_str(pretty=False))
    # feedgen writes only the self link into RSS; WebSub subscribers also look for the
    # hub in the document (WebSub 4, discovery), so add it beside the self link.
    _root, tree = fg._create_rss()
    channel = tree.getroot().find("channel")
    self_link = channel.find(f"{{{ATOM_NS}}}link")
    hub = etree.Element(f"{{{ATOM_NS}}}link", href=meta.hub_url, rel="hub")
    self_link.addnext(hub)
    return bytes(etree.tostring(tree, encoding="UTF-8", xml_declaration=True))


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def render_json(meta: FeedMeta, items: Sequence[FeedItem]) -> bytes:
    feed: dict[str, object] = {
        "version": JSON_FEED_VERSION,
        "title": meta.title,
        "home_page_url": meta.home_url,
        "feed_url": meta.self_url,
        "description": meta.description,
        "language": meta.language,
        "authors": [{"name": meta.author}],
    }
    if meta.hub_url:
        feed["hubs"] = [{"type": "WebSub", "url": meta.hub_url}]
    feed["items"] = [
        {
            "id": item.id,
            "url": item.link,
            "title": item.title,
            "content_text": item.summary,
            "content_html": f"<p>{as_html(item.summary)}</p>",
            "summary": item.summary,
            "date_published": _stamp(item.published),
            "date_modified": _stamp(item.updated),
            "tags": [label for _term, label in item.categories],
        }
        for item in items
    ]
    return json.dumps(feed, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


RENDERERS = {"rss": render_rss, "atom": render_atom, "json": render_json}
# ux (issue 13.2): an older browser opening an RSS or Atom feed shows a readable page
# made by this XSLT stylesheet (as GOV.UK's feeds do); feed readers ignore the
# instruction. Browsers that send Fetch Metadata get an HTML page instead (see
# publisher.feeds.page): XSLT is leaving them. It is a path on our own site: browsers
# apply only same-origin stylesheets.
STYLESHEET_PATH = "/feeds/feed.xsl"
_STYLESHEET_PI = f'<?xml-stylesheet type="text/xsl" href="{STYLESHEET_PATH}"?>'.encode()


def with_stylesheet(body: bytes) -> bytes:
    """The document with the stylesheet instruction right after the XML declaration."""
    if body.startswith(b"<?xml"):
        end = body.index(b"?>") + 2
        return body[:end] + b"\n" + _STYLESHEET_PI + body[end:]
    return _STYLESHEET_PI + b"\n" + body


def render(fmt: str, meta: FeedMeta, items: Sequence[FeedItem]) -> bytes:
    body = RENDERERS[fmt](meta, items)
    return with_stylesheet(body) if fmt in ("rss", "atom") else body
