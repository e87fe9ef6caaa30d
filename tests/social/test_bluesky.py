"""Bluesky against its real reference server (PDS + PLC from @atproto/dev-env) on
loopback: the record read back, link facets at UTF-8 byte offsets, the link card, and no
duplicate after a worker dies once the PDS accepted the post."""

from __future__ import annotations

import datetime as dt

from atproto import Client, models
from sqlalchemy.orm import Session

from publisher.db import session_scope
from publisher.models import Platform, Post, PostState, SocialAccount, User
from publisher.social import approve, edit_post
from publisher.social.adapters import adapter_for
from publisher.social.adapters.bluesky import COLLECTION
from publisher.social.publishing import LEASE, begin, claim, publish_due
from tests.factories import drafted_post
from tests.social.conftest import make_account


def bluesky_account(
    session: Session, pds: dict[str, str], password: str | None = None
) -> SocialAccount:
    return make_account(
        session,
        Platform.BLUESKY,
        name=f"Bluesky {password or 'ok'}",
        settings={"service_url": pds["pds_url"], "handle": pds["handle"], "read_timeout": 20},
        creds={"app_password": password or pds["password"]},
    )


def reader(pds: dict[str, str]) -> Client:
    client = Client(base_url=pds["pds_url"] + "/xrpc")
    client.login(pds["handle"], pds["password"])
    return client


def records_with_text(
    pds: dict[str, str], text: str
) -> list[models.ComAtprotoRepoListRecords.Record]:
    client = reader(pds)
    found = client.com.atproto.repo.list_records(
        models.ComAtprotoRepoListRecords.Params(repo=pds["did"], collection=COLLECTION, limit=100)
    )
    return [r for r in found.records if r.value.text == text]


def approved_post(session: Session, account: SocialAccount, approver: User, name: str) -> Post:
    post = drafted_post(
        session,
        account,
        name=name,
        entry_id=name.lower().replace(" ", "-"),
        summary="Naïve questions welcome – a café for families ‘in the know’.",
    )
    approve(session, approver, post)
    session.commit()
    return post


def due(post: Post) -> dt.datetime:
    assert post.publish_at is not None
    return post.publish_at + dt.timedelta(seconds=1)


def test_post_reads_back_with_text_facets_and_link_card(
    session: Session, officers: dict[str, User], pds: dict[str, str]
) -> None:
    account = bluesky_account(session, pds)
    post = approved_post(session, account, officers["approver"], "Café Ünïcode Group")
    assert publish_due(now=due(post)) == {"published": 1}
    session.expire_all()
    post = session.get(Post, post.id)  # type: ignore[assignment]
    assert post.state is PostState.PUBLISHED
    assert post.platform_rkey and len(post.platform_rkey) == 13
    assert post.platform_post_id == f"at://{pds['did']}/{COLLECTION}/{post.platform_rkey}"

    got = reader(pds).com.atproto.repo.get_record(
        models.ComAtprotoRepoGetRecord.Params(
            repo=pds["did"], collection=COLLECTION, rkey=post.platform_rkey
        )
    )
    value = got.value
    assert value.text == post.text
    raw = post.text.encode("utf-8")
    assert post.link is not None
    link_facets = [
        f for f in value.facets if f.features[0].py_type == "app.bsky.richtext.facet#link"
    ]
    assert len(link_facets) == 1
    span = link_facets[0].index
    # Byte offsets, not character offsets: the text has non-ASCII letters before the link.
    assert span.byte_start != post.text.index(post.link)
    assert raw[span.byte_start : span.byte_end].decode() == post.link
    assert link_facets[0].features[0].uri == post.link
    tags = sorted(
        (raw[f.index.byte_start : f.index.byte_end].decode(), f.features[0].tag)
        for f in value.facets
        if f.features[0].py_type == "app.bsky.richtext.facet#tag"
    )
    assert tags == [("#LocalOffer", "LocalOffer"), ("#SEND", "SEND")]
    card = value.embed.external
    assert (card.uri, card.title) == (post.link, "Café Ünïcode Group")
    assert card.description.startswith("Naïve questions welcome")


def test_no_duplicate_after_crash_after_acceptance(
    session: Session, officers: dict[str, User], pds: dict[str, str]
) -> None:
    account = bluesky_account(session, pds)
    post = approved_post(session, account, officers["approver"], "Crash Test Club")
    now = due(post)
    with session_scope() as s:
        (item,) = claim(s, now)
        outgoing = begin(s, item, now)
    assert outgoing is not None and outgoing.rkey
    # The PDS accepts the record; the worker dies before writing that down.
    first = adapter_for(Platform.BLUESKY).publish(outgoing)
    assert len(records_with_text(pds, post.text)) == 1
    assert publish_due(now=now + LEASE + dt.timedelta(seconds=1)) == {"published": 1}
    session.expire_all()
    post = session.get(Post, post.id)  # type: ignore[assignment]
    assert post.platform_post_id == first.post_id
    assert post.attempts == 2
    assert len(records_with_text(pds, post.text)) == 1


def test_wrong_app_password_fails_clearly_and_posts_nothing(
    session: Session, officers: dict[str, User], pds: dict[str, str]
) -> None:
    account = bluesky_account(session, pds, password="not-the-password")
    post = approved_post(session, account, officers["approver"], "Wrong Password Club")
    assert publish_due(now=due(post)) == {"failed": 1}
    session.expire_all()
    post = session.get(Post, post.id)  # type: ignore[assignment]
    assert post.state is PostState.FAILED
    assert (post.last_error or "").startswith(
        "Bluesky did not accept the handle and app password (401"
    )
    assert records_with_text(pds, post.text) == []


def test_image_goes_up_as_a_blob_with_alt_text(
    session: Session, officers: dict[str, User], pds: dict[str, str], images: str
) -> None:
    account = bluesky_account(session, pds)
    post = drafted_post(session, account, name="Image Club", entry_id="image-club")
    edit_post(
        session,
        officers["editor"],
        post,
        image_url=images + "/small.png",
        image_alt="A sunny garden with a slide.",
    )
    approve(session, officers["approver"], post)
    session.commit()
    assert publish_due(now=due(post)) == {"published": 1}
    (record,) = records_with_text(pds, post.text)
    (image,) = record.value.embed.images
    assert image.alt == "A sunny garden with a slide."
    assert image.image.mime_type == "image/png"


def test_image_too_large_for_bluesky_fails_and_posts_nothing(
    session: Session, officers: dict[str, User], pds: dict[str, str], images: str
) -> None:
    account = bluesky_account(session, pds)
    post = drafted_post(session, account, name="Big Image Club", entry_id="big-image-club")
    edit_post(
        session,
        officers["editor"],
        post,
        image_url=images + "/large.png",
        image_alt="A very large photo.",
    )
    approve(session, officers["approver"], post)
    session.commit()
    assert publish_due(now=due(post)) == {"failed": 1}
    session.expire_all()
    failed = session.get(Post, post.id)
    assert failed is not None
    assert failed.last_error == "The image is too large: the limit here is 1,000 KB."
    assert records_with_text(pds, post.text) == []
