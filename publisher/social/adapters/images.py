"""Fetch a post's image (from the council's own site, usually) to upload it.

The address is an editor's: it goes through ``publisher.outgoing`` (public addresses
only, redirects checked), the whole fetch has a deadline, and the size is capped before
and while reading. Errors say what to do without internal detail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from publisher import outgoing
from publisher.outgoing.urls import mask_credentials
from publisher.social.adapters.base import Permanent, Retryable, http_session, refused, timeout

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
# The whole fetch, however slowly the image arrives.
IMAGE_DEADLINE = 30.0


@dataclass(frozen=True)
class Image:
    data: bytes
    mime_type: str


def _too_large(max_bytes: int) -> Permanent:
    return Permanent(f"The image is too large: the limit here is {max_bytes // 1000:,} KB.")


def fetch_image(url: str, settings: dict[str, Any], max_bytes: int) -> Image:
    try:
        with (
            outgoing.deadline(float(settings.get("image_deadline", IMAGE_DEADLINE))),
            http_session(settings) as http,
            http.get(url, timeout=timeout(settings), stream=True) as response,
        ):
            if response.status_code >= 500:
                raise Retryable(
                    f"The image could not be fetched: the site answered {response.status_code}."
                )
            if not response.ok:
                raise Permanent(
                    f"The image could not be fetched: {mask_credentials(url)} answered "
                    f"{response.status_code}. Check the image address."
                )
            mime = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if mime not in IMAGE_TYPES:
                raise Permanent(
                    f"The image address does not give a PNG, JPEG, GIF or WebP "
                    f"image (it gives {mime[:40] or 'no type'})."
                )
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _too_large(max_bytes)
            data = bytearray()
            for chunk in response.iter_content(64 * 1024):
                data += chunk
                if len(data) > max_bytes:
                    raise _too_large(max_bytes)
    except outgoing.Refused as exc:
        raise refused("image", exc) from exc
    except requests.RequestException as exc:
        raise Retryable(f"The image could not be fetched: {outgoing.plain_reason(exc)}.") from exc
    return Image(bytes(data), mime)


def image_of(outgoing: Any, max_bytes: int) -> Image:
    """The post's image: the uploaded bytes when there are some, else fetched from its
    address (issue 13.6)."""
    if outgoing.image_data is not None and outgoing.image_type in IMAGE_TYPES:
        if len(outgoing.image_data) > max_bytes:
            raise _too_large(max_bytes)
        return Image(outgoing.image_data, outgoing.image_type)
    return fetch_image(outgoing.image_url, outgoing.settings, max_bytes)
