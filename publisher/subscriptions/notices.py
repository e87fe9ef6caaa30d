"""The emails this area sends: "confirm your subscription", "you are signed up" (the
welcome, with the choices read back) and "your link to manage your emails". Rendered
from templates/email/<name>/{subject.txt,body.txt,body.html}."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session

from publisher.config import get_settings
from publisher.mail import OutgoingMessage, get_transport
from publisher.models import ConsentRecord, Subscriber, SubscriberStatus
from publisher.subscriptions import links
from publisher.subscriptions.lifecycle import Notice, NoticeKind
from publisher.subscriptions.preferences import Choice
from publisher.subscriptions.readback import choice_summary

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@lru_cache(maxsize=1)
def _env() -> Environment:
    # Autoescape for HTML only: escaping a text/plain part would put "&lt;" in it.
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"], default_for_string=False, default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


@dataclass(frozen=True)
class Rendered:
    to: str
    subject: str
    text: str
    html: str | None


def render(name: str, to: str, **context: object) -> Rendered:
    env = _env()
    context.setdefault("council_name", get_settings().council_name)
    subject = env.get_template(f"email/{name}/subject.txt").render(**context)
    return Rendered(
        to=to,
        # One line, whatever the template's trailing newline: a header cannot hold two.
        subject=" ".join(subject.split()),
        text=env.get_template(f"email/{name}/body.txt").render(**context),
        html=env.get_template(f"email/{name}/body.html").render(**context),
    )


def compose(session: Session, notice: Notice) -> Rendered | None:
    """The email for ``notice``, or None when there is no longer anyone to send it to."""
    subscriber = session.get(Subscriber, notice.subscriber_id)
    if subscriber is None or subscriber.email is None:
        return None
    if notice.kind is NoticeKind.CONFIRM:
        record = session.get(ConsentRecord, notice.consent_id) if notice.consent_id else None
        # A follow from someone already subscribed is confirmed like a new sign-up.
        follow = record is not None and bool((record.preferences or {}).get("follow"))
        if (
            record is None
            or record.confirmed_at is not None
            or not (
                subscriber.status is SubscriberStatus.PENDING
                or (follow and subscriber.status is SubscriberStatus.ACTIVE)
            )
        ):
            return None
        return render(
            "confirm",
            subscriber.email,
            confirm_url=links.confirm_url(subscriber, record),
            subscribe_url=links.subscribe_url(),
        )
    if subscriber.status is not SubscriberStatus.ACTIVE:
        return None
    if notice.kind is NoticeKind.WELCOME:
        return render(
            "welcome",
            subscriber.email,
            choices=choice_summary(Choice.of(subscriber)),
            manage_url=links.manage_url(subscriber),
            unsubscribe_url=links.unsubscribe_url(subscriber),
        )
    return render(
        "manage_link",
        subscriber.email,
        manage_url=links.magic_url(subscriber),
        unsubscribe_url=links.unsubscribe_url(subscriber),
        already=notice.reason == "already",
    )


def deliver(rendered: Rendered) -> None:
    """Send one email through the configured transport (``publisher.mail``: SMTP, Notify
    or the local outbox). Raises ``publisher.mail.RetryableSendError`` or
    ``PermanentSendError``."""
    transport = get_transport()
    try:
        transport.send(
            OutgoingMessage(
                to=rendered.to, subject=rendered.subject, text=rendered.text, html=rendered.html
            )
        )
    finally:
        transport.close()


def send_now(notice: Notice) -> bool:
    """Compose and send ``notice`` in this process; False if there was nothing to send."""
    from publisher.db import session_scope

    with session_scope() as session:
        rendered = compose(session, notice)
    if rendered is None:
        return False
    deliver(rendered)
    return True
