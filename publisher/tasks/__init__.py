"""Celery tasks, one module per area. Each task takes ids, calls one function, and
decides to retry or give up; the logic lives in the area's own modules."""

from publisher.tasks import crawl as crawl
from publisher.tasks import social as social

__all__ = ["crawl", "social"]
