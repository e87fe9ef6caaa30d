"""`publisher topics remap`: an edited mapping file reaches the entries already stored,
without a crawl and without announcing anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from publisher.cli import main
from publisher.config import reset_settings
from publisher.db import session_scope
from publisher.models import Change, Entry

# Only one rule: anything with "play" in its name or description is leisure. Nothing
# maps to a need any more, and there are no localities.
NARROW = """
[categories.leisure]
terms = []
keywords = ["play"]
"""


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _topics() -> dict[str, tuple[list[str], list[str], list[str]]]:
    with session_scope() as session:
        return {
            e.entry_id: (list(e.needs), list(e.categories), list(e.localities))
            for e in session.scalars(select(Entry))
        }


def _changes() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Change)) or 0


def test_remap_applies_an_edited_mapping_to_stored_entries(
    crawl_env, directory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _run("source", "add", "north", directory.url)[0] == 0
    assert _run("ingest", "north")[0] == 0
    before = _topics()
    assert any(needs for needs, _, _ in before.values())  # the default mapping finds needs
    changes_before = _changes()

    mapping = tmp_path / "mapping.toml"
    mapping.write_text(NARROW, encoding="utf-8")
    monkeypatch.setenv("TOPIC_MAPPING", str(mapping))
    reset_settings()

    code, out, _ = _run("topics", "remap", "--dry-run")
    assert code == 0
    assert "would change" in out
    assert _topics() == before  # a dry run changes nothing

    code, out, err = _run("topics", "remap", "--json")
    assert code == 0
    moved = [json.loads(line) for line in out.strip().splitlines()]
    assert moved and f"changed {len(moved)}" in err
    after = _topics()
    for needs, categories, localities in after.values():
        assert needs == [] and localities == []
        assert set(categories) <= {"leisure", "preparing-for-adulthood"}
    assert {m["entry_id"] for m in moved} == {k for k in before if before[k] != after[k]}
    assert _changes() == changes_before  # re-filing is not news

    code, out, _ = _run("topics", "remap")
    assert code == 0 and "changed 0" in out  # nothing left to do


def test_remap_refuses_a_broken_mapping_or_unknown_source(
    crawl_env, directory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _run("source", "add", "north", directory.url)[0] == 0
    assert _run("ingest", "north")[0] == 0
    before = _topics()
    bad = tmp_path / "bad.toml"
    bad.write_text("[categories.hobbies]\nterms = ['x']\n", encoding="utf-8")
    monkeypatch.setenv("TOPIC_MAPPING", str(bad))
    reset_settings()
    code, _, err = _run("topics", "remap")
    assert code == 1 and "unknown category 'hobbies'" in err
    monkeypatch.setenv("TOPIC_MAPPING", str(tmp_path / "missing.toml"))
    reset_settings()
    code, _, err = _run("topics", "remap")
    assert code == 1 and "cannot read mapping file" in err
    monkeypatch.delenv("TOPIC_MAPPING")
    reset_settings()
    code, _, err = _run("topics", "remap", "--source", "south")
    assert code == 1 and "no source called 'south'" in err
    assert _topics() == before
