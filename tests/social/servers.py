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
import email.policy
import html
import json
import os
import re
import struct
import threading
import time
import unicodedata
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import regex
import requests

URL = re.compile(r"https?://\S+")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass
class FakePlatform:
    token: str
    posts: list[dict[str, Any]] = field(default_factory=list)
    media: list[dict[str, Any]] = field(default_factory=list)
    fail_next: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    delay_after_accept: float = 0.0
    requests: list[tuple[str, str]] = field(default_factory=list)
    # Idempotency keys the server no longer remembers (Mastodon keeps them an hour).
    forgotten: set[str] = field(default_factory=set)
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
        return {k: v[-1] for k, v in self._form_lists().items()}

    def _form_lists(self) -> dict[str, list[Any]]:
        """Form fields (urlencoded, JSON or multipart; files as bytes), each as a list."""
        if hasattr(self, "_parsed"):
            return self._parsed  # type: ignore[has-type]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        ctype = self.headers.get("Content-Type") or ""
        parsed: dict[str, list[Any]] = {}
        if "json" in ctype:
            loaded = json.loads(body or b"{}")
            parsed = {k: v if isinstance(v, list) else [str(v)] for k, v in loaded.items()}
        elif ctype.startswith("multipart/form-data"):
            message = BytesParser(policy=email.policy.default).parsebytes(
                f"Content-Type: {ctype}\r\n\r\n".encode() + body
            )
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if part.get_filename() is not None:
                    value: Any = part.get_payload(decode=True)
                else:
                    value = part.get_content()
                parsed.setdefault(str(name), []).append(value)
        else:
            parsed = dict(parse_qs(body.decode(), keep_blank_values=True))
        self._parsed = parsed
        return parsed

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
        path = urlparse(self.path).path
        if path == "/api/v1/accounts/verify_credentials":
            self._send(200, {"id": "1", "username": "council", "acct": "council"})
            return
        if path == "/api/v1/accounts/1/statuses":
            query = {k: v[-1] for k, v in parse_qs(urlparse(self.path).query).items()}
            with self.state.lock:
                listed = [self._public(p) for p in reversed(self.state.posts)]
            self._send(200, listed[: int(query.get("limit", "20"))])
            return
        match = re.fullmatch(r"/api/v1/statuses/(\d+)", path)
        for post in self.state.posts if match else []:
            if match and post["id"] == match.group(1):
                self._send(200, self._public(post))
                return
        self._send(404, {"error": "Record not found"})

    @staticmethod
    def _public(post: dict[str, Any]) -> dict[str, Any]:
        """A status as the API shows it: content as HTML, as Mastodon renders it."""
        paragraphs = [
            "<br />".join(html.escape(line) for line in block.split("\n"))
            for block in post["content"].split("\n\n")
        ]
        shown = {k: v for k, v in post.items() if not k.startswith("_")}
        shown["content"] = "".join(f"<p>{p}</p>" for p in paragraphs)
        return shown

    def _media(self) -> None:
        form = self._form_lists()
        files = form.get("file") or []
        if not files or not isinstance(files[0], bytes) or not files[0].startswith(PNG_MAGIC):
            self._send(422, {"error": "Validation failed: File content type is invalid"})
            return
        with self.state.lock:
            media_id = str(500 + len(self.state.media) + 1)
            media = {
                "id": media_id,
                "type": "image",
                "url": f"{self.state.url}/media/{media_id}.png",
                "description": (form.get("description") or [None])[-1],
                "_size": len(files[0]),
            }
            self.state.media.append(media)
        self._send(200, media)

    def do_POST(self) -> None:
        self.state.requests.append(("POST", self.path))
        path = urlparse(self.path).path
        if path not in ("/api/v1/statuses", "/api/v2/media"):
            self._send(404, {"error": "Record not found"})
            return
        if not self._auth():
            return
        if path == "/api/v2/media":
            self._media()
            return
        form = self._form()
        media_ids = (
            self._form_lists().get("media_ids[]") or self._form_lists().get("media_ids") or []
        )
        attachments = [m for m in self.state.media if m["id"] in media_ids]
        if len(attachments) != len(media_ids):
            self._send(422, {"error": "Validation failed: Media attachments are invalid"})
            return
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
                if key and post["_idempotency_key"] == key and key not in self.state.forgotten:
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
                    "media_attachments": attachments,
                    "_idempotency_key": key,
                }
                self.state.posts.append(created)
        if existing is not None:
            self._send(200, self._public(existing))
            return
        if self.state.delay_after_accept:
            time.sleep(self.state.delay_after_accept)
        self._send(200, self._public(created))


class FacebookHandler(_Handler):
    """POST /{page-id}/feed, POST /{page-id}/photos and GET /{page-id}/feed (Graph API,
    version prefix ignored)."""

    page_id = "1000"
    edge = "feed"

    def _page(self) -> str | None:
        parts = [p for p in urlparse(self.path).path.split("/") if p]
        if parts and re.fullmatch(r"v\d+\.\d+", parts[0]):
            parts = parts[1:]
        if len(parts) == 2 and parts[1] in ("feed", "photos"):
            self.edge = parts[1]
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
        if self.edge == "photos":
            self._photo(form)
            return
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

    def _photo(self, form: dict[str, str]) -> None:
        # Facebook fetches the image from the url itself.
        try:
            image = requests.get(form.get("url", ""), timeout=5)
        except requests.RequestException:
            image = None
        if image is None or not image.ok or not image.content.startswith(PNG_MAGIC):
            self._send(
                400,
                {
                    "error": {
                        "message": "(#324) Missing or invalid image file",
                        "type": "OAuthException",
                        "code": 324,
                    }
                },
            )
            return
        with self.state.lock:
            n = 2000 + len(self.state.posts) + 1
            post_id = f"{self.page_id}_{n}"
            self.state.posts.append(
                {
                    "id": post_id,
                    "message": form.get("message", ""),
                    "image_url": form.get("url"),
                    "alt_text": form.get("alt_text_custom"),
                    "created_time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+0000"),
                }
            )
        self._send(200, {"id": str(9000 + n), "post_id": post_id})


def png(size: int = 1) -> bytes:
    """A valid PNG of size x size grey pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\x00" + os.urandom(size) for _ in range(size))
    return (
        PNG_MAGIC
        + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


class ImageHandler(_Handler):
    """Serves /small.png, /large.png (2 MB of noise) and nothing else (404)."""

    images: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        self.state.requests.append(("GET", self.path))
        data = self.images.get(urlparse(self.path).path)
        if data is None:
            self._send(404, {"error": "not found"})
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


ImageHandler.images = {"/small.png": png(8), "/large.png": png(1500)}


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
