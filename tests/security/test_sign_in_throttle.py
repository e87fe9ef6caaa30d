"""Sign-in throttling is no lock-out (issue 11, point 4), probed over HTTP from several
client addresses.

The probe locked an officer out for 15 minutes with five wrong passwords from anywhere,
and, repeating it, the last admin for ever. Now wrong passwords slow down the client
that sends them (growing delays per email and client), a ceiling per email is far
higher than one client's, throttling never pauses every admin at once, and
``publisher users unlock`` lets an officer in again at once.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from publisher.console.users import create_user
from publisher.db import session_scope
from tests.clock import Clock
from tests.faults.crawl_servers import run_publisher
from tests.security.conftest import Site

PASSWORD = "correct horse battery staple"


@pytest.fixture()
def officers(db: Any) -> None:
    with session_scope() as session:
        for email, role in (
            ("editor@council.example", "editor"),
            ("admin@council.example", "admin"),
            ("admin2@council.example", "admin"),
        ):
            create_user(session, email, role, PASSWORD)


def _try(site: Site, client: str, email: str, password: str = "wrong password!") -> Any:
    return site.visitor(client).form("/console/login", {"email": email, "password": password})


def test_guessing_from_one_client_does_not_lock_the_officer_out_elsewhere(
    site: Site, officers: None
) -> None:
    codes = [_try(site, "127.0.0.2", "admin@council.example").status_code for _ in range(12)]
    assert codes[:3] == [401, 401, 401]
    assert set(codes[3:]) == {429}, "the guesser is slowed down"
    assert _try(site, "127.0.0.2", "admin@council.example", PASSWORD).status_code == 429
    # The admin, at their own desk, signs in at once.
    assert _try(site, "127.0.0.3", "admin@council.example", PASSWORD).status_code == 302


def test_delays_grow_with_each_wrong_password(site: Site, officers: None, clock: Clock) -> None:
    clock.set(dt.datetime.now(dt.UTC), tick=True)
    waits = []
    for _ in range(3):
        assert _try(site, "127.0.0.4", "editor@council.example").status_code == 401
    for _ in range(4):
        paused = _try(site, "127.0.0.4", "editor@council.example")
        assert paused.status_code == 429
        wait = int(paused.headers["Retry-After"])
        waits.append(wait)
        assert f"Wait {wait} second" in paused.text or "minute" in paused.text
        clock.move(dt.timedelta(seconds=wait + 1))
        assert _try(site, "127.0.0.4", "editor@council.example").status_code == 401
    assert waits == sorted(waits) and waits[-1] >= 4 * waits[0]
    # After the window, with no more failures, the client may try again.
    clock.move(dt.timedelta(minutes=16))
    assert _try(site, "127.0.0.4", "editor@council.example", PASSWORD).status_code == 302


def test_an_email_has_a_ceiling_across_clients_but_never_every_admin(
    start_site: Any, officers: None
) -> None:
    site = start_site(CONSOLE_LOGIN_MAX_FAILURES_PER_EMAIL=6)
    clients = [f"127.0.1.{n}" for n in range(1, 4)]

    def spread(email: str) -> None:
        for client in clients:  # two each: under one client's free tries
            for _ in range(2):
                assert _try(site, client, email).status_code == 401

    spread("editor@council.example")
    assert _try(site, "127.0.2.1", "editor@council.example", PASSWORD).status_code == 429
    spread("admin@council.example")
    # admin2 can still sign in, so admin is paused like anyone else...
    assert _try(site, "127.0.2.1", "admin@council.example", PASSWORD).status_code == 429
    spread("admin2@council.example")
    # ...but with every admin over the ceiling, no admin is paused by it.
    assert _try(site, "127.0.2.2", "admin@council.example", PASSWORD).status_code == 302
    # Once an admin is in (their failures no longer count), the ceiling holds for the
    # other again: there is an admin who can act (and run `publisher users unlock`).
    assert _try(site, "127.0.2.3", "admin2@council.example", PASSWORD).status_code == 429


def test_the_unlock_command_lets_an_officer_in_again(
    start_site: Any, officers: None, database_url: str, tmp_path: Path
) -> None:
    site = start_site(CONSOLE_LOGIN_MAX_FAILURES_PER_EMAIL=4)
    for client in ("127.0.3.1", "127.0.3.2"):
        for _ in range(2):
            _try(site, client, "editor@council.example")
    assert _try(site, "127.0.3.3", "editor@council.example", PASSWORD).status_code == 429
    done = run_publisher(
        "users",
        "unlock",
        "editor@council.example",
        database_url=database_url,
        data_dir=tmp_path / "data",
    )
    assert done.returncode == 0, done.stderr
    assert "Forgot 4 failed sign-ins for editor@council.example" in done.stdout
    assert _try(site, "127.0.3.3", "editor@council.example", PASSWORD).status_code == 302
