"""The one call the Celery task makes: rebuild feeds, then tell the WebSub hub."""

from __future__ import annotations

import logging

from publisher.db import session_scope
from publisher.feeds.memory import mark_rebuilt
from publisher.feeds.store import RebuildResult, rebuild_all
from publisher.feeds.websub import notify_pending

log = logging.getLogger(__name__)


def rebuild_feeds() -> RebuildResult:
    """Idempotent: a second call with no new changes rewrites nothing."""
    with session_scope() as session:
        result = rebuild_all(session)
    # A beat tick that changed nothing stays out of INFO (issue 13.4).
    log.log(
        logging.INFO if result.built or result.rewritten else logging.DEBUG,
        "feeds up to change %s: %d built, %d rewritten, %d unchanged",
        result.newest_change_id,
        len(result.built),
        len(result.rewritten),
        result.unchanged,
    )
    # After the commit: web processes then re-read their in-memory copies, and the hub
    # fetches the feed as soon as it hears, so the new body must already be there.
    mark_rebuilt(result.newest_change_id)
    notify_pending()
    return result
