"""Local HTTP servers (threads on 127.0.0.1, port 0) that speak the parts of the Mastodon
and Facebook Graph APIs the publisher uses, with the platforms' documented validation:
auth, length limits, Mastodon's Idempotency-Key, rate limits (429 with Retry-After /
X-RateLimit-Reset on Mastodon; Graph error code 32 on Facebook).

Test controls: ``fail_next`` (a list of (status, body) to answer with, in order, before
handling normally), ``delay_after_accept`` (seconds to wait after storing a post before
answering: a timeout after the platform accepted it).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import regex

URL = re.compile(r"https?://\S+")


@dataclass
class FakePlatform:
    token: str
    posts: list[dict[str, Any]] = field(default_factory=list)
    fail_next: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    delay_after_accept: float = 0.0
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""


class _Handler(BaseHTTPRequestHandler):
    state: FakePlatform

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        if "json" in (self.headers.get("Content-Type") or ""):
            loaded = json.loads(raw or "{}")
            return {k: str(v) for k, v in loaded.items()}
        return {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}

    def _canned(self) -> bool:
        with self.state.lock:
            if not self.state.fail_next:
                return False
            status, body, headers = self.state.fail_next.pop(0)
        self._send(status, body, headers)
        return True


class MastodonHandler(_Handler):
    """POST /api/v1/statuses (and GET /api/v1/statuses/:id)."""

    def _auth(self) -> bool:
        if self.headers.get("Authorization") != f"Bearer {self.state.token}":
            self._send(401, {"error": "The access token is invalid"})
            return False
        return True

    def do_GET(self) -> None:
        self.state.requests.append(("GET", self.path))
        if not self._auth():
            return
        match = re.fullmatch(r"/api/v1/statuses/(\d+)", urlparse(self.path).path)
        for post in self.state.posts if match else []:
            if match and post["id"] == match.group(1):
                self._send(200, post)
                return
        self._send(404, {"error": "Record not found"})

    def do_POST(self) -> None:
        self.state.requests.append(("POST", self.path))
        if urlparse(self.path).path != "/api/v1/statuses":
            self._send(404, {"error": "Record not found"})
            return
        if not self._auth():
            return
        form = self._form()
        if self._canned():
            return
        text = form.get("status", "")
        # Mastodon's StatusLengthValidator: graphemes, each URL counted as 23.
        counted = len(regex.findall(r"\X", URL.sub("x" * 23, text)))
        if not text.strip():
            self._send(422, {"error": "Validation failed: Text can't be blank"})
            return
        if counted > 500:
            self._send(422, {"error": "Validation failed: Text character limit of 500 exceeded"})
            return
        key = self.headers.get("Idempotency-Key")
        with self.state.lock:
            for post in self.state.posts:
                if key and post["_idempotency_key"] == key:
                    existing = post
                    break
            else:
                existing = None
                post_id = str(100000 + len(self.state.posts) + 1)
                created = {
                    "id": post_id,
                    "url": f"{self.state.url}/@council/{post_id}",
                    "content": text,
                    "visibility": form.get("visibility", "public"),
                    "language": form.get("language"),
                    "created_at": dt.datetime.now(dt.UTC).isoformat(),
                    "_idempotency_key": key,
                }
                self.state.posts.append(created)
        if existing is not None:
            self._send(200, existing)
            return
        if self.state.delay_after_accept:
            time.sleep(self.state.delay_after_accept)
        self._send(200, created)


class FacebookHandler(_Handler):
    """POST /{page-id}/feed and GET /{page-id}/feed (Graph API, version prefix ignored)."""

    page_id = "1000"

    def _page(self) -> str | None:
        parts = [p for p in urlparse(self.path).path.split("/") if p]
        if parts and re.fullmatch(r"v\d+\.\d+", parts[0]):
            parts = parts[1:]
        if len(parts) == 2 and parts[1] == "feed":
            return parts[0]
        return None

    def _oauth_error(self) -> None:
        self._send(
            400,
            {
                "error": {
                    "message": "Invalid OAuth access token - Cannot parse access token",
                    "type": "OAuthException",
                    "code": 190,
                    "fbtrace_id": "test",
                }
            },
        )

    def do_GET(self) -> None:
        self.state.requests.append(("GET", self.path))
        query = {k: v[-1] for k, v in parse_qs(urlparse(self.path).query).items()}
        if self._page() != self.page_id:
            self._send(
                404,
                {"error": {"message": "Unknown path", "type": "GraphMethodException", "code": 100}},
            )
            return
        if query.get("access_token") != self.state.token:
            self._oauth_error()
            return
        with self.state.lock:
            data = [
                {"id": p["id"], "message": p["message"], "created_time": p["created_time"]}
                for p in reversed(self.state.posts)
            ][: int(query.get("limit", "25"))]
        self._send(200, {"data": data})

    def do_POST(self) -> None:
        self.state.requests.append(("POST", self.path))
        form = self._form()
        if self._page() != self.page_id:
            self._send(
                404,
                {"error": {"message": "Unknown path", "type": "GraphMethodException", "code": 100}},
            )
            return
        if form.get("access_token") != self.state.token:
            self._oauth_error()
            return
        if self._canned():
            return
        message, link = form.get("message", ""), form.get("link")
        if not message and not link:
            self._send(
                400,
                {
                    "error": {
                        "message": "(#100) Missing message or attachment",
                        "type": "OAuthException",
                        "code": 100,
                    }
                },
            )
            return
        if len(unicodedata.normalize("NFC", message)) > 63206:
            self._send(
                400,
                {
                    "error": {
                        "message": "(#100) The message is too long",
                        "type": "OAuthException",
                        "code": 100,
                    }
                },
            )
            return
        with self.state.lock:
            post_id = f"{self.page_id}_{2000 + len(self.state.posts) + 1}"
            self.state.posts.append(
                {
                    "id": post_id,
                    "message": message,
                    "link": link,
                    "created_time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+0000"),
                }
            )
        if self.state.delay_after_accept:
            time.sleep(self.state.delay_after_accept)
        self._send(200, {"id": post_id})


@contextmanager
def serve(handler: type[_Handler], token: str) -> Iterator[FakePlatform]:
    state = FakePlatform(token=token)
    handler_cls = type(handler.__name__, (handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_cls)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
