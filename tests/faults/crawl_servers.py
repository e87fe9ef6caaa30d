"""Helpers for the crawl fault tests: directories that misbehave on purpose, settings
that keep the tests short, and the real ``publisher`` command as a subprocess.

The ORUK directory itself is the demo server (``publisher.demo.directory``), as in
tests/ingest; what it cannot do (drip bytes, cut a body short) is here, on raw sockets.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from publisher.config import reset_settings
from publisher.demo.directory import DirectoryServer, DirectoryState, Fault
from publisher.demo.generate import make_services
from tests.clock import subprocess_clock_env

ROOT = Path(__file__).resolve().parents[2]

# Short enough to keep the tests quick, with the same relations as the defaults: a
# request's deadline fits in the lease with room for a renewal.
FAST_CRAWL = {
    "CRAWL_MIN_REQUEST_INTERVAL": "0",
    "CRAWL_BACKOFF": "0.01",
    "CRAWL_RETRIES": "1",
    "CRAWL_READ_TIMEOUT": "30",
    "CRAWL_REQUEST_DEADLINE": "3",
    "CRAWL_LOCK_SECONDS": "20",
    "CRAWL_PAGE_SIZE": "10",
}


@pytest.fixture()
def fault_crawl_env(db: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    for key, value in FAST_CRAWL.items():
        monkeypatch.setenv(key, value)
    reset_settings()
    yield db
    reset_settings()


def directory_of(count: int, today: Any) -> DirectoryServer:
    state = DirectoryState(services=make_services(count, seed=11, today=today), version="3")
    return DirectoryServer(state).start()


def v3_page(
    items: list[dict[str, Any]],
    page: int,
    pages: int,
    *,
    total: int | None,
    size: int | None,
) -> bytes:
    """One ORUK 3.0 services page, as a directory that lost data might serve it."""
    body: dict[str, Any] = {
        "total_pages": pages,
        "page_number": page,
        "first_page": page == 1,
        "last_page": page == pages,
        "empty": not items,
        "contents": items,
    }
    if total is not None:
        body["total_items"] = total
    if size is not None:
        body["size"] = size
    return json.dumps(body).encode()


def serve_half_filled_pages(server: DirectoryServer, per_page: int, *, declare_size: bool) -> int:
    """From now on, every page carries only its first half, with the right page count and
    no total (the fault injection's "half-filled pages"); returns how many are served."""
    services = list(server.state.services)
    pages = -(-len(services) // per_page)
    served = 0
    with server.state.lock:
        server.state.faults = []
        for number in range(1, pages + 1):
            chunk = services[(number - 1) * per_page : number * per_page]
            half = chunk[: max(1, len(chunk) // 2)]
            served += len(half)
            body = v3_page(half, number, pages, total=None, size=per_page if declare_size else None)
            server.state.faults.append(
                Fault(path="/services", page=number, status=200, body=body, times=10**6)
            )
    return served


def run_publisher(*args: str, database_url: str, data_dir: Path, timeout: float = 120) -> Any:
    """The real ``publisher`` command in a process of its own, with this test's settings."""
    env = dict(os.environ)
    env.update(DATABASE_URL=database_url, PUBLISHER_DATA_DIR=str(data_dir))
    env.update(subprocess_clock_env())  # the clock the test runs on (tests/clock.py)
    return subprocess.run(
        [sys.executable, "-m", "publisher", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# --- raw servers ------------------------------------------------------------------


@dataclass
class _RawServer:
    """A loopback server that reads a request head and then misbehaves."""

    interval: float = 2.0

    def __post_init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.stop_event = threading.Event()
        self.hits = 0
        self.threads: list[threading.Thread] = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> _RawServer:
        self.acceptor.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.acceptor.join(timeout=5)
        for thread in self.threads:
            thread.join(timeout=5)
        self.sock.close()

    def _accept(self) -> None:
        while not self.stop_event.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.hits += 1
            thread = threading.Thread(target=self._serve_guarded, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve_guarded(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            _read_head(conn)
            self.serve(conn)
        except OSError:
            pass  # the client gave up, as it should
        finally:
            conn.close()

    def serve(self, conn: socket.socket) -> None:
        raise NotImplementedError


def _read_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


BODY = json.dumps({"total_items": 1, "total_pages": 1, "contents": [{"id": "x"}]}).encode()


class DripServer(_RawServer):
    """Headers at once, then the body one byte every ``interval`` seconds: no read ever
    waits long enough to time out, so only an overall deadline ends the request."""

    def serve(self, conn: socket.socket) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(BODY)}\r\n\r\n".encode()
        )
        for byte in BODY:
            if self.stop_event.wait(self.interval):
                return
            conn.sendall(bytes([byte]))


class CutServer(_RawServer):
    """A chunked body that stops in the middle of a chunk: the connection closes with
    part of the answer (requests' ChunkedEncodingError)."""

    def serve(self, conn: socket.socket) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + f"{len(BODY):x}\r\n".encode() + BODY[:10]
        )
        conn.shutdown(socket.SHUT_RDWR)


def wait_until(check: Any, timeout: float, every: float = 0.2) -> float | None:
    """Seconds until ``check()`` was true, or None if it never was within ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(every)
    return None


class TcpGate:
    """A loopback TCP relay to a real server that can be shut (every connection is then
    closed at once, as when a database restarts) and opened again: a database outage
    without touching the shared server."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.open = threading.Event()
        self.stop_event = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def shut(self) -> None:
        self.open.clear()
        with self.lock:
            for conn in self.conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.conns.clear()

    def close(self) -> None:
        self.stop_event.set()
        self.shut()
        self.sock.close()

    def _accept(self) -> None:
        while not self.stop_event.is_set():
            try:
                client, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            if not self.open.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
