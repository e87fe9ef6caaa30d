"""``publisher editions``: build and send editions, and list them with their counts."""

from __future__ import annotations

import click

from publisher.cli.common import fail, main, print_json_line, ready_database
from publisher.db import session_scope
from publisher.models import Frequency


@main.group()
def editions() -> None:
    """Newsletter editions: build and send one now, or list them."""


@editions.command("run")
@click.argument("frequency", type=click.Choice([f.value for f in Frequency]))
@click.option(
    "--now",
    "close_now",
    is_flag=True,
    help="Close the edition now, rather than at its last scheduled time.",
)
@click.option(
    "--queue",
    is_flag=True,
    help="Hand the batches to Celery workers instead of sending from this process.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def run_cmd(frequency: str, close_now: bool, queue: bool, as_json: bool) -> None:
    """Build the FREQUENCY edition that is due (or, with --now, up to this moment) and send it."""
    from publisher.mail import SendError
    from publisher.newsletters import editions as service
    from publisher.newsletters import sending

    ready_database()
    totals = {"sent": 0, "failed": 0, "skipped": 0, "released": 0}

    def send_here(edition_id: int, subscriber_ids: list[int]) -> None:
        result = sending.send_batch(edition_id, subscriber_ids)
        for key in totals:
            totals[key] += getattr(result, key)
        if result.retry_error:
            raise SendError(result.retry_error)

    send = send_here
    if queue:
        from publisher.tasks.newsletters import _queue_batch

        send = _queue_batch
    try:
        result = service.run_edition(Frequency(frequency), send, close_now=close_now)
    except SendError as exc:
        fail(
            f"sending stopped: {exc}. Unsent deliveries stay pending: "
            "run again, or the sweeper will retry them."
        )
        return
    except ValueError as exc:
        fail(str(exc))
        return
    finally:
        sending.reset_process_state()
    out = {
        "frequency": frequency,
        "result": result.reason,
        "edition": result.edition_id,
        "items": result.items,
        "recipients": result.recipients,
        "queued": queue,
        **totals,
    }
    if as_json:
        print_json_line(out)
        return
    if result.edition_id is None:
        reasons = {
            "not due": "No edition is due yet (use --now to close one now).",
            "no news": "No news since the last immediate edition: nothing to send.",
            "taken": "Another process is building this edition.",
            "resumed": "Finished an edition whose build had stopped.",
        }
        click.echo(reasons.get(result.reason, result.reason))
        return
    click.echo(
        f"Edition {result.edition_id} ({frequency}): {result.items} items, "
        f"{result.recipients} recipients."
    )
    if queue:
        click.echo("Batches queued for the workers.")
    else:
        click.echo(
            f"Sent {totals['sent']}, failed {totals['failed']}, skipped {totals['skipped']}."
        )


@editions.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
def list_cmd(as_json: bool, limit: int) -> None:
    """Editions, newest first, with recipients, sent and failed counts."""
    from publisher.newsletters.editions import summaries

    ready_database()
    with session_scope() as session:
        rows = summaries(session, limit)
    if as_json:
        for row in rows:
            print_json_line(row.as_dict())
        return
    if not rows:
        click.echo("No editions yet.")
        return
    click.echo(
        f"{'id':>5}  {'frequency':<9}  {'closed (UTC)':<16}  {'status':<10}  "
        "items  recipients  sent  failed  pending  unknown"
    )
    for r in rows:
        click.echo(
            f"{r.id:>5}  {r.frequency:<9}  {r.window_end:%Y-%m-%d %H:%M}  {r.state:<10}  "
            f"{r.items:>5}  {r.recipients:>10}  {r.sent:>4}  {r.failed:>6}  {r.pending:>7}  "
            f"{r.unknown:>7}"
        )
    if any(r.unknown for r in rows):
        click.echo(
            "unknown: the mail server may have taken these (its reply was lost); "
            "they are never sent again, so nobody gets two."
        )
    if any(r.state in {"building", "incomplete"} for r in rows):
        click.echo(
            "building/incomplete: deliveries are still being written; "
            "the sweeper finishes a build that stopped."
        )
