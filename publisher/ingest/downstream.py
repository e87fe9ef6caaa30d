"""After a crawl commits: tell the other areas there is work (queue after commit)."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task

log = logging.getLogger(__name__)


def downstream_tasks() -> tuple[tuple[Task[Any, Any], bool], ...]:
    """Tasks other areas implement (their publisher/tasks/<area>.py). Imported here, when a
    crawl has finished, so that the crawl's own modules never import the outputs. True:
    the task takes the new change ids."""
    from publisher.tasks import feeds, insight, newsletters, social

    return (
        (feeds.rebuild_feeds, False),
        (newsletters.changes_arrived, True),
        (social.draft_posts, True),
        (insight.refresh_after_crawl, True),
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
    from publisher.tasks.queueing import send

    for task, with_ids in downstream_tasks():
        if with_ids:
            send(task, change_ids)
        else:
            send(task)
