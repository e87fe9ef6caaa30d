"""Keep the insight summaries current, a little at a time.

- ``refresh_changes``: changes newer than the watermark become rows families can browse
  (published ones only) and monthly counts by kind. Cost: the new changes only.
- ``refresh_entries``: today's freshness point, coverage cells and topic supply, from the
  entries (one narrow read of present entries; they are tens of thousands at most).
- ``refresh_reach``: today's subscriber counts by frequency and topic, finished editions,
  posts per platform.
- ``record_subscription_event``: one upsert at each sign-up, confirmation or unsubscribe.

The crawl queues ``publisher.insight.refresh_after_crawl`` after it commits; editions
queue ``publisher.insight.refresh_reach``; beat runs ``publisher.insight.refresh`` hourly
so that a day with no crawl still gets its freshness point. ``rebuild`` makes everything
again from the log (after a mapping change, or to start).

A change committed with a lower id than one already summarised (two sources' crawls
finishing out of order within one refresh) is picked up by the next ``rebuild``; crawls
of one source never overlap (the crawl lease), so this needs two sources finishing in the
same instant.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from publisher.config import get_settings
from publisher.db import Base
from publisher.feeds.items import is_published, link_for, summary_for, title_for
from publisher.insight import coverage, memo, store, tagbits
from publisher.insight.coverage_sql import subscriber_topics
from publisher.insight.events import CONFIRMATIONS, SIGNUPS, UNSUBSCRIBES
from publisher.insight.periods import month_of, today_uk, week_of
from publisher.models import (
    Change,
    ChangeKind,
    Delivery,
    DeliveryStatus,
    Edition,
    EditionStatus,
    Entry,
    InsightChange,
    InsightChangeTopic,
    InsightCount,
    InsightEdition,
    InsightSnapshot,
    Post,
    PostState,
    SocialAccount,
    Subscriber,
    SubscriberStatus,
)
from publisher.topics import load_mapping

BATCH = 2000
CHECKED_WITHIN_DAYS = 365  # "checked in the last 12 months"
# Snapshot topic dimensions: (prefix, entry/subscriber attribute).
DIMENSIONS: tuple[tuple[str, str], ...] = (
    ("age", "age_bands"),
    ("need", "needs"),
    ("category", "categories"),
    ("locality", "localities"),
)
RECHECKED = "rechecked"
_CHANGES = Base.metadata.tables["insight_changes"]
_TOPICS = Base.metadata.tables[
    "insight_change_topics"
]  # an update of bookkeeping only (the assured date)


def count_kind(kind: ChangeKind, notable: bool) -> str:
    if kind is ChangeKind.UPDATED and not notable:
        return RECHECKED
    return kind.value


@dataclass
class RefreshResult:
    changes_seen: int = 0
    changes_published: int = 0
    newest_change_id: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "changes_seen": self.changes_seen,
            "changes_published": self.changes_published,
            "newest_change_id": self.newest_change_id,
        }


def refresh_changes(session: Session, *, limit: int | None = None) -> RefreshResult:
    """Summarise changes newer than the watermark (in batches); the caller commits."""
    settings = get_settings()
    labels = load_mapping(settings.mapping_path).locality_labels
    fallback = f"{settings.public_base_url}/"
    result = RefreshResult(newest_change_id=store.watermark(session, "changes"))
    while limit is None or result.changes_seen < limit:
        rows = session.execute(
            select(
                Change.id,
                Change.kind,
                Change.occurred_at,
                Change.changed_fields,
                Change.notable,
                Change.snapshot,
                Change.details,
            )
            .where(Change.id > result.newest_change_id)
            .order_by(Change.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        counts: Counter[store.CountKey] = Counter()
        items: list[dict[str, Any]] = []
        topics: list[dict[str, Any]] = []
        for row in rows:
            snapshot = row.snapshot if isinstance(row.snapshot, dict) else {}
            counts[("changes", month_of(row.occurred_at), count_kind(row.kind, row.notable))] += 1
            if not is_published(row.kind, row.notable, snapshot):
                continue
            # Title, summary and link as the feeds word them (not item_for: its
            # category labels, the costliest part, are not needed here).
            title = title_for(row.kind, snapshot, labels)
            details = row.details if isinstance(row.details, dict) else None
            summary = summary_for(row.kind, snapshot, list(row.changed_fields or []), details)
            link = link_for(snapshot, fallback)
            chosen = {attr: _slugs(snapshot.get(attr)) for _, attr in DIMENSIONS}
            tags = [f"kind:{row.kind.value}"]
            for prefix, attr in DIMENSIONS:
                tags.extend(f"{prefix}:{slug}" for slug in chosen[attr])
            tags = list(dict.fromkeys(tags))
            items.append(
                {
                    "change_id": row.id,
                    "occurred_at": row.occurred_at,
                    "kind": row.kind.value,
                    "source": str(snapshot.get("source") or "")[:255],
                    "entry_id": str(snapshot.get("entry_id") or "")[:255],
                    "title": title,
                    "summary": summary,
                    "link": link,
                    "topics": chosen,
                    "tags": tags,
                }
            )
            for tag in tags:
                topics.append(
                    {
                        "change_id": row.id,
                        "topic": tag,
                        "occurred_at": row.occurred_at,
                        "kind": row.kind.value,
                    }
                )
                counts[("topic", "", tag)] += 1
            counts[("topic", "", "all")] += 1
        bits = tagbits.assign(session, (t["topic"] for t in topics))
        masks = {item["change_id"]: tagbits.mask_of(bits, item["tags"]) for item in items}
        for topic in topics:
            topic["mask"] = masks[topic["change_id"]]
        # Core inserts (executemany): several times cheaper than ORM bulk inserts here.
        if items:
            session.execute(insert(_CHANGES), items)
        if topics:
            session.execute(insert(_TOPICS), topics)
        store.add_counts(session, counts)
        result.changes_seen += len(rows)
        result.changes_published += len(items)
        result.newest_change_id = rows[-1].id
        store.set_watermark(session, "changes", result.newest_change_id)
    if result.changes_seen:
        memo.bump(session)
    return result


def _slugs(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [str(v)[:100] for v in value if isinstance(v, str) and v]


def refresh_entries(session: Session, day: dt.date | None = None) -> None:
    """Today's freshness, coverage and supply, from the present entries."""
    day = day or today_uk()
    cells = coverage.keep_current(session, day)
    freshness = {k[2:]: n for k, n in cells.items() if k.startswith("f:")}
    store.set_snapshot(
        session, day, "freshness", {"active": 0, "checked": 0, "stale": 0, **freshness}
    )
    for prefix, metric in (
        ("g:", "coverage_need_age"),
        ("p:", "coverage_locality"),
        ("s:", "supply_topic"),
    ):
        found = {k[2:]: n for k, n in cells.items() if k.startswith(prefix)}
        store.set_snapshot(session, day, metric, found)
    memo.bump(session)


def refresh_reach(session: Session, day: dt.date | None = None) -> None:
    """Today's subscribers by frequency and topic; finished editions; posts per platform."""
    day = day or today_uk()
    active = Subscriber.status == SubscriberStatus.ACTIVE
    by_frequency = {
        freq.value: n
        for freq, n in session.execute(
            select(Subscriber.frequency, func.count()).where(active).group_by(Subscriber.frequency)
        ).tuples()
    }
    store.set_snapshot(session, day, "subscribers_frequency", by_frequency)
    topics = subscriber_topics(session)
    store.set_snapshot(session, day, "subscribers_topic", topics)
    _summarise_editions(session)
    posts: Counter[tuple[str, str]] = Counter()
    for platform, published_at in session.execute(
        select(SocialAccount.platform, Post.published_at)
        .join(SocialAccount, SocialAccount.id == Post.account_id)
        .where(Post.state == PostState.PUBLISHED, Post.published_at.is_not(None))
    ):
        posts[(month_of(published_at), platform.value)] += 1
    store.set_counts(session, "posts", posts)
    memo.bump(session)


def _summarise_editions(session: Session) -> None:
    done = select(InsightEdition.edition_id)
    editions = session.scalars(
        select(Edition).where(Edition.status == EditionStatus.DONE, Edition.id.not_in(done))
    ).all()
    for edition in editions:
        by_status = dict(
            session.execute(
                select(Delivery.status, func.count())
                .where(Delivery.edition_id == edition.id)
                .group_by(Delivery.status)
            ).tuples()
        )
        finished = edition.finished_at or edition.created_at
        session.add(
            InsightEdition(
                edition_id=edition.id,
                frequency=edition.frequency.value,
                finished_on=finished.date(),
                recipients=edition.recipients,
                sent=by_status.get(DeliveryStatus.SENT, 0),
                failed=by_status.get(DeliveryStatus.FAILED, 0),
            )
        )
    session.flush()


def refresh(session: Session, day: dt.date | None = None) -> RefreshResult:
    """Everything, incrementally (what beat and ``publisher insight refresh`` run)."""
    result = refresh_changes(session)
    refresh_entries(session, day)
    refresh_reach(session, day)
    return result


def rebuild(session: Session, day: dt.date | None = None) -> RefreshResult:
    """Make every summary again from the log and the tables it comes from.

    Kept: feed request counts (nothing else records them). Subscription events are
    counted again from the consent records and subscribers (requests that expired
    unconfirmed were deleted, so older sign-up counts may come out lower).
    """
    session.execute(delete(InsightChange))
    session.execute(delete(InsightChangeTopic))
    session.execute(delete(InsightCount).where(InsightCount.metric != "feed_requests"))
    session.execute(delete(InsightEdition))
    session.execute(delete(InsightSnapshot).where(InsightSnapshot.metric == "freshness"))
    coverage.start_again(session)
    store.set_watermark(session, "changes", 0)
    result = refresh(session, day)
    _backfill_freshness(session, day or today_uk())
    _recount_subscription_events(session)
    return result


def _backfill_freshness(session: Session, today: dt.date) -> None:
    """Weekly points from the log for the last two years (the stale report's method):
    "checked" there means "not stale"."""
    from publisher.console import stale

    first = session.scalar(select(func.min(Entry.first_seen_at)))
    if first is None:
        return
    weeks = min(104, max(1, (today - first.date()).days // 7 + 1))
    for point in stale.history(session, weeks=weeks, today=today)[:-1]:
        store.set_snapshot(
            session,
            point.day,
            "freshness",
            {
                "active": point.active + point.stale,
                "checked": point.active,
                "stale": point.stale,
            },
        )


def _recount_subscription_events(session: Session) -> None:
    from publisher.models import ConsentRecord, EndReason

    counts: Counter[store.CountKey] = Counter()
    for requested, confirmed in session.execute(
        select(ConsentRecord.requested_at, ConsentRecord.confirmed_at)
    ):
        counts[(SIGNUPS, week_of(requested.date()), "")] += 1
        if confirmed is not None:
            counts[(CONFIRMATIONS, week_of(confirmed.date()), "")] += 1
    for (ended,) in session.execute(
        select(Subscriber.ended_at).where(
            Subscriber.end_reason == EndReason.UNSUBSCRIBED, Subscriber.ended_at.is_not(None)
        )
    ):
        counts[(UNSUBSCRIBES, week_of(ended.date()), "")] += 1
    store.add_counts(session, counts)
