"""Feed requests per day, counted in the web process and written in small batches.

A feed request is answered from memory in well under a millisecond; writing a row for
each would cost more than the answer. So each process keeps counts (day, full or
conditional) and adds them to ``insight_counts`` at most every ``FLUSH_SECONDS`` or
``FLUSH_REQUESTS`` requests, and when it exits. Nothing about the reader is kept: no
address, no user agent, no feed address. A process killed hard loses at most its
last batch, which is fine for a count.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import Counter

from publisher.insight.periods import today_uk

FLUSH_SECONDS = 30.0
FLUSH_REQUESTS = 200
log = logging.getLogger(__name__)

_lock = threading.Lock()
_pending: Counter[tuple[str, str]] = Counter()  # (ISO day, "full" | "conditional")
_last_flush = time.monotonic()


def count(conditional: bool) -> None:
    global _last_flush
    key = (today_uk().isoformat(), "conditional" if conditional else "full")
    with _lock:
        _pending[key] += 1
        due = (
            sum(_pending.values()) >= FLUSH_REQUESTS
            or time.monotonic() - _last_flush >= FLUSH_SECONDS
        )
    if due:
        flush()


def flush(*, at_exit: bool = False) -> None:
    """Write what is pending (tests call this; so does the process on exit)."""
    global _last_flush
    with _lock:
        batch = dict(_pending)
        _pending.clear()
        _last_flush = time.monotonic()
    if not batch:
        return
    from publisher.db import session_scope
    from publisher.insight import store

    try:
        with session_scope() as session:
            store.add_counts(session, {("feed_requests", d, k): n for (d, k), n in batch.items()})
    except Exception as exc:  # a count must never break a feed; keep it for next time
        # At exit the database may already be gone (a test run, a shutdown): say less.
        (log.debug if at_exit else log.warning)("could not record feed request counts: %s", exc)
        with _lock:
            _pending.update(batch)


atexit.register(flush, at_exit=True)
