"""Facebook Pages, through the Graph API with requests: POST /{page-id}/feed with the
message and the link, or POST /{page-id}/photos (image url, caption, alt text) when the
post has an image.

The Graph API has no idempotency key. So the worker records its intent before the call;
if a call ends without a clear answer (a timeout after sending, a lost connection, a
worker that died), the next attempt first looks for the post on the page's feed (same
message, created since the intent) and records that id instead of posting again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import requests

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

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v21.0"
# Graph error codes: rate limits (4, 17, 32, 613, 80001), temporary (1, 2), auth (190, 102,
# 10, 200-299 permissions).
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80001})
TRANSIENT_CODES = frozenset({1, 2})
AUTH_CODES = frozenset({102, 190, 10})


class FacebookAdapter:
    def _base(self, outgoing: Outgoing) -> str:
        return str(outgoing.settings.get("graph_url") or DEFAULT_GRAPH_URL).rstrip("/")

    def publish(self, outgoing: Outgoing) -> Published:
        if outgoing.maybe_sent:
            found = self.find(outgoing)
            if found is not None:
                return found
        page = outgoing.settings["page_id"]
        data = {"message": outgoing.text, "access_token": outgoing.credentials["page_access_token"]}
        if outgoing.image_url:
            # A photo post: Facebook fetches the image itself; the link stays in the text.
            edge = "photos"
            data["url"] = outgoing.image_url
            data["alt_text_custom"] = outgoing.image_alt or ""
        else:
            edge = "feed"
            if outgoing.link:
                data["link"] = outgoing.link
        try:
            with http_session(outgoing.settings) as http:
                response = http.post(
                    f"{self._base(outgoing)}/{page}/{edge}",
                    data=data,
                    timeout=timeout(outgoing.settings),
                )
        except outgoing_http.Refused as exc:
            raise refused("Facebook Graph API", exc) from exc
        except requests.ConnectionError as exc:
            # Includes a connection reset after sending: the post may exist; the next
            # attempt checks the feed first (maybe_sent).
            raise Retryable(
                f"Could not reach Facebook: {exc.__class__.__name__}.",
                nothing_sent=never_connected(exc),
            ) from exc
        except requests.Timeout as exc:
            raise Retryable("Facebook did not answer in time; will check before retrying.") from exc
        body = _json(response)
        if response.ok and isinstance(body.get("id"), str):
            # /photos answers with the photo's id and the post's (post_id).
            post_id = str(body.get("post_id") or body["id"])
            return Published(post_id=post_id, url=f"https://www.facebook.com/{post_id}")
        raise _error(response, body)

    def find(self, outgoing: Outgoing) -> Published | None:
        """The page's recent post with this exact message, made since the draft was. (The
        draft's time, not the intent's: it is our own clock's, long before the call, so the
        platform's clock being a little off does not matter.)"""
        page = outgoing.settings["page_id"]
        try:
            with http_session(outgoing.settings) as http:
                response = http.get(
                    f"{self._base(outgoing)}/{page}/feed",
                    params={
                        "fields": "id,message,created_time",
                        "limit": "25",
                        "access_token": outgoing.credentials["page_access_token"],
                    },
                    timeout=timeout(outgoing.settings),
                )
        except outgoing_http.Refused as exc:
            raise refused("Facebook Graph API", exc) from exc
        except requests.RequestException as exc:
            raise Retryable(
                f"Could not check Facebook for an earlier attempt: {exc.__class__.__name__}."
            ) from exc
        body = _json(response)
        if not response.ok:
            raise _error(response, body)
        since = (outgoing.drafted_at or dt.datetime.min.replace(tzinfo=dt.UTC)) - dt.timedelta(
            minutes=5
        )
        for item in body.get("data", []):
            if item.get("message") != outgoing.text:
                continue
            created = _parse_time(item.get("created_time"))
            if created is None or created >= since:
                return Published(
                    post_id=str(item["id"]),
                    url=f"https://www.facebook.com/{item['id']}",
                    reconciled=True,
                )
        return None


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        # Graph answers "2026-11-27T20:01:02+0000".
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def _error(response: requests.Response, body: dict[str, Any]) -> Exception:
    raw = body.get("error")
    error: dict[str, Any] = raw if isinstance(raw, dict) else {}
    code = error.get("code")
    message = error.get("message") or response.reason or "no details"
    wait = retry_after_header(response.headers.get("Retry-After"))
    if response.status_code == 429 or code in RATE_LIMIT_CODES:
        return Retryable(
            f"Facebook says we are posting too often: {message}", wait, nothing_sent=True
        )
    if response.status_code >= 500 or code in TRANSIENT_CODES or error.get("is_transient"):
        return Retryable(f"Facebook had a temporary problem: {message}", wait)
    if (
        response.status_code in (401, 403)
        or code in AUTH_CODES
        or (error.get("type") == "OAuthException" and code != 100)
    ):
        return Permanent(
            f"Facebook did not accept the page token: {message} An admin needs to enter a new one.",
            nothing_sent=True,
        )
    return Permanent(f"Facebook rejected the post: {message}", nothing_sent=True)
