"""Public "You said, we did" pages (issue 14): the comment form, the published answers by
quarter, and their feed. Reporters' names and addresses are never shown."""

from __future__ import annotations

import os
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from publisher.config import get_settings
from publisher.db import session_scope
from publisher.feedback import service
from publisher.feedback.words import TOPICS
from publisher.feeds.items import FeedItem
from publisher.feeds.render import FeedMeta, render
from publisher.subscriptions.ratelimit import Limit
from publisher.topics import AGE_BAND_LABELS, NEEDS
from publisher.web import subscribe

bp = Blueprint("feedback", __name__, url_prefix="/you-said-we-did")
LIMITED = "You have sent a lot of comments. Please wait an hour, then try again."
TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}


def _limit() -> Limit:
    count = current_app.config.get(
        "FEEDBACK_LIMIT_PER_CLIENT", os.environ.get("FEEDBACK_LIMIT_PER_CLIENT") or 5
    )
    return Limit("client", int(count), 3600)


def _form(errors: dict[str, str], values: dict[str, Any], status: int = 200) -> Any:
    return render_template(
        "web/feedback/form.html",
        errors=errors,
        values=values,
        topics=TOPICS,
        ages=AGE_BAND_LABELS,
        needs=NEEDS,
        max_words=service.MAX_WORDS,
    ), status


@bp.get("/")
def page() -> Any:
    with session_scope() as session:
        quarters = service.by_quarter(service.published(session))
    return render_template("web/feedback/page.html", quarters=quarters)


@bp.route("/tell-us", methods=["GET", "POST"])
def tell_us() -> Any:
    if request.method == "GET":
        return _form({}, {})
    values = request.form.to_dict()
    # Every try counts, good or bad: a flood is stopped whatever it sends.
    if not subscribe._limiter().hit("feedback", _limit(), request.remote_addr or "unknown"):
        return render_template("web/subscribe/limited.html", message=LIMITED), 429
    if values.get("website"):  # a box people cannot see: only robots fill it in
        return redirect(url_for("feedback.thanks"), code=303)
    try:
        with session_scope() as session:
            service.submit(session, values)
    except service.FeedbackInvalid as exc:
        return _form(exc.errors, values, 400)
    return redirect(url_for("feedback.thanks"), code=303)


@bp.get("/thank-you")
def thanks() -> Any:
    return render_template("web/feedback/thanks.html")


@bp.get("/feed.<fmt>")
def feed(fmt: str) -> Any:
    if fmt not in TYPES:
        return Response("Feeds are .atom, .rss or .json", status=404, mimetype="text/plain")
    settings = get_settings()
    with session_scope() as session:
        pairs = service.published(session, limit=50)
    items = [
        FeedItem(
            change_id=0,
            id=f"tag:{settings.feed_id_authority},2026:you-said-we-did-{p.id}",
            title=f"You said, we did: {p.topic}",
            summary=" ".join(
                part
                for part in (
                    f"You said: {p.you_said}" if p.you_said else "",
                    f"We said: {p.response}",
                    f"We did: {p.action}" if p.action else "",
                )
                if part
            ),
            link=f"{settings.public_base_url}/you-said-we-did/#comment-{p.id}",
            categories=(("you-said-we-did", "You said, we did"),),
            published=p.published_at,
            updated=p.published_at,
        )
        for p in pairs
    ]
    from publisher.db import utcnow

    meta = FeedMeta(
        id=f"tag:{settings.feed_id_authority},2026:feed:you-said-we-did",
        title=f"{settings.council_name} Local Offer: You said, we did",
        description="What families told us about the Local Offer, and what we did.",
        self_url=f"{settings.public_base_url}/you-said-we-did/feed.{fmt}",
        home_url=f"{settings.public_base_url}/you-said-we-did/",
        author=f"{settings.council_name} Local Offer",
        updated=items[0].updated if items else utcnow(),
    )
    return Response(render(fmt, meta, items), mimetype=TYPES[fmt])
