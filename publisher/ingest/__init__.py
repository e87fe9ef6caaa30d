"""Crawl a source and turn what changed into change-log rows.

The order matters for trust, and each step has a module of its own:

1. ``lease``: take the source's lease, so two crawls of one source never overlap.
2. ``readers`` and ``read``: read every record (API pages or file) without touching the
   entries. Records that fail validation are set aside for the quarantine; valid ones
   that may have changed are normalised. Unchanged ones cost a hash and a look-up.
3. ``check``: only a complete read may say what is gone. A failed or suspicious read
   (errors after retries, bad JSON, fewer items than the directory declared, an empty
   feed where there were entries) is recorded as incomplete and changes nothing else.
4. ``apply``: apply everything in one short transaction: entries, change events,
   absences, staleness, quarantine.
5. ``downstream``: after the commit, tell the newsletter, feed and social areas that
   there is work.

``crawl`` runs these steps in order; ``sources`` registers directories; ``summary`` is
what a crawl reports (and the CLI prints).
"""

from publisher.ingest.crawl import UnknownSource, crawl_source
from publisher.ingest.downstream import downstream_tasks, notify_downstream
from publisher.ingest.lease import CrawlBusy, close_abandoned, release_lease, take_lease
from publisher.ingest.sources import add_source, confirm_removals, looks_like_url
from publisher.ingest.summary import COUNT_KEYS, CrawlSummary, serialise_change

__all__ = [
    "COUNT_KEYS",
    "CrawlBusy",
    "CrawlSummary",
    "UnknownSource",
    "add_source",
    "close_abandoned",
    "confirm_removals",
    "crawl_source",
    "downstream_tasks",
    "looks_like_url",
    "notify_downstream",
    "release_lease",
    "serialise_change",
    "take_lease",
]
