"""The report model: what every format renders (Markdown, JSON, CSV), built once per command."""

from __future__ import annotations

from typing import NamedTuple

from ci_carbon import __version__
from ci_carbon.advice.recommend import Recommendation, recommend
from ci_carbon.core.equivalents import Equivalent, equivalents
from ci_carbon.core.estimate import estimate, totals
from ci_carbon.core.model import Estimate, Factor, JobSpec
from ci_carbon.core.resolve import resolve_all


class Report(NamedTuple):
    estimates: tuple[Estimate, ...]  # largest emissions first, then by name
    totals: dict[str, float]
    recommendations: tuple[Recommendation, ...]
    factors: tuple[Factor, ...]  # every factor any job used, once, sorted by name
    equivalents: tuple[Equivalent, ...]
    tool_version: str = __version__


def _factors(estimates: list[Estimate], equivalent: list[Equivalent]) -> tuple[Factor, ...]:
    shared = {id(f): f for est in estimates for f in est.job.factors}  # jobs share factor objects: cheap first pass
    seen = dict.fromkeys(shared.values())
    seen.update({Factor("equivalent", e.id, e.kg_per_unit, f"kgCO2eq/{e.per}", e.source, e.year): None
                 for e in equivalent})
    return tuple(sorted(seen, key=lambda f: (f.kind, f.subject, f.value, f.source)))


def build(specs: list[JobSpec]) -> Report:
    """sources → estimate → advice: the whole computation, no I/O."""
    estimates = sorted((estimate(job) for job in resolve_all(specs)),
                       key=lambda e: (-e.emissions_kg, e.job.spec.name))
    total = totals(estimates)
    equivalent = equivalents(total["emissions_kg"])
    return Report(
        estimates=tuple(estimates),
        totals=total,
        recommendations=tuple(recommend(estimates)),
        factors=_factors(estimates, equivalent),
        equivalents=tuple(equivalent),
    )
