"""Fold a source into a report: each chunk's jobs are resolved and estimated, then folded into the totals, the advice,
the factors used and the list of what was not estimated. The whole computation, no I/O beyond the source's own.

The report model is :class:`ci_carbon.core.report.Report`; every format renders it. The quarterly summary folds its
chunks with the same pieces (:class:`Folds`) and adds what is particular to a quarter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from ci_carbon.advice.fold import Advice
from ci_carbon.advice.names import AllNames, NamesFactory
from ci_carbon.core.equivalents import equivalents
from ci_carbon.core.estimate import estimate
from ci_carbon.core.model import Chunk, Estimate, Factor, Job, JobSpec, Skipped
from ci_carbon.core.report import Report, SourceInfo
from ci_carbon.core.resolve import resolve
from ci_carbon.core.results import ResultsFold
from ci_carbon.core.rows import Rows, RowStore
from ci_carbon.core.totals import Totals
from ci_carbon.errors import InputError, InputProblem
from ci_carbon.sources.interface import Source


def order(est: Estimate) -> tuple[float, str, str]:
    """The report's order: largest emissions first, then by name and id."""
    return (-est.emissions_kg, est.job.spec.name, est.job.spec.id)


def _detail(err: InputError) -> str:
    return "; ".join(f"{p.field}: {p.message}" + (f" (did you mean {p.suggestion}?)" if p.suggestion else "")
                     for p in err.problems)


def resolve_chunk(chunk: Chunk, strict: bool) -> tuple[list[Job], list[Skipped]]:
    """The chunk's jobs with every factor chosen. Strict (a manifest): any problem, the source's own or a lookup's,
    is the user's to fix — all of them, in line order. Lenient (a store of past runs): what does not resolve is
    listed as not estimated, with the problem, and the rest is reported."""
    jobs: list[Job] = []
    skipped: list[Skipped] = []
    problems: list[InputProblem] = list(chunk.problems)
    for spec in chunk.specs:
        try:
            jobs.append(resolve(spec))
        except InputError as err:
            if strict:
                problems.extend(err.problems)
            else:
                skipped.append(Skipped(spec.name, spec.id, "unresolved", _detail(err)))
    if problems:
        raise InputError(sorted(problems, key=lambda p: p.line or 0))
    return jobs, skipped


class Folds:
    """What every command folds a stream into: totals, advice, factors and skipped inputs (and the estimates)."""

    def __init__(self, names: NamesFactory = AllNames, keep: bool = False, rows: bool = True,
                 refine: Callable[[Estimate], Estimate] | None = None):
        self.refine = refine  # the grid at each run's own hours (sources/intensity), before advice and rows
        self.advice = Advice(names)
        self.totals = Totals()
        self.factors: dict[Factor, None] = {}
        self.skipped: list[Skipped] = []
        self.keep = keep  # the estimates themselves (a review compares jobs field by field)
        self.estimates: list[Estimate] = []
        self.rows = RowStore() if rows else None
        self.results = ResultsFold()

    def add(self, chunk: Chunk, strict: bool) -> list[Estimate]:
        """Fold one chunk; its estimates, largest first, for what a caller adds of its own."""
        jobs, unresolved = resolve_chunk(chunk, strict)
        estimates = sorted(map(estimate, jobs), key=order)
        if self.refine is not None:
            estimates = [self.refine(est) for est in estimates]
        self.totals += Totals.of(estimates)
        self.advice.add(estimates, chunk)
        self.results.add(estimates)
        lists = {id(est.job.factors): est.job.factors for est in estimates}  # jobs alike share one factors tuple
        self.factors.update(dict.fromkeys(f for factors in lists.values() for f in factors))
        self.skipped += (*chunk.skipped, *unresolved)
        if self.keep:
            self.estimates += estimates
        if self.rows is not None:
            self.rows.add(estimates)
        return estimates

    def fold(self, source: Source) -> None:
        for chunk in source.chunks():
            self.add(chunk, source.strict)

    def report(self, source: SourceInfo | None) -> Report:
        equivalent = equivalents(self.totals.emissions_kg)
        factors = {**self.factors, **{Factor("equivalent", e.id, e.kg_per_unit, f"kgCO2eq/{e.per}", e.source, e.year):
                                      None for e in equivalent}}
        return Report(
            rows=self.rows.rows() if self.rows is not None else Rows(),
            totals=self.totals,
            recommendations=self.advice.result(),
            factors=tuple(sorted(factors, key=lambda f: (f.kind, f.subject, f.value, f.source))),
            equivalents=tuple(equivalent),
            source=source,
            skipped=tuple(sorted(self.skipped, key=lambda s: (s.code, s.name, s.id))),
            estimates=tuple(sorted(self.estimates, key=order)),
            results=self.results.result(),
        )


def assemble(source: Source, keep: bool = False, refine: Callable[[Estimate], Estimate] | None = None) -> Report:
    """The report of everything ``source`` streams; ``keep`` also keeps its estimates (a pull request's review);
    ``refine`` adds the grid at each run's own hours (:mod:`ci_carbon.sources.intensity`)."""
    folds = Folds(keep=keep, refine=refine)
    folds.fold(source)
    return folds.report(source.info())


def report_of(specs: Sequence[JobSpec], source: SourceInfo | None = None, skipped: Iterable[Skipped] = (),
              strict: bool = True) -> Report:
    """The report of jobs already in hand (one chunk), estimates kept: tests and small callers."""
    folds = Folds(keep=True)
    folds.add(Chunk(tuple(specs), tuple(skipped)), strict)
    return folds.report(source)

