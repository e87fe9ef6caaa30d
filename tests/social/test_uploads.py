"""Images uploaded as files (issue 13.6): the type read from the bytes, the size capped
for the post's platform, stored with the post, served from our own site, and handed to
the platform as the stored bytes."""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from publisher.models import Platform, PostImage, User
from publisher.social import approve
from publisher.social.errors import SocialError
from publisher.social.publishing import publish_due
from publisher.social.uploads import attach_upload, sniff
from publisher.web import create_app
from tests.factories import drafted_post
from tests.social.conftest import make_account
from tests.social.servers import FakePlatform as Fake
from tests.social.servers import MastodonHandler, serve

MASTODON_TOKEN = "mastodon-token-123456"
ALT = "Children painting at a long table in a bright room."


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.fixture()
def mastodon() -> Iterator[Fake]:
    with serve(MastodonHandler, MASTODON_TOKEN) as fake:
        yield fake


def test_the_file_type_comes_from_its_bytes_not_its_name() -> None:
    assert sniff(png()) == ("image/png", "png")
    assert sniff(b"\xff\xd8\xff\xe0rest") == ("image/jpeg", "jpg")
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == ("image/webp", "webp")
    assert sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    assert sniff(b"%PDF-1.7") is None


def test_bad_uploads_are_refused_and_change_nothing(
    session: Session, officers: dict[str, User]
) -> None:
    account = make_account(session, Platform.BLUESKY)
    post = drafted_post(session, account)
    editor = officers["editor"]
    with pytest.raises(SocialError, match="not a PNG, JPEG, GIF or WebP"):
        attach_upload(session, editor, post, b"<html><script>alert(1)</script>", ALT)
    with pytest.raises(SocialError, match="The limit for Bluesky is 1,000 KB"):
        attach_upload(session, editor, post, png() + b"\x00" * 1_000_001, ALT)
    with pytest.raises(SocialError, match="empty"):
        attach_upload(session, editor, post, b"", ALT)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(PostImage)) == 0
    assert post.image_url is None


def test_an_uploaded_image_is_stored_served_and_posted(
    session: Session, officers: dict[str, User], mastodon: Fake
) -> None:
    account = make_account(
        session,
        Platform.MASTODON,
        settings={"api_base_url": mastodon.url, "read_timeout": 2},
        creds={"access_token": MASTODON_TOKEN},
    )
    post = drafted_post(session, account)
    first, data = png(1, 1), png(3, 3)
    attach_upload(session, officers["editor"], post, first, ALT)
    attach_upload(session, officers["editor"], post, data, ALT)  # a different image
    session.commit()
    assert session.scalar(select(func.count()).select_from(PostImage)) == 1  # the old one went
    assert post.image_url is not None and "/media/posts/" in post.image_url
    path = post.image_url.split("://", 1)[1].split("/", 1)[1]
    served = create_app({"TESTING": True}).test_client().get("/" + path)
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.data == data and "sandbox" in served.headers["Content-Security-Policy"]
    approve(session, officers["approver"], post)
    session.commit()
    assert post.publish_at is not None
    assert publish_due(now=post.publish_at + dt.timedelta(seconds=1)) == {"published": 1}
    (status,) = mastodon.posts
    (media,) = status["media_attachments"]
    assert media["description"] == ALT and media["_size"] == len(data)
