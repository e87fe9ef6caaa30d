"""Building an edition: take its changes, collapse them into items, and write one ledger
row per subscriber who has something in it.

The edition row, its items and the changes it takes are committed first, as
``building``; the deliveries follow in chunks of subscribers (by id), each chunk one
short transaction that also moves ``built_through`` and the heartbeat on, fenced on the
previous ``built_through`` so two builders can never both write a chunk. The last chunk
turns the edition to ``sending``. No process holds SQLite's write lock for long, and a
build that dies (killed, database gone) leaves an edition that says ``building``: the
next run, or the sweeper once its heartbeat is older than the lease, carries on after
``built_through``. Its window is never consumed without its deliveries. Two builders
racing for a new window meet the unique (frequency, window_end) key: one wins.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from publisher.bulletins.editions import bulletin_items, record_bulletins
from publisher.config import EditionSettings, get_settings
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
from publisher.newsletters.targeting import ItemIndex, indexes
from publisher.newsletters.windows import latest_close, previous_close
from publisher.subscriptions.matching import Preferences


@dataclass(frozen=True)
class BuildResult:
    edition_id: int | None
    reason: str  # "built", "resumed", "not due", "no news", "taken"
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
    """Build the edition of ``frequency`` that is due at ``now``, if not built yet; or
    finish one whose build was cut short.

    ``close_now`` closes the window at ``now`` rather than at the last scheduled time
    (``publisher editions run --now``). Commits as it goes.
    """
    settings = settings or get_settings().editions
    now = now or utcnow()
    end = now if close_now else latest_close(frequency, now, settings)
    last = _last_edition(session, frequency)
    if last is not None and last.status is EditionStatus.BUILDING:
        # A build cut short: finish it before anything else (its window is taken).
        session.rollback()
        return resume_build(session, last.id, settings=settings)
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
    # Approved bulletins (issue 14) go first, once per frequency (BulletinEdition).
    bulletins = bulletin_items(session, frequency, end)
    items = [item for _, item in bulletins] + collapse(
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
        status=EditionStatus.BUILDING,
        items=items,
        change_count=len(changes),
        built_through=0,
        heartbeat_at=utcnow(),
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
            record_bulletins(session, edition.id, frequency, [b for b, _ in bulletins])
    except IntegrityError:
        session.rollback()
        return BuildResult(None, "taken")
    session.commit()
    return _write_deliveries(session, edition.id, settings, reason="built")


def resume_build(
    session: Session, edition_id: int, *, settings: EditionSettings | None = None
) -> BuildResult:
    """Carry on the build of a ``building`` edition after its last committed chunk.

    If another builder's heartbeat is fresh, leave it alone ("taken"); if one turns up
    while we work, the chunk fence stops whichever of us is behind.
    """
    settings = settings or get_settings().editions
    stale_before = utcnow() - dt.timedelta(seconds=settings.lease_seconds)
    taken_over = session.execute(
        update(Edition)
        .where(
            Edition.id == edition_id,
            Edition.status == EditionStatus.BUILDING,
            (Edition.heartbeat_at.is_(None)) | (Edition.heartbeat_at < stale_before),
        )
        .values(heartbeat_at=utcnow())
    )
    session.commit()
    if not getattr(taken_over, "rowcount", 0):
        return BuildResult(None, "taken")
    return _write_deliveries(session, edition_id, settings, reason="resumed")


# A variant is (items as a bit set, 16-25 section split out, "no need listed" note shown).
VariantKey = tuple[int, bool, bool]


def _variants_so_far(session: Session, edition_id: int) -> dict[VariantKey, int]:
    out: dict[VariantKey, int] = {}
    for number, item_indexes, adulthood, needs_note in session.execute(
        select(
            EditionVariant.number,
            EditionVariant.item_indexes,
            EditionVariant.adulthood_section,
            EditionVariant.needs_note,
        ).where(EditionVariant.edition_id == edition_id)
    ):
        bits = 0
        for i in item_indexes:
            bits |= 1 << int(i)
        out[(bits, bool(adulthood), bool(needs_note))] = int(number)
    return out


def _write_deliveries(
    session: Session, edition_id: int, settings: EditionSettings, *, reason: str
) -> BuildResult:
    """One ledger row per subscriber with at least one matching item, written a chunk of
    subscribers at a time (see the module's docstring).

    Matching runs once per distinct set of preferences, not once per subscriber, and
    subscribers with the same items (and the same 16-25 choice, and the same need to be
    told why a service that names no need is there) share a variant.
    """
    edition = session.get_one(Edition, edition_id)
    frequency = edition.frequency
    items = list(edition.items or [])
    index = ItemIndex(items)
    variants = _variants_so_far(session, edition_id)
    session.commit()
    by_prefs: dict[Preferences, int | None] = {}
    chunk = settings.build_chunk
    cursor = edition.built_through or 0
    while True:
        # One chunk: one short write transaction, fenced on where the last one ended.
        rows = session.execute(
            select(
                Subscriber.id,
                Subscriber.age_bands,
                Subscriber.needs,
                Subscriber.categories,
                Subscriber.localities,
                Subscriber.paid_opt_in,
                Subscriber.follows,
                Subscriber.topic_news,
                Subscriber.you_said_we_did,
            )
            .where(
                Subscriber.status == SubscriberStatus.ACTIVE,
                Subscriber.email.is_not(None),
                Subscriber.frequency == frequency,
                Subscriber.id > cursor,
            )
            .order_by(Subscriber.id)
            .limit(chunk)
        ).all()
        new_variants: dict[VariantKey, int] = {}
        pending: list[dict[str, Any]] = []
        for sub_id, ages, needs, categories, localities, paid, follows, news, heard in rows:
            prefs = Preferences(
                age_bands=frozenset(ages or ()),
                needs=frozenset(needs or ()),
                categories=frozenset(categories or ()),
                localities=frozenset(localities or ()),
                paid_opt_in=bool(paid),
                follows=frozenset(follows or ()),
                topic_news=news is not False,
                you_said_we_did=bool(heard),
            )
            if prefs not in by_prefs:
                bits = index.select(prefs)
                if not bits & index.counted:
                    # Nothing for them (extras such as "Did you know?" alone do not count):
                    # nobody gets an empty email.
                    by_prefs[prefs] = None
                else:
                    note = index.needs_note(prefs, bits)
                    key = (bits, ADULTHOOD_BAND in prefs.age_bands, note)
                    if key not in variants:
                        variants[key] = new_variants[key] = len(variants)
                    by_prefs[prefs] = variants[key]
            variant = by_prefs[prefs]
            if variant is None:
                continue
            pending.append(
                {
                    "edition_id": edition_id,
                    "subscriber_id": sub_id,
                    "variant": variant,
                    "status": DeliveryStatus.PENDING,
                    "attempts": 0,
                }
            )
        last_chunk = len(rows) < chunk
        values: dict[str, Any] = {
            "built_through": rows[-1][0] if rows else cursor,
            "heartbeat_at": utcnow(),
        }
        if last_chunk:
            values["status"] = EditionStatus.SENDING
        moved = session.execute(
            update(Edition)
            .where(
                Edition.id == edition_id,
                Edition.status == EditionStatus.BUILDING,
                Edition.built_through == cursor,
            )
            .values(**values)
        )
        if not getattr(moved, "rowcount", 0):
            # Another builder took over (we were too slow): it writes the rest.
            session.rollback()
            return BuildResult(None, "taken")
        if new_variants:
            session.execute(
                insert(EditionVariant),
                [
                    {
                        "edition_id": edition_id,
                        "number": number,
                        "item_indexes": list(indexes(bits)),
                        "adulthood_section": adulthood,
                        "needs_note": needs_note,
                    }
                    for (bits, adulthood, needs_note), number in new_variants.items()
                ],
            )
        if pending:
            session.execute(insert(Delivery), pending)
        if last_chunk:
            recipients = (
                session.scalar(select(func.count()).where(Delivery.edition_id == edition_id)) or 0
            )
            finish: dict[str, Any] = {"recipients": recipients}
            if recipients == 0:
                finish.update(status=EditionStatus.DONE, finished_at=utcnow())
            session.execute(update(Edition).where(Edition.id == edition_id).values(**finish))
            session.commit()
            return BuildResult(edition_id, reason, recipients, len(items))
        session.commit()
        cursor = values["built_through"]
