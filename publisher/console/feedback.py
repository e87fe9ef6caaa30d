"""Console pages for "You said, we did" (issue 14): read comments, answer, publish, and
export a year (CSV guarded against spreadsheet formulas, and a printable page) for the
statutory yearly publication."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from publisher.console.auth import Refused, requires
from publisher.console.blueprint import bp, found_or_404, undo_changes
from publisher.feedback import service
from publisher.feedback.words import TOPICS
from publisher.models import Feedback, FeedbackState
from publisher.plain_english import advise
from publisher.social.errors import NotAllowed, SocialError
from publisher.topics import AGE_BAND_LABELS, NEEDS

STATES = [
    (FeedbackState.NEW, "New"),
    (FeedbackState.ANSWERED, "Answered"),
    (FeedbackState.PUBLISHED, "Published"),
    (FeedbackState.CLOSED, "Closed"),
]


@bp.get("/feedback")
@requires("view")
def feedback_list() -> Any:
    try:
        state = FeedbackState(request.args.get("state", "new"))
    except ValueError:
        state = FeedbackState.NEW
    rows = g.db.scalars(
        select(Feedback)
        .where(Feedback.state == state)
        .order_by(Feedback.created_at.desc())
        .limit(200)
    ).all()
    return render_template(
        "web/console/feedback_list.html",
        states=STATES,
        state=state,
        rows=rows,
        topics=TOPICS,
        this_year=dt.datetime.now(dt.UTC).year,
    )


def _page(f: Feedback, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    values = (
        request.form.to_dict()
        if request.method == "POST"
        else {
            "you_said": f.you_said or (f.words if f.consent_to_publish else ""),
            "response": f.response or "",
            "action": f.action or "",
            "keep_contact": "yes" if f.keep_contact else "",
        }
    )
    return render_template(
        "web/console/feedback.html",
        f=f,
        values=values,
        errors=errors or {},
        topics=TOPICS,
        ages=AGE_BAND_LABELS,
        needs=NEEDS,
        advice=advise(f"{values.get('response', '')}\n\n{values.get('action', '')}"),
    ), status


@bp.get("/feedback/<int:feedback_id>")
@requires("view")
def feedback_page(feedback_id: int) -> Any:
    return _page(found_or_404(Feedback, feedback_id))


@bp.post("/feedback/<int:feedback_id>")
@requires("edit")
def feedback_respond(feedback_id: int) -> Any:
    f = found_or_404(Feedback, feedback_id)
    try:
        service.respond(g.db, g.user, f, request.form)
    except service.FeedbackInvalid as exc:
        undo_changes()
        return _page(found_or_404(Feedback, feedback_id), exc.errors, 400)
    except SocialError as exc:
        undo_changes()
        flash(str(exc), "error")
        return redirect(url_for("console.feedback_page", feedback_id=feedback_id), code=303)
    flash("Saved. An approver can now publish it.", "success")
    return redirect(url_for("console.feedback_page", feedback_id=feedback_id), code=303)


@bp.post("/feedback/<int:feedback_id>/<any(publish, close):action>")
@requires("approve")
def feedback_action(feedback_id: int, action: str) -> Any:
    f = found_or_404(Feedback, feedback_id)
    try:
        if action == "publish":
            service.publish(g.db, g.user, f)
        else:
            service.close(g.db, g.user, f)
    except NotAllowed as exc:
        undo_changes()
        raise Refused(str(exc)) from exc
    except SocialError as exc:
        undo_changes()
        flash(str(exc), "error")
        return redirect(url_for("console.feedback_page", feedback_id=feedback_id), code=303)
    flash(
        "Published on the You said, we did page." if action == "publish" else "Closed.", "success"
    )
    return redirect(url_for("console.feedback_page", feedback_id=feedback_id), code=303)


@bp.get("/feedback/export.<any(csv, html):fmt>")
@requires("admin")
def feedback_export(fmt: str) -> Any:
    try:
        year = int(request.args.get("year", ""))
        if not 2000 <= year <= 2100:
            raise ValueError
    except ValueError:
        flash("Choose a year, like 2026.", "error")
        return redirect(url_for("console.feedback_list"), code=303)
    pairs = service.published(g.db, year=year, limit=100_000)
    if fmt == "csv":
        return Response(
            service.export_csv(pairs),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="you-said-we-did-{year}.csv"'},
        )
    return render_template(
        "web/console/feedback_export.html", year=year, quarters=service.by_quarter(pairs)
    )
