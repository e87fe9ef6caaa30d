"""CSV cells never start a formula, whatever text a directory sends."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from publisher.insight.export import FORMULA_START, csv_text, safe_cell


@given(st.text())
def test_no_text_cell_can_start_a_formula(text: str) -> None:
    cell = safe_cell(text)
    assert isinstance(cell, str)
    assert not cell.startswith(FORMULA_START)
    # Nothing is lost: the original follows the guard.
    assert cell in (text, "'" + text)


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_csv_round_trip_keeps_every_cell_guarded(row: list[str]) -> None:
    parsed = list(csv.reader(io.StringIO(csv_text(["a"] * len(row), [row]), newline="")))
    assert len(parsed) == 2
    for value in parsed[1]:
        assert not value.startswith(FORMULA_START)
