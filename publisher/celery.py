"""The Celery app. ``celery -A publisher worker`` and ``celery -A publisher beat`` find it here."""

from __future__ import annotations

from celery import Celery

app = Celery("publisher")
app.config_from_object("celeryconfig")
# Task modules register themselves on import; list each area's module here.
app.conf.imports = ("publisher.tasks",)


# ux (issue 13.4): routine beat ticks that did nothing stay out of INFO.
from celery.signals import after_setup_logger  # noqa: E402


@after_setup_logger.connect
def _quiet_routine_ticks(**_: object) -> None:
    from publisher.worker_logs import install

    install()
