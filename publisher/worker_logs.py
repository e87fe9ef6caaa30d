"""Quiet worker logs (issue 13.4): beat sends a dozen routine tasks a minute, and Celery
logs "Sending due task" (beat), "Received task" and "succeeded" at INFO for each. Those
lines for routine beat tasks that did nothing (and beat's line for sending one) are
dropped unless DEBUG logging is on, so INFO shows work that was done and WARNING shows
what went wrong (failures are never filtered).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from celery.app.trace import LOG_RECEIVED, LOG_SUCCESS

# Beat's every-minute (or so) tasks: their ticks are routine.
ROUTINE_TASKS: frozenset[str] = frozenset(
    {
        "publisher.crawl.sweep",
        "publisher.newsletters.run_due",
        "publisher.newsletters.sweep",
        "publisher.newsletters.sweep_bulletins",
        "publisher.feeds.rebuild_feeds",
        "publisher.social.publish_due",
        "publisher.social.sweep",
    }
)
_NONZERO = re.compile(r"[1-9]")
CELERY_LOGGERS = ("celery.app.trace", "celery.worker.strategy", "celery.beat")
# Beat's line for each task it sends (celery.beat.Scheduler.apply_entry).
BEAT_SENDING = "Scheduler: Sending due task %s (%s)"


def did_nothing(return_value: Any) -> bool:
    """A result that counts nothing: None, {}, [], 0, {'published': 0}, "not due"."""
    return not _NONZERO.search(str(return_value))


class QuietRoutineTicks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO or logging.getLogger(record.name).isEnabledFor(
            logging.DEBUG
        ):
            return True
        if record.msg == BEAT_SENDING:
            # A routine tick is sent every minute or so; the worker's "succeeded" line
            # says when one did something.
            sent = record.args if isinstance(record.args, tuple) else ()
            return not (len(sent) == 2 and sent[1] in ROUTINE_TASKS)
        args = record.args if isinstance(record.args, dict) else {}
        if args.get("name") not in ROUTINE_TASKS:
            return True
        message = str(record.msg)
        if message == LOG_RECEIVED:
            return False
        if message == LOG_SUCCESS:
            return not did_nothing(args.get("return_value"))
        return True


def install() -> None:
    """Add the filter to Celery's task loggers (idempotent)."""
    for name in CELERY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, QuietRoutineTicks) for f in logger.filters):
            logger.addFilter(QuietRoutineTicks())
