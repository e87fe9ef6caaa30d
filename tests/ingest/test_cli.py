"""The `publisher` command, run in-process against the test database."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from publisher.cli import main
from publisher.demo.generate import touch
from tests.ingest.conftest import TODAY


@pytest.fixture()
def cli(crawl_env):
    runner = CliRunner()

    def run(*args: str, ok: bool = True):
        result = runner.invoke(main, list(args), catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run


def test_every_command_has_help(cli):
    for args in (
        [],
        ["source"],
        ["source", "add"],
        ["source", "list"],
        ["ingest"],
        ["quarantine"],
        ["changes"],
        ["entries"],
        ["db"],
        ["run"],
        ["topics"],
        ["topics", "remap"],
    ):
        result = cli(*args, "--help")
        assert "Usage:" in result.output


def test_source_ingest_changes_entries_round_trip(cli, directory):
    out = cli(
        "source", "add", "north", directory.url, "--page-url", "https://lo.example/s/{id}"
    ).output
    assert "Added source north" in out
    out = cli("ingest", "north").output
    assert "baseline" in out and "added 10" in out
    svc = directory.state.services[0]
    svc["name"] = "Sensory play group (new times)"
    touch(svc, TODAY)
    out = cli("ingest").output
    assert "updated 1" in out and "unchanged 9" in out

    lines = cli("changes", "--json").output.strip().splitlines()
    assert len(lines) == 1
    change = json.loads(lines[0])
    for key in ("id", "source", "entry_id", "kind", "occurred_at", "changed_fields", "name"):
        assert key in change
    assert change["kind"] == "updated" and change["source"] == "north"
    assert change["entry_id"] == svc["id"] and "name" in change["changed_fields"]
    assert cli("changes", "--json", "--kind", "removed").output == ""
    assert cli("changes", "--json", "--since", "2999-01-01").output == ""
    assert (
        len(
            cli(
                "changes", "--json", "--source", "north", "--since", "2000-01-01T00:00:00Z"
            ).output.splitlines()
        )
        == 1
    )

    rows = [json.loads(line) for line in cli("entries", "--json").output.splitlines()]
    assert len(rows) == 10
    for key in (
        "source",
        "entry_id",
        "name",
        "status",
        "age_bands",
        "needs",
        "categories",
        "localities",
        "assured_date",
        "stale",
    ):
        assert key in rows[0]
    stale_rows = cli("entries", "--stale", "--json").output.splitlines()
    assert all(json.loads(r)["stale"] for r in stale_rows)

    listing = [json.loads(line) for line in cli("source", "list", "--json").output.splitlines()]
    assert listing[0]["last_crawl"]["complete"] is True
    assert listing[0]["last_crawl"]["counts"]["updated"] == 1
    assert "complete" in cli("source", "list").output


def test_failed_crawl_shows_in_source_list_and_exits_non_zero(cli, directory):
    from publisher.demo.directory import Fault

    cli("source", "add", "north", directory.url)
    cli("ingest", "north")
    directory.state.faults.append(Fault(path="/services", page=1, status=500, times=50))
    result = cli("ingest", "north", ok=False)
    assert result.exit_code == 1 and "incomplete" in result.output
    out = cli("source", "list").output
    assert "last error: page 1" in out


def test_bad_cli_input_gets_clear_errors(cli):
    result = cli("ingest", "nowhere", ok=False)
    assert result.exit_code == 1
    result = cli("source", "add", "x", "/no/such/file.json", ok=False)
    assert "neither an http(s) URL nor a file" in result.output
    result = cli("changes", "--since", "last tuesday", ok=False)
    assert "ISO 8601" in result.output
    result = cli("changes", "--kind", "exploded", ok=False)
    assert result.exit_code == 2
    assert "No records are in quarantine" in cli("quarantine").output
