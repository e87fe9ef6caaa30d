"""The insight pages' one call from the app factory."""

from __future__ import annotations

import datetime as dt

from flask import Flask

from publisher.uk_time import LONDON


def uk_date(value: dt.datetime | dt.date | None) -> str:
    """ "2 December 2026" (a stored UTC time as its UK date)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(LONDON).date()
    return value.strftime("%-d %B %Y")


def register(app: Flask) -> None:
    from publisher.insight import changes_views, health_views

    app.register_blueprint(changes_views.bp)
    app.register_blueprint(health_views.bp)
    app.add_template_filter(uk_date, "uk_date")
    app.jinja_env.globals.setdefault("zip", zip)
    if "jinja2.ext.do" not in app.jinja_env.extensions:
        app.jinja_env.add_extension("jinja2.ext.do")
