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

from flask import Blueprint, abort, render_template, request

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


@bp.get("/<name>")
def show(name: str) -> Any:
    if not _NAME.match(name):
        abort(404)
    path = _folder() / name
    if not path.is_file():
        abort(404)
    msg = _read(path)
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    headers = [(k, str(v)) for k, v in msg.items()]
    return render_template(
        "web/outbox/show.html",
        name=name,
        headers=headers,
        subject=str(msg["Subject"] or ""),
        text=text_part.get_content() if text_part is not None else "",
        html=html_part.get_content() if html_part is not None else "",
    )
