"""The Flask app factory: ``gunicorn 'publisher.web:create_app()'``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from jinja2 import FileSystemLoader, select_autoescape

from publisher.config import get_settings
from publisher.secret import secret_key

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

csrf = CSRFProtect()


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    settings = get_settings()
    app = Flask(__name__, static_folder=None)
    app.config.update(
        SECRET_KEY=secret_key(),
        COUNCIL_NAME=settings.council_name,
        PUBLIC_BASE_URL=settings.public_base_url,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
        WTF_CSRF_TIME_LIMIT=None,
    )
    if overrides:
        app.config.update(overrides)
    # One template tree for web pages, emails and posts; autoescape on for HTML and XML.
    app.jinja_loader = FileSystemLoader(str(TEMPLATES))
    app.jinja_env.autoescape = select_autoescape(["html", "xml"], default_for_string=True)
    csrf.init_app(app)

    from publisher import console
    from publisher.feeds import views as feed_views
    from publisher.web import health, newsletters, public, subscribe

    for blueprint in (health.bp, subscribe.bp, newsletters.bp, feed_views.bp, public.bp):
        app.register_blueprint(blueprint)
    console.register(app)
    from publisher.web import report as parent_report  # issue 9: "Is this wrong?"
    from publisher.web import reviews as provider_reviews  # issue 9: provider pages

    app.register_blueprint(provider_reviews.bp)
    app.register_blueprint(parent_report.bp)
    if os.environ.get("PUBLISHER_DEMO"):
        from publisher.web import demo

        app.register_blueprint(demo.bp)
    if os.environ.get("PUBLISHER_LOCAL"):
        from publisher.web import outbox

        app.register_blueprint(outbox.bp)

    @app.errorhandler(CSRFError)
    def _form_expired(error: CSRFError) -> Any:
        # One handler for the whole app: a missing, forged or old token gets a plain
        # page saying what to do, and nothing is changed.
        if request.path.startswith("/console"):
            return render_template("web/console/csrf.html"), 400
        return render_template("web/form_expired.html"), 400

    @app.context_processor
    def _site() -> dict[str, Any]:
        return {"council_name": app.config["COUNCIL_NAME"]}

    @app.after_request
    def _security_headers(response: Any) -> Any:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    return app
