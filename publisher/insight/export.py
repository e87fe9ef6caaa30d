"""Downloads: CSV that no spreadsheet runs as a formula, JSON with the licence note.

Directory text is hostile: a service called ``=HYPERLINK(...)`` must reach a
spreadsheet as text. Every text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return gets a leading apostrophe (OWASP's advice for CSV injection).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from publisher.config import get_settings

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
LICENCE_NAME = "Open Government Licence v3.0"
LICENCE_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
CHANGE_COLUMNS = (
    "id",
    "occurred_at",
    "kind",
    "title",
    "summary",
    "link",
    "source",
    "entry_id",
    "age_bands",
    "needs",
    "categories",
    "localities",
)


def safe_cell(value: Any) -> str | int:
    """A CSV cell a spreadsheet shows as text: numbers as they are, text guarded."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return value
    if isinstance(value, list | tuple):
        value = "; ".join(str(v) for v in value)
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def attribution() -> str:
    council = get_settings().council_name
    return f"Contains public sector information from {council} licensed under the {LICENCE_NAME}."


def licence() -> dict[str, str]:
    return {"name": LICENCE_NAME, "url": LICENCE_URL, "attribution": attribution()}


def csv_rows(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """CSV text a few rows at a time (for streaming), every cell guarded."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(h) for h in header])
    for n, row in enumerate(rows, 1):
        writer.writerow([safe_cell(v) for v in row])
        if n % 500 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    return "".join(csv_rows(header, rows))


def changes_csv(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    return csv_rows(CHANGE_COLUMNS, ([r[c] for c in CHANGE_COLUMNS] for r in records))


def changes_json(records: Iterable[dict[str, Any]], selection: dict[str, str]) -> Iterator[str]:
    """``{"licence": ..., "selection": ..., "items": [...]}``, streamed item by item."""
    head = {"licence": licence(), "selection": selection}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "items": ['
    for n, record in enumerate(records):
        yield ("," if n else "") + json.dumps(record, ensure_ascii=False)
    yield "]}\n"
