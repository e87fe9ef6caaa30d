"""``publisher source``, ``ingest``, ``quarantine``, ``changes`` and ``entries``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click
from sqlalchemy import select

from publisher.changes import jsonable
from publisher.cli.common import fail, main, print_json_line, ready_database
from publisher.db import session_scope
from publisher.ingest import (
    COUNT_KEYS,
    CrawlBusy,
    UnknownSource,
    add_source,
    confirm_removals,
    crawl_source,
    serialise_change,
)
from publisher.models import (
    Change,
    ChangeKind,
    Crawl,
    CrawlStatus,
    Entry,
    QuarantinedRecord,
    Source,
)
from publisher.outgoing.urls import mask_credentials


@main.group()
def source() -> None:
    """Directories to crawl: ORUK API base URLs or JSON files."""


@source.command("add")
@click.argument("name")
@click.argument("url_or_path")
@click.option(
    "--page-url",
    default=None,
    help="The service's page on your Local Offer site, with {id} for the entry id, "
    "e.g. https://localoffer.example.gov.uk/services/{id}",
)
def source_add(name: str, url_or_path: str, page_url: str | None) -> None:
    """Register a directory: an ORUK (v1 or 3.0) API base URL, or a JSON file."""
    ready_database()
    try:
        with session_scope() as session:
            src = add_source(session, name, url_or_path, page_url)
            kind = src.kind.value
    except ValueError as exc:
        fail(str(exc))
    click.echo(f"Added source {name} ({kind}). Run `publisher ingest {name}` to crawl it now.")


@source.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def source_list(as_json: bool) -> None:
    """Each source with its last crawl: when, complete or not, counts, last error."""
    ready_database()
    with session_scope() as session:
        for src in session.scalars(select(Source).order_by(Source.name)):
            last = session.scalars(
                select(Crawl).where(Crawl.source_id == src.id).order_by(Crawl.id.desc()).limit(1)
            ).first()
            last_error = session.scalar(
                select(Crawl.error)
                .where(Crawl.source_id == src.id, Crawl.error.is_not(None))
                .order_by(Crawl.id.desc())
                .limit(1)
            )
            row: dict[str, Any] = {
                "name": src.name,
                "kind": src.kind.value,
                "location": mask_credentials(src.location),
                "oruk_version": src.oruk_version,
                "baseline_at": jsonable(src.baseline_at),
                "last_crawl": None
                if last is None
                else {
                    "id": last.id,
                    "started_at": jsonable(last.started_at),
                    "finished_at": jsonable(last.finished_at),
                    "status": last.status.value,
                    "complete": last.complete,
                    "counts": last.counts,
                    "requests": last.requests_made,
                    "rows_written": last.rows_written,
                },
                "last_error": last_error,
                "held": last is not None and last.status is CrawlStatus.HELD,
                "removals_confirmed": src.removals_confirmed,
                "lease": None
                if src.lock_token is None
                else {"holder": src.lock_holder, "until": jsonable(src.lock_expires_at)},
            }
            if as_json:
                print_json_line(row)
                continue
            click.echo(f"{src.name}  {src.kind.value}  {row['location']}")
            if last is None:
                click.echo("  never crawled")
            elif last.status is CrawlStatus.HELD:
                when = last.finished_at or last.started_at
                click.echo(
                    f"  last crawl {when:%Y-%m-%d %H:%M} UTC: {last.error}; nothing was changed."
                )
                click.echo(
                    f"  If the directory really dropped them: publisher source confirm-removals "
                    f"{src.name}. Otherwise the next crawl decides."
                )
            else:
                when = last.finished_at or last.started_at
                counts = ", ".join(f"{k} {last.counts.get(k, 0)}" for k in COUNT_KEYS)
                click.echo(f"  last crawl {when:%Y-%m-%d %H:%M} UTC: {last.status.value}; {counts}")
            if src.removals_confirmed is not None:
                click.echo(
                    f"  the next crawl may remove up to {src.removals_confirmed} (confirmed)"
                )
            if src.lock_token is not None and src.lock_expires_at is not None:
                click.echo(
                    f"  crawling now: {src.lock_holder or 'another process'}, lease until "
                    f"{src.lock_expires_at:%H:%M:%S} UTC"
                )
            if last_error and (last is None or last.status is not CrawlStatus.HELD):
                click.echo(f"  last error: {last_error}")


@source.command("confirm-removals")
@click.argument("name")
@click.option("--no-crawl", is_flag=True, help="Only confirm; leave the crawl to the schedule.")
def source_confirm_removals(name: str, no_crawl: bool) -> None:
    """After a held crawl: let the next crawl of NAME remove what it would have (and no
    more), then crawl it now."""
    ready_database()
    try:
        with session_scope() as session:
            src = session.scalar(select(Source).where(Source.name == name))
            if src is None:
                raise ValueError(f"there is no source called {name!r}")
            count = confirm_removals(session, src)
    except ValueError as exc:
        fail(str(exc))
    click.echo(f"Confirmed: the next crawl of {name} may remove up to {count} services.")
    if no_crawl:
        return
    try:
        summary = crawl_source(name)
    except CrawlBusy as exc:
        click.echo(f"{name}: {exc}; its next crawl will use the confirmation.")
        raise SystemExit(1) from None
    click.echo(summary.line())
    if summary.status != "complete":
        raise SystemExit(1)


@main.command()
@click.argument("name", required=False)
def ingest(name: str | None) -> None:
    """Crawl NAME (or every source) now and print what changed."""
    ready_database()
    with session_scope() as session:
        names = [name] if name else list(session.scalars(select(Source.name).order_by(Source.name)))
    if not names:
        fail("there are no sources yet: add one with `publisher source add NAME URL_OR_PATH`")
    failed = False
    for each in names:
        try:
            summary = crawl_source(each)
        except UnknownSource as exc:
            fail(str(exc))
        except CrawlBusy as exc:
            click.echo(f"{each}: not crawled: {exc}", err=True)
            failed = True
            continue
        click.echo(summary.line())
        failed = failed or summary.status != "complete"
    if failed:
        raise SystemExit(1)


@main.command()
@click.option("--source", "source_name", default=None, help="Only this source.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def quarantine(source_name: str | None, as_json: bool) -> None:
    """Records the last crawl refused, with the reason."""
    ready_database()
    with session_scope() as session:
        query = (
            select(QuarantinedRecord, Source.name)
            .join(Source, Source.id == QuarantinedRecord.source_id)
            .order_by(Source.name, QuarantinedRecord.record_key)
        )
        if source_name:
            query = query.where(Source.name == source_name)
        rows = session.execute(query).all()
        for q, src in rows:
            if as_json:
                print_json_line(
                    {
                        "source": src,
                        "record": q.record_key,
                        "reason": q.reason,
                        "first_seen_at": jsonable(q.first_seen_at),
                        "excerpt": q.excerpt,
                    }
                )
            else:
                click.echo(f"{src}  {q.record_key}: {q.reason}")
        if not rows and not as_json:
            click.echo("No records are in quarantine.")


def _parse_since(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        since = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        fail(
            f"--since must be an ISO 8601 date or time, such as 2026-11-01T09:00:00Z, not {value!r}"
        )
    return since if since.tzinfo else since.replace(tzinfo=dt.UTC)


@main.command()
@click.option("--since", default=None, help="Only changes at or after this ISO 8601 time.")
@click.option("--source", "source_name", default=None, help="Only this source.")
@click.option(
    "--kind",
    type=click.Choice([k.value for k in ChangeKind]),
    default=None,
    help="Only this kind of change.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def changes(since: str | None, source_name: str | None, kind: str | None, as_json: bool) -> None:
    """The change log, oldest first."""
    ready_database()
    since_at = _parse_since(since)
    with session_scope() as session:
        query = (
            select(Change, Source.name)
            .join(Source, Source.id == Change.source_id)
            .order_by(Change.occurred_at, Change.id)
        )
        if since_at:
            query = query.where(Change.occurred_at >= since_at)
        if source_name:
            query = query.where(Source.name == source_name)
        if kind:
            query = query.where(Change.kind == ChangeKind(kind))
        for change, src in session.execute(query).yield_per(1000):
            if as_json:
                print_json_line(serialise_change(change, src))
            else:
                fields = f" ({', '.join(change.changed_fields)})" if change.changed_fields else ""
                click.echo(
                    f"{change.occurred_at:%Y-%m-%d %H:%M} {change.kind.value:<12} {src}/"
                    f"{change.entry_id} {change.name}{fields}"
                )


@main.command()
@click.option("--source", "source_name", default=None, help="Only this source.")
@click.option("--stale", is_flag=True, help="Only entries not checked for too long.")
@click.option("--all", "include_removed", is_flag=True, help="Include removed entries.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def entries(source_name: str | None, stale: bool, include_removed: bool, as_json: bool) -> None:
    """Current entries with their topics and freshness."""
    ready_database()
    with session_scope() as session:
        query = select(Entry, Source.name).join(Source, Source.id == Entry.source_id)
        if not include_removed:
            query = query.where(Entry.present)
        if source_name:
            query = query.where(Source.name == source_name)
        if stale:
            query = query.where(Entry.stale)
        query = query.order_by(Source.name, Entry.name, Entry.entry_id)
        for entry, src in session.execute(query).yield_per(1000):
            row = {
                "source": src,
                "entry_id": entry.entry_id,
                "name": entry.name,
                "status": entry.status,
                "present": entry.present,
                "age_bands": entry.age_bands,
                "needs": entry.needs,
                "categories": entry.categories,
                "localities": entry.localities,
                "assured_date": jsonable(entry.assured_date),
                "stale": entry.stale,
                "paid": entry.paid,
                "url": entry.url,
                "email": entry.email,
                "organisation": entry.organisation,
                "postcodes": entry.postcodes,
            }
            if as_json:
                print_json_line(row)
            else:
                flag = "STALE " if entry.stale else ""
                click.echo(f"{flag}{src}/{entry.entry_id} {entry.name} [{entry.status}]")
