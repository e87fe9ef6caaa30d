"""Building an edition: take its changes, collapse them into items, and write one ledger
row per subscriber who has something in it.

The whole build is one transaction: a builder that dies leaves nothing behind, and the
next run builds the edition again. Two builders racing for the same window meet the
unique (frequency, window_end) key: one wins, the other builds nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from publisher.db import utcnow
from publisher.models import (
    Change,
    Delivery,
    DeliveryStatus,
    Edition,
    EditionChange,
    EditionStatus,
    EditionVariant,
    Frequency,
    Subscriber,
    SubscriberStatus,
)
from publisher.newsletters.frequencies import frequency_rule
from publisher.newsletters.items import ADULTHOOD_BAND, collapse
from publisher.newsletters.settings import EditionSettings, edition_settings
from publisher.newsletters.targeting import ItemIndex, indexes
from publisher.newsletters.windows import latest_close, previous_close
from publisher.subscriptions.matching import Preferences

INSERT_CHUNK = 5000


@dataclass(frozen=True)
class BuildResult:
    edition_id: int | None
    reason: str  # "built", "not due", "no news", "taken"
    recipients: int = 0
    items: int = 0


def _last_edition(session: Session, frequency: Frequency) -> Edition | None:
    return session.scalars(
        select(Edition)
        .where(Edition.frequency == frequency)
        .order_by(Edition.window_end.desc())
        .limit(1)
    ).first()


def build_edition(
    session: Session,
    frequency: Frequency,
    *,
    now: dt.datetime | None = None,
    close_now: bool = False,
    settings: EditionSettings | None = None,
) -> BuildResult:
    """Build the edition of ``frequency`` that is due at ``now``, if not built yet.

    ``close_now`` closes the window at ``now`` rather than at the last scheduled time
    (``publisher editions run --now``). Commits on success.
    """
    settings = settings or edition_settings()
    now = now or utcnow()
    end = now if close_now else latest_close(frequency, now, settings)
    last = _last_edition(session, frequency)
    if last is not None and last.window_end >= end:
        return BuildResult(None, "not due")
    start = last.window_end if last is not None else previous_close(frequency, end, settings)
    # Changes committed after the previous edition was built, though they happened before
    # it closed, are taken now: look back one more window. Nothing is taken twice:
    # EditionChange is unique per frequency.
    floor = last.window_start if last is not None else start
    taken = exists().where(
        (EditionChange.change_id == Change.id) & (EditionChange.frequency == frequency)
    )
    changes = list(
        session.scalars(
            select(Change)
            .where(Change.occurred_at < end, Change.occurred_at >= floor, ~taken)
            .order_by(Change.occurred_at, Change.id)
        )
    )
    from publisher.reviews.holds import as_checked, held_entry_pks, promotes, trusted_entry_pks

    # Issue 9: held (the provider says closed) and trusted (confirmed by the provider).
    held, trusted = held_entry_pks(session), trusted_entry_pks(session)
    items = collapse(
        as_checked(c, trusted) for c in changes if not (c.entry_pk in held and promotes(c.kind))
    )
    if not items and frequency_rule(frequency).only_with_news:
        # Such an edition (immediate) is made only when there is news; the next one
        # starts where the last one that was made ended.
        return BuildResult(None, "no news")
    edition = Edition(
        frequency=frequency,
        window_start=start,
        window_end=end,
        status=EditionStatus.SENDING,
        items=items,
        change_count=len(changes),
    )
    try:
        with session.begin_nested():
            session.add(edition)
            session.flush()
            if changes:
                session.execute(
                    insert(EditionChange),
                    [
                        {"edition_id": edition.id, "frequency": frequency, "change_id": c.id}
                        for c in changes
                    ],
                )
    except IntegrityError:
        session.rollback()
        return BuildResult(None, "taken")
    recipients = _write_deliveries(session, edition, frequency, items)
    edition.recipients = recipients
    if recipients == 0:
        edition.status = EditionStatus.DONE
        edition.finished_at = utcnow()
    session.commit()
    return BuildResult(edition.id, "built", recipients, len(items))


def _write_deliveries(
    session: Session, edition: Edition, frequency: Frequency, items: list[dict[str, Any]]
) -> int:
    """One ledger row per subscriber with at least one matching item.

    Matching runs once per distinct set of preferences, not once per subscriber, and
    subscribers with the same items (and the same 16-25 choice) share a variant.
    """
    rows = session.execute(
        select(
            Subscriber.id,
            Subscriber.age_bands,
            Subscriber.needs,
            Subscriber.categories,
            Subscriber.localities,
            Subscriber.paid_opt_in,
        )
        .where(
            Subscriber.status == SubscriberStatus.ACTIVE,
            Subscriber.email.is_not(None),
            Subscriber.frequency == frequency,
        )
        .order_by(Subscriber.id)
        .execution_options(yield_per=INSERT_CHUNK)
    )
    index = ItemIndex(items)
    by_prefs: dict[Preferences, int | None] = {}
    variants: dict[tuple[int, bool], int] = {}
    pending: list[dict[str, Any]] = []
    count = 0
    for sub_id, ages, needs, categories, localities, paid in rows:
        prefs = Preferences(
            age_bands=frozenset(ages or ()),
            needs=frozenset(needs or ()),
            categories=frozenset(categories or ()),
            localities=frozenset(localities or ()),
            paid_opt_in=bool(paid),
        )
        if prefs not in by_prefs:
            bits = index.select(prefs)
            if not bits:
                by_prefs[prefs] = None  # nothing for them: nobody gets an empty email
            else:
                key = (bits, ADULTHOOD_BAND in prefs.age_bands)
                by_prefs[prefs] = variants.setdefault(key, len(variants))
        variant = by_prefs[prefs]
        if variant is None:
            continue
        pending.append(
            {
                "edition_id": edition.id,
                "subscriber_id": sub_id,
                "variant": variant,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
            }
        )
        count += 1
        if len(pending) >= INSERT_CHUNK:
            session.execute(insert(Delivery), pending)
            pending = []
    if pending:
        session.execute(insert(Delivery), pending)
    if variants:
        session.execute(
            insert(EditionVariant),
            [
                {
                    "edition_id": edition.id,
                    "number": number,
                    "item_indexes": list(indexes(bits)),
                    "adulthood_section": adulthood,
                }
                for (bits, adulthood), number in variants.items()
            ],
        )
    return count
