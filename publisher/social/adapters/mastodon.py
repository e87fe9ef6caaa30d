"""Mastodon, through Mastodon.py. Every attempt for a post sends the same Idempotency-Key,
so a retry after an uncertain outcome returns the status created the first time instead
of creating another. Mastodon keeps a key for an hour only: a retry later than that, after
an attempt that may have gone through, first looks for the status among the account's
recent ones."""

from __future__ import annotations

import datetime as dt
import html
import re
import time

import requests
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from publisher import outgoing as outgoing_http
from publisher.social.adapters.base import (
    Outgoing,
    Permanent,
    Published,
    Retryable,
    http_session,
    never_connected,
    refused,
    retry_after_header,
    timeout,
)
from publisher.social.adapters.images import image_of

# Mastodon remembers an Idempotency-Key for an hour; leave a margin.
IDEMPOTENCY_WINDOW = dt.timedelta(minutes=50)
# Mastodon's default limit for images (MAX_IMAGE_SIZE).
MAX_IMAGE_BYTES = 16 * 1024 * 1024


class MastodonAdapter:
    def publish(self, outgoing: Outgoing) -> Published:
        try:
            outgoing_http.check_url(str(outgoing.settings["api_base_url"]))
        except outgoing_http.Refused as exc:
            raise refused("Mastodon server", exc) from exc
        session = http_session(outgoing.settings)
        last: dict[str, requests.Response] = {}

        def keep(response: requests.Response, *_a: object, **_k: object) -> None:
            last["response"] = response

        session.hooks["response"].append(keep)
        api = Mastodon(
            access_token=outgoing.credentials.get("access_token"),
            api_base_url=str(outgoing.settings["api_base_url"]),
            # The server's version is stated rather than fetched (one request fewer):
            # media_post picks /api/v2/media from it.
            version_check_mode="created",
            mastodon_version=str(outgoing.settings.get("mastodon_version", "4.0.0")),
            # Never sleep in a worker: we reschedule the post instead.
            ratelimit_method="throw",
            request_timeout=timeout(outgoing.settings)[1],
            session=session,
        )
        try:
            if (
                outgoing.maybe_sent
                and outgoing.intent_at is not None
                and outgoing.attempt_at - outgoing.intent_at > IDEMPOTENCY_WINDOW
            ):
                found = _find(api, outgoing)
                if found is not None:
                    return found
            media_ids = None
            if outgoing.image_url:
                # A retry uploads again; an unattached upload is simply cleaned up by the
                # server later.
                image = image_of(outgoing, MAX_IMAGE_BYTES)
                media = api.media_post(
                    image.data, mime_type=image.mime_type, description=outgoing.image_alt
                )
                media_ids = [media["id"]]
            status = api.status_post(
                outgoing.text,
                media_ids=media_ids,
                visibility=str(outgoing.settings.get("visibility", "public")),
                language=str(outgoing.settings.get("language", "en")),
                idempotency_key=outgoing.idempotency_key,
            )
        except MastodonRatelimitError as exc:
            response = last.get("response")
            wait = (
                retry_after_header(response.headers.get("Retry-After"))
                if response is not None
                else None
            )
            if wait is None and api.ratelimit_reset:
                wait = max(float(api.ratelimit_reset) - time.time(), 0.0)
            raise Retryable(
                "Mastodon says we are posting too often (rate limit).", wait, nothing_sent=True
            ) from exc
        except MastodonUnauthorizedError as exc:
            raise Permanent(
                f"Mastodon did not accept the access token ({_detail(exc)}). "
                "An admin needs to enter a new one.",
                nothing_sent=True,
            ) from exc
        except MastodonServerError as exc:
            raise Retryable(f"Mastodon had a server error ({_detail(exc)}).") from exc
        except MastodonNetworkError as exc:
            # Mastodon.py wraps whatever the session raised, our refusal included. The
            # words stay general: the same for a closed port as for a slow server.
            if outgoing_http.refusal_in(exc) is not None:
                raise refused("Mastodon server", exc) from exc
            raise Retryable(
                f"Could not reach Mastodon: {outgoing_http.plain_reason(exc.__context__ or exc)}.",
                nothing_sent=never_connected(exc),
            ) from exc
        except MastodonAPIError as exc:
            code = exc.args[1] if len(exc.args) > 1 else None
            if code == 403:
                raise Permanent(
                    f"Mastodon refused the post ({_detail(exc)}).", nothing_sent=True
                ) from exc
            raise Permanent(
                f"Mastodon rejected the post: {_detail(exc)}", nothing_sent=code is not None
            ) from exc
        return Published(post_id=str(status["id"]), url=status.get("url"))


def _detail(exc: Exception) -> str:
    args = exc.args
    if len(args) >= 4 and args[3]:
        return f"{args[1]} {args[3]}"
    if len(args) >= 2:
        return f"{args[1]} {args[2] if len(args) > 2 else ''}".strip()
    return str(exc)


_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def _plain(text: str) -> str:
    """Text without markup or any white space, to compare a status's HTML with our text."""
    return _SPACE.sub("", html.unescape(_TAG.sub(" ", text)))


def _find(api: Mastodon, outgoing: Outgoing) -> Published | None:
    me = api.me()
    since = (outgoing.drafted_at or dt.datetime.min.replace(tzinfo=dt.UTC)) - dt.timedelta(
        minutes=5
    )
    want = _plain(outgoing.text)
    for status in api.account_statuses(me["id"], limit=40, exclude_replies=True):
        created = status.get("created_at")
        if isinstance(created, dt.datetime) and created.tzinfo is not None and created < since:
            continue
        if _plain(str(status.get("content") or "")) == want:
            return Published(post_id=str(status["id"]), url=status.get("url"), reconciled=True)
    return None
