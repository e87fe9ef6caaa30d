"""Subscribers' chosen topics counted by the database, not in Python.

Choices are JSON arrays on each subscriber; the database unnests and counts them
(``jsonb_array_elements_text`` on PostgreSQL, ``json_each`` on SQLite) without sending
100,000 rows of JSON to Python.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import text
from sqlalchemy.orm import Session


def _unnest(dialect: str, column: str, alias: str) -> tuple[str, str]:
    """A LEFT JOIN giving one row per element of ``e.<column>`` (a NULL row when empty),
    and the expression for the element's text."""
    if dialect == "postgresql":
        safe = f"CASE WHEN jsonb_typeof(e.{column}) = 'array' THEN e.{column} ELSE '[]'::jsonb END"
        return (
            f"LEFT JOIN LATERAL jsonb_array_elements_text({safe}) AS {alias}(v) ON true",
            f"{alias}.v",
        )
    safe = f"CASE WHEN json_type(e.{column}) = 'array' THEN e.{column} ELSE '[]' END"
    return f"LEFT JOIN json_each({safe}) AS {alias}", f"{alias}.value"


def subscriber_topics(session: Session) -> Counter[str]:
    """Active subscribers per chosen "dimension:slug", and "dimension:any" for those who
    chose nothing in a dimension (an empty choice means everything)."""
    dialect = session.get_bind().dialect.name
    found: Counter[str] = Counter()
    for prefix, column in (
        ("age", "age_bands"),
        ("need", "needs"),
        ("category", "categories"),
        ("locality", "localities"),
    ):
        join, value = _unnest(dialect, column, "x")
        # Every piece of this SQL is a constant of this module; nothing comes from input.
        stmt = text(
            f"SELECT '{prefix}:' || coalesce({value}, 'any'), count(*) FROM subscribers e "  # noqa: S608
            f"{join} WHERE e.status = 'active' GROUP BY 1"
        )
        found.update({str(k): int(n) for k, n in session.execute(stmt) if k})
    return found
