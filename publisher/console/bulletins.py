"""Console pages for bulletins (issue 14): list, write, change, approve, send now, withdraw.

The rules are in ``publisher.bulletins.workflow``; these views check the role first, call
it, and turn its errors into messages. An urgent send is queued only after the request's
commit (``send_after_commit``), so the worker always finds the approved bulletin.
"""

from __future__ import annotations

from typing import Any

from flask import flash, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from publisher.bulletins import urgent, workflow
from publisher.bulletins.audience import describe
from publisher.bulletins.body import MAX_SOURCE, MAX_TITLE
from publisher.bulletins.feeds import mark_feeds_stale
from publisher.bulletins.posts import draft_for_bulletin
from publisher.console.auth import Refused, requires
from publisher.console.blueprint import bp, found_or_404, undo_changes
from publisher.models import AuditEvent, Bulletin, BulletinEdition, BulletinState, User
from publisher.plain_english import advise
from publisher.social.errors import NotAllowed, SocialError
from publisher.subscriptions.matching import DIMENSIONS
from publisher.subscriptions.preferences import FIELD_NAMES, vocabulary
from publisher.tasks.bulletins import send_urgent_bulletin
from publisher.tasks.feeds import rebuild_feeds
from publisher.tasks.queueing import send_after_commit

STATES = [
    (BulletinState.DRAFT, "Drafts"),
    (BulletinState.APPROVED, "Approved"),
    (BulletinState.WITHDRAWN, "Withdrawn"),
]


def _form_values(b: Bulletin | None = None) -> dict[str, Any]:
    if request.method == "POST":
        values: dict[str, Any] = {d: request.form.getlist(d) for d in DIMENSIONS}
        values.update(
            title=request.form.get("title", ""),
            body=request.form.get("body", ""),
            link=request.form.get("link", ""),
        )
        return values
    if b is None:
        return {"title": "", "body": "", "link": "", **{d: [] for d in DIMENSIONS}}
    return {
        "title": b.title,
        "body": b.body_source,
        "link": b.link or "",
        **{d: list((b.audience or {}).get(d) or []) for d in DIMENSIONS},
    }


def _page(b: Bulletin | None, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    values = _form_values(b)
    history = []
    editions: list[str] = []
    names: dict[int, str] = {}
    progress: dict[str, int] = {}
    if b is not None:
        history = list(
            g.db.scalars(
                select(AuditEvent)
                .where(AuditEvent.object_type == "bulletin", AuditEvent.object_id == str(b.id))
                .order_by(AuditEvent.at, AuditEvent.id)
            )
        )
        editions = [
            f.value
            for f in g.db.scalars(
                select(BulletinEdition.frequency).where(BulletinEdition.bulletin_id == b.id)
            )
        ]
        ids = {i for i in (b.created_by_id, b.edited_by_id, b.approved_by_id) if i}
        if ids:
            names = dict(
                g.db.execute(select(User.id, User.email).where(User.id.in_(ids))).tuples().all()
            )
        progress = urgent.progress(g.db, b.id) if b.urgent else {}
    return render_template(
        "web/console/bulletin.html",
        bulletin=b,
        values=values,
        errors=errors or {},
        vocab=vocabulary(),
        field_names=FIELD_NAMES,
        dimensions=DIMENSIONS,
        advice=advise(f"{values['title']}. {values['body']}"),
        audience=describe(b.audience or {}) if b is not None else "",
        history=history,
        editions=editions,
        names=names,
        progress=progress,
        max_title=MAX_TITLE,
        max_body=MAX_SOURCE,
    ), status


def _feeds_changed() -> None:
    """The feeds carry approved bulletins: have them rebuilt once this request commits."""
    mark_feeds_stale(g.db)
    send_after_commit(g.db, rebuild_feeds)


@bp.get("/bulletins")
@requires("view")
def bulletins() -> Any:
    try:
        state = BulletinState(request.args.get("state", "draft"))
    except ValueError:
        state = BulletinState.DRAFT
    rows = g.db.scalars(
        select(Bulletin)
        .where(Bulletin.state == state)
        .order_by(Bulletin.created_at.desc(), Bulletin.id.desc())
        .limit(200)
    ).all()
    return render_template(
        "web/console/bulletins.html",
        states=STATES,
        state=state,
        bulletins=rows,
        audiences={b.id: describe(b.audience or {}) for b in rows},
    )


@bp.route("/bulletins/new", methods=["GET", "POST"])
@requires("edit")
def bulletin_new() -> Any:
    if request.method == "GET":
        return _page(None)
    try:
        draft = workflow.check(_checked_form())
        b = workflow.create(g.db, g.user, draft)
    except workflow.BulletinInvalid as exc:
        return _page(None, exc.errors, 400)
    if draft.body.removed:
        flash("Saved. We took out parts that cannot go in a bulletin (such as scripts).", "info")
    else:
        flash("Saved as a draft. An approver can now approve it.", "success")
    return redirect(url_for("console.bulletin_page", bulletin_id=b.id), code=303)


def _checked_form() -> dict[str, Any]:
    form: dict[str, Any] = {d: request.form.getlist(d) for d in DIMENSIONS}
    for name in ("title", "body", "link"):
        form[name] = request.form.get(name, "")
    return form


@bp.get("/bulletins/<int:bulletin_id>")
@requires("view")
def bulletin_page(bulletin_id: int) -> Any:
    return _page(found_or_404(Bulletin, bulletin_id))


@bp.post("/bulletins/<int:bulletin_id>")
@requires("edit")
def bulletin_save(bulletin_id: int) -> Any:
    b = found_or_404(Bulletin, bulletin_id)
    try:
        draft = workflow.check(_checked_form())
        workflow.edit(g.db, g.user, b, draft)
    except workflow.BulletinInvalid as exc:
        undo_changes()
        return _page(g.db.get(Bulletin, bulletin_id), exc.errors, 400)
    except SocialError as exc:
        undo_changes()
        flash(str(exc), "error")
        return redirect(url_for("console.bulletin_page", bulletin_id=bulletin_id), code=303)
    flash("Saved.", "success")
    return redirect(url_for("console.bulletin_page", bulletin_id=b.id), code=303)


@bp.post("/bulletins/<int:bulletin_id>/approve")
@requires("approve")
def bulletin_approve(bulletin_id: int) -> Any:
    b = found_or_404(Bulletin, bulletin_id)
    now = request.form.get("action") == "send-now"
    if now and request.form.get("confirm") != "yes":
        flash("Tick the box to say you want to email everyone it matches now.", "error")
        return redirect(url_for("console.bulletin_page", bulletin_id=b.id), code=303)
    try:
        workflow.approve(g.db, g.user, b, urgent=now)
        posts = draft_for_bulletin(g.db, b)
    except NotAllowed as exc:
        undo_changes()
        raise Refused(str(exc)) from exc
    except SocialError as exc:
        undo_changes()
        flash(str(exc), "error")
        return redirect(url_for("console.bulletin_page", bulletin_id=bulletin_id), code=303)
    _feeds_changed()
    if now:
        send_after_commit(g.db, send_urgent_bulletin, b.id)
        flash("Approved. It is being emailed now to everyone it matches.", "success")
    else:
        flash(
            "Approved. It goes at the top of the next email of every frequency, to those it "
            f"matches.{f' {len(posts)} social media drafts were made from it.' if posts else ''}",
            "success",
        )
    return redirect(url_for("console.bulletin_page", bulletin_id=b.id), code=303)


@bp.post("/bulletins/<int:bulletin_id>/withdraw")
@requires("approve")
def bulletin_withdraw(bulletin_id: int) -> Any:
    b = found_or_404(Bulletin, bulletin_id)
    try:
        workflow.withdraw(g.db, g.user, b)
    except SocialError as exc:
        undo_changes()
        flash(str(exc), "error")
        return redirect(url_for("console.bulletin_page", bulletin_id=bulletin_id), code=303)
    _feeds_changed()
    flash("Withdrawn. It will not go in any more emails.", "success")
    return redirect(url_for("console.bulletin_page", bulletin_id=b.id), code=303)


@bp.post("/advice")
@requires("view")
def plain_english_advice() -> Any:
    """Advice on the words as the officer types (the page's script posts the text here)."""
    text = str(request.form.get("text", ""))[: MAX_SOURCE * 2]
    return jsonify(advise(text).as_json())
