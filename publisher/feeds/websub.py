"""Telling a WebSub hub that feeds changed (W3C WebSub, "publishing" section).

The hub is an outside system: failures are sorted into retryable (the hub is down,
busy or slow) and permanent (it refuses the request), and the caller acts on that.
Which feeds still need announcing is kept in ``FeedDocument.hub_pending``, so a lost
notification is retried by the next rebuild, whichever process runs it.
"""

from __future__ import annotations

import logging

import requests
from sqlalchemy import select, update

from publisher import outgoing
from publisher.config import get_settings
from publisher.db import session_scope
from publisher.feeds.filters import FilterError, filter_from_query
from publisher.feeds.store import feed_url
from publisher.models import FeedDocument

log = logging.getLogger(__name__)
TIMEOUT = (5.0, 15.0)
# The whole of one ping, however slowly the hub answers.
DEADLINE = 30.0


class HubError(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def publish(hub_url: str, topic_url: str, session: requests.Session | None = None) -> None:
    """POST hub.mode=publish for one feed URL; raise HubError when the hub says no."""
    try:
        with outgoing.deadline(DEADLINE):
            if session is not None:
                response = session.post(
                    hub_url, data={"hub.mode": "publish", "hub.url": topic_url}, timeout=TIMEOUT
                )
            else:
                with outgoing.session() as http:
                    response = http.post(
                        hub_url,
                        data={"hub.mode": "publish", "hub.url": topic_url},
                        timeout=TIMEOUT,
                    )
    except outgoing.Refused as exc:
        raise HubError(f"hub {hub_url}: {outgoing.plain_reason(exc)}", retryable=False) from exc
    except requests.RequestException as exc:
        raise HubError(
            f"hub {hub_url} unreachable: {outgoing.plain_reason(exc)}", retryable=True
        ) from exc
    if 200 <= response.status_code < 300:
        return
    retryable = response.status_code == 429 or response.status_code >= 500
    raise HubError(f"hub {hub_url} answered {response.status_code}", retryable=retryable)


def notify_pending() -> list[str]:
    """Announce every feed whose body changed since the hub last heard; return their URLs.

    Raises HubError (retryable) after trying them all if the hub could not be reached;
    feeds it refused outright are not tried again (it will not change its mind).
    """
    hub = get_settings().websub_hub_url
    if not hub:
        return []
    with session_scope() as session:
        pending = session.execute(
            select(FeedDocument.key, FeedDocument.format, FeedDocument.query, FeedDocument.etag)
            .where(FeedDocument.hub_pending.is_(True))
            .order_by(FeedDocument.key)
        ).all()
    announced: list[str] = []
    failure: HubError | None = None
    with outgoing.session(DEADLINE) as http:
        for key, fmt, query, etag in pending:
            try:
                flt = filter_from_query(query)
            except FilterError:
                flt = None
            done = True
            if flt is not None:
                url = feed_url(fmt, flt)
                try:
                    publish(hub, url, http)
                    announced.append(url)
                except HubError as exc:
                    log.warning("WebSub publish for %s failed: %s", url, exc)
                    if exc.retryable:
                        failure = exc
                        done = False
            if done:
                with session_scope() as session:
                    # Only if unchanged since: a newer body is announced on its own.
                    session.execute(
                        update(FeedDocument)
                        .where(FeedDocument.key == key, FeedDocument.etag == etag)
                        .values(hub_pending=False)
                    )
    if failure is not None:
        raise failure
    return announced
