"""What every response and every request shares, for safety (issue 11).

- Headers: a strict Content-Security-Policy on every page (scripts only from here or
  carrying this response's nonce; the console sets its own, stricter, one first),
  ``Strict-Transport-Security`` when PUBLIC_BASE_URL is https, a ``Permissions-Policy``
  that turns off powerful browser features nobody here needs, and the older
  ``X-Content-Type-Options`` / ``Referrer-Policy`` / ``X-Frame-Options``.
- Request size: a body larger than the route's limit is refused with 413 before any of
  it is read (public forms and APIs get a small limit, the officer console a larger one).
- Ids in paths: ``<int:...>`` accepts only numbers a database id column can hold, so
  ``/newsletters/99999999999999999999999`` is a 404 rather than a database error.
- A favicon, so that browsers stop asking for one and getting 404s.
"""

from __future__ import annotations

import secrets
import struct
import zlib
from functools import lru_cache
from typing import Any

from flask import Flask, Response, abort, current_app, g, request
from werkzeug.routing import IntegerConverter

# Bytes. A sign-up form or JSON body is well under 10 KB; 64 KB leaves room for every
# box ticked. Console forms stay under 1 MB, except a post's image upload (below).
PUBLIC_MAX_BODY = 64 * 1024
CONSOLE_MAX_BODY = 1024 * 1024
# The few forms that must read a bigger body, by endpoint or by blueprint (one table):
# a post's edit form carries an image file (5 MB at most, checked again by
# publisher.social.uploads; issue 13.6); a provider's change form may carry a pasted
# document, and the page should say which box is too long rather than refuse the whole
# form (issue 9).
LARGER_BODIES = {"console.post_save": 6 * 1024 * 1024, "reviews": 2_100_000}
HSTS_SECONDS = 365 * 24 * 3600
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)
# The largest id a 32-bit integer column (PostgreSQL ``integer``) holds.
MAX_ID = 2**31 - 1


class DatabaseId(IntegerConverter):
    """``<int:...>`` for row ids: a number beyond any id is no route at all (404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def csp_nonce() -> str:
    """This response's script nonce (templates: ``<script nonce="{{ csp_nonce() }}">``)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


def public_csp() -> str:
    return (
        "default-src 'self'; "
        f"script-src 'nonce-{csp_nonce()}'; "
        # Page styles are inline in base.html; the logo may be on the council's site.
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' https: data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    )


def body_limit() -> int:
    for key in (request.endpoint, request.blueprint):
        if key in LARGER_BODIES:
            return LARGER_BODIES[key]
    if request.path.startswith("/console"):
        return int(current_app.config.get("CONSOLE_MAX_BODY", CONSOLE_MAX_BODY))
    return int(current_app.config.get("PUBLIC_MAX_BODY", PUBLIC_MAX_BODY))


def _refuse_large_bodies() -> None:
    limit = body_limit()
    # Werkzeug enforces this while reading too (a chunked body has no length to check).
    request.max_content_length = limit
    if request.content_length is not None:
        if request.content_length > limit:
            abort(413)
        return
    if request.method in ("POST", "PUT", "PATCH") and "wsgi.input_terminated" in request.environ:
        # A chunked body: Werkzeug's capped stream stops quietly at the limit (the view
        # would see a cut-off body), so read it here, keeping it for the view, and refuse
        # one that fills the limit.
        if len(request.get_data(cache=True)) >= limit:
            abort(413)


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", public_csp())
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    # A page that names who may frame it (the embeddable sign-up form's CSP
    # frame-ancestors, issue 14) goes without X-Frame-Options; every other page may not
    # be framed at all.
    csp = headers.get("Content-Security-Policy", "")
    if "frame-ancestors" not in csp or "frame-ancestors 'none'" in csp:
        headers.setdefault("X-Frame-Options", "DENY")
    if str(current_app.config.get("PUBLIC_BASE_URL", "")).startswith("https://"):
        headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_SECONDS}")
    return response


def favicon() -> Response:
    return Response(
        _favicon_ico(),
        mimetype="image/vnd.microsoft.icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@lru_cache(maxsize=1)
def _favicon_ico() -> bytes:
    """A 32x32 square in the brand colour, as a PNG inside an .ico (made here, so the
    repository holds no binary file and the colour follows BRAND_COLOUR)."""
    from publisher.config import get_settings

    colour = get_settings().brand_colour
    rgb = bytes(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    size = 32
    raw = b"".join(b"\x00" + rgb * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    header = struct.pack("<HHH", 0, 1, 1)
    entry = struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(png), 6 + 16)
    return header + entry + png


def install(app: Flask) -> None:
    app.url_map.converters["int"] = DatabaseId
    app.before_request(_refuse_large_bodies)
    app.after_request(_headers)
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
