"""Celery settings (lowercase names), read from the environment.

Loaded by ``publisher.celery``. The queue only says "there is work": every task
re-reads the database, so a task delivered twice does nothing the second time.
"""

from __future__ import annotations

import os
from typing import Any

from kombu import Queue

from publisher.config import get_settings
from publisher.redis_embedded import redis_url

_settings = get_settings()

broker_url = redis_url()
# Results are not used for control flow; keep them off to spare Redis.
task_ignore_result = True
result_backend = None

# A task is acknowledged only once it finished, and a worker that dies mid-task gives
# it back: the work is idempotent, so running it again is safe, losing it is not.
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
# Long enough for the longest crawl; ETAs are never used for scheduling (posts and
# editions are rows polled by beat), so nothing waits past this.
broker_transport_options: dict[str, int | str] = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "7200")),
}
_prefix = os.environ.get("CELERY_KEY_PREFIX")
if _prefix:
    # Tests share one Redis; a prefix keeps their queues apart and easy to clean up.
    broker_transport_options["global_keyprefix"] = _prefix

task_default_queue = "default"
task_queues = (
    Queue("default"),
    Queue("crawl"),
    Queue("newsletters"),
    Queue("feeds"),
    Queue("social"),
)
task_routes = {
    "publisher.crawl.*": {"queue": "crawl"},
    "publisher.newsletters.*": {"queue": "newsletters"},
    "publisher.feeds.*": {"queue": "feeds"},
    "publisher.social.*": {"queue": "social"},
    # Review emails go out with the newsletters' mail workers (same transports, same limit).
    "publisher.reviews.*": {"queue": "newsletters"},
}

timezone = "Europe/London"
enable_utc = True
task_serializer = "json"
accept_content = ["json"]
worker_hijack_root_logger = False
broker_connection_retry_on_startup = True

beat_schedule: dict[str, dict[str, Any]] = {
    "crawl-all-sources": {
        "task": "publisher.crawl.crawl_all",
        "schedule": float(_settings.crawl_interval_minutes * 60),
    },
    # Close crawl rows left "running" by a crawler that died (its lease ran out).
    "crawl-sweep": {"task": "publisher.crawl.sweep", "schedule": 60.0},
    # Daily: expire unconfirmed requests (7 days), erase ended addresses (28 days).
    "subscriptions-retention": {
        "task": "publisher.subscriptions.apply_retention",
        "schedule": 24 * 3600.0,
    },
    # Editions are rows, not far-future ETAs: beat asks every minute what is due, and a
    # sweeper gives back stale claims and re-queues lost batches.
    "newsletters-run-due": {"task": "publisher.newsletters.run_due", "schedule": 60.0},
    # Every 15 s (two cheap queries): with 45 s claims renewed by a heartbeat, a dead
    # worker's deliveries and a stopped build are taken up again within about a minute.
    "newsletters-sweep": {"task": "publisher.newsletters.sweep", "schedule": 15.0},
    # Catch up if a crawl's "rebuild_feeds" message was lost: a no-op when every feed
    # was built from the newest change; also retries WebSub notifications still due.
    "feeds-catch-up": {
        "task": "publisher.feeds.rebuild_feeds",
        "schedule": 60.0,
    },
    # Social posts are rows with publish_at, polled here; never far-future ETAs.
    # Every 20 s: with 30 s claims renewed while a post is published, a post a dead
    # worker held goes out within about a minute.
    "social-publish-due": {"task": "publisher.social.publish_due", "schedule": 20.0},
    "social-sweep": {"task": "publisher.social.sweep", "schedule": 300.0},
    # Provider reviews (issue 9): plan and send today's requests and reminders. Runs
    # daily; a second run the same day sends nothing new (the ledger's keys).
    "reviews-daily": {"task": "publisher.reviews.run_daily", "schedule": 24 * 3600.0},
    # Open-data summaries: catches finished editions, posts and a day with no crawl.
    "insight-refresh": {"task": "publisher.insight.refresh", "schedule": 600.0},
    # voice (issue 14): urgent bulletins left unsent (a lost message, a dead worker).
    "bulletins-sweep": {"task": "publisher.newsletters.sweep_bulletins", "schedule": 60.0},
    # voice (issue 14): spotlight drafts when an account has nothing queued.
    "social-spotlights": {"task": "publisher.social.draft_spotlights", "schedule": 3600.0},
    # voice (issue 14): feedback reporters' addresses go after FEEDBACK_KEEP_DAYS.
    "feedback-erase-contacts": {
        "task": "publisher.feedback.erase_old_contacts",
        "schedule": 24 * 3600.0,
    },
}
