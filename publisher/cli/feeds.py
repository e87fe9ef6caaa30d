"""``publisher feeds``: rebuild the stored feed documents by hand."""

from __future__ import annotations

from publisher.cli.common import fail, main, print_json_line, ready_database
from publisher.feeds.service import rebuild_feeds
from publisher.feeds.websub import HubError


@main.group()
def feeds() -> None:
    """RSS, Atom and JSON feeds of the change log."""


@feeds.command("rebuild")
def feeds_rebuild() -> None:
    """Bring every feed up to the newest change (what the Celery task does) and tell the
    WebSub hub, if one is set, about the feeds that changed."""
    ready_database()
    try:
        result = rebuild_feeds()
    except HubError as exc:
        fail(f"feeds rebuilt, but the WebSub hub was not told: {exc}")
        return
    print_json_line(
        {
            "newest_change_id": result.newest_change_id,
            "built": len(result.built),
            "rewritten": len(result.rewritten),
            "unchanged": result.unchanged,
            "dropped": result.dropped,
        }
    )
