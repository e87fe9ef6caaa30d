"""Building subscribers and change-log rows for the newsletter tests, and sending an
edition's batches in the test's own process."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from email.message import EmailMessage
from typing import Any

from sqlalchemy.orm import Session

from publisher.db import utcnow
from publisher.models import (
    Change,
    ChangeKind,
    EmailFormat,
    Frequency,
    Source,
    Subscriber,
    SubscriberStatus,
)
from publisher.newsletters import sending
from tests.factories import make_entry, make_source, record_change


def send_here(edition_id: int, ids: list[int]) -> None:
    """What the worker's send task does with a batch, here; a batch that asks for a retry
    fails the test."""
    assert sending.send_batch(edition_id, ids).retry_error is None


def subscriber(session: Session, address: str, **prefs: Any) -> Subscriber:
    row = Subscriber(
        email=address,
        status=prefs.pop("status", SubscriberStatus.ACTIVE),
        confirmed_at=utcnow(),
        frequency=prefs.pop("frequency", Frequency.WEEKLY),
        format=prefs.pop("format", EmailFormat.HTML),
        age_bands=prefs.pop("age_bands", []),
        needs=prefs.pop("needs", []),
        categories=prefs.pop("categories", []),
        localities=prefs.pop("localities", []),
        paid_opt_in=prefs.pop("paid_opt_in", False),
    )
    assert not prefs, prefs
    session.add(row)
    session.flush()
    return row


def change(
    session: Session,
    source: Source,
    entry_id: str,
    name: str,
    kind: ChangeKind = ChangeKind.ADDED,
    at: dt.datetime | None = None,
    **entry: Any,
) -> Change:
    from sqlalchemy import select

    from publisher.models import Entry

    found = session.scalars(
        select(Entry).where(Entry.source_id == source.id, Entry.entry_id == entry_id)
    ).first()
    notable = entry.pop("notable", True)
    changed_fields = entry.pop("changed_fields", None)
    if found is None:
        found = make_entry(session, source, entry_id, name, **entry)
    else:
        found.name = name
        for key, value in entry.items():
            setattr(found, key, value)
        session.flush()
    return record_change(
        session, found, kind, occurred_at=at, notable=notable, changed_fields=changed_fields
    )


def source(session: Session) -> Source:
    return make_source(session)


def parse(data: bytes) -> EmailMessage:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def parts(msg: EmailMessage) -> tuple[str, str | None]:
    """The plain-text and HTML bodies (HTML None for a text-only message)."""
    if msg.get_content_type() == "text/plain":
        return str(msg.get_content()).replace("\r\n", "\n"), None
    found = list(msg.iter_parts())
    assert [p.get_content_type() for p in found] == ["text/plain", "text/html"]
    return (
        str(found[0].get_content()).replace("\r\n", "\n"),
        str(found[1].get_content()).replace("\r\n", "\n"),
    )


def names_in_text(text: str, candidates: list[str]) -> set[str]:
    return {name for name in candidates if re.search(rf"^{re.escape(name)}( \(|$)", text, re.M)}
