"""Which changes are news for a feed, and how each one reads to a family.

Pure functions over change rows (or their plain values): no database, no network.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import nh3

from publisher.change_words import sentences
from publisher.models import ChangeKind
from publisher.topics import AGE_BAND_LABELS, CATEGORIES, NEEDS, OUT_OF_AREA

# Kinds families hear about. became_stale is for the council only.
PUBLISHED_KINDS: frozenset[ChangeKind] = frozenset(
    {ChangeKind.ADDED, ChangeKind.UPDATED, ChangeKind.REOPENED, ChangeKind.REMOVED}
)

TITLE_PREFIX: dict[ChangeKind, str] = {
    ChangeKind.ADDED: "New",
    ChangeKind.UPDATED: "Updated",
    ChangeKind.REOPENED: "Back again",
    ChangeKind.REMOVED: "No longer available",
}

SUMMARY_LIMIT = 400


def is_published(kind: ChangeKind, notable: bool, snapshot: Mapping[str, Any]) -> bool:
    """News for families: added, reopened, removed, and updates that matter; never a
    change to an entry that is stale (its details have not been checked for too long)."""
    if kind not in PUBLISHED_KINDS:
        return False
    if kind is ChangeKind.UPDATED and not notable:
        return False
    return not snapshot.get("stale", False)


@dataclass(frozen=True)
class FeedItem:
    change_id: int
    id: str
    title: str
    summary: str
    link: str
    categories: tuple[tuple[str, str], ...]  # (term, label)
    published: dt.datetime
    updated: dt.datetime


def _is_web_link(value: Any) -> bool:
    # Directories are not trusted: a "javascript:" or relative link never reaches a reader.
    return isinstance(value, str) and value.lower().startswith(("https://", "http://"))


def entry_id(authority: str, change_id: int) -> str:
    """A tag: URI (RFC 4151) that never changes for a change."""
    return f"tag:{authority},2026:change-{change_id}"


# Characters XML 1.0 forbids (lxml refuses them) and lone surrogates (not UTF-8).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _clean(text: Any) -> str:
    # One line of text that any XML or JSON document can carry: feeds and readers show
    # titles and summaries on one line, and a stray control character must not stop a
    # whole feed from building.
    return " ".join(_NOT_XML.sub("", str(text or "")).split())


def plain_name(text: Any) -> str:
    """A service name as plain text with no markup in it.

    Names are plain text, but some RSS readers render titles as HTML, so tags a
    directory let through are dropped (with a script's content) and any angle bracket
    left is swapped for a look-alike that no reader takes for markup.
    """
    value = _clean(text)
    for _ in range(3):  # entities can hide tags ("&lt;script&gt;"): unwrap a few times
        cleaned = html.unescape(nh3.clean(value, tags=set()))
        if cleaned == value:
            break
        value = cleaned
    return _clean(value.replace("<", "‹").replace(">", "›"))


def _shorten(text: str, limit: int = SUMMARY_LIMIT) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + "…"


def _ages(snapshot: Mapping[str, Any]) -> str:
    low, high = snapshot.get("minimum_age"), snapshot.get("maximum_age")
    if isinstance(low, int) and isinstance(high, int):
        return f"For ages {low} to {high}."
    if isinstance(low, int):
        return f"For ages {low} and over."
    if isinstance(high, int):
        return f"For ages up to {high}."
    return ""


def title_for(
    kind: ChangeKind, snapshot: Mapping[str, Any], locality_labels: Mapping[str, str]
) -> str:
    name = plain_name(snapshot.get("name")) or "A service"
    title = f"{TITLE_PREFIX[kind]}: {name}"
    # "in Scunthorpe" when the service is in exactly one of the council's localities.
    places = [p for p in snapshot.get("localities") or [] if p != OUT_OF_AREA]
    if len(places) == 1 and places[0] in locality_labels:
        label = locality_labels[places[0]]
        if label.lower() not in name.lower():
            title += f" in {label}"
    return title


def summary_for(
    kind: ChangeKind,
    snapshot: Mapping[str, Any],
    changed_fields: Sequence[str],
    details: Mapping[str, Any] | None = None,
) -> str:
    about = _shorten(_clean(snapshot.get("summary")))
    ages = _ages(snapshot)
    if kind is ChangeKind.REMOVED:
        lead = "This service has been taken off the Local Offer."
        return " ".join(p for p in (lead, about) if p)
    if kind is ChangeKind.REOPENED:
        lead = "This service is back on the Local Offer."
    elif kind is ChangeKind.UPDATED:
        told = sentences(changed_fields, details or {}, snapshot)
        lead = f"What changed: {' '.join(told)}" if told else "Some details have changed."
    else:
        lead = ""
    return " ".join(p for p in (lead, about, ages) if p) or "No description given."


def categories_for(
    snapshot: Mapping[str, Any], locality_labels: Mapping[str, str]
) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for slug in snapshot.get("categories") or []:
        found.append((slug, CATEGORIES.get(slug, slug)))
    for slug in snapshot.get("age_bands") or []:
        found.append((slug, AGE_BAND_LABELS.get(slug, slug)))
    for slug in snapshot.get("needs") or []:
        found.append((slug, NEEDS.get(slug, slug)))
    for slug in snapshot.get("localities") or []:
        label = "Out of area" if slug == OUT_OF_AREA else locality_labels.get(slug, slug)
        found.append((slug, label))
    # Topics come from our own vocabulary, but the snapshot is data: clean it all the same.
    return tuple((t, plain_name(lb)) for s, lb in found if (t := _clean(s)) and plain_name(lb))


def link_for(snapshot: Mapping[str, Any], fallback_link: str) -> str:
    """The service's page on the Local Offer (else the provider's), never a non-web link."""
    link = next(
        (u for u in (snapshot.get("page_url"), snapshot.get("url")) if _is_web_link(u)),
        fallback_link,
    )
    return _clean(link).replace(" ", "%20")


def item_for(
    *,
    change_id: int,
    kind: ChangeKind,
    occurred_at: dt.datetime,
    changed_fields: Sequence[str],
    snapshot: Mapping[str, Any],
    authority: str,
    details: Mapping[str, Any] | None = None,
    fallback_link: str,
    locality_labels: Mapping[str, str],
) -> FeedItem:
    return FeedItem(
        change_id=change_id,
        id=entry_id(authority, change_id),
        title=title_for(kind, snapshot, locality_labels),
        summary=summary_for(kind, snapshot, changed_fields, details),
        link=link_for(snapshot, fallback_link),
        categories=categories_for(snapshot, locality_labels),
        published=occurred_at,
        updated=occurred_at,
    )
