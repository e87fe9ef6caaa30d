"""The officer console at /console: sign-in, the post queue, the stale entries report and
admin pages. ``register(app)`` is the one call the app factory makes."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from publisher.console import views

    views.register(app)
