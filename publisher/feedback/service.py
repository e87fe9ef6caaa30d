"""Comments on the Local Offer, the council's answers, publishing and retention.

Every function takes a session and leaves committing to the caller (the console's unit
of work, or ``session_scope``). Officers' actions are in the audit log; the reporter's
contact address never is.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from publisher.audit import record
from publisher.config import get_settings
from publisher.db import utcnow
from publisher.feedback.words import TOPICS, said
from publisher.models import Feedback, FeedbackState, Role, User
from publisher.social.errors import NotAllowed, WrongState
from publisher.subscriptions.addresses import InvalidAddress, normalise_email
from publisher.topics import AGE_BAND_LABELS, NEEDS

MAX_WORDS = 2000
MAX_ANSWER = 2000
APPROVERS = frozenset({Role.APPROVER, Role.ADMIN})
EDITORS = frozenset({Role.EDITOR, Role.APPROVER, Role.ADMIN})


class FeedbackInvalid(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _text(form: Mapping[str, Any], name: str) -> str:
    return str(form.get(name) or "").replace("\x00", "").strip()


def submit(session: Session, form: Mapping[str, Any]) -> Feedback:
    """Store a comment from the public form; every problem is listed at once."""
    errors: dict[str, str] = {}
    topic = _text(form, "topic")
    if topic not in TOPICS:
        errors["topic"] = "Choose what your comment is about."
    words = _text(form, "words")
    if not words:
        errors["words"] = "Tell us what you think."
    elif len(words) > MAX_WORDS:
        errors["words"] = f"Your comment must be {MAX_WORDS:,} characters or fewer."
    age_band = _text(form, "age_band") or None
    if age_band is not None and age_band not in AGE_BAND_LABELS:
        errors["age_band"] = "Choose an age group from the list."
    need = _text(form, "need") or None
    if need is not None and need not in NEEDS:
        errors["need"] = "Choose an area of need from the list."
    contact: str | None = None
    raw_contact = _text(form, "contact_email")
    if raw_contact:
        try:
            contact = normalise_email(raw_contact)
        except InvalidAddress as exc:
            errors["contact_email"] = str(exc)
    if errors:
        raise FeedbackInvalid(errors)
    row = Feedback(
        created_at=utcnow(),
        state=FeedbackState.NEW,
        topic=topic,
        words=words,
        age_band=age_band,
        need=need,
        consent_to_publish=_text(form, "consent_to_publish") == "yes",
        contact_email=contact,
        keep_contact=False,
    )
    session.add(row)
    session.flush()
    return row


def view(f: Feedback) -> dict[str, Any]:
    """What the audit log keeps (never the contact address)."""
    return {
        "state": f.state.value,
        "you_said": f.you_said,
        "response": f.response,
        "action": f.action,
        "keep_contact": f.keep_contact,
    }


def _allow(actor: User | None, roles: frozenset[Role], what: str) -> User:
    if actor is None or not actor.active or actor.role not in roles:
        raise NotAllowed(f"Only an approver or admin can {what}.")
    return actor


def respond(session: Session, actor: User | None, f: Feedback, form: Mapping[str, Any]) -> None:
    """Write the council's answer ("We said") and what it did ("We did")."""
    actor = _allow(actor, EDITORS, "answer comments")
    errors: dict[str, str] = {}
    you_said = _text(form, "you_said")
    response = _text(form, "response")
    action = _text(form, "action")
    if not f.consent_to_publish and not you_said:
        errors["you_said"] = (
            "They did not agree to us publishing their words: write a short summary instead."
        )
    if not response:
        errors["response"] = "Write the council's answer."
    for name, value in (("you_said", you_said), ("response", response), ("action", action)):
        if len(value) > MAX_ANSWER:
            errors[name] = f"Keep this to {MAX_ANSWER:,} characters or fewer."
    if errors:
        raise FeedbackInvalid(errors)
    if f.state is FeedbackState.PUBLISHED:
        raise WrongState("This is published already; it cannot be changed.")
    before = view(f)
    f.you_said = you_said or None
    f.response = response
    f.action = action or None
    f.keep_contact = _text(form, "keep_contact") == "yes"
    f.state = FeedbackState.ANSWERED
    f.responded_at, f.responded_by_id = utcnow(), actor.id
    session.flush()
    record(session, actor, "feedback.respond", "feedback", f.id, before, view(f))


def publish(session: Session, actor: User | None, f: Feedback) -> None:
    actor = _allow(actor, APPROVERS, "publish answers")
    if f.state is not FeedbackState.ANSWERED:
        raise WrongState("Write the council's answer first.")
    before = view(f)
    f.state = FeedbackState.PUBLISHED
    f.published_at, f.published_by_id = utcnow(), actor.id
    session.flush()
    record(session, actor, "feedback.publish", "feedback", f.id, before, view(f))


def close(session: Session, actor: User | None, f: Feedback) -> None:
    actor = _allow(actor, APPROVERS, "close comments")
    before = view(f)
    f.state = FeedbackState.CLOSED
    session.flush()
    record(session, actor, "feedback.close", "feedback", f.id, before, view(f))


def erase_old_contacts(session: Session, now: dt.datetime | None = None) -> int:
    """Delete contact addresses older than the keep period, unless kept for a reply."""
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=get_settings().feedback_keep_days)
    done = session.execute(
        update(Feedback)
        .where(
            Feedback.contact_email.is_not(None),
            Feedback.keep_contact.is_(False),
            Feedback.created_at < cutoff,
        )
        .values(contact_email=None, contact_erased_at=now)
    )
    return int(done.rowcount)  # type: ignore[attr-defined]


def quarter(when: dt.datetime) -> str:
    """UK financial quarters are not what families expect: calendar quarters."""
    names = ("January to March", "April to June", "July to September", "October to December")
    return f"{names[(when.month - 1) // 3]} {when.year}"


@dataclass(frozen=True)
class Pair:
    id: int
    topic: str
    you_said: str
    response: str
    action: str
    published_at: dt.datetime


def published(session: Session, year: int | None = None, limit: int = 500) -> list[Pair]:
    query = select(Feedback).where(Feedback.state == FeedbackState.PUBLISHED)
    if year is not None:
        start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
        query = query.where(
            Feedback.published_at >= start, Feedback.published_at < start.replace(year=year + 1)
        )
    rows = session.scalars(query.order_by(Feedback.published_at.desc()).limit(limit))
    out = []
    for f in rows:
        assert f.published_at is not None
        out.append(
            Pair(
                f.id,
                TOPICS.get(f.topic, f.topic),
                said(f),
                f.response or "",
                f.action or "",
                f.published_at,
            )
        )
    return out


def by_quarter(pairs: list[Pair]) -> list[tuple[str, list[Pair]]]:
    groups: dict[str, list[Pair]] = {}
    for p in pairs:
        groups.setdefault(quarter(p.published_at), []).append(p)
    return list(groups.items())


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """A spreadsheet must read a cell as text, never run it as a formula (CSV injection:
    OWASP): a leading = + - @ tab or return gets a ' in front."""
    return "'" + value if value.startswith(_FORMULA) else value


def export_csv(pairs: list[Pair]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Published", "About", "You said", "We said", "We did"])
    for p in pairs:
        writer.writerow(
            [
                safe_cell(v)
                for v in (
                    p.published_at.date().isoformat(),
                    p.topic,
                    p.you_said,
                    p.response,
                    p.action,
                )
            ]
        )
    return out.getvalue()
