"""Sending tasks to the queue: by task object (never by string name), and only once the
transaction that made their work has committed (as warehouse does), so a worker never
picks up a task whose rows are not there yet, or are rolled back."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_PENDING = "publisher.tasks_after_commit"


def send(task: Task[Any, Any], *args: Any) -> bool:
    """Queue ``task`` now. A broker that is down is logged, not raised: every area has a
    beat sweeper that finds work left undone, so the caller's committed work is safe."""
    try:
        task.apply_async(args=args)
    except Exception as exc:
        log.warning("could not queue %s: %s (the sweepers will catch up)", task.name, exc)
        return False
    return True


def send_after_commit(session: Session, task: Task[Any, Any], *args: Any) -> None:
    """Queue ``task`` when ``session``'s transaction commits; forget it if it rolls back."""
    pending: list[tuple[Task[Any, Any], tuple[Any, ...]]] = session.info.setdefault(_PENDING, [])
    if not event.contains(session, "after_commit", _send_pending):
        event.listen(session, "after_commit", _send_pending)
        event.listen(session, "after_rollback", _forget_pending)
    pending.append((task, args))


def _send_pending(session: Session) -> None:
    for task, args in session.info.pop(_PENDING, []):
        send(task, *args)


def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
