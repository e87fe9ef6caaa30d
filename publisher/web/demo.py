"""Pages for the demo directory's entries, so that links in the demo's feeds, emails and
posts lead somewhere. Registered only when PUBLISHER_DEMO is set (``publisher run --demo``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from publisher.db import session_scope
from publisher.models import Entry, Source
from publisher.topics import AGE_BAND_LABELS, CATEGORIES, NEEDS

bp = Blueprint("demo", __name__, url_prefix="/demo")


@bp.get("/services/<entry_id>")
def service(entry_id: str) -> Any:
    with session_scope() as session:
        entry = session.scalar(
            select(Entry)
            .join(Source, Source.id == Entry.source_id)
            .where(Source.name == "demo", Entry.entry_id == entry_id)
        )
        if entry is None:
            abort(404)
        return render_template(
            "web/demo/service.html",
            entry=entry,
            bands=[AGE_BAND_LABELS[b] for b in entry.age_bands],
            needs=[NEEDS[n] for n in entry.needs],
            categories=[CATEGORIES[c] for c in entry.categories],
        )
