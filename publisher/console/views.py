"""Console pages: sign-in, the stale entries report, and the admin pages.

The post queue lives in ``publisher.console.queue``; it adds its pages to the same blueprint.
The blueprint and its unit of work (one session and one commit per request) are in
``publisher.console.blueprint``; views never commit or roll back by hand.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
from typing import Any

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from publisher import app_settings, audit
from publisher.config import get_settings
from publisher.console import auth, stale, throttle, users
from publisher.console.auth import Refused, requires
from publisher.console.blueprint import bp, found_or_404, keep_changes, safe_next, undo_changes
from publisher.models import AuditEvent, Source, User
from publisher.models.users import Role
from publisher.social.platforms import describe
from publisher.uk_time import LONDON

AUDIT_PAGE = 100


def register(app: Flask) -> None:
    from publisher.console import (  # noqa: F401 - these modules add their routes to bp
        admin_social,
        bulletins,
        feedback,
        insight,
        mastodon_connect,
        officer_posts,
        queue,
        replies,
    )

    app.register_blueprint(bp)
    app.add_template_filter(console_time, "console_time")
    # A stored platform name to its description (label, limits, fields): templates write
    # ``(account.platform|platform).label``. The model knows nothing of descriptions.
    app.add_template_filter(describe, "platform")
    # The CSRF failure page for /console is chosen by publisher.web.create_app's handler.


def console_time(value: dt.datetime | None) -> str:
    """A stored UTC time as officers read it: UK time, like "Fri 27 Nov 2026, 19:58"."""
    if value is None:
        return ""
    return value.astimezone(LONDON).strftime("%a %-d %b %Y, %H:%M")


@bp.after_request
def _no_store(response: Response) -> Response:
    # Console pages hold names and drafts: keep them out of shared caches and the back button.
    response.headers["Cache-Control"] = "no-store"
    # Only our own scripts run (the preview script carries this request's nonce), forms post
    # only here, and no other site may frame the console.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{csp_nonce()}'; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' https: data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    )
    return response


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


@bp.errorhandler(Refused)
def _refused(error: Refused) -> Any:
    g.db.rollback()
    return render_template("web/console/refused.html", message=error.message), 403


@bp.errorhandler(404)
def _not_found(_error: Exception) -> Any:
    return render_template("web/console/not_found.html"), 404


@bp.context_processor
def _console_context() -> dict[str, Any]:
    return {
        "current_user": g.get("user"),
        "may": lambda p: auth.may(g.get("user"), p),
        "csp_nonce": csp_nonce,
    }


# --- Signing in and out -------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    target = request.args.get("next", "")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        # A CR or LF here would split the Location header: a forged link, not a page.
        abort(400)
    error = None
    email = ""
    status = 200
    wait = 0
    if request.method == "POST":
        email = request.form.get("email", "").strip().lower()
        password = request.form.get("password", "")
        address = auth.client_address()
        paused = throttle.pause(
            g.db, email, address, throttle.Policy.from_config(current_app.config)
        )
        if paused is not None:
            wait = paused.seconds
            error = f"Too many wrong tries. Wait {throttle.wait_words(wait)}, then try again."
            status = 429
        else:
            user = users.find_by_email(g.db, email) if email else None
            if users.verify(user, password):
                assert user is not None
                throttle.note_attempt(g.db, email, address, True)
                auth.sign_in(user)
                audit.record(g.db, user, "user.sign_in", "user", user.id, None, None)
                return redirect(safe_next(request.args.get("next")) or url_for("console.home"))
            throttle.note_attempt(g.db, email, address, False)
            keep_changes()
            error = "The email or password is wrong, or the account is switched off."
            status = 401
    elif g.user is not None:
        return redirect(url_for("console.home"))
    headers = {"Retry-After": str(wait)} if status == 429 else {}
    return render_template("web/console/login.html", error=error, email=email), status, headers


@bp.post("/logout")
def logout() -> Any:
    user = g.user
    if user is not None:
        audit.record(g.db, user, "user.sign_out", "user", user.id, None, None)
    auth.sign_out(user)
    flash("You are signed out.", "info")
    return redirect(url_for("console.login"))


@bp.get("/")
@requires("view")
def home() -> Any:
    return redirect(url_for("console.queue"))


@bp.route("/account", methods=["GET", "POST"])
@requires("view")
def own_account() -> Any:
    """Any officer can change their own password (they must know the current one)."""
    error = None
    if request.method == "POST":
        if not users.verify(g.user, request.form.get("current_password", "")):
            error = "Your current password is wrong. Nothing was changed."
        elif request.form.get("new_password", "") != request.form.get("confirm_password", ""):
            error = "The two new passwords are not the same. Nothing was changed."
        else:
            try:
                users.set_password(g.db, g.user, request.form.get("new_password", ""), g.user)
            except users.UserError as exc:
                undo_changes()
                error = f"{exc} Nothing was changed."
            else:
                # Keep this session; every other one ends (the password tag changed).
                auth.sign_in(g.user)
                flash("Your password is changed. You are signed out everywhere else.", "success")
                return redirect(url_for("console.own_account"))
    return render_template("web/console/account.html", error=error), (400 if error else 200)


# --- Stale entries ------------------------------------------------------------------------


@bp.get("/stale")
@requires("view")
def stale_report() -> Any:
    from publisher.reviews import measures

    entries = stale.stale_entries(g.db)
    points = stale.history(g.db, weeks=12)
    top = max([p.active + p.stale for p in points] + [1])
    # Provider reviews (issue 9): a third series and the loop's figures.
    ends = [
        dt.datetime.combine(p.day + dt.timedelta(days=1), dt.time(), LONDON).astimezone(dt.UTC)
        for p in points
    ]
    confirmed = measures.confirmed_counts(g.db, ends)
    return render_template(
        "web/console/stale.html",
        entries=entries,
        points=points,
        confirmed=confirmed,
        review_figures=measures.figures(g.db),
        top=top,
        stale_after_days=get_settings().stale_after_days,
        london=LONDON,
    )


@bp.get("/stale.csv")
@requires("view")
def stale_report_csv() -> Any:
    body = stale.stale_csv(stale.stale_entries(g.db))
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=stale-entries.csv"},
    )


# --- Users ---------------------------------------------------------------------------------


@bp.get("/admin/users")
@requires("admin")
def users_page() -> Any:
    everyone = g.db.scalars(select(User).order_by(User.email)).all()
    return render_template(
        "web/console/users.html", users=everyone, roles=list(Role), errors={}, form={}
    )


@bp.post("/admin/users")
@requires("admin")
def users_add() -> Any:
    form = {k: request.form.get(k, "") for k in ("email", "role")}
    try:
        user = users.create_user(
            g.db, form["email"], form["role"], request.form.get("password", ""), g.user
        )
    except users.UserError as exc:
        undo_changes()
        everyone = g.db.scalars(select(User).order_by(User.email)).all()
        return render_template(
            "web/console/users.html",
            users=everyone,
            roles=list(Role),
            errors={"add": str(exc)},
            form=form,
        ), 400
    flash(f"Added {user.email} as {user.role.value}.", "success")
    return redirect(url_for("console.users_page"))


@bp.post("/admin/users/<int:user_id>/role")
@requires("admin")
def users_role(user_id: int) -> Any:
    user = found_or_404(User, user_id)
    try:
        users.change_role(g.db, user, request.form.get("role", ""), g.user)
    except users.UserError as exc:
        undo_changes()
        flash(str(exc), "error")
        return redirect(url_for("console.users_page"))
    flash(f"{user.email} is now {user.role.value}.", "success")
    return redirect(url_for("console.users_page"))


@bp.post("/admin/users/<int:user_id>/password")
@requires("admin")
def users_password(user_id: int) -> Any:
    user = found_or_404(User, user_id)
    if user.id == g.user.id:
        # Someone at an admin's unlocked screen must not take the account over: your own
        # password changes only on "Your account", which asks for the current one.
        flash(
            "Your own password was not changed here. Change it under Your account, "
            "where you give your current password.",
            "error",
        )
        return redirect(url_for("console.own_account"))
    try:
        users.set_password(g.db, user, request.form.get("password", ""), g.user)
    except users.UserError as exc:
        undo_changes()
        flash(f"The password for {user.email} was not changed: {exc}", "error")
        return redirect(url_for("console.users_page"))
    flash(f"Set a new password for {user.email}. Their other sessions have ended.", "success")
    return redirect(url_for("console.users_page"))


@bp.post("/admin/users/<int:user_id>/active")
@requires("admin")
def users_active(user_id: int) -> Any:
    user = found_or_404(User, user_id)
    active = request.form.get("active") == "yes"
    try:
        users.set_active(g.db, user, active, g.user)
    except users.UserError as exc:
        undo_changes()
        flash(str(exc), "error")
        return redirect(url_for("console.users_page"))
    flash(f"{user.email} {'can sign in again' if active else 'can no longer sign in'}.", "success")
    return redirect(url_for("console.users_page"))


# --- Settings ------------------------------------------------------------------------------


@bp.route("/admin/settings", methods=["GET", "POST"])
@requires("admin")
def settings_page() -> Any:
    errors: dict[str, str] = {}
    values = app_settings.all_values(g.db)
    if request.method == "POST":
        submitted: dict[str, Any] = {
            key: request.form.get(spec.field, "")
            for key, spec in app_settings.SPECS.items()
            if key != "social.two_person_rule"
        }
        submitted["social.two_person_rule"] = request.form.get("two_person_rule") == "yes"
        errors = app_settings.save(g.db, g.user, submitted)
        if not errors:
            flash("Settings saved.", "success")
            return redirect(url_for("console.settings_page"))
        undo_changes()
        values = {**values, **submitted}
    return render_template(
        "web/console/settings.html", specs=app_settings.SPECS, values=values, errors=errors
    ), (400 if errors else 200)


# --- Sources --------------------------------------------------------------------------------
# The web form takes ORUK API addresses only: a file path typed into a web page would let
# the console read files on the server. Files are added with `publisher source add`.


def _sources_page(errors: dict[str, str], form: dict[str, str], status: int = 200) -> Any:
    from publisher.outgoing.urls import mask_credentials

    sources = g.db.scalars(select(Source).order_by(Source.name)).all()
    rows = [
        {
            "source": s,
            "location": mask_credentials(s.location),
            "last": s.crawls[-1] if s.crawls else None,
            "crawling": s.lock_token is not None and s.lock_expires_at is not None,
        }
        for s in sources
    ]
    return render_template("web/console/sources.html", rows=rows, errors=errors, form=form), status


@bp.get("/admin/sources")
@requires("admin")
def sources_page() -> Any:
    return _sources_page({}, {})


@bp.post("/admin/sources")
@requires("admin")
def sources_add() -> Any:
    from publisher.ingest import add_source, looks_like_url

    form = {k: request.form.get(k, "").strip() for k in ("name", "url", "page_url")}
    if not looks_like_url(form["url"]):
        return _sources_page(
            {"add": "Give the directory's web address, starting with https:// (or http://)."},
            form,
            400,
        )
    try:
        source = add_source(g.db, form["name"], form["url"], form["page_url"] or None)
    except ValueError as exc:
        undo_changes()
        return _sources_page({"add": str(exc)[:1].upper() + str(exc)[1:] + "."}, form, 400)
    audit.record(
        g.db,
        g.user,
        "source.add",
        "source",
        source.id,
        None,
        {
            "name": source.name,
            "location": source.location,
            "page_url_template": source.page_url_template,
        },
    )
    flash(
        f"Added {source.name}. Its first crawl records what is there and announces nothing.",
        "success",
    )
    return redirect(url_for("console.sources_page"))


@bp.post("/admin/sources/<int:source_id>/crawl")
@requires("admin")
def sources_crawl(source_id: int) -> Any:
    source = found_or_404(Source, source_id)
    from publisher.tasks.crawl import crawl_source
    from publisher.tasks.queueing import send_after_commit

    audit.record(g.db, g.user, "source.crawl", "source", source.id, None, None)
    send_after_commit(g.db, crawl_source, source.name)
    flash(
        f"A crawl of {source.name} will start in a moment. Reload this page to see it.", "success"
    )
    return redirect(url_for("console.sources_page"))


@bp.post("/admin/sources/<int:source_id>/confirm-removals")
@requires("admin")
def sources_confirm_removals(source_id: int) -> Any:
    """After a held crawl: the next crawl may remove as many as the held one would have
    (and no more)."""
    from publisher.ingest import confirm_removals

    source = found_or_404(Source, source_id)
    before = source.removals_confirmed
    try:
        count = confirm_removals(g.db, source)
    except ValueError:
        undo_changes()
        flash(
            f"There is nothing to confirm for {source.name}: its last crawl was not held.", "error"
        )
        return redirect(url_for("console.sources_page"))
    audit.record(
        g.db,
        g.user,
        "source.confirm_removals",
        "source",
        source.id,
        {"removals_confirmed": before},
        {"removals_confirmed": count},
    )
    # Permission only: the next crawl (scheduled, or "Crawl now") reads the directory
    # again and removes them if they are still gone.
    flash(
        f"Confirmed. The next crawl of {source.name} will remove up to {count} services if "
        "they are still missing. To crawl now, press Crawl now.",
        "success",
    )
    return redirect(url_for("console.sources_page"))


# --- Audit log -----------------------------------------------------------------------------


@bp.get("/admin/audit")
@requires("admin")
def audit_page() -> Any:
    page = max(1, request.args.get("page", 1, type=int) or 1)
    filters = _audit_filters()
    events = g.db.scalars(
        select(AuditEvent)
        .where(*filters)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * AUDIT_PAGE)
        .limit(AUDIT_PAGE + 1)
    ).all()
    more = len(events) > AUDIT_PAGE
    return render_template(
        "web/console/audit.html",
        action_labels=audit.ACTION_LABELS,
        object_labels=audit.OBJECT_LABELS,
        action_label=audit.action_label,
        object_label=audit.object_label,
        sentence=audit.sentence,
        differences=audit.differences,
        events=events[:AUDIT_PAGE],
        page=page,
        more=more,
        query={
            k: v
            for k in ("actor", "action", "object_type", "object_id")
            if (v := request.args.get(k, "").strip())
        },
    )


def _audit_filters() -> list[Any]:
    """Narrow the log by who, what, and which object (each optional, exact match)."""
    filters: list[Any] = []
    actor = request.args.get("actor", "").strip().lower()
    if actor:
        filters.append(AuditEvent.actor_email == actor)
    action = request.args.get("action", "").strip()
    if action:
        filters.append(AuditEvent.action == action)
    object_type = request.args.get("object_type", "").strip()
    if object_type:
        filters.append(AuditEvent.object_type == object_type)
    object_id = request.args.get("object_id", "").strip()
    if object_id:
        filters.append(AuditEvent.object_id == object_id)
    return filters


@bp.get("/admin/audit.csv")
@requires("admin")
def audit_csv() -> Any:
    import json

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["id", "at", "actor", "action", "object type", "object id", "before", "after", "note"]
    )
    for e in g.db.scalars(
        select(AuditEvent).where(*_audit_filters()).order_by(AuditEvent.at, AuditEvent.id)
    ):
        writer.writerow(
            [
                e.id,
                e.at.isoformat(),
                stale._cell(e.actor_email or ("system" if e.actor_id is None else str(e.actor_id))),
                e.action,
                e.object_type,
                e.object_id or "",
                stale._cell(json.dumps(e.before, sort_keys=True)) if e.before is not None else "",
                stale._cell(json.dumps(e.after, sort_keys=True)) if e.after is not None else "",
                stale._cell(e.note or ""),
            ]
        )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=audit-log.csv"},
    )
