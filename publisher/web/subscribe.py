"""Public pages and endpoints to subscribe, confirm, manage and leave (no login: signed links).

Every answer to "subscribe" or "send me a link" is the same whatever we hold about the
address, so that the forms cannot be used to find out who is subscribed. Both are rate
limited per address and per client through Redis.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy.exc import IntegrityError

from publisher.config import get_settings
from publisher.db import session_scope
from publisher.models import ConsentSource, EndReason, Subscriber, SubscriberStatus
from publisher.subscriptions import consent, follows, lifecycle, tokens
from publisher.subscriptions.addresses import InvalidAddress, normalise_email
from publisher.subscriptions.preferences import (
    Choice,
    PreferenceErrors,
    parse_choice,
    vocabulary,
)
from publisher.subscriptions.ratelimit import (
    OVERALL_HOUR,
    PER_ADDRESS,
    PER_CLIENT,
    PER_MAILBOX_DAY,
    Limit,
    RateLimiter,
    client_subject,
    mailbox,
)
from publisher.subscriptions.readback import choice_summary
from publisher.tasks.subscriptions import dispatch
from publisher.web.extensions import csrf_exempt

bp = Blueprint("subscribe", __name__, url_prefix="/subscriptions")
log = logging.getLogger(__name__)

ACCEPTED_MESSAGE = (
    "Thank you. If we can send emails to that address, you will get an email soon. "
    "Open it and use the link inside."
)
LIMITED_MESSAGE = (
    "You have asked too many times. Please try again later, or tomorrow if you have "
    "already asked 3 times today."
)
LIST_FIELDS = ("age_bands", "needs", "categories", "localities")


# ---- helpers -----------------------------------------------------------------------


def _limiter() -> RateLimiter:
    limiter = current_app.extensions.get("subscriptions_limiter")
    if limiter is None:
        from publisher.redis_embedded import redis_client

        limiter = RateLimiter(
            redis_client(), current_app.config.get("SUBSCRIPTIONS_KEY_PREFIX", "lop:ratelimit:")
        )
        current_app.extensions["subscriptions_limiter"] = limiter
    return limiter


def _limits() -> tuple[Limit, Limit, Limit, Limit]:
    """From the app's config (set from the settings by create_app). Behind a proxy,
    client addresses need ProxyFix, or every visitor shares one."""
    cfg = current_app.config
    per_address = cfg["SUBSCRIPTIONS_LIMIT_PER_ADDRESS"]
    per_client = cfg["SUBSCRIPTIONS_LIMIT_PER_CLIENT"]
    per_day = cfg["SUBSCRIPTIONS_PER_MAILBOX_PER_DAY"]
    overall = cfg["SUBSCRIPTIONS_EMAILS_PER_HOUR"]
    return (
        Limit(PER_ADDRESS.name, int(per_address), PER_ADDRESS.window_seconds),
        Limit(PER_CLIENT.name, int(per_client), PER_CLIENT.window_seconds),
        Limit(PER_MAILBOX_DAY.name, int(per_day), PER_MAILBOX_DAY.window_seconds),
        Limit(OVERALL_HOUR.name, int(overall), OVERALL_HOUR.window_seconds),
    )


def _client() -> str:
    return client_subject(request.remote_addr)


def _within_limits(action: str, email: str) -> bool:
    """Count this request against its client, its mailbox (this form, per hour), its
    mailbox (both forms, per day) and everyone (per hour), stopping at the first limit
    reached. Counted for every address, subscribed or not, so being limited says
    nothing about the address."""
    per_address, per_client, per_day, overall = _limits()
    limiter = _limiter()
    box = mailbox(email)
    if not limiter.hit(action, per_client, _client()):
        return False
    if not limiter.hit(action, per_address, box):
        return False
    # "mail": one budget for both forms, since both send the same inbox an email.
    if not limiter.hit("mail", per_day, box):
        return False
    if not limiter.hit("mail", overall, "everyone"):
        if limiter.first_over("mail", overall, "everyone"):
            log.warning(
                "Sign-up and link emails stopped: %d were asked for in the last hour, the "
                "most SUBSCRIPTIONS_EMAILS_PER_HOUR allows. Every sign-up and 'send me a "
                "link' request is refused for up to %d minutes. If this is a flood, find "
                "its clients in the access log; if it is real demand, raise the setting.",
                overall.count,
                limiter.retry_after("mail", overall, "everyone") // 60 + 1,
            )
        return False
    return True


def _client_limited(action: str) -> bool:
    """Count a request that failed validation against the client only."""
    _, per_client, _, _ = _limits()
    return not _limiter().hit(action, per_client, _client())


def _inline() -> bool:
    return bool(current_app.config.get("SUBSCRIPTIONS_SEND_INLINE", False))


def _send(notice: lifecycle.Notice | None) -> None:
    if notice is None:
        return
    try:
        dispatch(notice, inline=_inline())
    except Exception:
        # A failed send must not show up in the answer (that would tell the asker
        # something about the address); it is logged for the council instead.
        current_app.logger.exception("could not send %s email", notice.kind.value)


def _request(email: str, choice: Choice, source: ConsentSource) -> lifecycle.Notice | None:
    """Store the request; one retry if a request for the same new address raced us to the
    insert (the unique address wins once, and the retry sees that row)."""
    for attempt in (1, 2):
        try:
            with session_scope() as session:
                return lifecycle.request_subscription(
                    session, email, choice, source, client_ip=request.remote_addr
                )
        except IntegrityError:
            if attempt == 2:
                raise
    return None


def _form_data() -> dict[str, Any]:
    data: dict[str, Any] = {name: request.form.getlist(name) for name in LIST_FIELDS}
    data["frequency"] = request.form.get("frequency", "")
    data["format"] = request.form.get("format", "")
    data["paid_opt_in"] = request.form.get("paid_opt_in", "")
    data["you_said_we_did"] = request.form.get("you_said_we_did", "")
    return data


def _frequency_choices() -> list[tuple[str, str]]:
    """(value, words) for each frequency, from the frequency table."""
    from publisher.newsletters.frequencies import rules_in_order

    settings = get_settings().editions
    return [(r.frequency.value, r.choice(settings)) for r in rules_in_order()]


def _page_context(**extra: Any) -> dict[str, Any]:
    return {
        "vocab": vocabulary(),
        "frequency_choices": _frequency_choices(),
        "wording": consent.current_wording(),
        "paid_wording": consent.PAID_WORDING,
        "paid_hint": consent.PAID_HINT,
        **extra,
    }


def _bad_link(error: tokens.BadToken, status: int = 400) -> tuple[str, int]:
    return render_template("web/subscribe/bad_link.html", expired=error.expired), status


@bp.after_request
def _private(response: Response) -> Response:
    # Pages reached through personal links must not be cached or indexed.
    if request.view_args and "token" in request.view_args:
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = "noindex"
    return response


# ---- subscribe ---------------------------------------------------------------------


@bp.get("/")
def subscribe_form() -> Any:
    return render_template(
        "web/subscribe/subscribe.html", **_page_context(errors={}, values={}, email="")
    )


@bp.post("/")
def subscribe_submit() -> Any:
    data = _form_data()
    raw_email = request.form.get("email", "")
    errors: dict[str, str] = {}
    email = ""
    try:
        email = normalise_email(raw_email)
    except InvalidAddress as exc:
        errors["email"] = str(exc)
    choice: Choice | None = None
    try:
        choice = parse_choice(data)
    except PreferenceErrors as exc:
        errors.update(exc.errors)
    if errors or choice is None:
        if _client_limited("subscribe"):
            return render_template("web/subscribe/limited.html", message=LIMITED_MESSAGE), 429
        return (
            render_template(
                "web/subscribe/subscribe.html",
                **_page_context(errors=errors, values=data, email=raw_email),
            ),
            400,
        )
    if not _within_limits("subscribe", email):
        return render_template("web/subscribe/limited.html", message=LIMITED_MESSAGE), 429
    notice = _request(email, choice, ConsentSource.WEB_FORM)
    _send(notice)
    return redirect(url_for("subscribe.check_email"), code=303)


@bp.get("/check-your-email")
def check_email() -> Any:
    return render_template("web/subscribe/check_email.html", message=ACCEPTED_MESSAGE)


@bp.post("/api/subscribe")
@csrf_exempt  # JSON only (a cross-site form cannot send application/json without CORS)
def subscribe_api() -> Any:
    if not request.is_json:
        return jsonify({"error": "Send JSON with Content-Type: application/json"}), 415
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify({"error": "The body must be a JSON object"}), 400
    errors: dict[str, str] = {}
    email = ""
    raw_email = body.get("email")
    try:
        email = normalise_email(raw_email if isinstance(raw_email, str) else "")
    except InvalidAddress as exc:
        errors["email"] = str(exc)
    known = {"email", "frequency", "format", "paid_opt_in", "you_said_we_did", *LIST_FIELDS}
    unknown = sorted(set(body) - known)
    if unknown:
        errors["_"] = f"Unknown fields: {', '.join(unknown)}"
    choice: Choice | None = None
    try:
        choice = parse_choice(body)
    except PreferenceErrors as exc:
        errors.update(exc.errors)
    if errors or choice is None:
        if _client_limited("subscribe"):
            return jsonify({"error": LIMITED_MESSAGE}), 429
        return jsonify({"error": "Some answers need changing", "fields": errors}), 400
    if not _within_limits("subscribe", email):
        return jsonify({"error": LIMITED_MESSAGE}), 429
    notice = _request(email, choice, ConsentSource.JSON_API)
    _send(notice)
    return jsonify({"status": "accepted", "message": ACCEPTED_MESSAGE}), 202


# ---- confirm -----------------------------------------------------------------------


@bp.get("/confirm/<token>")
def confirm_page(token: str) -> Any:
    # A page with a button, not a change on GET: mail scanners open links by themselves.
    try:
        tokens.read(tokens.CONFIRM, token, max_age=tokens.CONFIRM_MAX_AGE)
    except tokens.BadToken as exc:
        return _bad_link(exc)
    return render_template("web/subscribe/confirm.html", token=token)


@bp.post("/confirm/<token>")
def confirm_submit(token: str) -> Any:
    try:
        with session_scope() as session:
            result = lifecycle.confirm(session, token)
            summary: list[tuple[str, str]] = []
            manage_token = ""
            subscriber_id = tokens.read(tokens.CONFIRM, token).subscriber_id
            subscriber = session.get(Subscriber, subscriber_id)
            if result is not lifecycle.ConfirmResult.STALE and subscriber is not None:
                # Read the choices back, with the way to change them, on the page and
                # in a welcome email that stays in the inbox.
                summary = choice_summary(Choice.of(subscriber))
                manage_token = tokens.make(tokens.MANAGE, subscriber.id, subscriber.token_version)
    except tokens.BadToken as exc:
        return _bad_link(exc)
    if result is lifecycle.ConfirmResult.STALE:
        return render_template("web/subscribe/confirm_stale.html"), 410
    if result is lifecycle.ConfirmResult.CONFIRMED:
        _send(lifecycle.Notice(lifecycle.NoticeKind.WELCOME, subscriber_id))
    return render_template(
        "web/subscribe/confirmed.html",
        already=result.value == "already",
        choices=summary,
        manage_token=manage_token,
    )


# ---- manage ------------------------------------------------------------------------


def _manage_subscriber(session: Any, token: str) -> Any:
    """Manage pages accept the long-lived footer link or the 1-hour emailed link."""
    try:
        return lifecycle.subscriber_for_link(session, tokens.MANAGE, token)
    except tokens.BadToken as first:
        try:
            return lifecycle.subscriber_for_link(session, tokens.MAGIC, token)
        except tokens.BadToken as second:
            raise (second if second.expired else first) from None


@bp.route("/manage/<token>", methods=["GET", "POST"])
def manage(token: str) -> Any:
    saved = False
    with session_scope() as session:
        try:
            subscriber = _manage_subscriber(session, token)
        except tokens.BadToken as exc:
            return _bad_link(exc)
        if subscriber.status is not SubscriberStatus.ACTIVE or subscriber.email is None:
            return render_template("web/subscribe/not_subscribed.html", token=token)
        errors: dict[str, str] = {}
        values = Choice.of(subscriber).as_json()
        if request.method == "POST":
            values = _form_data()
            try:
                choice = parse_choice(values)
            except PreferenceErrors as exc:
                errors = exc.errors
            else:
                lifecycle.update_choice(session, subscriber, choice, client_ip=request.remote_addr)
                if request.form.get("follows_shown"):  # issue 14: the follows on this page
                    follows.keep_only(subscriber, request.form.getlist("follows"))
                    subscriber.topic_news = request.form.get("topic_news") == "yes"
                values = choice.as_json()
                saved = True
        context = _page_context(
            errors=errors, values=values, email=subscriber.email, token=token, saved=saved
        )
        context.update(follows.shown(session, subscriber))
        status = 400 if errors else 200
    return render_template("web/subscribe/manage.html", **context), status


@bp.get("/manage/<token>/data.json")
def download(token: str) -> Any:
    with session_scope() as session:
        try:
            subscriber = _manage_subscriber(session, token)
        except tokens.BadToken as exc:
            return _bad_link(exc)
        data = lifecycle.export_data(subscriber)
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        mimetype="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="my-local-offer-email-data.json"',
            "Cache-Control": "no-store",
        },
    )


@bp.post("/manage/<token>/stop")
def stop(token: str) -> Any:
    """ "Stop all emails" from the manage page: the subscription ends at once, like an
    unsubscribe; the data goes after the retention period, or now through "Delete"."""
    with session_scope() as session:
        try:
            subscriber = _manage_subscriber(session, token)
        except tokens.BadToken as exc:
            return _bad_link(exc)
        if subscriber.status is SubscriberStatus.ACTIVE:
            lifecycle.end_subscription(session, subscriber, EndReason.UNSUBSCRIBED)
    return render_template("web/subscribe/unsubscribed.html")


@bp.route("/manage/<token>/delete", methods=["GET", "POST"])
def delete(token: str) -> Any:
    with session_scope() as session:
        try:
            subscriber = _manage_subscriber(session, token)
        except tokens.BadToken as exc:
            return _bad_link(exc)
        if request.method == "GET":
            return render_template("web/subscribe/delete.html", token=token)
        lifecycle.erase(session, subscriber, EndReason.DELETED)
    return render_template("web/subscribe/deleted.html")


# ---- unsubscribe -------------------------------------------------------------------


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str) -> Any:
    with session_scope() as session:
        try:
            subscriber = lifecycle.subscriber_for_link(session, tokens.UNSUBSCRIBE, token)
        except tokens.BadToken as exc:
            return _bad_link(exc)
        done = subscriber.status is not SubscriberStatus.ACTIVE
    if done:
        return render_template("web/subscribe/unsubscribed.html")
    return render_template("web/subscribe/unsubscribe.html", token=token)


@bp.post("/unsubscribe/<token>")
@csrf_exempt  # RFC 8058: mail providers POST "List-Unsubscribe=One-Click" with no CSRF token
def unsubscribe_submit(token: str) -> Any:
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    with session_scope() as session:
        try:
            subscriber = lifecycle.subscriber_for_link(session, tokens.UNSUBSCRIBE, token)
        except tokens.BadToken as exc:
            if one_click:
                return Response(str(exc), status=400, mimetype="text/plain")
            return _bad_link(exc)
        lifecycle.end_subscription(session, subscriber, EndReason.UNSUBSCRIBED)
    if one_click:
        return Response("Unsubscribed", status=200, mimetype="text/plain")
    return render_template("web/subscribe/unsubscribed.html")


# ---- send me a link ----------------------------------------------------------------


@bp.get("/link")
def link_form() -> Any:
    return render_template("web/subscribe/link.html", errors={}, email="")


@bp.post("/link")
def link_submit() -> Any:
    raw_email = request.form.get("email", "")
    try:
        email = normalise_email(raw_email)
    except InvalidAddress as exc:
        if _client_limited("link"):
            return render_template("web/subscribe/limited.html", message=LIMITED_MESSAGE), 429
        return (
            render_template("web/subscribe/link.html", errors={"email": str(exc)}, email=raw_email),
            400,
        )
    if not _within_limits("link", email):
        return render_template("web/subscribe/limited.html", message=LIMITED_MESSAGE), 429
    notice = None
    with session_scope() as session:
        subscriber = lifecycle.find_by_email(session, email)
        if subscriber is not None and subscriber.status is SubscriberStatus.ACTIVE:
            notice = lifecycle.Notice(lifecycle.NoticeKind.MANAGE_LINK, subscriber.id)
    _send(notice)
    return redirect(url_for("subscribe.link_sent"), code=303)


@bp.get("/link/sent")
def link_sent() -> Any:
    return render_template("web/subscribe/link_sent.html")
