"""What a provider's answer does, and the checks on the "something needs changing" form.

Every answer is one transaction. A link answers once: after that (or once the review is
closed) it shows what was said and changes nothing. "Stop emailing me" works at any time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from publisher.db import utcnow
from publisher.models import (
    Entry,
    ReplyKind,
    Review,
    ReviewStatus,
    ReviewSuppression,
    Source,
)
from publisher.reviews.contacts import normalise
from publisher.reviews.links import BadLink, read_token
from publisher.sources.opening_times import opening_times

# The form's fields, in order, with their labels (also used by the worklist's diff).
FIELDS: dict[str, str] = {
    "name": "Name of the service",
    "description": "What the service does",
    "minimum_age": "Youngest age",
    "maximum_age": "Oldest age",
    "email": "Email address",
    "phone": "Phone number",
    "website": "Website",
    "cost": "Cost",
    "times": "Opening times",
}
LIMITS = {"name": 200, "description": 5000, "phone": 40, "website": 500, "cost": 500, "times": 1000}
NOTE_LIMIT = 2000
MAX_AGE = 25
_PHONE = re.compile(r"^[0-9 +()\-]{6,40}$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
OPEN_REPLIES = (ReplyKind.NONE, ReplyKind.NO_REPLY)


class AlreadyAnswered(Exception):
    def __init__(self, review: Review) -> None:
        super().__init__("already answered")
        self.review = review


@dataclass(frozen=True)
class Found:
    review: Review
    entry: Entry
    source: Source
    address: str


def find(session: Session, token: str) -> Found:
    """The review a link is for. Raises BadLink for a forged, expired or dead link."""
    claim = read_token(token)
    review = session.get(Review, claim.review_id)
    if review is None or review.address != claim.address:
        raise BadLink("This link is not right")
    entry = session.get(Entry, review.entry_pk)
    source = session.get(Source, review.source_id)
    if entry is None or source is None:
        raise BadLink("This link is not right")
    return Found(review, entry, source, claim.address)


def answerable(review: Review) -> bool:
    return review.status is ReviewStatus.OPEN and review.reply in OPEN_REPLIES


def _text_list(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _phone_of(record: Mapping[str, Any]) -> str:
    for holder in [record, *(c for c in record.get("contacts") or [] if isinstance(c, dict))]:
        phones = holder.get("phones")
        if isinstance(phones, list):
            for phone in phones:
                number = phone.get("number") if isinstance(phone, dict) else None
                if isinstance(number, str):
                    return number.strip()[:40]
    return ""


def directory_values(entry: Entry) -> dict[str, str]:
    """The entry's details as the form shows them (text, as a person would type them)."""
    record = entry.record if isinstance(entry.record, dict) else {}
    return {
        "name": entry.name,
        "description": entry.summary or "",
        "minimum_age": "" if entry.minimum_age is None else str(entry.minimum_age),
        "maximum_age": "" if entry.maximum_age is None else str(entry.maximum_age),
        "email": entry.email or "",
        "phone": _phone_of(record),
        "website": entry.url or "",
        "cost": "; ".join(_text_list(entry.costs)),
        # The same plain line the change log tells (publisher.sources.opening_times).
        "times": entry.opening_times or opening_times(record) or "",
    }


def check_change_form(form: Mapping[str, str]) -> tuple[dict[str, str], str, dict[str, str]]:
    """(values, note, errors by field). Each field is checked on its own, so the page can
    say what is wrong with each; nothing is stored while there is any error."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name in FIELDS:
        raw = form.get(name, "")
        value = raw.replace("\r\n", "\n").replace("\x00", "").strip()
        values[name] = value
        limit = LIMITS.get(name)
        if limit and len(value) > limit:
            errors[name] = f"{FIELDS[name]} must be {limit} characters or fewer"
    if not values["name"] and "name" not in errors:
        errors["name"] = "Enter the name of the service"
    ages: dict[str, int] = {}
    for name in ("minimum_age", "maximum_age"):
        if values[name] == "":
            continue
        if not values[name].isdigit() or int(values[name]) > MAX_AGE:
            errors[name] = f"{FIELDS[name]} must be a whole number from 0 to {MAX_AGE}"
        else:
            ages[name] = int(values[name])
    if len(ages) == 2 and ages["minimum_age"] > ages["maximum_age"]:
        errors["maximum_age"] = "Oldest age must be the same as or more than the youngest age"
    if values["email"] and "email" not in errors and normalise(values["email"]) is None:
        errors["email"] = "Enter an email address like name@example.org"
    if values["phone"] and "phone" not in errors and not _PHONE.match(values["phone"]):
        errors["phone"] = "Enter a phone number using numbers, spaces and + ( ) - only"
    if values["website"] and "website" not in errors and not _URL.match(values["website"]):
        errors["website"] = "Enter a website address starting with https://"
    note = form.get("note", "").replace("\x00", "").strip()
    if len(note) > NOTE_LIMIT:
        errors["note"] = f"What else we should know must be {NOTE_LIMIT} characters or fewer"
    return values, note, errors


def _answer(review: Review, kind: ReplyKind, address: str) -> None:
    if not answerable(review):
        raise AlreadyAnswered(review)
    review.reply = kind
    review.replied_at = utcnow()
    review.replied_from = address


def still_correct(session: Session, found: Found) -> None:
    _answer(found.review, ReplyKind.STILL_CORRECT, found.address)


def has_closed(session: Session, found: Found) -> None:
    _answer(found.review, ReplyKind.CLOSED, found.address)


def needs_change(
    session: Session, found: Found, values: Mapping[str, str], note: str
) -> dict[str, str]:
    """Store only what the provider changed; returns the changed fields ({} and no note:
    nothing to store, the caller asks again)."""
    directory = directory_values(found.entry)
    changed = {k: v for k, v in values.items() if v != directory.get(k, "")}
    if not changed and not note:
        return {}
    _answer(found.review, ReplyKind.NEEDS_CHANGE, found.address)
    found.review.reply_fields = changed
    found.review.directory_fields = {k: directory.get(k, "") for k in changed}
    found.review.reply_note = note
    return changed or {"note": note}


def stop_emails(session: Session, found: Found) -> int:
    """Suppress the address for review requests; its unanswered reviews say "stop"."""
    address = found.address
    if session.get(ReviewSuppression, address) is None:
        session.add(ReviewSuppression(address=address, reason="stop", detail="asked on the page"))
    done = session.execute(
        update(Review)
        .where(
            Review.address == address,
            Review.status == ReviewStatus.OPEN,
            Review.reply.in_(OPEN_REPLIES),
        )
        .values(reply=ReplyKind.STOP, replied_at=utcnow(), replied_from=address)
    )
    return int(getattr(done, "rowcount", 0) or 0)


def other_reviews(session: Session, found: Found) -> list[Any]:
    """The provider's other open reviews (so the page can say what else is waiting)."""
    return list(
        session.execute(
            select(Review.id, Entry.name)
            .join(Entry, Entry.id == Review.entry_pk)
            .where(
                Review.address == found.address,
                Review.status == ReviewStatus.OPEN,
                Review.reply.in_(OPEN_REPLIES),
                Review.id != found.review.id,
            )
            .order_by(Entry.name)
        ).all()
    )
