"""``publisher topics remap``: apply an edited mapping file to the entries already stored."""

from __future__ import annotations

import click
from sqlalchemy import select

from publisher.cli.common import fail, main, print_json_line, ready_database
from publisher.config import get_settings
from publisher.db import session_scope
from publisher.models import Source
from publisher.remapping import remap_entries
from publisher.topics import MappingError, load_mapping


@main.group()
def topics() -> None:
    """The topics (age bands, needs, categories, localities) entries are filed under."""


@topics.command("remap")
@click.option("--source", "source_name", default=None, help="Only this source.")
@click.option("--dry-run", is_flag=True, help="Say what would change; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per changed entry.")
def remap(source_name: str | None, dry_run: bool, as_json: bool) -> None:
    """Work out every entry's topics again from the mapping file (TOPIC_MAPPING).

    Run it after editing the mapping: a crawl only maps entries that are new or changed.
    No change log rows are written, so nothing is announced; past changes keep the
    topics they had.
    """
    ready_database()
    path = get_settings().mapping_path
    load_mapping.cache_clear()  # the file may have changed since this process read it
    try:
        mapping = load_mapping(path)
    except MappingError as exc:
        fail(str(exc))
        return
    with session_scope() as session:
        if (
            source_name is not None
            and session.scalar(select(Source.id).where(Source.name == source_name)) is None
        ):
            fail(f"no source called {source_name!r} (see: publisher source list)")
        result = remap_entries(session, mapping, source_name=source_name, apply=not dry_run)
    for item in result.changed:
        if as_json:
            print_json_line(
                {
                    "source": item.source,
                    "entry_id": item.entry_id,
                    "name": item.name,
                    "before": item.before,
                    "after": item.after,
                }
            )
        else:
            moves = "; ".join(
                f"{field}: {', '.join(item.before[field]) or '-'} -> "
                f"{', '.join(item.after[field]) or '-'}"
                for field in item.after
                if item.before[field] != item.after[field]
            )
            click.echo(f"{item.source}/{item.entry_id} {item.name}: {moves}")
    verb = "would change" if dry_run else "changed"
    click.echo(
        f"Checked {result.checked} entries with {path or 'the default mapping'}; "
        f"{verb} {len(result.changed)}.",
        err=as_json,
    )
