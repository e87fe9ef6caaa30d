"""Renew a claim while its work is under way: a background thread calls ``beat`` every
``every`` seconds until the block ends.

Claims (newsletter deliveries, social posts) are short leases so that work held by a
worker that died is taken up again within about a minute; the heartbeat keeps a live
worker's claim from lapsing however long its work takes. A beat that fails (the
database is away) is logged and tried again at the next tick: if the claim lapses
meanwhile, the claim's own fence stops the old holder from finishing twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


@contextmanager
def heartbeat(beat: Callable[[], object], every: float, name: str = "heartbeat") -> Iterator[None]:
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(every):
            try:
                beat()
            except Exception:  # the next tick tries again; the fence protects the work
                log.warning("%s: could not renew the claim", name, exc_info=True)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=every + 5)
