"""After a crawl commits: tell the other areas there is work (queue after commit)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

# Tasks other areas implement (see their publisher/tasks/<area>.py), sent by name so that
# the crawl does not import them. True: the task takes the new change ids.
DOWNSTREAM_TASKS: tuple[tuple[str, bool], ...] = (
    ("publisher.feeds.rebuild_feeds", False),
    ("publisher.newsletters.changes_arrived", True),
    ("publisher.social.draft_posts", True),
    ("publisher.insight.refresh_after_crawl", True),
)


def notify_downstream(change_ids: list[int]) -> None:
    """Queue after commit: the rows these tasks read are already there."""
    from publisher.redis_embedded import embedded_running, is_embedded

    if is_embedded() and not embedded_running():
        # A one-off `publisher ingest` with no service running: starting a Redis just to
        # drop messages into it helps nobody; the beat sweepers catch up when it runs.
        log.info(
            "no queue is running; %d changes will be picked up by the sweepers", len(change_ids)
        )
        return
    from publisher.celery import app

    for name, with_ids in DOWNSTREAM_TASKS:
        try:
            app.send_task(name, args=[change_ids] if with_ids else [])
        except Exception as exc:  # the beat sweepers catch up; a crawl must not fail here
            log.warning("could not queue %s: %s", name, exc)
