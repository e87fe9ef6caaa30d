"""Parents' "Is this wrong? Tell us" form, linked from each service in newsletters and
the archive (by change id, which the email already carries). CSRF-protected, a honeypot
field, length caps, and a per-client rate limit in Redis."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from sqlalchemy.orm import Session

from publisher.db import session_scope
from publisher.models import Change, Entry
from publisher.reviews.reports import HONEYPOT, WHAT, check_report, store_report
from publisher.subscriptions.ratelimit import Limit, RateLimiter

bp = Blueprint("report", __name__, url_prefix="/report")
PER_CLIENT = Limit("client", 10, 3600)


def _limiter() -> RateLimiter:
    limiter = current_app.extensions.get("report_limiter")
    if limiter is None:
        from publisher.redis_embedded import redis_client

        limiter = RateLimiter(
            redis_client(), current_app.config.get("SUBSCRIPTIONS_KEY_PREFIX", "lop:ratelimit:")
        )
        current_app.extensions["report_limiter"] = limiter
    return limiter


def _entry(session: Session, change_id: int) -> Entry:
    change = session.get(Change, change_id)
    entry = session.get(Entry, change.entry_pk) if change is not None else None
    if entry is None:
        abort(404)
    return entry


@bp.route("/<int:change_id>", methods=["GET", "POST"])
def report(change_id: int) -> Any:
    with session_scope() as session:
        entry = _entry(session, change_id)
        values: dict[str, str] = {"what": "", "details": "", "email": ""}
        errors: dict[str, str] = {}
        if request.method == "POST":
            if not _limiter().hit("report", PER_CLIENT, request.remote_addr or "unknown"):
                return render_template(
                    "web/subscribe/limited.html",
                    message="You have sent a lot of reports. Please try again in an hour.",
                ), 429
            if request.form.get(HONEYPOT):
                # A robot: say thank you, keep nothing.
                return render_template("web/report/thanks.html", name=entry.name)
            values, errors = check_report(request.form)
            if not errors:
                store_report(session, entry.id, values)
                session.commit()
                return render_template("web/report/thanks.html", name=entry.name)
        return render_template(
            "web/report/form.html",
            name=entry.name,
            change_id=change_id,
            what=WHAT,
            values=values,
            errors=errors,
            honeypot=HONEYPOT,
        ), (400 if errors else 200)
