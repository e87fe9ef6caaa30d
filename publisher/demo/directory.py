"""A small Open Referral UK directory server, for the demo and for tests.

It serves a list of service records as ORUK v1 (``content``/``totalPages``) or 3.0
(``contents``/``total_pages``, with ``GET /`` telling the version). In "summary" mode
list items leave nested data out, as real v3 lists do, and ``GET /services/{id}`` gives
the full record. Faults can be injected (HTTP errors, Retry-After, bad JSON, delays)
so that tests exercise the crawler against a real HTTP conversation.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from publisher.sources.records import NESTED_KEYS


@dataclass
class Fault:
    """Answer requests whose path (and page) match with this, ``times`` times."""

    path: str  # "/services", "/services/<id>" or "/"
    page: int | None = None
    status: int = 500
    times: int = 1
    body: bytes | None = None  # raw body to send instead (e.g. invalid JSON)
    retry_after: str | None = None
    delay: float = 0.0


@dataclass
class DirectoryState:
    services: list[dict[str, Any]] = field(default_factory=list)
    version: str = "3"  # "1" or "3"
    summary_lists: bool = True
    faults: list[Fault] = field(default_factory=list)
    hits: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Declare more items than are served (a feed that loses pages).
    declared_extra: int = 0
    # Every answer waits this long first (a slow directory).
    delay: float = 0.0


class _Handler(BaseHTTPRequestHandler):
    server: DirectoryServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
        return

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = parse_qs(parts.query)
        page = _int(query.get("page", ["1"])[0], 1)
        per_page = max(1, min(_int(query.get("per_page", ["50"])[0], 50), 1000))
        with state.lock:
            state.hits[path] += 1
            fault = next(
                (
                    f
                    for f in state.faults
                    if f.times > 0 and f.path == path and f.page in (None, page)
                ),
                None,
            )
            if fault is not None:
                fault.times -= 1
            services = list(state.services)
            delay = state.delay
        if delay:
            time.sleep(delay)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            self._send(
                fault.status,
                fault.body if fault.body is not None else b'{"error":"injected"}',
                headers,
            )
            return
        if path == "/":
            if state.version == "3":
                self._send(
                    200, _dump({"version": "3.0.0", "profile": "https://openreferraluk.org"})
                )
            else:
                self._send(404, b'{"error":"not found"}')
            return
        if path == "/services":
            self._send(200, _dump(_page(state, services, page, per_page)))
            return
        if path.startswith("/services/"):
            wanted = unquote(path[len("/services/") :])
            for svc in services:
                if str(svc.get("id")) == wanted:
                    self._send(200, _dump(svc))
                    return
            self._send(404, b'{"error":"not found"}')
            return
        self._send(404, b'{"error":"not found"}')


def _int(value: str, default: int) -> int:
    try:
        return int(value)
    except ValueError:
        return default


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def _page(
    state: DirectoryState, services: list[dict[str, Any]], page: int, per_page: int
) -> dict[str, Any]:
    total = len(services) + state.declared_extra
    pages = max(1, -(-total // per_page))
    chunk = services[(page - 1) * per_page : page * per_page] if page >= 1 else []
    if state.summary_lists:
        chunk = [{k: v for k, v in s.items() if k not in NESTED_KEYS} for s in chunk]
    if state.version == "1":
        return {
            "totalElements": total,
            "totalPages": pages,
            "number": page,
            "size": per_page,
            "first": page == 1,
            "last": page >= pages,
            "empty": not chunk,
            "content": chunk,
        }
    return {
        "total_items": total,
        "total_pages": pages,
        "page_number": page,
        "size": per_page,
        "first_page": page == 1,
        "last_page": page >= pages,
        "empty": not chunk,
        "contents": chunk,
    }


class DirectoryServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: DirectoryState, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), _Handler)
        self.state = state
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> DirectoryServer:
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self.thread:
            self.thread.join(timeout=5)
