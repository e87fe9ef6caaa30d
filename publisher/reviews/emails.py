"""The review email: one per address, listing every entry to check with its own link.
Rendered from templates/email/review/{subject.txt,body.txt,body.html}."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from publisher.config import get_settings
from publisher.models import MailKind
from publisher.reviews.links import review_url
from publisher.subscriptions.notices import Rendered, render


@dataclass(frozen=True)
class EmailEntry:
    name: str
    source: str
    link: str


def review_email(address: str, rows: Sequence[Any]) -> Rendered:
    """``rows``: claimed ledger rows with ``review_id``, ``name``, ``source``, ``kind``."""
    entries = [EmailEntry(r.name, r.source, review_url(r.review_id, address)) for r in rows]
    reminder = all(r.kind is not MailKind.REQUEST for r in rows)
    return render(
        "review",
        address,
        entries=entries,
        reminder=reminder,
        count=len(entries),
        stop_url=f"{entries[0].link}/stop",
        link_days=get_settings().review_link_days,
    )
