"""Store Python enums by their value, as plain strings with a CHECK-free length."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Enum


def value_enum(cls: type[enum.Enum], length: int = 32) -> Enum:
    return Enum(
        cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def enum_values(cls: type[enum.Enum]) -> list[Any]:
    return [m.value for m in cls]
