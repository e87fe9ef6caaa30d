"""An overall deadline for a request, not only a read timeout.

A read timeout bounds each wait for bytes; a server that sends one byte every two
seconds never trips it and can hold a request for hours. Inside ``deadline(seconds)``
every socket the request uses is registered; when time is up, one watchdog thread (per
process, started on first use, so that a forked Celery child gets its own) shuts those
sockets down. The blocked read then returns at once with an error, and ``deadline``
raises ``DeadlineExceeded`` in its place.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests


class DeadlineExceeded(requests.Timeout):
    """The whole request (connect, headers and body) took longer than its deadline."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"took longer than {seconds:g} seconds in all")
        self.seconds = seconds


class Scope:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.due = time.monotonic() + seconds
        self.expired = False
        self.done = False
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()

    def add(self, sock: socket.socket) -> None:
        with self.lock:
            self.sockets.append(sock)
            if self.expired:
                _shut(sock)

    def expire(self) -> None:
        with self.lock:
            if self.done:
                return
            self.expired = True
            for sock in self.sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for an SSLSocket: its own shutdown() also drops
    # the TLS object, which the reading thread may be using at this moment.
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


class _Watchdog:
    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.heap: list[tuple[float, int, Scope]] = []
        self.order = itertools.count()
        self.pid = os.getpid()
        self.thread = threading.Thread(target=self.run, name="request-deadlines", daemon=True)
        self.thread.start()

    def watch(self, scope: Scope) -> None:
        with self.cond:
            heapq.heappush(self.heap, (scope.due, next(self.order), scope))
            if self.heap[0][2] is scope:
                self.cond.notify()

    def run(self) -> None:
        while True:
            with self.cond:
                while not self.heap:
                    self.cond.wait()
                due, _, scope = self.heap[0]
                wait = due - time.monotonic()
                if scope.done:
                    heapq.heappop(self.heap)
                    continue
                if wait > 0:
                    self.cond.wait(wait)
                    continue
                heapq.heappop(self.heap)
            scope.expire()


_watchdog: _Watchdog | None = None
_watchdog_lock = threading.Lock()
_local = threading.local()


def _the_watchdog() -> _Watchdog:
    global _watchdog
    with _watchdog_lock:
        if _watchdog is None or _watchdog.pid != os.getpid():
            _watchdog = _Watchdog()
        return _watchdog


def current() -> Scope | None:
    scope: Scope | None = getattr(_local, "scope", None)
    return scope


def register(sock: socket.socket) -> None:
    """Put a socket under the current deadline (if any): called by the transports each
    time a request starts on a connection, new or reused."""
    scope = current()
    if scope is not None:
        scope.add(sock)


@contextmanager
def deadline(seconds: float | None) -> Iterator[Scope | None]:
    """Everything inside must finish within ``seconds`` (None: no limit). A deadline
    already running in this thread is kept (the outer, earlier one wins)."""
    if seconds is None or current() is not None:
        yield current()
        return
    scope = Scope(seconds)
    _local.scope = scope
    _the_watchdog().watch(scope)
    try:
        yield scope
    except Exception as exc:
        if scope.expired and not isinstance(exc, DeadlineExceeded):
            raise DeadlineExceeded(seconds) from exc
        raise
    finally:
        with scope.lock:
            scope.done = True
        _local.scope = None
    if scope.expired:
        # Finished, but only because its sockets were shut: the answer may be cut short.
        raise DeadlineExceeded(seconds)
