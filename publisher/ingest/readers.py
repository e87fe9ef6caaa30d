"""The reader factory: an ORUK API reader (with its HTTP client) or a file reader."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from publisher.config import Settings
from publisher.models import Source, SourceKind
from publisher.sources.client import ClientPolicy, HttpClient
from publisher.sources.reader import ApiReader, FileReader, ReadResult


class Reader(Protocol):
    result: ReadResult

    def records(self) -> Iterable[tuple[Any, bool]]: ...

    def detail(self, entry_id: str) -> Any: ...


def make_reader(source: Source, settings: Settings) -> tuple[Reader, HttpClient | None]:
    """A reader for this source; the client too for an API, so the caller can close it
    and count its requests."""
    previous = dict(source.page_fingerprints or {})
    if source.kind is SourceKind.FILE:
        return FileReader(Path(source.location), previous_pages=previous), None
    client = HttpClient(
        ClientPolicy(
            connect_timeout=settings.crawl_connect_timeout,
            read_timeout=settings.crawl_read_timeout,
            retries=settings.crawl_retries,
            backoff=settings.crawl_backoff,
            max_retry_after=settings.crawl_max_retry_after,
            min_interval=settings.crawl_min_request_interval,
        )
    )
    reader = ApiReader(
        source.location,
        client,
        page_size=settings.crawl_page_size,
        max_pages=settings.crawl_max_pages,
        known_version=source.oruk_version,
        previous_pages=previous,
    )
    return reader, client
