""" "Follow this service" (issue 14): ``/follow/<source>/<entry id>``, a link the council can
print on its own service pages and that sits beside each item in our emails.

The page names the service and asks for an email address and how often; the rest is the
sign-up's: the same answer whatever we hold about the address, the same rate limits, a
confirmation email before anything is sent (publisher.subscriptions.follows).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from publisher.db import session_scope
from publisher.models import Frequency
from publisher.subscriptions.addresses import InvalidAddress, normalise_email
from publisher.subscriptions.follows import FOLLOW_WORDING, find_entry, request_follow
from publisher.web import subscribe

bp = Blueprint("follow", __name__)


def _service(source: str, entry_id: str) -> dict[str, Any] | None:
    with session_scope() as session:
        entry = find_entry(session, source, entry_id)
        if entry is None:
            return None
        return {
            "name": entry.name,
            "organisation": entry.organisation or "",
            "source": source,
            "entry_id": entry_id,
        }


def _unknown() -> tuple[str, int]:
    return render_template("web/follow/unknown.html"), 404


@bp.get("/follow/<source>/<path:entry_id>")
def follow_form(source: str, entry_id: str) -> Any:
    service = _service(source, entry_id)
    if service is None:
        return _unknown()
    return render_template(
        "web/follow/form.html",
        service=service,
        errors={},
        email="",
        frequency="weekly",
        frequency_choices=subscribe._frequency_choices(),
        wording=FOLLOW_WORDING,
    )


@bp.post("/follow/<source>/<path:entry_id>")
def follow_submit(source: str, entry_id: str) -> Any:
    service = _service(source, entry_id)
    if service is None:
        return _unknown()
    raw_email = request.form.get("email", "")
    chosen = request.form.get("frequency", "weekly")
    errors: dict[str, str] = {}
    email = ""
    try:
        email = normalise_email(raw_email)
    except InvalidAddress as exc:
        errors["email"] = str(exc)
    try:
        frequency = Frequency(chosen)
    except ValueError:
        frequency = Frequency.WEEKLY
        errors["frequency"] = "Choose how often from the list"
    if request.form.get("website"):  # a box people cannot see: only robots fill it in
        errors["email"] = "Something went wrong. Please try again."
    if errors:
        if subscribe._client_limited("follow"):
            message = subscribe.LIMITED_MESSAGE
            return render_template("web/subscribe/limited.html", message=message), 429
        return render_template(
            "web/follow/form.html",
            service=service,
            errors=errors,
            email=raw_email,
            frequency=chosen,
            frequency_choices=subscribe._frequency_choices(),
            wording=FOLLOW_WORDING,
        ), 400
    if not subscribe._within_limits("follow", email):
        return render_template("web/subscribe/limited.html", message=subscribe.LIMITED_MESSAGE), 429
    with session_scope() as session:
        entry = find_entry(session, source, entry_id)
        notice = (
            request_follow(session, email, entry, source, frequency, client_ip=request.remote_addr)
            if entry is not None
            else None
        )
    subscribe._send(notice)
    return redirect(url_for("subscribe.check_email"), code=303)
