"""Access logs without subscribers' links.

Confirm, manage and unsubscribe links carry a signed token in their path; anyone who can
read an access log could otherwise use them. Every log line the web server writes about
a request passes through ``redact``: gunicorn through ``AccessLogger`` (``gunicorn
--logger-class publisher.web.accesslog.AccessLogger``, which ``publisher run`` uses) and
werkzeug's development server through a logging filter that the app factory installs.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

# The token is whatever follows the link's kind, up to the next "/", "?", space or quote
# (data.json and delete pages keep their suffix so the log still says what was asked).
TOKEN_PATH = re.compile(r"(/subscriptions/(?:confirm|manage|unsubscribe)/)[^/?#\s\"']+")
HIDDEN = "[token]"


def redact(text: str) -> str:
    return TOKEN_PATH.sub(r"\1" + HIDDEN, text)


class AccessLogger(Logger):  # type: ignore[misc]  # gunicorn has no type hints
    """gunicorn's logger with every request atom (line, path, referrer, environ) redacted."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {k: redact(v) if isinstance(v, str) else v for k, v in atoms.items()}


class RedactingFilter(logging.Filter):
    """For werkzeug's request log: format the record, then hide tokens in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


def install_werkzeug_filter() -> None:
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
