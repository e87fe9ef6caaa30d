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

from publisher.bulletins.audience import for_matching
from publisher.bulletins.body import summary
from publisher.config import get_settings
from publisher.models import Bulletin, BulletinEdition, BulletinState, Frequency

GROUP = "bulletin"


def public_url(bulletin_id: int) -> str:
    return f"{get_settings().public_base_url}/bulletins/{bulletin_id}"


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
) -> list[tuple[int, dict[str, Any]]]:
    """Approved bulletins not yet in an edition of ``frequency``, oldest first."""
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
    return [(b.id, as_item(b)) for b in rows]


def record_bulletins(
    session: Session, edition_id: int, frequency: Frequency, bulletin_ids: list[int]
) -> None:
    if bulletin_ids:
        session.execute(
            insert(BulletinEdition),
            [
                {"bulletin_id": b, "frequency": frequency, "edition_id": edition_id}
                for b in bulletin_ids
            ],
        )
