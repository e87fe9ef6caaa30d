"""The "Provider replies" worklist (issue 9): what providers told us, a field-by-field
difference for changes, "Updated in the directory" and "Dismiss" (both audited), a CSV
for bulk updates, and asking providers about entries chosen on the stale report."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from publisher.console.auth import requires
from publisher.console.blueprint import bp, found_or_404, keep_changes
from publisher.models import ReplyKind, Review, Source
from publisher.reviews import worklist

KIND_CHOICES = [
    ("", "All replies"),
    (ReplyKind.NEEDS_CHANGE.value, ReplyKind.NEEDS_CHANGE.label),
    (ReplyKind.STILL_CORRECT.value, ReplyKind.STILL_CORRECT.label),
    (ReplyKind.CLOSED.value, ReplyKind.CLOSED.label),
    (ReplyKind.NO_REPLY.value, ReplyKind.NO_REPLY.label),
    (ReplyKind.STOP.value, ReplyKind.STOP.label),
    ("undeliverable", "Email could not be delivered"),
]
AGE_CHOICES = [("", "Any age"), ("7", "7 days or older"), ("30", "30 days or older")]
MAX_CHOSEN = 500


def _filters() -> dict[str, Any]:
    kinds = {k for k, _ in KIND_CHOICES}
    kind = request.args.get("kind", "")
    age = request.args.get("age", "")
    return {
        "source": request.args.get("source", "")[:100] or None,
        "kind": kind if kind in kinds and kind else None,
        "min_age_days": int(age) if age in {"7", "30"} else None,
    }


@bp.get("/replies")
@requires("view")
def replies_page() -> Any:
    filters = _filters()
    items = worklist.work_items(g.db, **filters)
    return render_template(
        "web/console/replies.html",
        items=items,
        reports=worklist.report_items(g.db, source=filters["source"]),
        sources=list(g.db.scalars(select(Source.name).order_by(Source.name))),
        kinds=KIND_CHOICES,
        ages=AGE_CHOICES,
        chosen={k: request.args.get(k, "") for k in ("source", "kind", "age")},
    )


@bp.get("/replies.csv")
@requires("view")
def replies_csv() -> Any:
    body = worklist.replies_csv(worklist.work_items(g.db, **_filters()))
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=provider-replies.csv"},
    )


@bp.post("/replies/<int:review_id>/updated")
@requires("edit")
def reply_updated(review_id: int) -> Any:
    return _close(review_id, "updated", "Updated in the directory by the Local Offer team")


@bp.post("/replies/<int:review_id>/dismiss")
@requires("edit")
def reply_dismiss(review_id: int) -> Any:
    reason = " ".join(request.form.get("reason", "").split())
    if not reason:
        flash("Say why you are dismissing this reply. Nothing was changed.", "error")
        return redirect(url_for("console.replies_page"))
    if len(reason) > worklist.DISMISS_REASON_LIMIT:
        flash(
            f"The reason must be {worklist.DISMISS_REASON_LIMIT} characters or fewer. "
            "Nothing was changed.",
            "error",
        )
        return redirect(url_for("console.replies_page"))
    return _close(review_id, "dismissed", f"Dismissed: {reason}")


def _close(review_id: int, action: str, reason: str) -> Any:
    review = found_or_404(Review, review_id)
    try:
        worklist.close(g.db, review, g.user, action, reason)
    except worklist.NotOpen:
        flash("This reply was already dealt with. Nothing was changed.", "info")
        return redirect(url_for("console.replies_page"))
    flash(f"Done: {reason}.", "success")
    return redirect(url_for("console.replies_page"))


@bp.post("/reports/<int:report_id>/close")
@requires("edit")
def report_close(report_id: int) -> Any:
    from publisher.models import ProblemReport

    report = found_or_404(ProblemReport, report_id)
    outcome = request.form.get("outcome", "")
    reason = " ".join(request.form.get("reason", "").split())
    if outcome == "fixed":
        reason = "Fixed in the directory"
    elif not reason:
        flash("Say why you are dismissing this report. Nothing was changed.", "error")
        return redirect(url_for("console.replies_page"))
    else:
        reason = f"Dismissed: {reason}"
    try:
        worklist.close_report(g.db, report, g.user, reason)
    except worklist.NotOpen:
        flash("This report was already dealt with. Nothing was changed.", "info")
        return redirect(url_for("console.replies_page"))
    flash(f"Done: {reason}.", "success")
    return redirect(url_for("console.replies_page"))


@bp.post("/stale/ask")
@requires("edit")
def stale_ask() -> Any:
    """Send review requests now for the entries ticked on the stale report."""
    from publisher.mail import SendError
    from publisher.reviews.sending import send_for_entries

    chosen = sorted({int(v) for v in request.form.getlist("entry") if v.isdigit()})[:MAX_CHOSEN]
    if not chosen:
        flash("Tick at least one entry first. Nothing was sent.", "error")
        return redirect(url_for("console.stale_report"))
    # Commit what the request did so far (a session's last-seen time): the sending below
    # runs its own units of work, which on SQLite need the write lock.
    keep_changes()
    try:
        result = send_for_entries(chosen)
    except (SendError, ValueError) as exc:
        flash(f"Could not send: {exc}", "error")
        return redirect(url_for("console.stale_report"))
    flash(
        f"Sent {result.sent} {'email' if result.sent == 1 else 'emails'} about "
        f"{result.opened} {'entry' if result.opened == 1 else 'entries'}. Entries already "
        "being checked, and entries with no contact address, were left out.",
        "success",
    )
    return redirect(url_for("console.stale_report"))
