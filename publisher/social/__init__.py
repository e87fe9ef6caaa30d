"""Social posts: drafting from the change log, the officers' queue, publishing.

The console calls the functions re-exported here; see each module for the details.
"""

from publisher.social.accounts import (
    account_view,
    create_account,
    credentials,
    masked_credentials,
    update_account,
)
from publisher.social.errors import NotAllowed, PostInvalid, SocialError, WrongState
from publisher.social.queue import (
    TWO_PERSON_SETTING,
    approve,
    bulk_approve,
    check_post,
    edit_post,
    post_view,
    preview,
    preview_text,
    redraft,
    reject,
    retry,
    schedule,
    submit,
    two_person_rule_on,
    withdraw,
)
from publisher.social.slots import next_free_slot, slot_times

__all__ = [
    "TWO_PERSON_SETTING",
    "NotAllowed",
    "PostInvalid",
    "SocialError",
    "WrongState",
    "account_view",
    "approve",
    "bulk_approve",
    "check_post",
    "create_account",
    "credentials",
    "edit_post",
    "masked_credentials",
    "next_free_slot",
    "post_view",
    "preview",
    "preview_text",
    "redraft",
    "reject",
    "retry",
    "schedule",
    "slot_times",
    "submit",
    "two_person_rule_on",
    "update_account",
    "withdraw",
]
