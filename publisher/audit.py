"""Write to the audit log. Every area calls ``record`` in the same transaction as the change
it describes, so that the log and the data can never disagree."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy.orm import Session

from publisher.db import utcnow
from publisher.models.audit import AuditEvent
from publisher.models.users import User


def _plain(value: Any) -> Any:
    """JSON-ready copy of a before/after value (dates, enums and sets appear in posts)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def record(
    session: Session,
    actor: User | int | None,
    action: str,
    obj_type: str,
    obj_id: object,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    note: str | None = None,
) -> AuditEvent:
    """Add one audit event to ``session`` (the caller commits).

    ``actor`` is the user who acted, their id, or None when the service acted on its own
    (say, withdrawing a draft whose entry went stale). ``before`` and ``after`` are the
    parts of the object that matter, as dicts; secrets must never be passed in.
    """
    actor_id: int | None
    actor_email: str | None = None
    if isinstance(actor, User):
        actor_id, actor_email = actor.id, actor.email
    elif actor is None:
        actor_id = None
    else:
        actor_id = int(actor)
        user = session.get(User, actor_id)
        actor_email = user.email if user is not None else None
    event = AuditEvent(
        actor_id=actor_id,
        actor_email=actor_email,
        action=action,
        object_type=obj_type,
        object_id=None if obj_id is None else str(obj_id),
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
        note=note,
        at=utcnow(),
    )
    session.add(event)
    return event


# What each action and kind of thing means, in words for the console. The stored names
# never change (they are filtered on and exported); only these labels are shown.
ACTION_LABELS: dict[str, str] = {
    "problem_report.close": "dealt with a report from a parent",
    "review.caught_up": "closed a provider reply: the directory caught up",
    "review.dismissed": "dismissed a provider reply",
    "review.updated": "updated the directory after a provider reply",
    "settings.change": "changed the settings",
    "social_account.create": "added a social media account",
    "social_account.update": "changed a social media account",
    "social_post.approve": "approved a post",
    "social_post.edit": "edited a post",
    "social_post.fail": "a post could not be published",
    "social_post.publish": "published a post",
    "social_post.redraft": "made a new draft from a post",
    "social_post.reject": "rejected a post",
    "social_post.retry": "asked to try a post again",
    "social_post.schedule": "scheduled a post",
    "social_post.submit": "sent a post for approval",
    "social_post.withdraw": "withdrew a post",
    "social_post.write": "wrote a post of their own",
    "source.add": "added a directory",
    "source.crawl": "asked for a directory to be read now",
    "user.change_role": "changed someone's role",
    "user.create": "added a person",
    "user.deactivate": "stopped someone signing in",
    "user.reactivate": "let someone sign in again",
    "user.set_password": "set a new password",
    "user.sign_in": "signed in",
    "user.sign_out": "signed out",
}
OBJECT_LABELS: dict[str, str] = {
    "problem_report": "Report from a parent",
    "review": "Provider reply",
    "settings": "Settings",
    "social_account": "Social media account",
    "social_post": "Post",
    "source": "Directory",
    "user": "Person",
}


def action_label(action: str) -> str:
    """The action in words; an action without a label yet reads as its name in words."""
    return ACTION_LABELS.get(action) or action.replace(".", ": ").replace("_", " ")


def object_label(kind: str) -> str:
    return OBJECT_LABELS.get(kind) or kind.replace("_", " ").capitalize()


# ---- ux (issue 13.6): the log as sentences, with the detail behind a disclosure -------

DETAIL_CHARS = 200


def sentence(actor: str | None, action: str, obj_type: str, obj_id: str | None) -> str:
    """ "approver@council.example approved post 12" (the time is added by the page)."""
    who = actor or "The service"
    label = action_label(action)
    if obj_id:
        thing = object_label(obj_type).lower()
        if label.endswith(f"a {thing}"):
            label = f"{label[: -len(f'a {thing}')]}{thing} {obj_id}"
        else:
            label = f"{label} ({thing} {obj_id})"
    return f"{who} {label}"


def _shown(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "(nothing)"
    text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 1] + "…"


def differences(before: Any, after: Any) -> list[tuple[str, str, str]]:
    """(field, before, after) for each field that differs, in words short enough to read."""
    old = before if isinstance(before, dict) else {}
    new = after if isinstance(after, dict) else {}
    return [
        (key.replace("_", " "), _shown(old.get(key)), _shown(new.get(key)))
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    ]
