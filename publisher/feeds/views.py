"""``/feeds/changes.rss|atom|json``: stored feed documents over HTTP, with validators.

A browser opening the address (a top-level navigation, by its Fetch Metadata headers)
gets a page about the feed instead (``publisher.feeds.page``); everything else gets
the feed.

A request never builds a feed that exists: it reads the stored bytes with their ETag
and Last-Modified (from the process's memory while no rebuild has happened since, see
``publisher.feeds.memory``), and answers a matching conditional request with 304.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

from flask import Blueprint, Response, abort, request
from werkzeug.http import is_resource_modified

from publisher.config import get_settings
from publisher.feeds import memory
from publisher.feeds.filters import FeedFilter, FilterError, parse_filter
from publisher.feeds.page import NAVIGATION_HEADERS, is_browser_navigation, render_page
from publisher.feeds.render import FORMATS, STYLESHEET_PATH
from publisher.feeds.store import Stored, document_key, ensure_stored, feed_url, stored_body
from publisher.insight import feedcount

bp = Blueprint("feeds", __name__)


FEED_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _headers(response: Response, stored: Stored, self_url: str) -> Response:
    settings = get_settings()
    response.set_etag(stored.etag.strip('"'))
    response.last_modified = stored.last_modified
    response.headers["Cache-Control"] = f"public, max-age={settings.feed_cache_seconds}"
    response.headers["Link"] = _links(self_url)
    # Other councils' pages may read the feeds from the browser.
    response.headers["Access-Control-Allow-Origin"] = "*"
    # A feed is data, not a page: nothing runs in it, except that a browser may apply our
    # own XSLT stylesheet (browsers check XSLT against script-src), which styles inline.
    response.headers["Content-Security-Policy"] = FEED_CSP
    return _vary(response)


def _links(self_url: str) -> str:
    links = [f'<{self_url}>; rel="self"']
    if hub := get_settings().websub_hub_url:
        links.append(f'<{hub}>; rel="hub"')
    return ", ".join(links)


def _vary(response: Response) -> Response:
    # One address, two answers (a feed, or a page for a browser opening it): shared
    # caches must keep them apart. A 304 names the same headers as the 200 it stands for.
    response.vary.add("Accept")
    for name in NAVIGATION_HEADERS:
        response.vary.add(name)
    return response


def _document(fmt: str, flt: FeedFilter) -> tuple[Stored, bytes]:
    """The stored feed, from this process's memory when no rebuild happened since."""
    key = document_key(fmt, flt)
    token = memory.current_token()  # read before the database, so never newer than it
    found: tuple[Stored, bytes] | None = memory.documents.get(key, token)
    if found is None:
        found = stored_body(key)
        if found is None:
            ensure_stored(fmt, flt)  # first request for this feed: build and store it
            found = stored_body(key)
            if found is None:  # deleted at once (its locality left the mapping)
                abort(404)
        memory.documents.put(key, token, found)
    return found


@bp.get("/feeds/changes.<fmt>")
def changes(fmt: str) -> Response:
    if fmt not in FORMATS:
        abort(404)
    try:
        # Not request.args: werkzeug raises (a 500) on a query string that is not UTF-8.
        query = request.query_string.decode("utf-8", errors="replace")
        flt = parse_filter(parse_qsl(query, keep_blank_values=True))
    except FilterError as exc:
        return Response(f"{exc}\n", status=400, mimetype="text/plain")
    self_url = feed_url(fmt, flt)
    if is_browser_navigation(request):
        return _page(fmt, flt, self_url)
    stored, body = _document(fmt, flt)
    if not is_resource_modified(
        request.environ, etag=stored.etag.strip('"'), last_modified=stored.last_modified
    ):
        feedcount.count(conditional=True)
        return _headers(Response(status=304), stored, self_url)
    feedcount.count(conditional=False)
    response = Response(body, status=200, content_type=_content_type(fmt, stored.content_type))
    return _headers(response, stored, self_url)


def _page(fmt: str, flt: FeedFilter, self_url: str) -> Response:
    """Someone opened the feed's address in a browser: a page about it (issue 13). Not
    counted as a feed read; no validators (the page also depends on the site's look)."""
    _stored, json_body = _document("json", flt)
    response = Response(render_page(fmt, self_url, json_body), mimetype="text/html")
    response.headers["Cache-Control"] = f"public, max-age={get_settings().feed_cache_seconds}"
    response.headers["Link"] = _links(self_url)
    return _vary(response)


# ---- ux (issue 13.2): the stylesheet that makes a feed readable in an older browser ----
# Browsers that send Fetch Metadata get the page above; older ones (which send none)
# still have XSLT, and show the feed through this stylesheet.


def _content_type(fmt: str, stored_type: str) -> str:
    """A browser (it prefers HTML) gets the same bytes as XML, which it shows through
    the stylesheet; as application/rss+xml it would offer a download instead. Feed
    readers ask for feeds (or anything) and get the feed type."""
    if fmt in ("rss", "atom"):
        best = request.accept_mimetypes.best_match([stored_type.split(";")[0], "text/html"])
        if best == "text/html":
            return "application/xml; charset=utf-8"
    return stored_type


_XSL = Path(__file__).resolve().parents[2] / "templates" / "feeds" / "feed.xsl"


@bp.get(STYLESHEET_PATH)
def stylesheet() -> Response:
    response = Response(_XSL.read_bytes(), content_type="text/xsl; charset=utf-8")
    response.headers["Cache-Control"] = f"public, max-age={get_settings().feed_cache_seconds}"
    return response
