"""Registering a directory to crawl (an ORUK API base URL or a JSON file), and an
officer's answer to a held crawl."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.models import Crawl, CrawlStatus, Source, SourceKind
from publisher.outgoing.urls import has_credentials


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
        if has_credentials(location):
            # It would be shown on the Sources page and in `source list`, and sent to
            # whatever the address redirects to.
            raise ValueError(
                "the address has a user name or password in it (user:pass@); we do not "
                "store or send those. Give the address without them"
            )
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


def last_crawl(session: Session, source_id: int) -> Crawl | None:
    return session.scalars(
        select(Crawl).where(Crawl.source_id == source_id).order_by(Crawl.id.desc()).limit(1)
    ).first()


def confirm_removals(session: Session, source: Source) -> int:
    """Let the next crawl of ``source`` remove as many entries as its last, held crawl
    would have (or fewer); return that number. ValueError if the last crawl was not held."""
    last = last_crawl(session, source.id)
    if last is None or last.status is not CrawlStatus.HELD:
        raise ValueError(
            f"the last crawl of {source.name} was not held: there is nothing to confirm"
        )
    count = int(last.counts.get("would_remove", 0))
    source.removals_confirmed = count
    return count
