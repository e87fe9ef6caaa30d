"""The Flask app factory: ``gunicorn 'publisher.web:create_app()'``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from jinja2 import FileSystemLoader, select_autoescape

from publisher.config import get_settings
from publisher.secret import secret_key
from publisher.web.extensions import csrf

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

__all__ = ["create_app", "csrf"]


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
        SUBSCRIPTIONS_LIMIT_PER_ADDRESS=settings.web.subscriptions_limit_per_address,
        SUBSCRIPTIONS_LIMIT_PER_CLIENT=settings.web.subscriptions_limit_per_client,
        SUBSCRIPTIONS_PER_MAILBOX_PER_DAY=settings.web.subscriptions_per_mailbox_per_day,
        SUBSCRIPTIONS_EMAILS_PER_HOUR=settings.web.subscriptions_emails_per_hour,
        CONSOLE_IDLE_MINUTES=settings.web.console_idle_minutes,
    )
    if overrides:
        app.config.update(overrides)
    # ux (issue 13.2): families must be able to reach a person; only the demo and tests
    # may run without a contact.
    if not (settings.council_contact_email or settings.web.demo or app.config.get("TESTING")):
        raise ValueError(
            "Set COUNCIL_CONTACT_EMAIL (and COUNCIL_CONTACT_PHONE if you have one): the home, "
            "accessibility and privacy pages name who families can contact."
        )
    # One template tree for web pages, emails and posts; autoescape on for HTML and XML.
    app.jinja_loader = FileSystemLoader(str(TEMPLATES))
    app.jinja_env.autoescape = select_autoescape(["html", "xml"], default_for_string=True)
    # Security headers, body size limits, bounded ids, favicon, redacted request logs
    # (issue 11). Before CSRF (which reads the body: the size check must come first) and
    # before the blueprints (the bounded <int:...> converter must be in place).
    from publisher.web import accesslog, hardening

    hardening.install(app)
    accesslog.install_werkzeug_filter()
    csrf.init_app(app)

    from publisher import console
    from publisher.feeds import views as feed_views
    from publisher.web import health, newsletters, public, subscribe

    for blueprint in (health.bp, subscribe.bp, newsletters.bp, feed_views.bp, public.bp):
        app.register_blueprint(blueprint)
    from publisher.insight import web as insight_web

    insight_web.register(app)
    from publisher.web import media  # ux (issue 13.6): uploaded post images

    app.register_blueprint(media.bp)
    from publisher.web import voice  # issue 14: bulletins, follow, embed, feedback

    voice.register(app)
    console.register(app)
    from publisher.web import report as parent_report  # issue 9: "Is this wrong?"
    from publisher.web import reviews as provider_reviews  # issue 9: provider pages

    app.register_blueprint(provider_reviews.bp)
    app.register_blueprint(parent_report.bp)
    if settings.web.demo:
        from publisher.web import demo

        app.register_blueprint(demo.bp)
    if settings.web.local_outbox:
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

    return app
