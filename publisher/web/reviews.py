"""The provider's pages: one signed link per entry, no login (publisher.reviews.links).

GET only shows; every answer is a POST with a CSRF token, so a mail scanner following
the link changes nothing. A forged, expired or already used link gets a plain page that
says so, and nothing is changed.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for

from publisher.db import session_scope
from publisher.reviews import replies
from publisher.reviews.links import PREFIX, BadLink, make_token
from publisher.reviews.replies import FIELDS, AlreadyAnswered, Found

bp = Blueprint("reviews", __name__, url_prefix=PREFIX)
# The change form may arrive with a pasted document in a box: up to this much is read so
# that the page can say which field is too long; anything bigger is refused outright.
FORM_BYTES = 2_000_000


@bp.before_request
def _form_size() -> None:
    # The body's overall limit is publisher.web.hardening's (LARGER_BODIES).
    request.max_form_memory_size = FORM_BYTES


@bp.after_request
def _private(response: Response) -> Response:
    # The token in the address is the provider's key: keep it out of caches and out of
    # the Referer header sent to any site the page links to (the service's own website).
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _bad(exc: BadLink) -> Any:
    return render_template("web/reviews/bad_link.html", expired=exc.expired), (
        410 if exc.expired else 404
    )


def _answered(found: Found) -> Any:
    return render_template("web/reviews/answered.html", review=found.review, entry=found.entry), 409


def _others(session: Any, found: Found) -> list[tuple[str, str]]:
    return [
        (name, url_for("reviews.page", token=make_token(review_id, found.address)))
        for review_id, name in replies.other_reviews(session, found)
    ]


@bp.get("/<token>")
def page(token: str) -> Any:
    with session_scope() as session:
        try:
            found = replies.find(session, token)
        except BadLink as exc:
            return _bad(exc)
        if not replies.answerable(found.review):
            return _answered(found)
        return render_template(
            "web/reviews/page.html",
            token=token,
            entry=found.entry,
            values=replies.directory_values(found.entry),
            labels=FIELDS,
        )


def _answer(token: str, kind: str) -> Any:
    with session_scope() as session:
        try:
            found = replies.find(session, token)
            if kind == "correct":
                replies.still_correct(session, found)
            else:
                replies.has_closed(session, found)
        except BadLink as exc:
            return _bad(exc)
        except AlreadyAnswered:
            return _answered(found)
        session.commit()
        if kind == "closed":
            from publisher.social.holds import hold_closed_entry

            hold_closed_entry(found.entry.id)
        return render_template(
            "web/reviews/thanks.html", kind=kind, entry=found.entry, others=_others(session, found)
        )


@bp.post("/<token>/correct")
def still_correct(token: str) -> Any:
    return _answer(token, "correct")


@bp.post("/<token>/closed")
def closed(token: str) -> Any:
    return _answer(token, "closed")


@bp.route("/<token>/change", methods=["GET", "POST"])
def change(token: str) -> Any:
    with session_scope() as session:
        try:
            found = replies.find(session, token)
        except BadLink as exc:
            return _bad(exc)
        if not replies.answerable(found.review):
            return _answered(found)
        errors: dict[str, str] = {}
        values = replies.directory_values(found.entry)
        note = ""
        if request.method == "POST":
            values, note, errors = replies.check_change_form(request.form)
            if not errors:
                changed = replies.needs_change(session, found, values, note)
                if changed:
                    session.commit()
                    return render_template(
                        "web/reviews/thanks.html",
                        kind="change",
                        entry=found.entry,
                        others=_others(session, found),
                    )
                errors["note"] = (
                    "You have not changed anything. Change what is wrong, or tell us below."
                )
        return render_template(
            "web/reviews/change.html",
            token=token,
            entry=found.entry,
            values=values,
            note=note,
            errors=errors,
            labels=FIELDS,
        ), (400 if errors else 200)


@bp.route("/<token>/stop", methods=["GET", "POST"])
def stop(token: str) -> Any:
    with session_scope() as session:
        try:
            found = replies.find(session, token)
        except BadLink as exc:
            return _bad(exc)
        if request.method == "GET":
            return render_template("web/reviews/stop.html", token=token, address=found.address)
        replies.stop_emails(session, found)
        session.commit()
        return render_template("web/reviews/stopped.html", address=found.address)


@bp.get("/")
def no_token() -> Any:
    return redirect(url_for("public.home"))
