"""``publisher insight``: bring the open-data summaries up to date, or make them again."""

from __future__ import annotations

import time

from publisher.cli.common import main, print_json_line, ready_database
from publisher.db import session_scope
from publisher.insight import upkeep
from publisher.tasks.insight import build_public_pages


@main.group()
def insight() -> None:
    """The summaries behind /changes, /health, the reach page and the annual report."""


@insight.command("refresh")
def insight_refresh() -> None:
    """Summarise new changes and today's entries, subscribers, editions and posts."""
    ready_database()
    started = time.perf_counter()
    with session_scope() as session:
        result = upkeep.refresh(session)
    build_public_pages()
    print_json_line({**result.as_dict(), "seconds": round(time.perf_counter() - started, 3)})


@insight.command("rebuild")
def insight_rebuild() -> None:
    """Make every summary again from the change log (after `publisher topics remap`, or to
    start). Feed request counts are kept: nothing else records them."""
    ready_database()
    started = time.perf_counter()
    with session_scope() as session:
        result = upkeep.rebuild(session)
    build_public_pages()
    print_json_line({**result.as_dict(), "seconds": round(time.perf_counter() - started, 3)})
