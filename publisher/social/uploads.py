"""Images uploaded as files for a post (issue 13.6), rather than fetched from a web
address an officer types.

The file is hostile input: its type is read from its first bytes (never from its name
or the browser's claim), its size is capped (the smaller of our cap and the post's
platform's limit), and it is stored with the post. It is served from our own site at
an unguessable address (``publisher.web.media``), which is the post's ``image_url``:
Facebook fetches it from there, and Mastodon and Bluesky get the stored bytes directly.
"""

from __future__ import annotations

import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from publisher.config import get_settings
from publisher.models.post_images import PostImage
from publisher.models.social import Platform, Post
from publisher.models.users import User
from publisher.social.errors import SocialError
from publisher.social.platforms import describe
from publisher.social.queue import edit_post

MAX_UPLOAD_BYTES = 5_000_000
# The platforms' own limits where they are lower than ours.
PLATFORM_LIMITS: dict[Platform, int] = {Platform.BLUESKY: 1_000_000}
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"GIF87a", "image/gif", "gif"),
    (b"GIF89a", "image/gif", "gif"),
)
MEDIA_PATH = "/media/posts/"


def sniff(data: bytes) -> tuple[str, str] | None:
    """(MIME type, extension) from the file's first bytes, or None if not an image we take."""
    for magic, mime, ext in SIGNATURES:
        if data.startswith(magic):
            return mime, ext
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def limit_for(platform: Platform) -> int:
    return min(MAX_UPLOAD_BYTES, PLATFORM_LIMITS.get(platform, MAX_UPLOAD_BYTES))


def media_url(token: str, ext: str) -> str:
    return f"{get_settings().public_base_url}{MEDIA_PATH}{token}.{ext}"


def attach_upload(
    session: Session, actor: User | None, post: Post, data: bytes, image_alt: str
) -> Post:
    """Check and store ``data`` as the post's image (replacing any earlier upload), and
    point the post at it through ``edit_post`` (so the rules and the audit log apply)."""
    limit = limit_for(post.account.platform)
    if not data:
        raise SocialError("The image file is empty. Choose the file again.")
    if len(data) > limit:
        raise SocialError(
            f"The image is too large: {len(data) // 1000:,} KB. The limit for "
            f"{describe(post.account.platform).label} is {limit // 1000:,} KB."
        )
    found = sniff(data)
    if found is None:
        raise SocialError("The file is not a PNG, JPEG, GIF or WebP image.")
    mime, ext = found
    token = secrets.token_urlsafe(24)
    with session.begin_nested():
        image = PostImage(post_id=post.id, token=token, mime_type=mime, size=len(data), data=data)
        session.add(image)
        session.flush()
        edit_post(session, actor, post, image_url=media_url(token, ext), image_alt=image_alt)
        # The earlier upload (if any) is no longer the post's image.
        session.execute(
            delete(PostImage).where(PostImage.post_id == post.id, PostImage.token != token)
        )
    return post


def stored_image(session: Session, image_url: str | None) -> PostImage | None:
    """The uploaded image an ``image_url`` points at, if it is one of ours."""
    prefix = f"{get_settings().public_base_url}{MEDIA_PATH}"
    if not image_url or not image_url.startswith(prefix):
        return None
    token = image_url[len(prefix) :].rsplit(".", 1)[0]
    return session.scalars(select(PostImage).where(PostImage.token == token)).first()
