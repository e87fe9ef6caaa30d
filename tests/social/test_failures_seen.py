"""Officers see failures (issue 13.4): approvers are emailed when a post fails for good,
a withdrawal says what really happened, and failures are logged at WARNING."""

from __future__ import annotations

import datetime as dt
import logging
import socket
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from publisher.models import Platform, Post, PostState, User
from publisher.social import approve, withdraw
from publisher.social.publishing import publish_due
from tests.factories import drafted_post
from tests.mailsink import MailSink, mail_sink  # noqa: F401 (a fixture)
from tests.social.conftest import make_account
from tests.social.servers import FakePlatform as Fake
from tests.social.servers import MastodonHandler, serve

MASTODON_TOKEN = "mastodon-token-123456"


@pytest.fixture()
def mastodon() -> Iterator[Fake]:
    with serve(MastodonHandler, MASTODON_TOKEN) as fake:
        yield fake


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _approved(session: Session, approver: User, **settings: object) -> Post:
    token = str(settings.pop("token", MASTODON_TOKEN))
    account = make_account(
        session,
        Platform.MASTODON,
        settings={"read_timeout": 2, "connect_timeout": 2, **settings},
        creds={"access_token": token},
    )
    post = drafted_post(session, account, name="Sunny Days", entry_id="svc-1")
    approve(session, approver, post)
    session.commit()
    return post


def _due(post: Post) -> dt.datetime:
    assert post.publish_at is not None
    return post.publish_at + dt.timedelta(seconds=1)


def test_approvers_are_emailed_when_a_post_fails_for_good(
    session: Session,
    officers: dict[str, User],
    mastodon: Fake,
    mail_sink: MailSink,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    post = _approved(
        session, officers["approver"], api_base_url=mastodon.url, token="wrong-token-000000"
    )
    with caplog.at_level(logging.INFO, logger="publisher.social.publishing"):
        assert publish_due(now=_due(post)) == {"failed": 1}
    failures = [r for r in caplog.records if "failed for good" in r.getMessage()]
    assert failures and all(r.levelno == logging.WARNING for r in failures)
    received = mail_sink.by_recipient()
    # Approvers and admins, not editors.
    assert set(received) == {
        "approver@council.example",
        "approver2@council.example",
        "admin@council.example",
    }
    message = received["admin@council.example"][0].message
    assert message["Subject"] == f"Post {post.id} to Mastodon did not go out"
    plain = message.get_body(("plain",))
    assert plain is not None
    text = plain.get_content()
    assert "did not accept the access token" in text
    assert f"/console/posts/{post.id}" in text


def test_a_post_that_never_reached_the_platform_is_withdrawn_with_a_true_note(
    session: Session,
    officers: dict[str, User],
    mail_sink: MailSink,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    post = _approved(
        session, officers["approver"], api_base_url=f"http://127.0.0.1:{_closed_port()}"
    )
    with caplog.at_level(logging.INFO, logger="publisher.social.publishing"):
        assert publish_due(now=_due(post)) == {"retry": 1}
    retries = [r for r in caplog.records if "trying again" in r.getMessage()]
    assert retries and retries[0].levelno == logging.WARNING
    session.expire_all()
    again = session.get(Post, post.id)
    assert again is not None
    post = again
    assert post.state is PostState.APPROVED
    # Nothing can be out there: the connection was refused.
    assert post.publish_started_at is None and post.attempts == 1
    withdraw(session, officers["approver"], post, "The service has closed.")
    session.commit()
    assert post.withdrawn_reason is not None
    assert post.withdrawn_reason.startswith(
        "The service has closed. Nothing was posted on Mastodon: Could not reach Mastodon"
    )
    assert "may be on" not in post.withdrawn_reason
    assert "Trying again" not in post.withdrawn_reason
    assert mail_sink.messages == []  # not failed for good: nobody is emailed yet


def test_a_post_whose_answer_was_lost_says_it_may_be_out(
    session: Session, officers: dict[str, User], mastodon: Fake
) -> None:
    post = _approved(session, officers["approver"], api_base_url=mastodon.url)
    mastodon.fail_next.append((503, {"error": "Service Unavailable"}, {}))
    assert publish_due(now=_due(post)) == {"retry": 1}
    session.expire_all()
    again = session.get(Post, post.id)
    assert again is not None
    post = again
    assert post.publish_started_at is not None  # a 5xx may have landed
    withdraw(session, officers["approver"], post, "Wrong day.")
    session.commit()
    assert "did not hear back from Mastodon, so it may be on" in (post.withdrawn_reason or "")
