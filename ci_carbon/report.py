"""The report model: what every format renders (Markdown, JSON, CSV), built once per command."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from ci_carbon import __version__
from ci_carbon.advice.recommend import Recommendation, recommend
from ci_carbon.core.equivalents import Equivalent, equivalents
from ci_carbon.core.estimate import estimate, totals
from ci_carbon.core.model import Estimate, Factor, Job, JobSpec
from ci_carbon.core.resolve import resolve, resolve_all
from ci_carbon.errors import InputError

if TYPE_CHECKING:  # the compare stage reads reports; a report only carries its results
    from ci_carbon.compare.budget import Budget
    from ci_carbon.compare.delta import Comparison


class Skipped(NamedTuple):
    """An input that was read but not estimated (a source's Skip, or a job whose factors did not resolve)."""

    name: str
    id: str
    code: str
    detail: str = ""


class Source(NamedTuple):
    kind: str  # manifest | mlflow
    where: str  # the file or tracking URI
    reader: str = ""  # mlflow: sql | client
    read: int = 0  # runs or jobs read


class Report(NamedTuple):
    estimates: tuple[Estimate, ...]  # largest emissions first, then by name
    totals: dict[str, float]
    recommendations: tuple[Recommendation, ...]
    factors: tuple[Factor, ...]  # every factor any job used, once, sorted by name
    equivalents: tuple[Equivalent, ...]
    source: Source | None = None
    skipped: tuple[Skipped, ...] = ()
    tool_version: str = __version__
    comparison: Comparison | None = None  # against the pull request's base (compare.delta), when asked
    budget: Budget | None = None  # the budget gate's verdict (compare.budget), when thresholds are set


def _factors(estimates: list[Estimate], equivalent: list[Equivalent]) -> tuple[Factor, ...]:
    lists = {id(est.job.factors): est.job.factors for est in estimates}  # jobs alike share one factors tuple
    shared = {id(f): f for factors in lists.values() for f in factors}  # and factor objects: cheap first passes
    seen = dict.fromkeys(shared.values())
    seen.update({Factor("equivalent", e.id, e.kg_per_unit, f"kgCO2eq/{e.per}", e.source, e.year): None
                 for e in equivalent})
    return tuple(sorted(seen, key=lambda f: (f.kind, f.subject, f.value, f.source)))


def _lenient(specs: list[JobSpec]) -> tuple[list[Job], list[Skipped]]:
    """Resolve what resolves; list the rest with the problem (a store's odd tag must not sink a whole report)."""
    jobs, skipped = [], []
    for spec in specs:
        try:
            jobs.append(resolve(spec))
        except InputError as err:
            detail = "; ".join(f"{p.field}: {p.message}" + (f" (did you mean {p.suggestion}?)" if p.suggestion else "")
                               for p in err.problems)
            skipped.append(Skipped(spec.name, spec.id, "unresolved", detail))
    return jobs, skipped


def build(specs: list[JobSpec], source: Source | None = None, skipped: tuple[Skipped, ...] = (),
          lenient: bool = False) -> Report:
    """sources → estimate → advice: the whole computation, no I/O.

    A manifest is strict (any problem is the user's to fix: exit 2); a store of past runs is lenient.
    """
    if lenient:
        jobs, unresolved = _lenient(specs)
        skipped = (*skipped, *unresolved)
    else:
        jobs = resolve_all(specs)
    estimates = sorted((estimate(job) for job in jobs), key=lambda e: (-e.emissions_kg, e.job.spec.name, e.job.spec.id))
    total = totals(estimates)
    equivalent = equivalents(total["emissions_kg"])
    return Report(
        estimates=tuple(estimates),
        totals=total,
        recommendations=tuple(recommend(estimates)),
        factors=_factors(estimates, equivalent),
        equivalents=tuple(equivalent),
        source=source,
        skipped=tuple(sorted(skipped, key=lambda s: (s.code, s.name, s.id))),
    )
