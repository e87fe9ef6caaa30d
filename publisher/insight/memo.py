"""Keep one built answer in the process until the summaries change.

Every refresh moves the "generation" watermark (``upkeep``); a page that reads only the
summaries can keep what it built last, keyed by that generation and the day, and answer
the next request with one primary-key read. A time limit bounds how long counts that
are added between refreshes (sign-ups, feed requests) can wait to show.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from publisher.insight import store

T = TypeVar("T")
GENERATION = "generation"


def generation(session: Session) -> int:
    return store.watermark(session, GENERATION)


def bump(session: Session) -> None:
    """Say the summaries changed (in the refresh's own transaction)."""
    store.set_watermark(session, GENERATION, generation(session) + 1)


_all: weakref.WeakSet[Memo[object] | Recent[object]] = weakref.WeakSet()


def clear_all(*, keep_shared: bool = False) -> None:
    """Forget every built answer (tests, whose databases start again from nothing).
    ``keep_shared``: keep what every answer of a generation shares (the bench's "cold"
    page: an address nobody has asked for since the last refresh)."""
    for one in list(_all):
        if not (keep_shared and one.shared):
            one.clear()


class Memo(Generic[T]):
    """One built value. ``shared``: not an answer but what answers are built from
    (read once per refresh by the first of them)."""

    def __init__(self, seconds: float, *, shared: bool = False) -> None:
        _all.add(self)  # type: ignore[arg-type]
        self.seconds, self.shared = seconds, shared
        self._lock = threading.Lock()
        self._key: Hashable = None
        self._value: T | None = None
        self._at = 0.0

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        with self._lock:
            if (
                self._value is not None
                and self._key == key
                and time.monotonic() - self._at < self.seconds
            ):
                return self._value
        value = build()
        with self._lock:
            self._key, self._value, self._at = key, value, time.monotonic()
        return value

    def clear(self) -> None:
        with self._lock:
            self._value = None


class Recent(Generic[T]):
    """The last ``size`` answers, each for its own key (a page of one filter)."""

    shared = False

    def __init__(self, size: int, seconds: float) -> None:
        _all.add(self)  # type: ignore[arg-type]
        self.size, self.seconds = size, seconds
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, tuple[float, T]] = OrderedDict()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            found = self._items.get(key)
            if found is not None and now - found[0] < self.seconds:
                self._items.move_to_end(key)
                return found[1]
        value = build()
        with self._lock:
            self._items[key] = (now, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
