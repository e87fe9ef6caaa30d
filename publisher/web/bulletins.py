"""Public pages for approved bulletins (issue 14): the list and one bulletin."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from publisher.bulletins.audience import describe
from publisher.db import session_scope
from publisher.models import Bulletin, BulletinState

bp = Blueprint("bulletins", __name__)


def _public(b: Bulletin) -> dict[str, Any]:
    return {
        "id": b.id,
        "title": b.title,
        "body_html": b.body_html,
        "link": b.link,
        "approved_at": b.approved_at,
        "audience": describe(b.audience or {}),
    }


@bp.get("/bulletins")
def bulletin_list() -> Any:
    with session_scope() as session:
        rows = [
            _public(b)
            for b in session.scalars(
                select(Bulletin)
                .where(Bulletin.state == BulletinState.APPROVED)
                .order_by(Bulletin.approved_at.desc(), Bulletin.id.desc())
                .limit(200)
            )
        ]
    return render_template("web/bulletins/list.html", bulletins=rows)


@bp.get("/bulletins/<int:bulletin_id>")
def bulletin_page(bulletin_id: int) -> Any:
    with session_scope() as session:
        b = session.get(Bulletin, bulletin_id)
        if b is None or b.state is not BulletinState.APPROVED:
            abort(404)
        page = _public(b)
    return render_template("web/bulletins/page.html", bulletin=page)
