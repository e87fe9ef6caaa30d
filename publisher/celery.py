"""The Celery app. ``celery -A publisher worker`` and ``celery -A publisher beat`` find it here."""

from __future__ import annotations

from celery import Celery

app = Celery("publisher")
app.config_from_object("celeryconfig")
# Task modules register themselves on import; list each area's module here.
app.conf.imports = ("publisher.tasks",)
