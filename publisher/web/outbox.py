"""The local outbox in the browser: what the service would have emailed.

With no SMTP or Notify configured, messages are written as .eml files under
``data_dir/outbox``. ``publisher run`` registers these pages (PUBLISHER_LOCAL) so that a
newcomer can read the confirmation emails and newsletters the demo sends. They hold
personal data, so they answer only requests from this machine.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, render_template, request

from publisher.config import get_settings

bp = Blueprint("outbox", __name__, url_prefix="/outbox")
_NAME = re.compile(r"^[A-Za-z0-9._-]+\.eml$")
LOOPBACK = {"127.0.0.1", "::1"}
MOST = 200


@dataclass
class Letter:
    name: str
    to: str
    subject: str
    date: str


def _folder() -> Path:
    return get_settings().data_dir / "outbox"


def _read(path: Path) -> EmailMessage:
    with path.open("rb") as fh:
        msg = email.message_from_binary_file(fh, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


@bp.before_request
def _only_this_machine() -> None:
    if request.remote_addr not in LOOPBACK:
        abort(404)


@bp.get("/")
def index() -> Any:
    folder = _folder()
    files = (
        sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True)
        if folder.exists()
        else []
    )
    letters = []
    for path in files[:MOST]:
        msg = _read(path)
        letters.append(
            Letter(
                path.name, str(msg["To"] or ""), str(msg["Subject"] or ""), str(msg["Date"] or "")
            )
        )
    return render_template(
        "web/outbox/index.html", letters=letters, total=len(files), folder=folder
    )


def _letter(name: str) -> EmailMessage:
    if not _NAME.match(name):
        abort(404)
    path = _folder() / name
    if not path.is_file():
        abort(404)
    return _read(path)


# ux (issue 13.7): the preview is its own page, so that it alone may be framed (by this
# site only) and its links can open: a link followed inside the frame would load a page
# that refuses framing (X-Frame-Options: DENY) and show a broken frame. The email's HTML
# still runs no script; a click on a link replaces the whole outbox tab.
PREVIEW_POLICY = (
    "sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation; "
    "script-src 'none'; object-src 'none'; frame-ancestors 'self'"
)
FRAME_SANDBOX = (
    "allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation"
)
_HEAD = re.compile(r"<head[^>]*>", re.IGNORECASE)


@bp.get("/<name>/preview")
def preview(name: str) -> Any:
    html_part = _letter(name).get_body(preferencelist=("html",))
    if html_part is None:
        abort(404)
    html = str(html_part.get_content())
    base = '<base target="_top">'
    found = _HEAD.search(html)
    html = html[: found.end()] + base + html[found.end() :] if found else base + html
    response = Response(html, mimetype="text/html")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<name>")
def show(name: str) -> Any:
    msg = _letter(name)
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    headers = [(k, str(v)) for k, v in msg.items()]
    return render_template(
        "web/outbox/show.html",
        name=name,
        headers=headers,
        subject=str(msg["Subject"] or ""),
        text=text_part.get_content() if text_part is not None else "",
        has_html=html_part is not None,
        sandbox=FRAME_SANDBOX,
    )
