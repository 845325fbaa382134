"""Everyday equivalents of an amount of CO2eq, from data/equivalents.csv (each row sourced)."""

from __future__ import annotations

from typing import NamedTuple

from ci_carbon.core import tables


class Equivalent(NamedTuple):
    id: str
    amount: float
    kg_per_unit: float
    per: str
    source: str
    year: int


def equivalents(kg: float) -> list[Equivalent]:
    """How many of each unit ``kg`` CO2eq is; order as in the table (the templates choose what to show)."""
    return [Equivalent(e.name, kg / e.value, e.value, e.unit, e.source, e.year) for e in tables.equivalents().values()]
