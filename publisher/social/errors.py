"""Errors the social service raises. Each message is written for a comms officer: the
console shows it as it is."""

from __future__ import annotations


class SocialError(ValueError):
    """Something a person asked for cannot be done; nothing was changed."""


class NotAllowed(SocialError):
    """The user's role (or the two-person rule) does not allow this action."""


class WrongState(SocialError):
    """The post is not in a state this action applies to."""


class PostInvalid(SocialError):
    """The post breaks a platform limit or the posting guidance. ``problems`` lists each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(" ".join(problems))
