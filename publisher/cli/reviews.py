"""``publisher reviews``: ask providers to check their entries (issue 9)."""

from __future__ import annotations

import click

from publisher.cli.common import fail, main, print_json_line, ready_database
from publisher.db import session_scope


@main.group()
def reviews() -> None:
    """Ask providers to check their Local Offer entries, and see their replies."""


@reviews.command("plan")
@click.option("--source", "source_name", metavar="NAME", help="Only this directory.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
def reviews_plan(source_name: str | None, as_json: bool) -> None:
    """Show what would be sent today and to whom, without sending anything."""
    from publisher.reviews.plan import plan

    ready_database()
    with session_scope() as session:
        try:
            today = plan(session, source=source_name)
        except LookupError as exc:
            fail(str(exc))
            return
    if as_json:
        for mail in today.mails:
            print_json_line(mail.as_json())
        for item in today.unreachable:
            print_json_line(item.as_json())
        return
    click.echo(
        f"Today ({today.today:%-d %B %Y}): {len(today.mails)} emails about "
        f"{today.entry_count} entries."
    )
    for mail in today.mails:
        click.echo(f"- {mail.address} ({mail.kind}, {', '.join(mail.sources)}):")
        for e in mail.entries:
            click.echo(f"    {e.entry_id}  {e.name}")
    if today.deferred_addresses:
        click.echo(
            f"{today.deferred_addresses} more addresses wait for later days (REVIEW_DAILY_LIMIT)."
        )
    if today.no_reply_review_ids:
        click.echo(f'{len(today.no_reply_review_ids)} entries will be marked "no reply".')
    if today.unreachable:
        click.echo(f"{len(today.unreachable)} entries cannot be asked about:")
        for item in today.unreachable:
            click.echo(f"    {item.source} {item.entry_id}  {item.name}: {item.reason}")


@reviews.command("send")
@click.option("--limit", type=click.IntRange(min=0), help="At most this many addresses.")
def reviews_send(limit: int | None) -> None:
    """Send today's review requests and reminders now, and say how many went."""
    from publisher.mail import SendError
    from publisher.reviews.sending import run_daily

    ready_database()
    try:
        result = run_daily(limit=limit)
    except (SendError, ValueError) as exc:
        fail(f"could not send: {exc}")
        return
    click.echo(f"Sent {result.sent} emails ({result.opened} entries newly asked about).")
    if result.undeliverable:
        click.echo(f"{len(result.undeliverable)} addresses could not be delivered to.")
    if result.retry_error:
        click.echo(f"Some emails will be tried again later: {result.retry_error}")


@reviews.command("list")
@click.option("--status", type=click.Choice(["open", "closed"]), help="Only these reviews.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
def reviews_list(status: str | None, as_json: bool) -> None:
    """Every entry under review, with its reply."""
    from publisher.reviews.worklist import review_rows

    ready_database()
    with session_scope() as session:
        rows = review_rows(session, status=status)
    if as_json:
        for row in rows:
            print_json_line(row)
        return
    if not rows:
        click.echo("No entries are under review.")
    for row in rows:
        click.echo(
            f"{row['source']} {row['entry_id']}  {row['address'] or 'no address'}  "
            f"{row['status']}  {row['reply']}"
            + (f"  ({row['closed_reason']})" if row["closed_reason"] else "")
        )
