"""Posting slots: each account posts at most ``slots_per_day`` times a day, spread evenly
over its waking hours, and never in its quiet hours. Times are worked out in
Europe/London and stored in UTC."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.db import utcnow
from publisher.models.social import Post, PostState, SocialAccount
from publisher.uk_time import LONDON

DAY = 24 * 60
# States that hold a slot.
HOLDS_SLOT = (PostState.APPROVED, PostState.SCHEDULED, PostState.PUBLISHED)


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def in_quiet_hours(account: SocialAccount, when: dt.datetime) -> bool:
    local = when.astimezone(LONDON)
    minute = local.hour * 60 + local.minute
    start, end = account.quiet_start_minute, account.quiet_end_minute
    if start == end:
        return False
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def quiet_hours_text(account: SocialAccount) -> str:
    return f"{hhmm(account.quiet_start_minute)} to {hhmm(account.quiet_end_minute)}"


def slot_times(account: SocialAccount, day: dt.date) -> list[dt.datetime]:
    """The day's slots (UTC), evenly spaced from the end of quiet hours."""
    start = account.quiet_end_minute
    awake = (account.quiet_start_minute - account.quiet_end_minute) % DAY or DAY
    step = awake // max(account.slots_per_day, 1)
    midnight = dt.datetime.combine(day, dt.time(0, 0))
    times = []
    for i in range(account.slots_per_day):
        local = (midnight + dt.timedelta(minutes=start + i * step)).replace(tzinfo=LONDON)
        # Round-trip through UTC so a time inside the spring-forward gap lands on a real one.
        times.append(local.astimezone(dt.UTC))
    return times


def _taken(
    session: Session,
    account: SocialAccount,
    start: dt.datetime,
    end: dt.datetime,
    exclude_post_id: int | None,
) -> list[dt.datetime]:
    query = select(Post.publish_at).where(
        Post.account_id == account.id,
        Post.state.in_(HOLDS_SLOT),
        Post.publish_at >= start,
        Post.publish_at < end,
    )
    if exclude_post_id is not None:
        query = query.where(Post.id != exclude_post_id)
    return [t for t in session.scalars(query) if t is not None]


def next_free_slot(
    session: Session,
    account: SocialAccount,
    after: dt.datetime | None = None,
    exclude_post_id: int | None = None,
) -> dt.datetime:
    """The first slot after ``after`` that no other approved or scheduled post holds, on a
    day that has not used up its posts."""
    after = after or utcnow()
    day = after.astimezone(LONDON).date()
    for _ in range(400):
        times = slot_times(account, day)
        day_start = dt.datetime.combine(day, dt.time(0, 0), tzinfo=LONDON).astimezone(dt.UTC)
        day_end = dt.datetime.combine(
            day + dt.timedelta(days=1), dt.time(0, 0), tzinfo=LONDON
        ).astimezone(dt.UTC)
        taken = _taken(session, account, day_start, day_end, exclude_post_id)
        if len(taken) < account.slots_per_day:
            taken_set = set(taken)
            for when in times:
                if when > after and when not in taken_set:
                    return when
        day += dt.timedelta(days=1)
    raise RuntimeError("no free posting slot in the next 400 days")
