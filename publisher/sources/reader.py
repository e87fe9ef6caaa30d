"""Read raw service records from an ORUK API (v1 or 3.0) or a JSON file.

A reader yields raw records in order and tells, at the end, how many the directory
said it had. It raises ``SourceError`` when the directory cannot be read completely:
the crawl then records itself as incomplete and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from publisher.sources.client import FetchError, HttpClient


class SourceError(Exception):
    """The directory could not be read completely."""


@dataclass
class Envelope:
    items: list[Any]
    total_items: int | None
    total_pages: int | None
    last: bool | None
    version: str | None
    # The page length the directory says it uses (``size``), if it says.
    size: int | None = None


def parse_envelope(body: Any, where: str) -> Envelope:
    """Both envelopes: v1 ``content``/``totalPages`` and v3 ``contents``/``total_pages``."""
    if isinstance(body, list):  # some exports are a bare array of services
        return Envelope(body, len(body), 1, True, None)
    if not isinstance(body, dict):
        raise SourceError(f"{where} is not a services page (expected an object or a list)")
    if isinstance(body.get("contents"), list):
        return Envelope(
            body["contents"],
            _count(body.get("total_items")),
            _count(body.get("total_pages")),
            body.get("last_page") if isinstance(body.get("last_page"), bool) else None,
            "3",
            _count(body.get("size")),
        )
    if isinstance(body.get("content"), list):
        return Envelope(
            body["content"],
            _count(body.get("totalElements")),
            _count(body.get("totalPages")),
            body.get("last") if isinstance(body.get("last"), bool) else None,
            "1",
            _count(body.get("size")),
        )
    if body.get("empty") is True or body.get("total_items") == 0 or body.get("totalElements") == 0:
        return Envelope([], 0, 0, True, None)
    raise SourceError(f"{where} has no 'contents' (ORUK 3.0) or 'content' (ORUK v1) list")


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def short_page(lengths: list[int], declared_size: int | None) -> str | None:
    """Why the pages look cut short, or None. Every page but the last should be full: as
    long as the longest page before the last, or the page length the directory declared
    (when it is no more than we asked for). A directory that suddenly serves half-filled
    pages would otherwise pass for a smaller directory, and its services for closures."""
    while len(lengths) > 1 and lengths[-1] == 0:
        lengths = lengths[:-1]  # the empty page that told us we had reached the end
    before_last = lengths[:-1]
    if not before_last:
        return None
    full = max(max(before_last), declared_size or 0)
    for number, length in enumerate(before_last, start=1):
        if length < full:
            return (
                f"page {number} had {length} services where a full page has {full}, and it "
                "was not the last page: the directory looks incomplete"
            )
    return None


@dataclass
class ReadResult:
    """Filled in as the reader goes; read once iteration has finished."""

    version: str | None = None
    declared_total: int | None = None
    pages: int = 0
    items_seen: int = 0
    # page number -> SHA-256 of its bytes, kept by a complete crawl for the next one
    fingerprints: dict[str, str] = field(default_factory=dict)


@dataclass
class ApiReader:
    base_url: str
    client: HttpClient
    page_size: int = 100
    max_pages: int = 10_000
    known_version: str | None = None
    previous_pages: dict[str, str] = field(default_factory=dict)
    result: ReadResult = field(default_factory=ReadResult)

    def detect_version(self) -> str | None:
        """ORUK 3.0 answers ``GET /`` with its version; v1 APIs usually do not."""
        try:
            body = self.client.get_json(self.base_url.rstrip("/") + "/")
        except FetchError:
            return None
        if isinstance(body, dict) and isinstance(body.get("version"), str):
            version = body["version"].strip()
            return "3" if version.startswith("3") else version.split(".")[0] or None
        return None

    def records(self) -> Iterator[tuple[Any, bool]]:
        """Each raw record, with True when its page's bytes are the same as at the last
        complete crawl (``previous_pages``), so the caller may skip work on it."""
        # ``GET /`` only until the version is known: the envelope tells it on every page.
        self.result.version = self.known_version or self.detect_version()
        url = self.base_url.rstrip("/") + "/services"
        page = 1
        lengths: list[int] = []
        declared_size: int | None = None
        while True:
            if page > self.max_pages:
                raise SourceError(f"stopped after {self.max_pages} pages (CRAWL_MAX_PAGES)")
            try:
                body, fingerprint = self.client.get_json_and_digest(
                    url, {"page": page, "per_page": self.page_size}
                )
            except FetchError as exc:
                raise SourceError(f"page {page}: {exc}") from exc
            envelope = parse_envelope(body, f"page {page}")
            self.result.pages += 1
            self.result.fingerprints[str(page)] = fingerprint
            same = self.previous_pages.get(str(page)) == fingerprint
            if envelope.version is not None:
                self.result.version = envelope.version
            if page == 1:
                self.result.declared_total = envelope.total_items
            self.result.items_seen += len(envelope.items)
            lengths.append(len(envelope.items))
            if envelope.size and envelope.size <= self.page_size:
                declared_size = max(declared_size or 0, envelope.size)
            for item in envelope.items:
                yield item, same
            # Count items rather than trusting ``size``; stop on the first sign of the end.
            if not envelope.items or envelope.last is True:
                break
            if envelope.total_pages is not None and page >= envelope.total_pages:
                break
            page += 1
        short = short_page(lengths, declared_size)
        if short is not None:
            raise SourceError(short)

    def detail(self, entry_id: str) -> Any:
        """The full record; a 404 means this record is broken, anything else stops the crawl."""
        url = self.base_url.rstrip("/") + "/services/" + quote(entry_id, safe="")
        try:
            return self.client.get_json(url)
        except FetchError as exc:
            if exc.status in (404, 410):
                return None
            raise SourceError(f"service {entry_id}: {exc}") from exc


@dataclass
class FileReader:
    path: Path
    result: ReadResult = field(default_factory=ReadResult)

    previous_pages: dict[str, str] = field(default_factory=dict)

    def records(self) -> Iterator[tuple[Any, bool]]:
        try:
            data = self.path.read_bytes()
            body = json.loads(data)
        except FileNotFoundError as exc:
            raise SourceError(f"file {self.path} does not exist") from exc
        except OSError as exc:
            raise SourceError(f"cannot read {self.path}: {exc.strerror}") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise SourceError(f"{self.path} is not valid JSON: {exc}") from exc
        envelope = parse_envelope(body, str(self.path))
        self.result.version = envelope.version
        self.result.pages = 1
        self.result.items_seen = len(envelope.items)
        # A saved page of a larger directory says how many there were in all; we only
        # have this page, so the file is complete by definition.
        self.result.declared_total = len(envelope.items)
        fingerprint = hashlib.sha256(data).hexdigest()
        self.result.fingerprints["1"] = fingerprint
        same = self.previous_pages.get("1") == fingerprint
        for item in envelope.items:
            yield item, same

    def detail(self, entry_id: str) -> Any:
        return None
