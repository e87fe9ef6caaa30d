"""``/healthz``: is the database reachable, and how did each source's last crawl go."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from publisher.db import read_scope
from publisher.models import Crawl, Source

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    try:
        with read_scope() as session:
            session.execute(text("SELECT 1"))
            sources = []
            for source in session.scalars(select(Source).order_by(Source.name)):
                last = session.scalars(
                    select(Crawl)
                    .where(Crawl.source_id == source.id)
                    .order_by(Crawl.id.desc())
                    .limit(1)
                ).first()
                sources.append(
                    {
                        "name": source.name,
                        "last_crawl": None
                        if last is None
                        else {
                            "finished_at": last.finished_at.isoformat()
                            if last.finished_at
                            else None,
                            "status": last.status.value,
                            "error": last.error,
                        },
                    }
                )
    except SQLAlchemyError as exc:
        return jsonify({"status": "error", "database": str(exc.__class__.__name__)}), 503
    return jsonify({"status": "ok", "sources": sources})
