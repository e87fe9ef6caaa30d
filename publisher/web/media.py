"""Uploaded post images, served from our own site (issue 13.6): the address is random,
and the answer is only ever the image itself (its type fixed when it was checked)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort
from sqlalchemy import select

from publisher.db import session_scope
from publisher.models.post_images import PostImage

bp = Blueprint("media", __name__)


@bp.get("/media/posts/<token>.<ext>")
def post_image(token: str, ext: str) -> Any:
    if len(token) > 64:
        abort(404)
    with session_scope() as session:
        image = session.scalars(select(PostImage).where(PostImage.token == token)).first()
        if image is None:
            abort(404)
        body, mime = image.data, image.mime_type
    response = Response(body, mimetype=mime)
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
