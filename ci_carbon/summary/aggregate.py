"""Running sums while runs stream past, and the :class:`~ci_carbon.summary.model.Summary` they make at the end.

Each estimate is turned into its contribution once and added to every tally it belongs to (the period, its month,
its group along each --group-by entry, its status, its data-quality basis); then it is dropped. What needs every run
at the end (the CSV, duplicates) goes to the :class:`~ci_carbon.summary.spill.Spill`; the top runs are a running
top 10; recommendations are merged by :class:`~ci_carbon.summary.advice.Merger`.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from functools import lru_cache

from ci_carbon.core.equivalents import equivalents
from ci_carbon.core.model import Estimate, Factor
from ci_carbon.report import Report
from ci_carbon.summary import advice
from ci_carbon.summary.model import (
    BASES,
    EMPTY_TAGS,
    Breakdown,
    Group,
    Month,
    Quality,
    Run,
    Skips,
    SourceInfo,
    Summary,
    Totals,
    accumulate,
    basis,
    compare,
    contribution,
    run_row,
    tally,
    totals,
    value,
)
from ci_carbon.summary.period import Period, month_of, months
from ci_carbon.summary.spill import Spill

TOP = 10  # runs in the top-runs table
EXAMPLES = 5  # names kept per reason a run was not estimated
DAY_MS = 86_400_000

Dims = tuple[tuple[str, ...], ...]


class Tallies:
    """The sums of one period: enough for its totals, months and groups (a compared period needs no more)."""

    def __init__(self, dims: Dims):
        self.dims = dims
        self.total = tally()
        self.months: dict[str, list[float]] = {}
        self.month_basis: dict[str, dict[str, float]] = {}
        self.groups: dict[tuple[str, ...], dict[tuple[str, ...], list[float]]] = {dim: {} for dim in dims}
        self.statuses: dict[str, list[float]] = {}
        self.bases: dict[str, list[float]] = {b: tally() for b in BASES}
        self.guessed = tally()

    def add(self, est: Estimate, tags: Mapping[str, str]) -> None:
        part = contribution(est)
        accumulate(self.total, part)
        month = _month(est.job.spec.started)
        accumulate(_slot(self.months, month), part)
        kind = basis(est)
        by_basis = self.month_basis.get(month)
        if by_basis is None:
            by_basis = self.month_basis[month] = dict.fromkeys(BASES, 0.0)
        by_basis[kind] += est.emissions_kg
        accumulate(self.bases[kind], part)
        accumulate(_slot(self.statuses, est.job.spec.status), part)
        if est.job.guessed:
            accumulate(self.guessed, part)
        for dim, groups in self.groups.items():
            key = tuple([value(est, field, tags) for field in dim])
            accumulate(_slot(groups, key), part)


def _slot(tallies: dict, key: object) -> list[float]:
    """The running sum for ``key``, made on first use."""
    found = tallies.get(key)
    if found is None:
        found = tallies[key] = tally()
    return found


@lru_cache(maxsize=4096)
def _day_month(day: int) -> str:
    return month_of(day * DAY_MS)


def _month(started: int | None) -> str:
    """month_of, computed once per day that runs start on (a quarter has ~92)."""
    return "" if started is None else _day_month(started // DAY_MS)


class Collector:
    """Everything the summarised period needs beyond its sums: top runs, advice, skipped runs, factors, rows."""

    def __init__(self, dims: Dims, tag_names: Sequence[str], spill: Spill):
        self.tallies = Tallies(dims)
        self.tag_names = tuple(tag_names)
        self.spill = spill
        self.top: list[Run] = []
        self.merger = advice.Merger()
        self.skips: dict[str, int] = {}
        self.examples: dict[str, list[str]] = {}
        self.factors: set[Factor] = set()
        self.sources: dict[tuple[str, str], SourceInfo] = {}

    def add(self, report: Report, tags: Mapping[str, Mapping[str, str]] | None = None,
            siblings: dict[str, tuple[str, str]] | None = None) -> None:
        """One chunk's report (its runs estimated and advised on) and, for MLflow, its runs' tags and sibling groups."""
        tags = tags or {}
        rows = []
        for est in report.estimates:
            run_tags = tags.get(est.job.spec.id, EMPTY_TAGS)
            self.tallies.add(est, run_tags)
            rows.append(run_row(est, run_tags, self.tag_names))
        self.top = sorted([*self.top, *rows[:TOP]], key=_rank)[:TOP]  # the report's estimates come largest first
        self.spill.add(rows, filter(None, map(advice.candidate, report.estimates)))
        self.merger.add_chunk(report.recommendations, report.estimates)
        self.merger.add_runs(siblings or {}, report.estimates)
        for skip in report.skipped:
            self.skips[skip.code] = self.skips.get(skip.code, 0) + 1
            names = self.examples.setdefault(skip.code, [])
            bisect.insort(names, skip.name)
            del names[EXAMPLES:]
        self.factors.update(f for f in report.factors if f.kind != "equivalent")

    def source(self, info: SourceInfo) -> None:
        key = (info.kind, info.where)
        known = self.sources.get(key)
        self.sources[key] = info if known is None else known._replace(read=known.read + info.read)


def _rank(run: Run) -> tuple:
    return (-run.emissions_kg, run.name, run.id)


def _groups(tallies: Tallies, dim: tuple[str, ...], previous: Tallies | None, whole: float) -> Breakdown:
    found = tallies.groups[dim]
    before = previous.groups.get(dim, {}) if previous is not None else None
    groups = []
    for key, running in found.items():
        sums = totals(running)
        earlier = None if before is None else totals(before[key]) if key in before else Totals()
        groups.append(Group(tuple(zip(dim, key, strict=True)), sums, _share(sums.emissions_kg, whole), earlier))
    groups.sort(key=lambda g: (-g.totals.emissions_kg, [v for _, v in g.by]))
    return Breakdown(dim, tuple(groups))


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def finish(period: Period, collector: Collector, previous: tuple[Period, Tallies] | None,
           year_ago: tuple[Period, Tallies] | None, compared: tuple[str, ...]) -> Summary:
    """The summary of the period: pure arithmetic over what was collected."""
    sums = collector.tallies
    total = totals(sums.total)
    whole = total.emissions_kg
    before_summary = compare(total, totals(previous[1].total), previous[0]) if previous else None
    before = previous[1] if previous is not None and before_summary is not None else None
    month_rows = tuple(
        Month(month, totals(sums.months.get(month, tally())), sums.month_basis.get(month, dict.fromkeys(BASES, 0.0)))
        for month in months(period))
    quality = tuple(Quality(b, int(sums.bases[b][-1]), sums.bases[b][4], _share(sums.bases[b][4], whole))
                    for b in BASES)
    statuses = tuple(sorted((Group((("status", status),), totals(running), _share(running[4], whole))
                             for status, running in sums.statuses.items()),
                            key=lambda g: (-g.totals.emissions_kg, g.by)))
    duplicates = advice.duplicates(collector.spill.candidates())
    return Summary(
        period=period,
        totals=total,
        previous=before_summary,
        year_ago=compare(total, totals(year_ago[1].total), year_ago[0]) if year_ago else None,
        breakdowns=tuple(_groups(sums, dim, before, whole) for dim in sums.dims),
        months=month_rows,
        undated=totals(sums.months.get("", tally())),
        top=tuple(collector.top),
        statuses=statuses,
        quality=quality,
        guessed=totals(sums.guessed),
        recommendations=tuple(collector.merger.recommendations(duplicates)),
        skipped=Skips(dict(sorted(collector.skips.items())),
                      {code: tuple(names) for code, names in sorted(collector.examples.items())}),
        factors=tuple(sorted(collector.factors, key=lambda f: (f.kind, f.subject, f.value, f.source))),
        equivalents=tuple(equivalents(whole)),
        sources=tuple(collector.sources.values()),
        compared=compared,
        tag_names=collector.tag_names,
        runs=collector.spill,
    )


__all__ = ["Collector", "Dims", "Tallies", "Totals", "finish"]
