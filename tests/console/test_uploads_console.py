"""Uploading a post's image as a file through the console (issue 13.6)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from publisher.models import PostImage
from tests.social.test_uploads import ALT, png

pytestmark = pytest.mark.date_sensitive


def test_the_console_takes_an_image_file(sign_in, session, draft) -> None:
    editor = sign_in("editor")
    page = editor.get(f"/console/posts/{draft.id}").get_data(as_text=True)
    assert 'type="file"' in page and 'enctype="multipart/form-data"' in page
    token = editor.token(f"/console/posts/{draft.id}")
    response = editor.client.post(
        f"/console/posts/{draft.id}",
        data={
            "csrf_token": token,
            "text": draft.text,
            "image_alt": ALT,
            "image_url": "",
            "action": "save",
            "image_file": (io.BytesIO(png()), "painting.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    image = session.scalars(select(PostImage)).one()
    assert image.post_id == draft.id and image.mime_type == "image/png"
    bad = editor.client.post(
        f"/console/posts/{draft.id}",
        data={
            "csrf_token": token,
            "text": draft.text,
            "image_alt": ALT,
            "action": "save",
            "image_file": (io.BytesIO(b"not an image"), "evil.png"),
        },
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400
    assert "not a PNG, JPEG, GIF or WebP" in bad.get_data(as_text=True)
