"""A loopback server that speaks the parts of X's API v2 the publisher uses, checking what
X checks: the OAuth 1.0a signature (HMAC-SHA1 over the RFC 5849 base string, written out
here rather than taken from oauthlib, so the client's library is checked independently),
the timestamp and nonce, the weighted length (twitter-text, 280), and duplicate content
(the account's recent posts with the same text are refused with 403).

``POST /2/tweets``, ``GET /2/users/me``, ``GET /2/users/:id/tweets``. ``serve_x`` yields an
``XServer``: the ``FakePlatform`` (posts, ``fail_next``, ``delay_after_accept``) and X's own
controls: ``read_forbidden`` (the free API plan, which cannot read posts) and
``forget_duplicates`` (X no longer remembers earlier posts).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import html
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, unquote, urlparse

from twitter_text import parse_tweet

from tests.social.servers import URL, FakePlatform, _Handler, serve

USER_ID = "2244994945"
CREDS = {
    "api_key": "x-api-key-1234",
    "api_key_secret": "x-api-key-secret-5678",
    "access_token": "x-access-token-9012",
    "access_token_secret": "x-access-token-secret-3456",
}


def _enc(value: str) -> str:
    return quote(value, safe="-._~")


def signature_base(method: str, url: str, params: list[tuple[str, str]]) -> str:
    """RFC 5849 3.4.1: method, base URI and the normalised parameters, each encoded."""
    pairs = sorted((_enc(k), _enc(v)) for k, v in params)
    normalised = "&".join(f"{k}={v}" for k, v in pairs)
    return "&".join(_enc(part) for part in (method.upper(), url, normalised))


def problem(status: int, title: str, detail: str, kind: str = "about:blank") -> dict[str, Any]:
    return {"title": title, "detail": detail, "type": kind, "status": status}


@dataclass
class XServer:
    fake: FakePlatform
    read_forbidden: bool = False
    forget_duplicates: bool = False
    nonces: set[str] = field(default_factory=set)
    # Signed requests that passed the check, and those refused: (method, path).
    verified: list[tuple[str, str]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    @property
    def posts(self) -> list[dict[str, Any]]:
        return self.fake.posts

    @property
    def url(self) -> str:
        return self.fake.url


@contextmanager
def serve_x() -> Iterator[XServer]:
    holder: dict[str, XServer] = {}
    handler = type("XHandler", (XHandler,), {"x": property(lambda self: holder["x"])})
    with serve(handler, "") as fake:
        holder["x"] = XServer(fake)
        yield holder["x"]


class XHandler(_Handler):
    x: ClassVar[XServer]

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization") or ""
        if not header.startswith("OAuth "):
            return self._unauthorised()
        oauth = {
            unquote(k): unquote(v)
            for k, v in re.findall(r'([\w%.-]+)="([^"]*)"', header[len("OAuth ") :])
        }
        if (
            oauth.get("oauth_consumer_key") != CREDS["api_key"]
            or oauth.get("oauth_token") != CREDS["access_token"]
            or oauth.get("oauth_signature_method") != "HMAC-SHA1"
            or oauth.get("oauth_version", "1.0") != "1.0"
        ):
            return self._unauthorised()
        stamp = oauth.get("oauth_timestamp", "")
        if not stamp.isdigit() or abs(int(stamp) - time.time()) > 300:
            return self._unauthorised()
        nonce = oauth.get("oauth_nonce", "")
        with self.state.lock:
            if not nonce or nonce in self.x.nonces:
                return self._unauthorised()
            self.x.nonces.add(nonce)
        parsed = urlparse(self.path)
        url = f"http://{self.headers['Host'].lower()}{parsed.path}"
        params = [(k, v) for k, v in oauth.items() if k not in ("oauth_signature", "realm")]
        params += parse_qsl(parsed.query, keep_blank_values=True)
        key = f"{_enc(CREDS['api_key_secret'])}&{_enc(CREDS['access_token_secret'])}"
        digest = hmac.new(
            key.encode(), signature_base(self.command, url, params).encode(), hashlib.sha1
        ).digest()
        if not hmac.compare_digest(
            base64.b64encode(digest).decode(), oauth.get("oauth_signature", "")
        ):
            return self._unauthorised()
        self.x.verified.append((self.command, parsed.path))
        return True

    def _unauthorised(self) -> bool:
        self.x.refused.append((self.command, urlparse(self.path).path))
        self._send(401, problem(401, "Unauthorized", "Unauthorized"))
        return False

    @staticmethod
    def _shown(post: dict[str, Any]) -> dict[str, Any]:
        """A post as X shows it: links rewritten to t.co, & < > as entities."""
        text = URL.sub("https://t.co/AbCdEf1234", post["text"])
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return {
            "id": post["id"],
            "text": text,
            "created_at": post["created_at"],
            "edit_history_tweet_ids": [post["id"]],
        }

    def do_GET(self) -> None:
        self.state.requests.append(("GET", self.path))
        if not self._authorised():
            return
        parsed = urlparse(self.path)
        if self.x.read_forbidden:
            self._send(
                403,
                problem(
                    403,
                    "Client Forbidden",
                    "When authenticating requests to the Twitter API v2 endpoints, you must "
                    "use keys and tokens from a Twitter developer App that is attached to "
                    "a Project.",
                    "https://api.twitter.com/2/problems/client-forbidden",
                ),
            )
            return
        if parsed.path == "/2/users/me":
            self._send(200, {"data": {"id": USER_ID, "name": "Council", "username": "council"}})
            return
        if parsed.path == f"/2/users/{USER_ID}/tweets":
            query = dict(parse_qsl(parsed.query))
            since = dt.datetime.fromisoformat(query.get("start_time", "2010-11-06T00:00:00Z"))
            with self.state.lock:
                posts = [
                    self._shown(p)
                    for p in reversed(self.state.posts)
                    if dt.datetime.fromisoformat(p["created_at"]) >= since
                ][: int(query.get("max_results", "10"))]
            self._send(
                200,
                {"data": posts, "meta": {"result_count": len(posts)}}
                if posts
                else {"meta": {"result_count": 0}},
            )
            return
        self._send(404, problem(404, "Not Found Error", "Not found"))

    def do_POST(self) -> None:
        self.state.requests.append(("POST", self.path))
        if urlparse(self.path).path != "/2/tweets":
            self._send(404, problem(404, "Not Found Error", "Not found"))
            return
        if not self._authorised():
            return
        if self._canned():
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self._send(400, problem(400, "Invalid Request", "Request body is not JSON."))
            return
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            self._send(
                400,
                {
                    "errors": [{"parameters": {"text": [text]}, "message": "text is required"}],
                    "title": "Invalid Request",
                    "detail": "One or more parameters to your request was invalid.",
                    "type": "https://api.twitter.com/2/problems/invalid-request",
                },
            )
            return
        if parse_tweet(text).weightedLength > 280:
            self._send(
                403,
                problem(
                    403,
                    "Forbidden",
                    "Your Tweet text is too long. For more information on how X determines "
                    "text length see https://github.com/twitter/twitter-text.",
                ),
            )
            return
        with self.state.lock:
            duplicate = not self.x.forget_duplicates and any(
                p["text"] == text for p in self.state.posts
            )
            if not duplicate:
                post = {
                    "id": str(1_800_000_000_000_000_000 + len(self.state.posts) + 1),
                    "text": text,
                    "created_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                }
                self.state.posts.append(post)
        if duplicate:
            self._send(
                403,
                problem(
                    403,
                    "Forbidden",
                    "You are not allowed to create a Tweet with duplicate content.",
                ),
            )
            return
        if self.state.delay_after_accept:
            time.sleep(self.state.delay_after_accept)
        shown = self._shown(post)
        self._send(201, {"data": {"id": shown["id"], "text": html.unescape(shown["text"])}})
