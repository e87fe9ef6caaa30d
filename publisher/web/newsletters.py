"""Public pages for editions (the web version every email links to, and the archive),
and the GOV.UK Notify delivery-status callback.

The pages show an edition's items only: nothing about who received it.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request
from sqlalchemy import exists, select

from publisher.db import read_scope, session_scope
from publisher.models import Delivery, DeliveryStatus, Edition
from publisher.newsletters.frequencies import frequency_rule
from publisher.newsletters.items import needs_note_applies
from publisher.newsletters.rendering import headline, sections_for
from publisher.newsletters.windows import describe
from publisher.web.extensions import csrf_exempt

bp = Blueprint("newsletters", __name__)


def _reached_someone() -> Any:
    return exists().where(
        (Delivery.edition_id == Edition.id) & (Delivery.status == DeliveryStatus.SENT)
    )


@bp.get("/newsletters")
def archive() -> Any:
    with read_scope() as session:
        # Only editions that reached someone: an edition nobody received (no matching
        # subscriber, or every send failed) is not news that went out.
        editions = session.scalars(
            select(Edition)
            .where(_reached_someone())
            .order_by(Edition.window_end.desc(), Edition.id.desc())
            .limit(200)
        ).all()
        rows = [
            {
                "id": e.id,
                "label": frequency_rule(e.frequency).label,
                "period": describe(e.frequency, e.window_start, e.window_end),
                "headline": headline(e.items),
            }
            for e in editions
            if e.items
        ]
    return render_template("web/newsletters/archive.html", editions=rows)


@bp.get("/newsletters/<int:edition_id>")
def edition(edition_id: int) -> Any:
    with read_scope() as session:
        found = session.scalars(
            select(Edition).where(Edition.id == edition_id, _reached_someone())
        ).first()
        if found is None or not found.items:
            abort(404)
        sections, _ = sections_for(found.items, True, len(found.items))
        page = {
            "id": found.id,
            "label": frequency_rule(found.frequency).label,
            "period": describe(found.frequency, found.window_start, found.window_end),
            "headline": headline(found.items),
            "sections": sections,
            # Services that name no need, said once above the list rather than beside
            # each item: this page is for anyone, not for one reader's choices.
            "untagged": [str(item["name"]) for item in found.items if needs_note_applies(item)],
        }
    return render_template("web/newsletters/edition.html", edition=page)


@bp.post("/newsletters/notify/callback")
@csrf_exempt  # a machine-to-machine JSON endpoint, authenticated by its bearer token
def notify_callback() -> Any:
    """Notify calls this with each email's final status; a permanent failure ends the
    subscription, like an SMTP 5xx for the recipient does."""
    from publisher.config import get_settings
    from publisher.newsletters.ledger import record_permanent_failure

    expected = get_settings().mail.notify_callback_token
    given = request.headers.get("Authorization", "")
    if not expected or not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        return jsonify({"error": "not allowed"}), 401
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("status"), str):
        return jsonify({"error": "expected a JSON object with a status"}), 400
    if payload["status"] != "permanent-failure":
        return jsonify({"result": "ignored"})
    ref = payload.get("reference")
    if not isinstance(ref, str):
        return jsonify({"result": "no reference"})
    with session_scope() as session:
        found = record_permanent_failure(session, ref, "Notify: permanent-failure")
        if not found:
            # A provider review request (issue 9), whose references start "rv".
            from publisher.reviews.sending import record_review_bounce

            found = record_review_bounce(session, ref, "Notify: permanent-failure")
    return jsonify({"result": "ended" if found else "unknown reference"})
