"""Celery tasks, one module per area. Each task takes ids, calls one function, and
decides to retry or give up; the logic lives in the area's own modules."""

from publisher.tasks import bulletins as bulletins
from publisher.tasks import crawl as crawl
from publisher.tasks import feedback as feedback
from publisher.tasks import feeds as feeds
from publisher.tasks import insight as insight
from publisher.tasks import newsletters as newsletters
from publisher.tasks import reviews as reviews
from publisher.tasks import social as social
from publisher.tasks import subscriptions as subscriptions

__all__ = [
    "bulletins",
    "crawl",
    "feedback",
    "feeds",
    "insight",
    "newsletters",
    "reviews",
    "social",
    "subscriptions",
]
