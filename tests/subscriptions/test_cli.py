"""``publisher subscribers import`` and ``publisher subscribers list``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from publisher.cli import main
from publisher.db import session_scope
from publisher.models import ConsentSource, EndReason, Subscriber, SubscriberStatus
from publisher.subscriptions import lifecycle
from tests.subscriptions.helpers import active_subscriber

# Editions, windows, staleness or tokens: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive

GOOD_AND_BAD = """email,age_bands,needs,categories,localities,frequency,consent_source,consented_at
Ann@Example.org,0-5;5-11,sensory-physical,,,weekly,SEND fair paper form,2025-03-01
bob@example.org,,,health;education,,monthly,old GovDelivery list,2025-04-02T10:30:00Z
not an address,,,,,weekly,x,2025-01-01
cat@example.org,0-99,,,,weekly,x,2025-01-01
dan@example.org,,,,,fortnightly,x,2025-01-01
eve@example.org,,,,,weekly,x,01/02/2025
ann@example.org,,,,,weekly,dup,2025-01-01
left@example.org,,,,,weekly,x,2025-01-01
fay@example.org,,,,,weekly,x,
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "list.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_import_takes_good_rows_and_reports_bad_ones(db, tmp_path):
    # An address that left earlier must not come back through an import.
    left = active_subscriber("left@example.org")
    with session_scope() as session:
        row = session.get(Subscriber, left)
        assert row is not None
        lifecycle.erase(session, row, EndReason.UNSUBSCRIBED)
    result = CliRunner().invoke(
        main, ["subscribers", "import", str(_write(tmp_path, GOOD_AND_BAD))]
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    err = result.stderr
    assert "Imported 2 subscriber(s); rejected 7 row(s)." in out
    assert "Row 4 rejected (not an address): bad address" in err
    assert "Row 5 rejected (cat@example.org): unknown preference value" in err and "0-99" in err
    assert "Row 6 rejected (dan@example.org): unknown preference value" in err
    assert "Row 7 rejected (eve@example.org): bad date" in err
    assert "Row 8 rejected (ann@example.org): this address is already in the file" in err
    assert "Row 9 rejected (left@example.org): suppressed" in err
    assert "Row 10 rejected (fay@example.org): bad date" in err
    with session_scope() as session:
        subs = {
            s.email: s
            for s in session.scalars(select(Subscriber).where(Subscriber.email.is_not(None)))
        }
        assert set(subs) == {"ann@example.org", "bob@example.org"}
        ann = subs["ann@example.org"]
        assert ann.status is SubscriberStatus.ACTIVE and ann.age_bands == ["0-5", "5-11"]
        assert ann.paid_opt_in is False  # no column for it: never assumed
        (record,) = ann.consents
        assert record.source is ConsentSource.CSV_IMPORT
        assert "SEND fair paper form" in record.wording
        assert (
            record.confirmed_at is not None
            and record.confirmed_at.date().isoformat() == "2025-03-01"
        )
        assert subs["bob@example.org"].categories == ["education", "health"]  # vocabulary order


def test_import_with_wrong_columns_imports_nothing(db, tmp_path):
    path = _write(tmp_path, "mail,when\nann@example.org,2025-01-01\n")
    result = CliRunner().invoke(main, ["subscribers", "import", str(path)])
    assert result.exit_code == 1
    assert (
        "missing: email, consented_at" in result.stderr and "Nothing was imported" in result.stderr
    )
    with session_scope() as session:
        assert session.scalars(select(Subscriber)).first() is None


def test_import_missing_file(db, tmp_path):
    result = CliRunner().invoke(main, ["subscribers", "import", str(tmp_path / "nope.csv")])
    assert result.exit_code == 1 and "no file at" in result.stderr


def test_import_twice_adds_nobody_twice(db, tmp_path):
    path = _write(tmp_path, GOOD_AND_BAD)
    CliRunner().invoke(main, ["subscribers", "import", str(path)])
    again = CliRunner().invoke(main, ["subscribers", "import", str(path)])
    assert "Imported 0 subscriber(s)" in again.stdout
    assert "already on our list" in again.stderr
    with session_scope() as session:
        # ann, bob and (not suppressed in this test) left.
        assert len(session.scalars(select(Subscriber)).all()) == 3


def test_list_plain_and_json(db):
    active_subscriber("ann@example.org", age_bands=["16-25"])
    plain = CliRunner().invoke(main, ["subscribers", "list"])
    assert plain.exit_code == 0
    assert "ann@example.org\tactive\tweekly\tage_bands=16-25, needs=all" in plain.stdout
    assert "1 subscriber(s)" in plain.stdout
    as_json = CliRunner().invoke(main, ["subscribers", "list", "--json"])
    rows = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert rows[0]["email"] == "ann@example.org" and rows[0]["age_bands"] == ["16-25"]
    assert rows[0]["status"] == "active"
    assert "T" in rows[0]["confirmed_at"] and rows[0]["ended_at"] is None


def test_import_refuses_a_file_that_is_not_utf8_and_rows_with_extra_values(db, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("email,consented_at\nzoë@example.org,2025-01-01\n".encode("latin-1"))
    result = CliRunner().invoke(main, ["subscribers", "import", str(path)])
    assert result.exit_code == 1 and "not UTF-8" in result.stderr
    extra = _write(tmp_path, "email,consented_at\na@example.org,2025-01-01,surprise\n")
    result = CliRunner().invoke(main, ["subscribers", "import", str(extra)])
    assert "Row 2 rejected (a@example.org): more values than columns" in result.stderr
    with session_scope() as session:
        assert session.scalars(select(Subscriber)).first() is None


def test_erase_command(db):
    sub = active_subscriber("phone@example.org")
    result = CliRunner().invoke(main, ["subscribers", "erase", "Phone@Example.org"])
    assert result.exit_code == 0 and "Erased phone@example.org" in result.stdout
    with session_scope() as session:
        row = session.get(Subscriber, sub)
        assert row is not None and row.email is None and row.end_reason is EndReason.DELETED
        assert lifecycle.is_suppressed(session, "phone@example.org")
    unknown = CliRunner().invoke(main, ["subscribers", "erase", "stranger@example.org"])
    assert unknown.exit_code == 0 and "now suppressed" in unknown.stdout
    bad = CliRunner().invoke(main, ["subscribers", "erase", "not-an-address"])
    assert bad.exit_code == 1 and "right format" in bad.stderr
    with session_scope() as session:
        assert lifecycle.is_suppressed(session, "stranger@example.org")
