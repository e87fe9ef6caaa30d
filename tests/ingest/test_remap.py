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


@pytest.fixture()
def crawled(crawl_env, directory) -> None:
    """One source, crawled once with the default mapping."""
    assert _run("source", "add", "north", directory.url)[0] == 0
    assert _run("ingest", "north")[0] == 0


def _use_mapping(monkeypatch: pytest.MonkeyPatch, path: Path | None) -> None:
    if path is None:
        monkeypatch.delenv("TOPIC_MAPPING", raising=False)
    else:
        monkeypatch.setenv("TOPIC_MAPPING", str(path))
    reset_settings()


def test_remap_applies_an_edited_mapping_to_stored_entries(
    crawled, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _topics()
    assert any(needs for needs, _, _ in before.values())  # the default mapping finds needs
    changes_before = _changes()

    mapping = tmp_path / "mapping.toml"
    mapping.write_text(NARROW, encoding="utf-8")
    _use_mapping(monkeypatch, mapping)

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
    crawled, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _topics()
    bad = tmp_path / "bad.toml"
    bad.write_text("[categories.hobbies]\nterms = ['x']\n", encoding="utf-8")
    _use_mapping(monkeypatch, bad)
    code, _, err = _run("topics", "remap")
    assert code == 1 and "unknown category 'hobbies'" in err
    _use_mapping(monkeypatch, tmp_path / "missing.toml")
    code, _, err = _run("topics", "remap")
    assert code == 1 and "cannot read mapping file" in err
    _use_mapping(monkeypatch, None)
    code, _, err = _run("topics", "remap", "--source", "south")
    assert code == 1 and "no source called 'south'" in err
    assert _topics() == before
