"""A small per-process copy of stored feed documents, so that most requests (and
nearly every 304) never reach the database.

Correctness comes from a marker file that every rebuild replaces after it commits
(``<data_dir>/feeds.generation``): an entry is used only while the marker is the one it
was read under. Processes on another host do not see the marker change, so entries
also expire after a few seconds; without a marker nothing is kept at all.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from publisher.config import get_settings

MAX_ENTRIES = 256  # about 13 MB per process at 50 KB a feed
MAX_AGE_SECONDS = 5.0

Token = tuple[str, int, int]


def marker_path() -> Path:
    return get_settings().data_dir / "feeds.generation"


def mark_rebuilt(newest_change_id: int) -> None:
    """Replace the marker (a new inode each time), telling every process to re-read."""
    path = marker_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.write_text(f"{newest_change_id} {time.time_ns()}\n")
    os.replace(tmp, path)


def current_token() -> Token | None:
    path = marker_path()
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (str(path), st.st_ino, st.st_mtime_ns)


class MemoryCache:
    def __init__(self, max_entries: int = MAX_ENTRIES, max_age: float = MAX_AGE_SECONDS) -> None:
        self.max_entries = max_entries
        self.max_age = max_age
        self._entries: OrderedDict[str, tuple[Token, float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, token: Token | None) -> Any | None:
        if token is None:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            seen, loaded, value = entry
            if seen != token or time.monotonic() - loaded > self.max_age:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key: str, token: Token | None, value: Any) -> None:
        if token is None:
            return
        with self._lock:
            self._entries[key] = (token, time.monotonic(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


documents = MemoryCache()
