"""The one hook the edition builder calls: which approved bulletins an edition of a
frequency carries, as items that sit first and match like entries do.

A bulletin goes in the next edition of each frequency once it is approved: the builder
records it (``record_bulletins``) in the same nested transaction as the edition, and the
unique (bulletin, frequency) key means a second builder racing for the same window fails
as a whole, so no edition carries a bulletin another one already took. Urgent bulletins
went out on their own and are not repeated. A bulletin that matches nobody simply adds no
delivery: nobody gets an edition that has only what they did not ask for.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from typing import Any

from sqlalchemy import exists, insert, select
from sqlalchemy.orm import Session

from publisher import app_settings
from publisher.bulletins.audience import for_matching
from publisher.bulletins.body import public_url, summary
from publisher.config import get_settings
from publisher.models import (
    Bulletin,
    BulletinEdition,
    BulletinState,
    Feedback,
    FeedbackEdition,
    FeedbackState,
    Frequency,
)

GROUP = "bulletin"
DID_YOU_KNOW = "didyouknow"
YOU_SAID_WE_DID = "yswd"
ANSWERS_LOOKBACK = dt.timedelta(days=45)


def as_item(b: Bulletin) -> dict[str, Any]:
    """The bulletin as an edition item (see publisher.newsletters.items for the fields)."""
    short = summary(b.body_text)
    return {
        "key": f"bulletin:{b.id}",
        "group": GROUP,
        "bulletin_id": b.id,
        "change_id": None,
        "name": b.title,
        "summary": short,
        "summary_text": textwrap.fill(short, 72) if short else "",
        "body_html": b.body_html,
        "body_text": b.body_text,
        "page_url": b.link or public_url(b.id),
        "link": b.link or "",
        "organisation": "",
        "ages": "",
        "changed": [],
        "paid": False,
        "adulthood": False,
        "stale": False,
        **for_matching(b.audience or {}),
    }


def bulletin_items(
    session: Session, frequency: Frequency, end: dt.datetime
) -> list[tuple[str | None, dict[str, Any]]]:
    """(ledger key, item) pairs, in this order: approved bulletins not yet in an edition of
    ``frequency`` ("b:<id>"); "You said, we did" answers published since, for those who
    asked for them ("f:<id>"); and for monthly editions, when the console setting is on,
    one "Did you know?" item (None) that never makes an email on its own."""
    taken = exists().where(
        (BulletinEdition.bulletin_id == Bulletin.id) & (BulletinEdition.frequency == frequency)
    )
    rows = session.scalars(
        select(Bulletin)
        .where(
            Bulletin.state == BulletinState.APPROVED,
            Bulletin.urgent.is_(False),
            Bulletin.approved_at < end,
            ~taken,
        )
        .order_by(Bulletin.approved_at, Bulletin.id)
    )
    found: list[tuple[str | None, dict[str, Any]]] = [(f"b:{b.id}", as_item(b)) for b in rows]
    found.extend(_answers(session, frequency, end))
    if frequency is Frequency.MONTHLY and app_settings.get(session, "newsletters.did_you_know"):
        item = did_you_know(session, end)
        if item is not None:
            found.append((None, item))
    return found


def did_you_know(session: Session, end: dt.datetime) -> dict[str, Any] | None:
    """One existing service, chosen as spotlights are (publisher.social.spotlights)."""
    from publisher.changes import snapshot_of
    from publisher.newsletters.items import _ages
    from publisher.spotlight_choice import choose
    from publisher.subscriptions.follows import follow_url

    chosen = choose(session, end)
    if chosen is None:
        return None
    entry, source, _band = chosen
    snap = snapshot_of(entry, source)
    short = summary(str(snap.get("summary") or ""), 300)
    return {
        "key": f"{source.name}:{entry.entry_id}",
        "group": DID_YOU_KNOW,
        "extra": True,  # never the only thing in someone's email
        "change_id": None,
        "name": entry.name,
        "summary": short,
        "summary_text": textwrap.fill(short, 72) if short else "",
        "page_url": snap.get("page_url") or snap.get("url") or "",
        "organisation": entry.organisation or "",
        "ages": _ages(snap),
        "changed": [],
        "paid": bool(entry.paid),
        "adulthood": False,
        "stale": False,
        "follow_url": follow_url(source.name, entry.entry_id),
        "age_bands": list(entry.age_bands or []),
        "needs": list(entry.needs or []),
        "categories": list(entry.categories or []),
        "localities": list(entry.localities or []),
    }


def _answers(
    session: Session, frequency: Frequency, end: dt.datetime
) -> list[tuple[str | None, dict[str, Any]]]:
    from publisher.feedback.words import TOPICS, said

    taken = exists().where(
        (FeedbackEdition.feedback_id == Feedback.id) & (FeedbackEdition.frequency == frequency)
    )
    rows = session.scalars(
        select(Feedback)
        .where(
            Feedback.state == FeedbackState.PUBLISHED,
            Feedback.published_at < end,
            # A frequency's first edition does not carry the whole history.
            Feedback.published_at >= end - ANSWERS_LOOKBACK,
            ~taken,
        )
        .order_by(Feedback.published_at, Feedback.id)
    )
    out: list[tuple[str | None, dict[str, Any]]] = []
    for f in rows:
        words = " ".join(
            part
            for part in (
                f"You said: {said(f)}" if said(f) else "",
                f"We said: {f.response}",
                f"We did: {f.action}" if f.action else "",
            )
            if part
        )
        out.append(
            (
                f"f:{f.id}",
                {
                    "key": f"feedback:{f.id}",
                    "group": YOU_SAID_WE_DID,
                    "optin": "you_said_we_did",
                    "change_id": None,
                    "name": TOPICS.get(f.topic, f.topic),
                    "summary": words,
                    "summary_text": textwrap.fill(words, 72),
                    "page_url": f"{get_settings().public_base_url}/you-said-we-did/#comment-{f.id}",
                    "organisation": "",
                    "ages": "",
                    "changed": [],
                    "paid": False,
                    "adulthood": False,
                    "stale": False,
                    "age_bands": [],
                    "needs": [],
                    "categories": [],
                    "localities": [],
                },
            )
        )
    return out


def record_bulletins(
    session: Session, edition_id: int, frequency: Frequency, keys: list[str | None]
) -> None:
    """Record what the edition carried, in its transaction (the unique keys stop a second
    edition of the frequency carrying it again)."""
    answer_ids = [int(k[2:]) for k in keys if k and k.startswith("f:")]
    if answer_ids:
        session.execute(
            insert(FeedbackEdition),
            [
                {"feedback_id": f, "frequency": frequency, "edition_id": edition_id}
                for f in answer_ids
            ],
        )
    bulletin_ids = [int(k[2:]) for k in keys if k and k.startswith("b:")]
    if bulletin_ids:
        session.execute(
            insert(BulletinEdition),
            [
                {"bulletin_id": b, "frequency": frequency, "edition_id": edition_id}
                for b in bulletin_ids
            ],
        )
