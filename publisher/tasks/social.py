"""Social tasks: ids in, one service call each. The database says what is done, so a task
delivered twice does nothing the second time, and beat catches up on lost ones."""

from __future__ import annotations

from sqlalchemy.exc import InterfaceError, OperationalError

from publisher.celery import app
from publisher.social import drafting, publishing


@app.task(
    name="publisher.social.draft_posts",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def draft_posts(change_ids: list[int]) -> int:
    """Hook from ingest: draft posts for these changes (unique per change and account)."""
    return len(drafting.draft_posts([int(i) for i in change_ids]))


@app.task(
    name="publisher.social.sweep",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def sweep() -> int:
    """Beat: draft recent changes the hook missed; withdraw posts whose entries went."""
    return len(drafting.sweep())


@app.task(
    name="publisher.social.publish_due",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=30,
    retry_jitter=True,
    max_retries=5,
)
def publish_due() -> dict[str, int]:
    """Beat, every 20 s: publish due posts. A platform's failures are recorded on each
    post (with its own backoff); only a database error retries the task (with backoff),
    and the next run picks up in any case."""
    return publishing.publish_due()


@app.task(name="publisher.social.draft_spotlights", ignore_result=True)
def draft_spotlights() -> int:
    """Beat, hourly (issue 14): spotlight drafts for accounts with nothing queued."""
    from publisher.db import session_scope
    from publisher.social.spotlights import draft_spotlights as draft

    with session_scope() as session:
        return len(draft(session))
