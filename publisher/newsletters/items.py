"""From change-log rows to the items an edition announces.

Rules (issue 3 and the change log's own):
- ``became_stale`` is for the council, never news; an update with ``notable=False``
  (only bookkeeping such as the assured date) is not news;
- several changes to one entry in a window collapse into one item in its latest state:
  added (or reopened) then updated is "new"; updated then removed is "no longer
  available"; added then removed in the same window is not mentioned at all;
- an entry whose latest snapshot is stale is never announced.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from publisher.change_words import merge_details, sentences
from publisher.changes import changed_words
from publisher.models import Change, ChangeKind
from publisher.subscriptions.follows import follow_url

NEW, CHANGED, REMOVED = "new", "changed", "removed"
GROUP_ORDER = (NEW, CHANGED, REMOVED)
SUMMARY_LIMIT = 300
WRAP = 72

ADULTHOOD_BAND = "16-25"
ADULTHOOD_CATEGORY = "preparing-for-adulthood"
YOUNGER_BANDS = frozenset({"0-5", "5-11"})


def _shorten(text: str) -> str:
    text = " ".join((text or "").split())
    if len(text) <= SUMMARY_LIMIT:
        return text
    return text[: SUMMARY_LIMIT - 1].rsplit(" ", 1)[0] + "…"


def _ages(snapshot: dict[str, Any]) -> str:
    lo, hi = snapshot.get("minimum_age"), snapshot.get("maximum_age")
    if lo is None and hi is None:
        return "Any age"
    if lo is None:
        return f"Up to age {hi}"
    if hi is None:
        return f"Age {lo} and over"
    return f"Ages {lo} to {hi}"


def is_adulthood(snapshot: dict[str, Any]) -> bool:
    """Belongs in the "16-25: preparing for adulthood" section: about preparing for
    adulthood, or for young people 16-25 and not for younger children too."""
    bands = set(snapshot.get("age_bands") or ())
    if ADULTHOOD_CATEGORY in (snapshot.get("categories") or ()):
        return True
    return ADULTHOOD_BAND in bands and not bands & YOUNGER_BANDS


def needs_note_applies(item: Mapping[str, Any]) -> bool:
    """The item would carry the "no need is listed" note for a reader who chose a need:
    a service still in the Local Offer that names no area of need. (A removed one says
    only that it has gone.) Building splits variants on it, rendering shows it."""
    return bool(item.get("needs_untagged")) and item.get("group") in (NEW, CHANGED)


def _item(group: str, latest: Change, updates: Sequence[Change]) -> dict[str, Any]:
    snap = dict(latest.snapshot or {})
    fields = [f for c in updates for f in c.changed_fields]
    details = merge_details([(c.changed_fields, c.details or {}) for c in updates])
    summary = _shorten(str(snap.get("summary") or ""))
    words = changed_words(list(fields))
    what_changed = sentences(fields, details, snap) if group == CHANGED else []
    return {
        "key": f"{snap.get('source', latest.source_id)}:{latest.entry_id}",
        "group": group,
        "change_id": latest.id,
        "name": snap.get("name") or latest.name,
        "summary": summary,
        # Wrapped once here, not per subscriber (wordwrap is the costliest part of a
        # plain-text render).
        "summary_text": textwrap.fill(summary, WRAP) if summary else "",
        "page_url": snap.get("page_url") or snap.get("url") or "",
        "organisation": snap.get("organisation") or "",
        "ages": _ages(snap),
        "changed": words,
        # "Ages 14 to 25 (was 16 to 25)." rather than "What changed: ages".
        "what_changed": what_changed,
        "what_changed_text": textwrap.fill("What changed: " + " ".join(what_changed), WRAP)
        if what_changed
        else "",
        "paid": bool(snap.get("paid")),
        # Matching shows an entry with no need to everyone who chose a need; their email
        # says why, so it does not look like a mistake (see ``needs_note_applies``).
        "needs_untagged": not snap.get("needs"),
        "adulthood": is_adulthood(snap),
        # What matching reads (publisher.subscriptions.matching.matches).
        "age_bands": list(snap.get("age_bands") or []),
        "needs": list(snap.get("needs") or []),
        "categories": list(snap.get("categories") or []),
        "localities": list(snap.get("localities") or []),
        "stale": bool(snap.get("stale")),
        # "Follow this service" (issue 14), beside each item still in the Local Offer.
        "follow_url": "" if group == REMOVED else follow_url(snap.get("source"), latest.entry_id),
    }


def collapse(changes: Iterable[Change]) -> list[dict[str, Any]]:
    """Items for an edition, in display order (new, changed, removed; then by name)."""
    by_entry: dict[tuple[int, str], list[Change]] = {}
    for change in sorted(changes, key=lambda c: (c.occurred_at, c.id)):
        if change.kind is ChangeKind.BECAME_STALE:
            continue
        if change.kind is ChangeKind.UPDATED and not change.notable:
            continue
        by_entry.setdefault((change.source_id, change.entry_id), []).append(change)
    items = []
    for history in by_entry.values():
        latest = history[-1]
        kinds = [c.kind for c in history]
        if (latest.snapshot or {}).get("stale"):
            continue
        if latest.kind is ChangeKind.REMOVED:
            if ChangeKind.ADDED in kinds:
                continue  # came and went within the window: nothing to tell
            group = REMOVED
        elif ChangeKind.ADDED in kinds:
            group = NEW
        elif (
            ChangeKind.REOPENED in kinds
            and ChangeKind.REMOVED in kinds[: kinds.index(ChangeKind.REOPENED)]
        ):
            # Gone and back within the window (a blip in the directory): families were
            # told nothing of the removal, so the return is not news either; only real
            # updates in between are.
            if not any(c.kind is ChangeKind.UPDATED for c in history):
                continue
            group = CHANGED
        elif ChangeKind.REOPENED in kinds:
            group = NEW
        else:
            group = CHANGED
        updates = [c for c in history if c.kind is ChangeKind.UPDATED]
        items.append(_item(group, latest, updates))
    items.sort(key=lambda i: (GROUP_ORDER.index(i["group"]), str(i["name"]).lower(), i["key"]))
    return items
