"""``/feeds/changes.rss|atom|json``: stored feed documents over HTTP, with validators.

A request never builds a feed that exists: it reads the stored bytes and their ETag
and Last-Modified, and a conditional request that matches is answered 304 without
reading the body at all.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Blueprint, Response, abort, request
from werkzeug.http import is_resource_modified

from publisher.config import get_settings
from publisher.feeds.filters import FilterError, parse_filter
from publisher.feeds.render import FORMATS
from publisher.feeds.store import Stored, document_key, feed_url, stored_body, stored_headers

bp = Blueprint("feeds", __name__)


def _headers(response: Response, fmt: str, stored: Stored, self_url: str) -> Response:
    settings = get_settings()
    response.set_etag(stored.etag.strip('"'))
    response.last_modified = stored.last_modified
    response.headers["Cache-Control"] = f"public, max-age={settings.feed_cache_seconds}"
    links = [f'<{self_url}>; rel="self"']
    if settings.websub_hub_url:
        links.append(f'<{settings.websub_hub_url}>; rel="hub"')
    response.headers["Link"] = ", ".join(links)
    # Other councils' pages may read the feeds from the browser.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


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
    conditional = "If-None-Match" in request.headers or "If-Modified-Since" in request.headers
    found = None if conditional else stored_body(document_key(fmt, flt))
    if found is None:
        stored = stored_headers(fmt, flt)
        if not is_resource_modified(
            request.environ, etag=stored.etag.strip('"'), last_modified=stored.last_modified
        ):
            response = Response(status=304)
            return _headers(response, fmt, stored, self_url)
        found = stored_body(stored.key)
        if found is None:  # deleted between the two reads (its locality left the mapping)
            abort(404)
    stored, body = found
    response = Response(body, status=200, content_type=stored.content_type)
    return _headers(response, fmt, stored, self_url)
