"""Sign-ups, confirmations and unsubscribes per ISO week, counted as they happen (one
upsert each, in the caller's transaction). Counts only: nothing about who."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from publisher.insight import store
from publisher.insight.periods import week_of

SIGNUPS, CONFIRMATIONS, UNSUBSCRIBES = "signups", "confirmations", "unsubscribes"


def record_subscription_event(session: Session, event: str, at: dt.datetime | None = None) -> None:
    day = (at or dt.datetime.now(dt.UTC)).date()
    store.add_counts(session, {(event, week_of(day), ""): 1})
