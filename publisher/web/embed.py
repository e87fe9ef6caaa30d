"""Sign-up anywhere (issue 14): the sign-up form inside an iframe on the council's own
Local Offer site, and the snippet to paste there.

- Only the origins in ``EMBED_ALLOWED_ORIGINS`` (and our own) may frame the form: the
  answer carries ``Content-Security-Policy: frame-ancestors``; every other page keeps
  ``X-Frame-Options: DENY``.
- The same consent wording, double opt-in and rate limits as the main form: the same
  functions do the work (publisher.web.subscribe).
- Inside a frame on another site the browser may withhold our session cookie
  (SameSite), so the CSRF token cannot live in the session. The form carries a signed,
  2-hour token instead, and a POST whose Origin header is not our own is refused. A
  forged sign-up could at most send a confirmation email; nothing is subscribed until
  its owner presses the button in it.
- The framed page tells its parent its height (postMessage); ``/subscriptions/embed.js``
  on the council's page resizes the iframe. Without JavaScript the iframe keeps its
  height, and the snippet carries a plain link to the main form.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, render_template, request, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from publisher.config import get_settings
from publisher.models import ConsentSource
from publisher.secret import secret_key
from publisher.subscriptions.addresses import InvalidAddress, normalise_email
from publisher.subscriptions.preferences import Choice, PreferenceErrors, parse_choice
from publisher.web import subscribe
from publisher.web.extensions import csrf_exempt

bp = Blueprint("embed", __name__, url_prefix="/subscriptions")
TOKEN_MAX_AGE = 2 * 3600
BAD_TOKEN = "This form was open too long. Load the page again, then sign up."  # noqa: S105


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(), salt="lop-embed-form")


def form_token() -> str:
    return _serializer().dumps(secrets.token_urlsafe(8))


def _framing(response: Response) -> Response:
    origins = " ".join(get_settings().embed_allowed_origins)
    response.headers["Content-Security-Policy"] = (
        f"frame-ancestors 'self'{' ' + origins if origins else ''}; "
        "form-action 'self'; base-uri 'none'; object-src 'none'"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(template: str, status: int = 200, **context: Any) -> Response:
    body = render_template(template, embed_token=form_token(), **context)
    return _framing(Response(body, status=status, mimetype="text/html"))


def _own_origin() -> str:
    parts = urlsplit(get_settings().public_base_url)
    return f"{parts.scheme}://{parts.netloc}"


def _origin_ok() -> bool:
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        # Old browsers send no Origin; sandboxed frames send "null": the signed token
        # still has to be right.
        return True
    return origin in {_own_origin(), request.host_url.rstrip("/")}


@bp.get("/embed")
def embed_form() -> Response:
    return _page("web/embed/form.html", **subscribe._page_context(errors={}, values={}, email=""))


@bp.post("/embed")
@csrf_exempt  # checked by a signed form token and the Origin header (see above)
def embed_submit() -> Response:
    try:
        _serializer().loads(request.form.get("embed_token", ""), max_age=TOKEN_MAX_AGE)
        token_ok = True
    except (BadSignature, SignatureExpired):
        token_ok = False
    if not token_ok or not _origin_ok():
        return _page("web/embed/message.html", 400, heading="Please try again", message=BAD_TOKEN)
    data = subscribe._form_data()
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
    if request.form.get("website"):  # a box people cannot see: only robots fill it in
        errors["email"] = "Something went wrong. Please try again."
    if errors or choice is None:
        if subscribe._client_limited("subscribe"):
            return _page(
                "web/embed/message.html",
                429,
                heading="Please wait",
                message=subscribe.LIMITED_MESSAGE,
            )
        context = subscribe._page_context(errors=errors, values=data, email=raw_email)
        return _page("web/embed/form.html", 400, **context)
    if not subscribe._within_limits("subscribe", email):
        return _page(
            "web/embed/message.html", 429, heading="Please wait", message=subscribe.LIMITED_MESSAGE
        )
    notice = subscribe._request(email, choice, ConsentSource.WEB_FORM)
    subscribe._send(notice)
    return _page(
        "web/embed/message.html", heading="Check your email", message=subscribe.ACCEPTED_MESSAGE
    )


@bp.get("/embed.js")
def embed_script() -> Response:
    """For the council's page: resize each sign-up iframe to the height it reports."""
    script = render_template("web/embed/embed.js", origin=_own_origin())
    response = Response(script, mimetype="text/javascript")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def snippet() -> str:
    base = get_settings().public_base_url
    council = get_settings().council_name
    return (
        f'<iframe data-lop-embed src="{base}/subscriptions/embed" '
        f'title="Sign up for {council} Local Offer news by email" '
        'style="width: 100%; height: 1400px; border: 0;" loading="lazy"></iframe>\n'
        f'<script src="{base}/subscriptions/embed.js" async></script>\n'
        f'<p><a href="{base}/subscriptions/">Sign up for Local Offer news by email</a> '
        "(if the form does not show)</p>"
    )


@bp.get("/embed/code")
def embed_code() -> str:
    return render_template(
        "web/embed/code.html",
        snippet=snippet(),
        origins=get_settings().embed_allowed_origins,
        form_url=url_for("embed.embed_form", _external=False),
    )
