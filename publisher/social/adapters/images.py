"""Fetch a post's image (from the council's own site, usually) to upload it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from publisher.social.adapters.base import Permanent, Retryable, timeout

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


@dataclass(frozen=True)
class Image:
    data: bytes
    mime_type: str


def fetch_image(url: str, settings: dict[str, Any], max_bytes: int) -> Image:
    try:
        with requests.get(url, timeout=timeout(settings), stream=True) as response:
            if response.status_code >= 500:
                raise Retryable(
                    f"The image could not be fetched: the site answered {response.status_code}."
                )
            if not response.ok:
                raise Permanent(
                    f"The image could not be fetched: {url} answered "
                    f"{response.status_code}. Check the image address."
                )
            mime = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if mime not in IMAGE_TYPES:
                raise Permanent(
                    f"The image address does not give a PNG, JPEG, GIF or WebP "
                    f"image (it gives {mime or 'no type'})."
                )
            data = b""
            for chunk in response.iter_content(64 * 1024):
                data += chunk
                if len(data) > max_bytes:
                    raise Permanent(
                        f"The image is too large: the limit here is {max_bytes // 1000:,} KB."
                    )
    except requests.RequestException as exc:
        raise Retryable(f"The image could not be fetched: {exc.__class__.__name__}.") from exc
    return Image(data, mime)
