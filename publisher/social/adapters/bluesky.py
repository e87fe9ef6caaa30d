"""Bluesky, through the atproto SDK (pinned: atproto==0.0.73).

The record key is a TID chosen (and committed) before the first call. Each attempt first
asks the PDS for the record at that key: if it is there, the earlier attempt succeeded
and we record it; if not (a clear 400 RecordNotFound), we create it at that key. The PDS
refuses a second record at the same key, so a post cannot appear twice.

The text carries a link facet at UTF-8 byte offsets, tag facets for hashtags, and an
external link card (app.bsky.embed.external).
"""

from __future__ import annotations

import os
import threading
import time

import httpx
from atproto import Client, models
from atproto_client.exceptions import (
    AtProtocolError,
    BadRequestError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    RequestException,
    UnauthorizedError,
)
from atproto_client.request import Request

from publisher import outgoing as outgoing_http
from publisher.outgoing.httpx_transport import httpx_transport
from publisher.social import rules
from publisher.social.adapters.base import (
    REQUEST_DEADLINE,
    Outgoing,
    Permanent,
    Published,
    Retryable,
    never_connected,
    refused,
    timeout,
)
from publisher.social.adapters.images import image_of

COLLECTION = "app.bsky.feed.post"
# app.bsky.embed.images: each image at most 1,000,000 bytes.
MAX_IMAGE_BYTES = 1_000_000
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_tid_lock = threading.Lock()
_last_tid_us = 0
_CLOCK_ID = int.from_bytes(os.urandom(2), "big") & 0x3FF


def new_tid() -> str:
    """A record key in the TID format: 53 bits of microseconds since the epoch and 10 bits
    of clock id, in base32-sortable, 13 characters. Increasing within a process."""
    global _last_tid_us
    with _tid_lock:
        now = time.time_ns() // 1000
        _last_tid_us = max(now, _last_tid_us + 1)
        value = (_last_tid_us << 10) | _CLOCK_ID
    chars = []
    for _ in range(13):
        chars.append(TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def byte_span(text: str, part: str, start_at: int = 0) -> tuple[int, int] | None:
    """UTF-8 byte offsets of ``part`` in ``text``, as Bluesky facets need them."""
    index = text.find(part, start_at)
    if index < 0:
        return None
    start = len(text[:index].encode("utf-8"))
    return start, start + len(part.encode("utf-8"))


def facets(text: str, link: str | None) -> list[models.AppBskyRichtextFacet.Main]:
    out: list[models.AppBskyRichtextFacet.Main] = []
    for url in rules.urls(text):
        span = byte_span(text, url)
        if span is not None:
            out.append(
                models.AppBskyRichtextFacet.Main(
                    index=models.AppBskyRichtextFacet.ByteSlice(
                        byte_start=span[0], byte_end=span[1]
                    ),
                    features=[models.AppBskyRichtextFacet.Link(uri=url)],
                )
            )
    for match in rules.HASHTAG_RE.finditer(rules.without_urls(text)):
        start = len(text[: match.start()].encode("utf-8"))
        end = len(text[: match.end()].encode("utf-8"))
        out.append(
            models.AppBskyRichtextFacet.Main(
                index=models.AppBskyRichtextFacet.ByteSlice(byte_start=start, byte_end=end),
                features=[models.AppBskyRichtextFacet.Tag(tag=match.group(1))],
            )
        )
    return out


def build_record(
    outgoing: Outgoing, created_at: str, image: models.BlobRef | None = None
) -> models.AppBskyFeedPost.Record:
    embed: models.AppBskyEmbedImages.Main | models.AppBskyEmbedExternal.Main | None = None
    if image is not None:
        # One embed per post: with an image, the link is still a facet in the text.
        embed = models.AppBskyEmbedImages.Main(
            images=[models.AppBskyEmbedImages.Image(alt=outgoing.image_alt or "", image=image)]
        )
    elif outgoing.link:
        embed = models.AppBskyEmbedExternal.Main(
            external=models.AppBskyEmbedExternal.External(
                uri=outgoing.link,
                title=outgoing.link_title or outgoing.link,
                description=outgoing.link_description or "",
            )
        )
    return models.AppBskyFeedPost.Record(
        text=outgoing.text,
        facets=facets(outgoing.text, outgoing.link) or None,
        embed=embed,
        langs=[str(outgoing.settings.get("language", "en"))],
        created_at=created_at,
    )


class BlueskyAdapter:
    def publish(self, outgoing: Outgoing) -> Published:
        if not outgoing.rkey:
            raise Permanent("No record key was chosen before publishing (a bug).")
        connect, read = timeout(outgoing.settings)
        service_url = str(outgoing.settings["service_url"])
        # Only public addresses (or allowed ones), checked where each socket is made,
        # redirects included; no request may run past the deadline.
        request = Request(timeout=httpx.Timeout(read, connect=connect), transport=httpx_transport())
        client = Client(base_url=service_url.rstrip("/") + "/xrpc", request=request)
        try:
            outgoing_http.check_url(service_url)
            with outgoing_http.deadline(float(outgoing.settings.get("deadline", REQUEST_DEADLINE))):
                return self._publish(client, outgoing)
        except outgoing_http.Refused as exc:
            raise refused("Bluesky server", exc) from exc
        except outgoing_http.DeadlineExceeded as exc:
            raise Retryable(f"Bluesky did not answer in time ({exc}).") from exc
        finally:
            request.close()

    def _publish(self, client: Client, outgoing: Outgoing) -> Published:
        assert outgoing.rkey is not None
        try:
            client.login(str(outgoing.settings["handle"]), outgoing.credentials["app_password"])
            assert client.me is not None
            repo = client.me.did
            existing = self._get(client, repo, outgoing.rkey)
            if existing is not None:
                return Published(
                    post_id=existing.uri, url=_web_url(outgoing, outgoing.rkey), reconciled=True
                )
            blob = None
            if outgoing.image_url:
                image = image_of(outgoing, MAX_IMAGE_BYTES)
                blob = client.upload_blob(image.data).blob
            record = build_record(outgoing, client.get_current_time_iso(), blob)
            created = client.com.atproto.repo.create_record(
                models.ComAtprotoRepoCreateRecord.Data(
                    repo=repo, collection=COLLECTION, rkey=outgoing.rkey, record=record
                )
            )
        except RequestErrorBase as exc:
            raise _classify(exc) from exc
        except AtProtocolError as exc:
            raise Permanent(f"Bluesky could not take the post: {exc}") from exc
        return Published(post_id=created.uri, url=_web_url(outgoing, outgoing.rkey))

    def _get(
        self, client: Client, repo: str, rkey: str
    ) -> models.ComAtprotoRepoGetRecord.Response | None:
        try:
            return client.com.atproto.repo.get_record(
                models.ComAtprotoRepoGetRecord.Params(repo=repo, collection=COLLECTION, rkey=rkey)
            )
        except BadRequestError as exc:
            if exc.response is not None and _error_name(exc) == "RecordNotFound":
                return None
            raise


def _error_name(exc: RequestErrorBase) -> str | None:
    content = exc.response.content if exc.response is not None else None
    if isinstance(content, dict):
        return content.get("error")
    return getattr(content, "error", None)


def _web_url(outgoing: Outgoing, rkey: str) -> str:
    return f"https://bsky.app/profile/{outgoing.settings['handle']}/post/{rkey}"


def _classify(exc: RequestErrorBase) -> Exception:
    if isinstance(exc, RateLimitExceededError):
        wait = exc.retry_after
        if wait is None and exc.reset_at is not None:
            wait = max(exc.reset_at.timestamp() - time.time(), 0.0)
        return Retryable(
            "Bluesky says we are posting too often (rate limit).", wait, nothing_sent=True
        )
    if isinstance(exc, UnauthorizedError):
        return Permanent(
            f"Bluesky did not accept the handle and app password ({exc}). "
            "An admin needs to enter them again.",
            nothing_sent=True,
        )
    if isinstance(exc, NetworkError):
        # General words: the same for a closed port as for a slow server.
        return Retryable(
            "Could not reach Bluesky: could not connect to the server.",
            nothing_sent=never_connected(exc),
        )
    if isinstance(exc, BadRequestError):
        if _error_name(exc) in ("ExpiredToken", "InvalidToken"):
            return Retryable(f"Bluesky session expired ({exc}).")
        return Permanent(f"Bluesky rejected the post: {exc}")
    status = exc.response.status_code if exc.response is not None else None
    if isinstance(exc, RequestException) and (status is None or status >= 500):
        return Retryable(f"Bluesky had a server error ({exc}).")
    return Permanent(f"Bluesky rejected the post: {exc}")
