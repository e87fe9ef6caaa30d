"""What a change would announce on social media (one place: drafting and the weekly
round-up both ask)."""

from __future__ import annotations

from publisher.changes import CLOSED_STATUSES
from publisher.models import Change, ChangeKind


def post_kind(change: Change) -> str | None:
    """What a change would announce, or None when it is not news."""
    snap = change.snapshot or {}
    if change.kind is ChangeKind.BECAME_STALE or snap.get("stale"):
        return None
    if change.kind is ChangeKind.ADDED:
        return "added"
    if change.kind is ChangeKind.REOPENED:
        return "reopened"
    if change.kind is ChangeKind.REMOVED:
        return "closed"
    if change.kind is ChangeKind.UPDATED and change.notable:
        status = (change.details or {}).get("status", {}).get("new")
        return "closed" if status in CLOSED_STATUSES else "updated"
    return None
