"""ux (issue 13.5): officers reject many drafts with one reason, and write posts of their
own. The rules live in ``publisher.social.officer_posts``; these views check the role,
call it, and turn its errors into messages."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from publisher.console.auth import requires
from publisher.console.blueprint import bp, undo_changes
from publisher.console.queue import _refuse_if_not_allowed
from publisher.models.social import SocialAccount
from publisher.social.errors import PostInvalid, SocialError
from publisher.social.officer_posts import bulk_reject, write_own_post


def _ticked() -> list[int]:
    ids = []
    for raw in request.form.getlist("post_id"):
        try:
            ids.append(int(raw))
        except ValueError:
            continue
    return ids


@bp.post("/posts/reject")
@requires("approve")
def posts_bulk_reject() -> Any:
    ids = _ticked()
    if not ids:
        flash("Tick the posts you want to reject first.", "error")
        return redirect(url_for("console.queue", state="draft"))
    try:
        rejected, refused = bulk_reject(g.db, g.user, ids, request.form.get("reason", ""))
    except SocialError as exc:
        _refuse_if_not_allowed(exc)
        undo_changes()
        flash(str(exc), "error")
        return redirect(url_for("console.queue", state="draft"))
    if rejected:
        flash(f"Rejected {len(rejected)} {'post' if len(rejected) == 1 else 'posts'}.", "success")
    for post_id, why in refused.items():
        flash(f"Post {post_id} was not rejected: {why}", "error")
    return redirect(url_for("console.queue", state="draft"))


@bp.route("/posts/new", methods=["GET", "POST"])
@requires("edit")
def post_new() -> Any:
    accounts = g.db.scalars(
        select(SocialAccount).where(SocialAccount.active.is_(True)).order_by(SocialAccount.name)
    ).all()
    problems: list[str] = []
    form = {"account_id": request.form.get("account_id", ""), "text": request.form.get("text", "")}
    if request.method == "POST":
        account = next((a for a in accounts if str(a.id) == form["account_id"]), None)
        try:
            if account is None:
                raise PostInvalid(["Choose the account it goes out on."])
            post = write_own_post(g.db, g.user, account, form["text"])
        except PostInvalid as exc:
            problems = list(exc.problems)
        except SocialError as exc:
            _refuse_if_not_allowed(exc)
            problems = [str(exc)]
        else:
            flash(
                f"Post {post.id} saved as a draft. Send it for approval when it is ready.",
                "success",
            )
            return redirect(url_for("console.post_edit", post_id=post.id))
    return (
        render_template(
            "web/console/post_new.html", accounts=accounts, form=form, problems=problems
        ),
        400 if problems else 200,
    )
