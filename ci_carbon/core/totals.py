"""Totals: sums over jobs, one type for a report, a quarter, a month or a group, with addition."""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter
from typing import NamedTuple

from ci_carbon.core.model import Estimate

ESTIMATE_KEYS = (
    "energy_kwh", "energy_kwh_low", "energy_kwh_high", "emissions_kg", "emissions_kg_low", "emissions_kg_high",
    "emissions_kg_market", "embodied_kg",
)
_ESTIMATED = attrgetter(*ESTIMATE_KEYS)


class Totals(NamedTuple):
    """Sums over jobs, for a report, a quarter, a month or a group alike; ranges add up as bounds (every job at its
    low, every job at its high). MLflow runs count one job each; ``runs`` counts a manifest job's repetitions."""

    jobs: int = 0
    energy_kwh: float = 0.0
    energy_kwh_low: float = 0.0
    energy_kwh_high: float = 0.0
    emissions_kg: float = 0.0
    emissions_kg_low: float = 0.0
    emissions_kg_high: float = 0.0
    emissions_kg_market: float = 0.0
    embodied_kg: float = 0.0
    device_hours: float = 0.0  # over all runs
    hours: float = 0.0  # wall-clock, over all runs
    runs: int = 0

    def __add__(self, other: object) -> Totals:
        if not isinstance(other, Totals):
            return NotImplemented
        return Totals._make(a + b for a, b in zip(self, other, strict=True))

    @classmethod
    def of(cls, estimates: Iterable[Estimate]) -> Totals:
        """The sums over ``estimates``, column by column (a 100,000-job report adds columns, not tuples)."""
        rows = [(*_ESTIMATED(e), e.job.device_hours * e.job.runs, e.job.hours * e.job.runs, e.job.runs)
                for e in estimates]
        if not rows:
            return cls()
        columns = list(zip(*rows, strict=True))
        return cls._make((len(rows), *(sum(c, 0.0) for c in columns[:-1]), sum(columns[-1])))
