"""X: 280 weighted characters by the twitter-text v3 rules (a link 23, most CJK and emoji
2), counted by twitter-text-parser; posted with API v2 ``POST /2/tweets``, signed with
OAuth 1.0a user context by requests-oauthlib.

Exactly once, as far as X's API allows. X takes no idempotency key and the client cannot
name a post, so the guarantee is built from three parts:

1. ``publishing.py`` records the intent and commits it before any call, so every attempt
   after the first knows that an earlier one may have reached X (``maybe_sent``).
2. Such an attempt first looks for the post among the account's own posts since the draft
   was made (``GET /2/users/me``, then ``GET /2/users/:id/tweets``), comparing the text
   with links set aside (X rewrites them to t.co), and records the one it finds.
3. Otherwise it posts. X refuses a post whose text repeats one of the account's recent
   posts ("duplicate content"). If an earlier attempt may have gone through, that refusal
   means it did: the post is recorded as published (without X's id, which X did not give)
   and nothing is posted. On a first attempt the copy is someone else's post of the same
   words, and the post fails with a message asking for different words.

What remains: X's read endpoints need a paid API plan. Without them step 2 is skipped and
step 3 is the only guard, which holds while X remembers the earlier post (X does not say
for how long; hours, in practice). A second copy could then appear only if a worker died
or lost its answer after X took the post, and the next attempt came after X forgot it.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
import time
from typing import Any

import requests
from requests_oauthlib import OAuth1
from twitter_text import parse_tweet

from publisher import outgoing as outgoing_http
from publisher.models.social import Platform
from publisher.social import rules
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
from publisher.social.platforms import Description, Field

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.x.com"
# How far back to look for an earlier attempt: from a little before the draft was made
# (our clock, long before any call, so X's clock being a little off does not matter).
LOOK_BACK_MARGIN = dt.timedelta(minutes=5)
DUPLICATE = re.compile(r"duplicate content", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def count(text: str) -> int:
    return int(parse_tweet(text).weightedLength)


class XAdapter:
    def publish(self, outgoing: Outgoing) -> Published:
        if outgoing.image_url:
            # Checked before approval too (rules); this guards a post approved earlier.
            raise Permanent("Posts to X cannot carry an image yet. Remove the image.")
        client = _Client(outgoing)
        if outgoing.maybe_sent:
            found = client.find(outgoing)
            if found is not None:
                return found
        response = client.call("POST", "/2/tweets", json={"text": outgoing.text})
        body = _json(response)
        data = body.get("data")
        if response.status_code in (200, 201) and isinstance(data, dict) and data.get("id"):
            post_id = str(data["id"])
            return Published(post_id=post_id, url=f"https://x.com/i/web/status/{post_id}")
        if response.status_code == 403 and DUPLICATE.search(_detail(body)):
            if outgoing.maybe_sent:
                return Published(post_id=None, url=None, reconciled=True)
            raise Permanent(
                "X refused the post because the account already has a post with the same "
                "words. Change the wording, then try again."
            )
        raise _error(response, body)


class _Client:
    def __init__(self, outgoing: Outgoing) -> None:
        creds = outgoing.credentials
        self.base = str(outgoing.settings.get("api_url") or DEFAULT_API_URL).rstrip("/")
        self.settings = outgoing.settings
        self.timeout = timeout(outgoing.settings)
        self.auth = OAuth1(
            client_key=creds.get("api_key", ""),
            client_secret=creds.get("api_key_secret", ""),
            resource_owner_key=creds.get("access_token", ""),
            resource_owner_secret=creds.get("access_token_secret", ""),
            signature_type="AUTH_HEADER",
        )

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            # The checked session: public addresses only, redirects checked, a deadline.
            with http_session(self.settings) as http:
                response: requests.Response = http.request(
                    method, self.base + path, auth=self.auth, timeout=self.timeout, **kwargs
                )
                return response
        except outgoing_http.Refused as exc:
            raise refused("X API", exc) from exc
        except requests.Timeout as exc:
            raise Retryable("X did not answer in time; will check before trying again.") from exc
        except requests.RequestException as exc:
            raise Retryable(
                f"Could not reach X: {exc.__class__.__name__}.", nothing_sent=never_connected(exc)
            ) from exc

    def find(self, outgoing: Outgoing) -> Published | None:
        """The account's post with this text since the draft was made, if X lets us read
        the account's posts (None when it does not, or the post is not there)."""
        me = self.call("GET", "/2/users/me")
        if me.status_code == 403:
            log.warning("X does not let this app read its posts; relying on duplicate checks")
            return None
        body = _json(me)
        if not me.ok or not isinstance(body.get("data"), dict):
            raise _error(me, body, checking=True)
        since = (outgoing.drafted_at or outgoing.attempt_at) - LOOK_BACK_MARGIN
        listed = self.call(
            "GET",
            f"/2/users/{body['data']['id']}/tweets",
            params={
                "max_results": "100",
                "exclude": "replies,retweets",
                "tweet.fields": "created_at",
                "start_time": since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        )
        if listed.status_code == 403:
            log.warning("X does not let this app read its posts; relying on duplicate checks")
            return None
        posts = _json(listed)
        if not listed.ok:
            raise _error(listed, posts, checking=True)
        want = _comparable(outgoing.text)
        for post in posts.get("data") or []:
            if isinstance(post, dict) and _comparable(str(post.get("text", ""))) == want:
                post_id = str(post["id"])
                return Published(
                    post_id=post_id, url=f"https://x.com/i/web/status/{post_id}", reconciled=True
                )
        return None


def _comparable(text: str) -> str:
    """Text as X shows it back, made comparable with ours: entities decoded, every link
    (X's t.co or ours) replaced by one marker, white space removed."""
    return _SPACE.sub("", rules.URL_RE.sub("\x00", html.unescape(text)))


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _detail(body: dict[str, Any]) -> str:
    """X's own words: a problem's detail, or the messages of its errors."""
    parts = [str(body[k]) for k in ("detail",) if body.get(k)]
    for error in body.get("errors") or []:
        if isinstance(error, dict) and error.get("message"):
            parts.append(str(error["message"]))
    return " ".join(parts) or str(body.get("title") or "")


def _wait(response: requests.Response) -> float | None:
    wait = retry_after_header(response.headers.get("Retry-After"))
    reset = response.headers.get("x-rate-limit-reset")
    if wait is None and reset and reset.strip().isdigit():
        wait = max(float(reset) - time.time(), 0.0)
    return wait


def _error(
    response: requests.Response, body: dict[str, Any], *, checking: bool = False
) -> Exception:
    detail = _detail(body) or response.reason or "no details"
    doing = "check X for an earlier attempt" if checking else "post to X"
    if response.status_code == 429:
        return Retryable(
            "X says we are posting too often (rate limit).", _wait(response), nothing_sent=True
        )
    if response.status_code >= 500:
        return Retryable(f"X had a server error ({response.status_code}) when we tried to {doing}.")
    if response.status_code == 401:
        return Permanent(
            "X did not accept the account's keys and tokens. An admin needs to enter them "
            "again (the access token needs Read and write permission).",
            nothing_sent=True,
        )
    if checking:
        return Permanent(f"X would not show the account's posts: {detail}")
    return Permanent(f"X refused the post: {detail}", nothing_sent=True)


DESCRIPTION = Description(
    platform=Platform.X,
    label="X",
    limit=280,
    count=count,
    counting="A link counts as 23 characters; most emoji and Chinese, Japanese or Korean "
    "characters count as 2.",
    fields=(
        Field(
            "api_key",
            "API key",
            "In the X developer portal: your app, Keys and tokens, Consumer keys.",
            secret=True,
        ),
        Field("api_key_secret", "API key secret", "Shown beside the API key.", secret=True),
        Field(
            "access_token",
            "Access token",
            "On the same page: Authentication tokens, Access token and secret. Set the "
            "app's permissions to Read and write first, or X refuses to post.",
            secret=True,
        ),
        Field(
            "access_token_secret",
            "Access token secret",
            "Shown beside the access token.",
            secret=True,
        ),
    ),
    load_adapter=XAdapter,
    guarantee=(
        "X takes no idempotency key. After an attempt that may have gone through, the next "
        "one looks for the post on the account (when the API plan allows reading), and X "
        "itself refuses a second post with the same words while it remembers the first."
    ),
    supports_images=False,
)
