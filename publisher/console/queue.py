"""The post queue: lists by state, the edit page with its live preview, and the actions
(approve, bulk approve, reject, schedule, retry, withdraw) and the week calendar.

Every rule lives in ``publisher.social``: these views check the role first (for a clear
403 before anything is read), call the service, and turn its errors into messages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import flash, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import and_, func, or_, select

from publisher import social
from publisher.console.auth import Refused, requires
from publisher.console.blueprint import bp, found_or_404, undo_changes
from publisher.models.audit import AuditEvent
from publisher.models.changes import Change
from publisher.models.social import Post, PostState, SocialAccount
from publisher.models.users import User
from publisher.plain_english import advise
from publisher.social.errors import NotAllowed, PostInvalid, SocialError
from publisher.social.slots import HOLDS_SLOT
from publisher.social.uploads import MAX_UPLOAD_BYTES, MEDIA_PATH, attach_upload, limit_for
from publisher.uk_time import LONDON

TABS: list[tuple[PostState, str]] = [
    (PostState.DRAFT, "Drafts"),
    (PostState.APPROVED, "Approved"),
    (PostState.SCHEDULED, "Scheduled"),
    (PostState.PUBLISHED, "Published"),
    (PostState.FAILED, "Failed or retrying"),
    (PostState.REJECTED, "Rejected"),
    (PostState.WITHDRAWN, "Withdrawn"),
]
PAGE = 100
ACTION_WORDS = {
    "social_post.edit": "edited it",
    "social_post.submit": "sent it for approval",
    "social_post.approve": "approved it",
    "social_post.reject": "rejected it",
    "social_post.schedule": "scheduled it",
    "social_post.retry": "asked to try again",
    "social_post.withdraw": "withdrew it",
    "social_post.redraft": "made it as a new draft",
    # ux (issue 13.6): every action a post's history can show, in words.
    "social_post.write": "wrote it",
    "social_post.publish": "published it",
    "social_post.fail": "could not publish it",
}


def _refuse_if_not_allowed(exc: SocialError) -> None:
    """The service's own role checks become the same 403 page as the console's."""
    if isinstance(exc, NotAllowed):
        raise Refused(str(exc)) from exc


def parse_local_time(raw: str) -> dt.datetime | None:
    """A datetime-local value ("2026-11-28T09:30") in UK time, as UTC. Empty means none."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        naive = dt.datetime.fromisoformat(raw)
    except ValueError as exc:
        raise SocialError("Enter the date and time like 2026-11-28 09:30.") from exc
    if naive.tzinfo is not None:
        return naive.astimezone(dt.UTC)
    return naive.replace(tzinfo=LONDON).astimezone(dt.UTC)


def local_input_value(when: dt.datetime | None) -> str:
    return when.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M") if when else ""


# --- Lists -----------------------------------------------------------------------------------


@bp.get("/posts")
@requires("view")
def queue() -> Any:
    try:
        state = PostState(request.args.get("state", "draft"))
    except ValueError:
        state = PostState.DRAFT
    counts = dict(
        g.db.execute(select(Post.state, func.count()).group_by(Post.state)).tuples().all()
    )
    # ux (issue 13.4): posts whose last try failed and that will be tried again are
    # shown with the failed ones at once, not only when they finally give up.
    retrying_count = g.db.scalar(select(func.count()).where(_retrying())) or 0
    counts[PostState.FAILED] = counts.get(PostState.FAILED, 0) + retrying_count
    order = (
        (Post.publish_at.is_(None), Post.publish_at, Post.id)
        if state in (PostState.APPROVED, PostState.SCHEDULED)
        # Drafts sent for approval first: they are what approvers look for.
        else (Post.submitted_at.is_(None), Post.updated_at.desc(), Post.id.desc())
        if state is PostState.DRAFT
        else (Post.updated_at.desc(), Post.id.desc())
    )
    which = (
        or_(Post.state == state, _retrying()) if state is PostState.FAILED else Post.state == state
    )
    posts = g.db.scalars(select(Post).where(which).order_by(*order).limit(PAGE)).all()
    checks = {p.id: social.check_post(p) for p in posts if state is PostState.DRAFT}
    return render_template(
        "web/console/queue.html",
        tabs=TABS,
        state=state,
        counts=counts,
        posts=posts,
        checks=checks,
        names=_user_names([p.edited_by_id for p in posts] + [p.submitted_by_id for p in posts]),
        failed_state=PostState.FAILED,
    )


def _retrying() -> Any:
    """Approved or scheduled posts whose last try failed: they wait for their next try."""
    return and_(
        Post.state.in_([PostState.APPROVED, PostState.SCHEDULED]),
        Post.last_error.is_not(None),
        Post.attempts > 0,
    )


def _user_names(ids: list[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(g.db.execute(select(User.id, User.email).where(User.id.in_(wanted))).tuples().all())


# --- One post ------------------------------------------------------------------------------


def _render_post(
    post: Post,
    *,
    text: str | None = None,
    image_url: str | None = None,
    image_alt: str | None = None,
    problems: list[str] | None = None,
    status: int = 200,
) -> Any:
    shown_text = post.text if text is None else text
    shown_url = post.image_url if image_url is None else image_url
    shown_alt = post.image_alt if image_alt is None else image_alt
    previews = social.preview_text(
        shown_text, image_url=shown_url or None, image_alt=shown_alt or None
    )
    own = post.account.platform.value
    previews = {own: previews[own]} | {k: v for k, v in previews.items() if k != own}
    return render_template(
        "web/console/post.html",
        post=post,
        text=shown_text,
        image_url=shown_url or "",
        image_alt=shown_alt or "",
        upload_limit=limit_for(post.account.platform),
        previews=previews,
        own=own,
        problems=problems or [],
        next_slot=_next_slot(post),
        local_input_value=local_input_value,
        names=_user_names(
            [post.edited_by_id, post.approved_by_id, post.submitted_by_id, post.rejected_by_id]
        ),
        two_person=social.two_person_rule_on(g.db),
        changes=_changes_of(post),
        history=g.db.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "social_post", AuditEvent.object_id == str(post.id))
            .order_by(AuditEvent.at, AuditEvent.id)
        ).all(),
        action_words=ACTION_WORDS,
        media_path=MEDIA_PATH,
        advice=advise(shown_text),  # plain English advice (issue 14), never a block
    ), status


def _changes_of(post: Post) -> list[Change]:
    """The change-log rows the post announces, so the officer can check the facts."""
    ids = [int(i) for i in (post.change_ids or [])]
    if not ids:
        return []
    return list(g.db.scalars(select(Change).where(Change.id.in_(ids)).order_by(Change.id)))


def _next_slot(post: Post) -> dt.datetime | None:
    if post.state not in (PostState.DRAFT, PostState.APPROVED, PostState.SCHEDULED):
        return None
    return social.next_free_slot(g.db, post.account, exclude_post_id=post.id)


@bp.get("/posts/<int:post_id>")
@requires("view")
def post_edit(post_id: int) -> Any:
    return _render_post(found_or_404(Post, post_id))


@bp.post("/posts/<int:post_id>")
@requires("edit")
def post_save(post_id: int) -> Any:
    post = found_or_404(Post, post_id)
    text = request.form.get("text", "")
    image_url = request.form.get("image_url", "")
    if request.form.get("remove_image") == "yes":
        image_url = ""
    image_alt = request.form.get("image_alt", "")
    action = request.form.get("action", "save")
    # ux (issue 13.6): an image comes as a file; read at most one byte past the cap.
    upload = request.files.get("image_file")
    data = upload.stream.read(MAX_UPLOAD_BYTES + 1) if upload and upload.filename else None
    if action == "check":
        # Without JavaScript, "Check" shows the counts and problems without saving.
        return _render_post(post, text=text, image_url=image_url, image_alt=image_alt)
    changed = (
        text.replace("\r\n", "\n").strip() != post.text
        or (image_url.strip() or None) != post.image_url
        or (image_alt.strip() or None) != post.image_alt
    )
    try:
        # Only a real change counts as an edit: saving unchanged text must not make the
        # officer its editor (which, under the two-person rule, would stop them approving).
        if changed:
            social.edit_post(
                g.db, g.user, post, text=text, image_url=image_url, image_alt=image_alt
            )
        if data is not None:
            attach_upload(g.db, g.user, post, data, image_alt)
            changed = True
        if action == "submit":
            social.submit(g.db, g.user, post)
    except SocialError as exc:
        _refuse_if_not_allowed(exc)
        undo_changes()
        post = found_or_404(Post, post_id)
        problems = exc.problems if isinstance(exc, PostInvalid) else [str(exc)]
        return _render_post(
            post, text=text, image_url=image_url, image_alt=image_alt, problems=problems, status=400
        )
    if action == "submit":
        flash("Saved and sent for approval." if changed else "Sent for approval.", "success")
    else:
        flash("Saved." if changed else "Nothing had changed, so nothing was saved.", "success")
    return redirect(url_for("console.post_edit", post_id=post.id))


@bp.post("/posts/<int:post_id>/preview")
@requires("view")
def post_preview(post_id: int) -> Any:
    """Counts and problems for text being typed (the page's script calls this; the CSRF
    token travels in the X-CSRFToken header). Saves nothing."""
    post = found_or_404(Post, post_id)
    data = request.get_json(silent=True) or {}
    text = str(data.get("text", ""))[:100_000]
    result = social.preview_text(
        text,
        image_url=str(data.get("image_url") or "") or None,
        image_alt=str(data.get("image_alt") or "") or None,
    )
    own = post.account.platform.value
    return jsonify({"own": own, "platforms": {own: result[own]} | result})


def _act(post_id: int, action: str, do: Any) -> Any:
    post = found_or_404(Post, post_id)
    try:
        do(post)
    except SocialError as exc:
        _refuse_if_not_allowed(exc)
        undo_changes()
        problems = exc.problems if isinstance(exc, PostInvalid) else [str(exc)]
        for problem in problems:
            flash(problem, "error")
        flash(f"The post was not {action}. Nothing was changed.", "error")
        return redirect(url_for("console.post_edit", post_id=post_id))
    when = (
        f" It goes out {post.publish_at.astimezone(LONDON).strftime('%A %-d %B at %H:%M')}."
        if post.publish_at and post.state in (PostState.APPROVED, PostState.SCHEDULED)
        else ""
    )
    flash(f"Post {action}.{when}", "success")
    back = request.form.get("back")
    if back and back.startswith("/console/") and not back.startswith("//"):
        return redirect(back)
    return redirect(url_for("console.post_edit", post_id=post_id))


@bp.post("/posts/<int:post_id>/approve")
@requires("approve")
def post_approve(post_id: int) -> Any:
    raw = request.form.get("publish_at", "")
    return _act(
        post_id,
        "approved",
        lambda p: social.approve(g.db, g.user, p, publish_at=parse_local_time(raw)),
    )


@bp.post("/posts/<int:post_id>/reject")
@requires("approve")
def post_reject(post_id: int) -> Any:
    reason = request.form.get("reason", "")
    return _act(post_id, "rejected", lambda p: social.reject(g.db, g.user, p, reason))


@bp.post("/posts/<int:post_id>/schedule")
@requires("approve")
def post_schedule(post_id: int) -> Any:
    raw = request.form.get("publish_at", "")
    return _act(
        post_id,
        "scheduled",
        lambda p: social.schedule(g.db, g.user, p, parse_local_time(raw)),
    )


@bp.post("/posts/<int:post_id>/retry")
@requires("approve")
def post_retry(post_id: int) -> Any:
    return _act(post_id, "queued to try again", lambda p: social.retry(g.db, g.user, p))


@bp.post("/posts/<int:post_id>/withdraw")
@requires("approve")
def post_withdraw(post_id: int) -> Any:
    reason = request.form.get("reason", "")
    return _act(post_id, "withdrawn", lambda p: social.withdraw(g.db, g.user, p, reason))


@bp.post("/posts/<int:post_id>/redraft")
@requires("edit")
def post_redraft(post_id: int) -> Any:
    """A rejected or withdrawn post can be tried again: as a new draft, never by moving
    the old post back (its history stays as it was)."""
    post = found_or_404(Post, post_id)
    try:
        copy = social.redraft(g.db, g.user, post)
    except SocialError as exc:
        _refuse_if_not_allowed(exc)
        undo_changes()
        flash(f"{exc} Nothing was changed.", "error")
        return redirect(url_for("console.post_edit", post_id=post_id))
    flash(
        f"This is a new draft made from post {post_id}. Change it, then send it for approval.",
        "success",
    )
    return redirect(url_for("console.post_edit", post_id=copy.id))


@bp.post("/posts/approve")
@requires("approve")
def posts_bulk_approve() -> Any:
    ids = []
    for raw in request.form.getlist("post_id"):
        try:
            ids.append(int(raw))
        except ValueError:
            continue
    if not ids:
        flash("Tick the posts you want to approve first.", "error")
        return redirect(url_for("console.queue", state="draft"))
    try:
        approved, refused = social.bulk_approve(g.db, g.user, ids)
    except SocialError as exc:
        _refuse_if_not_allowed(exc)
        raise
    if approved:
        flash(f"Approved {len(approved)} {'post' if len(approved) == 1 else 'posts'}.", "success")
    for post_id, why in refused.items():
        flash(f"Post {post_id} was not approved: {why}", "error")
    return redirect(url_for("console.queue", state="draft"))


# --- The week ahead ------------------------------------------------------------------------


@bp.get("/calendar")
@requires("view")
def calendar() -> Any:
    today = dt.datetime.now(LONDON).date()
    try:
        start = (
            dt.date.fromisoformat(request.args.get("start", ""))
            if request.args.get("start")
            else today
        )
    except ValueError:
        start = today
    days = [start + dt.timedelta(days=i) for i in range(7)]
    begin = dt.datetime.combine(start, dt.time(), LONDON).astimezone(dt.UTC)
    end = dt.datetime.combine(start + dt.timedelta(days=7), dt.time(), LONDON).astimezone(dt.UTC)
    posts = g.db.scalars(
        select(Post)
        .where(
            Post.state.in_(
                (PostState.APPROVED, PostState.SCHEDULED, PostState.PUBLISHED, PostState.FAILED)
            ),
            Post.publish_at >= begin,
            Post.publish_at < end,
        )
        .order_by(Post.publish_at, Post.id)
    ).all()
    with_posts = {p.account_id for p in posts}
    accounts = g.db.scalars(
        select(SocialAccount)
        .where(SocialAccount.active.is_(True) | SocialAccount.id.in_(with_posts))
        .order_by(SocialAccount.name, SocialAccount.id)
    ).all()
    now = dt.datetime.now(dt.UTC)
    # One cell per account and day: its posts, and its slots still free (future ones only).
    cells: dict[tuple[int, dt.date], list[dict[str, Any]]] = {
        (a.id, d): [] for a in accounts for d in days
    }
    held: set[tuple[int, dt.datetime]] = set()
    for post in posts:
        assert post.publish_at is not None
        local = post.publish_at.astimezone(LONDON)
        cells[(post.account_id, local.date())].append({"time": local, "post": post})
        held.add((post.account_id, post.publish_at))
    for account in accounts:
        if not account.active:
            continue
        for day in days:
            used = sum(1 for item in cells[(account.id, day)] if item["post"].state in HOLDS_SLOT)
            if used >= account.slots_per_day:
                continue  # the day is full, as next_free_slot sees it
            for when in social.slot_times(account, day):
                if when > now and (account.id, when) not in held:
                    cells[(account.id, day)].append({"time": when.astimezone(LONDON), "post": None})
    for items in cells.values():
        items.sort(key=lambda item: item["time"])
    return render_template(
        "web/console/calendar.html",
        days=days,
        cells=cells,
        accounts=accounts,
        previous=start - dt.timedelta(days=7),
        following=start + dt.timedelta(days=7),
        today=today,
    )
