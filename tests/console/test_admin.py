"""Admin pages and the users command: users, settings, social accounts, the audit log."""

from __future__ import annotations

import csv
import io
import re

from click.testing import CliRunner
from sqlalchemy import select

from publisher.cli import main
from publisher.models import AppSetting, AuditEvent, SocialAccount, User
from publisher.models.users import Role
from tests.console.conftest import Officer


def test_cli_adds_a_user_who_can_sign_in(db, app, session):
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["users", "add", "Officer@Council.example", "--role", "approver", "--password-stdin"],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    assert "Added officer@council.example as approver." in result.output
    user = session.scalars(select(User)).one()
    assert user.role is Role.APPROVER and user.password_hash.startswith("scrypt:")
    assert (
        Officer(app).login("officer@council.example", "a long enough password").status_code == 302
    )
    again = runner.invoke(
        main,
        ["users", "add", "officer@council.example", "--role", "editor", "--password-stdin"],
        input="a long enough password\n",
    )
    assert again.exit_code == 1
    assert "There is already an account for officer@council.example" in again.output
    short = runner.invoke(
        main,
        ["users", "add", "b@council.example", "--role", "editor", "--password-stdin"],
        input="short\n",
    )
    assert short.exit_code == 1 and "at least 12 characters" in short.output


def test_admin_adds_user_changes_role_and_deactivates(sign_in, session):
    admin = sign_in("admin")
    response = admin.post(
        "/console/admin/users",
        {"email": "new@council.example", "role": "editor", "password": "another long password"},
        page="/console/admin/users",
    )
    assert response.status_code == 302
    new = session.scalars(select(User).where(User.email == "new@council.example")).one()
    admin.post(
        f"/console/admin/users/{new.id}/role", {"role": "approver"}, page="/console/admin/users"
    )
    admin.post(
        f"/console/admin/users/{new.id}/active", {"active": "no"}, page="/console/admin/users"
    )
    session.expire_all()
    new = session.get(User, new.id)
    assert new.role is Role.APPROVER and not new.active
    actions = [
        e.action
        for e in session.scalars(
            select(AuditEvent).where(AuditEvent.object_id == str(new.id)).order_by(AuditEvent.id)
        )
    ]
    assert actions == ["user.create", "user.change_role", "user.deactivate"]


def test_bad_new_user_gets_a_message_and_nothing_is_saved(sign_in, session):
    admin = sign_in("admin")
    response = admin.post(
        "/console/admin/users",
        {"email": "not an email", "role": "editor", "password": "x" * 20},
        page="/console/admin/users",
    )
    assert response.status_code == 400
    assert "Enter a real email address" in response.get_data(as_text=True)
    assert session.scalars(select(User).where(User.email == "not an email")).first() is None


def test_last_admin_cannot_be_removed(sign_in, session, officers):
    admin = sign_in("admin")
    me = officers["admin"]
    response = admin.post(
        f"/console/admin/users/{me.id}/active",
        {"active": "no"},
        page="/console/admin/users",
        follow_redirects=True,
    )
    assert "This is the last admin" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, me.id).active


def test_settings_are_checked_and_stored(sign_in, session):
    admin = sign_in("admin")
    bad = admin.post(
        "/console/admin/settings",
        {
            "two_person_rule": "yes",
            "slots_per_day": "lots",
            "quiet_start": "21:00",
            "quiet_end": "07:00",
        },
        page="/console/admin/settings",
    )
    assert bad.status_code == 400
    assert "Posts a day must be a whole number" in bad.get_data(as_text=True)
    assert session.get(AppSetting, "social.two_person_rule") is None
    good = admin.post(
        "/console/admin/settings",
        {
            "two_person_rule": "yes",
            "slots_per_day": "4",
            "quiet_start": "22:00",
            "quiet_end": "06:30",
        },
        page="/console/admin/settings",
    )
    assert good.status_code == 302
    session.expire_all()
    assert session.get(AppSetting, "social.two_person_rule").value is True
    assert session.get(AppSetting, "social.slots_per_day").value == 4
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "settings.change")).one()
    assert event.before["social.two_person_rule"] is False
    assert event.after["social.quiet_end"] == "06:30"


def test_accounts_are_added_with_credentials_shown_masked(sign_in, session):
    admin = sign_in("admin")
    secret = "very-secret-mastodon-token-9876"
    response = admin.post(
        "/console/admin/accounts",
        {
            "platform": "mastodon",
            "name": "Council Mastodon",
            "api_base_url": "http://127.0.0.1:9",
            "access_token": secret,
            "slots_per_day": "3",
            "quiet_start": "21:00",
            "quiet_end": "07:00",
        },
        page="/console/admin/accounts",
    )
    assert response.status_code == 302
    account = session.scalars(select(SocialAccount)).one()
    assert secret.encode() not in account.credentials_encrypted
    page = admin.get("/console/admin/accounts").get_data(as_text=True)
    assert secret not in page
    assert "••••••••9876" in page
    log = admin.get("/console/admin/audit.csv").get_data(as_text=True)
    assert secret not in log
    missing = admin.post(
        "/console/admin/accounts",
        {
            "platform": "bluesky",
            "name": "Sky",
            "slots_per_day": "3",
            "quiet_start": "21:00",
            "quiet_end": "07:00",
        },
        page="/console/admin/accounts",
    )
    assert missing.status_code == 400
    assert "An account on Bluesky needs: Server address, Handle, App password." in missing.get_data(
        as_text=True
    )


def test_add_account_page_shows_the_chosen_platforms_fields_only(sign_in, session):
    from publisher.social import credentials
    from publisher.social.platforms import descriptions

    admin = sign_in("admin")
    listing = admin.get("/console/admin/accounts").get_data(as_text=True)
    for described in descriptions():
        assert f"Add an account on {described.label}" in listing
    page = admin.get("/console/admin/accounts/new/x").get_data(as_text=True)
    assert "Add an account on X" in page
    for label in ("API key", "API key secret", "Access token", "Access token secret"):
        assert f">{label}</label>" in page
    # Nothing of the other platforms, and no raw setting names shown as labels.
    for other in ("Server address", "App password", "Page ID", "Handle"):
        assert other not in page
    assert ">api_key" not in page and "access_token_secret<" not in page
    assert admin.get("/console/admin/accounts/new/myspace").status_code == 302
    missing = admin.post(
        "/console/admin/accounts",
        {
            "platform": "x",
            "name": "Council X",
            "api_key": "k",
            "slots_per_day": "3",
            "quiet_start": "21:00",
            "quiet_end": "07:00",
        },
        page="/console/admin/accounts/new/x",
    )
    assert missing.status_code == 400
    text = missing.get_data(as_text=True)
    assert "An account on X needs: API key secret, Access token, Access token secret." in text
    assert "Server address" not in text  # the form shown again is X's
    added = admin.post(
        "/console/admin/accounts",
        {
            "platform": "x",
            "name": "Council X",
            "api_key": "key-1",
            "api_key_secret": "key-secret-2",
            "access_token": "token-3",
            "access_token_secret": "token-secret-4",
            # A box from another platform's form is ignored.
            "api_base_url": "https://mastodon.example",
            "slots_per_day": "3",
            "quiet_start": "21:00",
            "quiet_end": "07:00",
        },
        page="/console/admin/accounts/new/x",
    )
    assert added.status_code == 302
    account = session.scalars(select(SocialAccount)).one()
    assert account.settings == {}
    assert credentials(account)["access_token_secret"] == "token-secret-4"
    listing = admin.get("/console/admin/accounts").get_data(as_text=True)
    assert "Council X (X)" in listing and "Access token secret" in listing
    assert "token-secret-4" not in listing


def test_audit_log_page_and_csv(sign_in, draft):
    approver = sign_in("approver")
    approver.post(f"/console/posts/{draft.id}/reject", {"reason": "Posted already."})
    admin = sign_in("admin")
    page = admin.get("/console/admin/audit").get_data(as_text=True)
    # One sentence per entry; before and after behind a disclosure.
    assert f"approver@council.example rejected post {draft.id} on " in page
    assert "<summary>What changed" in page and "<td>draft</td><td>rejected</td>" in page
    response = admin.get("/console/admin/audit.csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    reject = next(r for r in rows if r["action"] == "social_post.reject")
    assert reject["actor"] == "approver@council.example"
    assert '"state": "draft"' in reject["before"] and '"state": "rejected"' in reject["after"]
    assert reject["note"] == "Posted already."


def test_cli_sets_a_new_password(db, app, session, officers):
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["users", "set-password", "admin@council.example", "--password-stdin"],
        input="a fresh admin password\n",
    )
    assert result.exit_code == 0, result.output
    assert Officer(app).login("admin@council.example", "a fresh admin password").status_code == 302
    missing = runner.invoke(
        main,
        ["users", "set-password", "nobody@council.example", "--password-stdin"],
        input="a fresh admin password\n",
    )
    assert missing.exit_code == 1 and "There is no account for nobody@council.example" in (
        missing.output
    )


def test_cli_deactivates_an_account(db, app, session, officers):
    runner = CliRunner()
    result = runner.invoke(main, ["users", "deactivate", "editor@council.example"])
    assert result.exit_code == 0, result.output
    assert "can no longer sign in" in result.output
    session.expire_all()
    assert not session.get(User, officers["editor"].id).active
    assert Officer(app).login("editor@council.example").status_code != 302
    missing = runner.invoke(main, ["users", "deactivate", "nobody@council.example"])
    assert missing.exit_code == 1 and "There is no account" in missing.output


def test_audit_log_can_be_narrowed_and_exported_narrowed(sign_in, draft, session, account):
    approver = sign_in("approver")
    approver.post(f"/console/posts/{draft.id}/approve", {})
    admin = sign_in("admin")
    page = admin.get(f"/console/admin/audit?object_type=social_post&object_id={draft.id}").get_data(
        as_text=True
    )
    rows = page[page.index('<ol class="audit-list"') : page.index("</ol>")]
    assert f"approver@council.example approved post {draft.id} on " in rows
    assert "Added a person" not in rows and "Signed in" not in rows
    # Actions are shown in words, never by their stored names.
    shown = re.sub(r"<[^>]+>", " ", page)
    assert "social_post" not in shown and "user.sign_in" not in shown
    assert "publish_at" not in shown  # detail names in words too
    response = admin.get("/console/admin/audit.csv?actor=approver@council.example")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {r["action"] for r in rows} == {"user.sign_in", "social_post.approve"}
    assert {r["actor"] for r in rows} == {"approver@council.example"}


def test_account_slots_change_and_blank_credentials_keep_the_saved_ones(sign_in, session, account):
    from publisher.social import credentials

    admin = sign_in("admin")
    response = admin.post(
        f"/console/admin/accounts/{account.id}",
        {
            "slots_per_day": "5",
            "quiet_start": "22:30",
            "quiet_end": "06:00",
            "active": "yes",
            "access_token": "",
        },
        page="/console/admin/accounts",
    )
    assert response.status_code == 302
    session.expire_all()
    changed = session.get(SocialAccount, account.id)
    assert (changed.slots_per_day, changed.quiet_start_minute, changed.quiet_end_minute) == (
        5,
        22 * 60 + 30,
        6 * 60,
    )
    assert credentials(changed) == {"access_token": "mastodon-secret-token-123456"}
    bad = admin.post(
        f"/console/admin/accounts/{account.id}",
        {"slots_per_day": "5", "quiet_start": "25:00", "quiet_end": "06:00", "active": "yes"},
        page="/console/admin/accounts",
        follow_redirects=True,
    )
    assert "Quiet hours start: enter a time like 21:00." in bad.get_data(as_text=True)
    session.expire_all()
    assert session.get(SocialAccount, account.id).quiet_start_minute == 22 * 60 + 30
    assert (
        sign_in("approver")
        .post(
            f"/console/admin/accounts/{account.id}",
            {"slots_per_day": "9"},
            page="/console/posts",
        )
        .status_code
        == 403
    )


def test_cli_asks_for_the_password_twice(db, session):
    result = CliRunner().invoke(
        main,
        ["users", "add", "asked@council.example", "--role", "editor"],
        input="typed at the prompt\ntyped at the prompt\n",
    )
    assert result.exit_code == 0, result.output
    assert "Added asked@council.example as editor." in result.output
    user = session.scalars(select(User).where(User.email == "asked@council.example")).one()
    assert "typed at the prompt" not in user.password_hash


def test_admins_add_directory_sources_and_others_may_not(sign_in, session):
    from publisher.models import Source

    approver = sign_in("approver")
    refused = approver.post(
        "/console/admin/sources",
        {"name": "north", "url": "https://dir.example.org/api"},
        page="/console/posts",
    )
    assert refused.status_code == 403
    admin = sign_in("admin")
    page = "/console/admin/sources"
    local_file = admin.post(page, {"name": "etc", "url": "/etc/passwd"}, page=page)
    assert local_file.status_code == 400
    assert "starting with https://" in local_file.get_data(as_text=True)
    bad_template = admin.post(
        page,
        {"name": "north", "url": "https://dir.example.org/api", "page_url": "https://lo/x"},
        page=page,
    )
    assert bad_template.status_code == 400 and "{id}" in bad_template.get_data(as_text=True)
    session.expire_all()
    assert session.query(Source).count() == 0
    added = admin.post(
        page,
        {
            "name": "north",
            "url": "https://dir.example.org/api/",
            "page_url": "https://localoffer.example.gov.uk/services/{id}",
        },
        page=page,
    )
    assert added.status_code == 302
    session.expire_all()
    source = session.query(Source).one()
    assert source.location == "https://dir.example.org/api"
    event = session.query(AuditEvent).filter_by(action="source.add").one()
    assert event.after["name"] == "north"
    again = admin.post(page, {"name": "north", "url": "https://other.example.org"}, page=page)
    assert again.status_code == 400 and "already a source" in again.get_data(as_text=True)
    listing = admin.get(page).get_data(as_text=True)
    assert "north" in listing and "Crawl now" in listing
    assert admin.post("/console/admin/sources/999/crawl", page=page).status_code == 404


def test_admin_shapes_drafts_hashtags_grouping_and_link(sign_in, session, account):
    from publisher.models import ChangeKind, Post
    from publisher.social.drafting import draft_posts
    from tests.factories import make_entry, make_source, record_change

    admin = sign_in("admin")
    page = admin.get("/console/admin/accounts").get_data(as_text=True)
    assert 'value="#LocalOffer #SEND"' in page  # the defaults, shown to change
    base = {"slots_per_day": "3", "quiet_start": "21:00", "quiet_end": "08:00", "active": "yes"}

    def save(follow: bool = True, **drafting: str):
        """Save the account's form as an admin would, with these drafting boxes."""
        return admin.post(
            f"/console/admin/accounts/{account.id}",
            {**base, **drafting},
            page="/console/admin/accounts",
            follow_redirects=follow,
        )

    def stored() -> dict:
        session.expire_all()
        return session.get(SocialAccount, account.id).settings

    refusals = {
        "#localoffer": "start each word with a capital letter",
        "#One #Two #Three": "use at most 2",
        "#Local-Offer": "a single word after #",
    }
    for tags, message in refusals.items():
        assert message in save(hashtags=tags, group_max="1").get_data(as_text=True)
    for group_max, link in (("0", ""), ("many", ""), ("3", "http://insecure.example")):
        bad = save(hashtags="", group_max=group_max, group_link=link)
        assert "was not changed" in bad.get_data(as_text=True)
    assert "hashtags" not in stored()  # nothing saved

    ok = save(
        follow=False,
        hashtags="#SENDSupport",
        group_max="2",
        group_link="https://localoffer.example.gov.uk/whats-new",
    )
    assert ok.status_code == 302
    settings = stored()
    assert settings["hashtags"] == ["SENDSupport"] and settings["group_max"] == 2
    assert settings["api_base_url"]  # the other settings are kept
    assert session.scalars(
        select(AuditEvent).where(AuditEvent.action == "social_account.update")
    ).first()

    source = make_source(session)
    changes = [
        record_change(session, make_entry(session, source, f"g{i}", f"Group {i}"), ChangeKind.ADDED)
        for i in range(2)
    ]
    session.commit()
    draft_posts([c.id for c in changes])
    [post] = session.scalars(select(Post)).all()
    assert post.change_ids == [c.id for c in changes]
    assert post.link == "https://localoffer.example.gov.uk/whats-new"
    assert post.text.endswith("#SENDSupport")
    assert save(follow=False, hashtags="", group_max="1", group_link="").status_code == 302
    settings = stored()
    assert settings["hashtags"] == [] and "group_link" not in settings
