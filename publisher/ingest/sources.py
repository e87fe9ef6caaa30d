"""Registering a directory to crawl: an ORUK API base URL or a JSON file."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.models import Source, SourceKind


def looks_like_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def add_source(
    session: Session, name: str, location: str, page_url_template: str | None = None
) -> Source:
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("a source name must be 1 to 100 characters")
    if session.scalar(select(Source).where(Source.name == name)) is not None:
        raise ValueError(f"there is already a source called {name!r}")
    if looks_like_url(location):
        kind = SourceKind.ORUK_API
        location = location.rstrip("/")
    else:
        path = Path(location).expanduser()
        if not path.is_file():
            raise ValueError(f"{location} is neither an http(s) URL nor a file that exists")
        kind, location = SourceKind.FILE, str(path.resolve())
    if page_url_template is not None and "{id}" not in page_url_template:
        raise ValueError("the page URL template must contain {id}, where the entry id goes")
    source = Source(name=name, location=location, kind=kind, page_url_template=page_url_template)
    session.add(source)
    session.flush()
    return source
