"""Running sums while runs stream past, and the :class:`~ci_carbon.summary.model.Summary` they make at the end.

Each estimate is turned into its contribution once and added to every tally it belongs to (the period, its month,
its group along each --group-by entry, its status, its data-quality basis); then it is dropped. What needs every run
at the end (the CSV, duplicates) goes to the :class:`~ci_carbon.summary.spill.Spill`; the top runs are a running
top 10; recommendations come from the report's own advice folds (ci_carbon.assemble.Folds).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from functools import lru_cache

from ci_carbon.assemble import Folds
from ci_carbon.core.equivalents import equivalents
from ci_carbon.core.model import Estimate, Skipped
from ci_carbon.core.report import SourceInfo
from ci_carbon.core.results import Results
from ci_carbon.core.totals import Totals
from ci_carbon.summary.model import (
    BASES,
    Breakdown,
    Group,
    Month,
    PlannedProfile,
    Quality,
    Run,
    Skips,
    Summary,
    accumulate,
    basis,
    compare,
    contribution,
    planned_profile,
    run_row,
    tally,
    totals,
    value,
)
from ci_carbon.summary.period import Period, month_of, months
from ci_carbon.summary.spill import Spill

TOP = 10  # runs in the top-runs table
PROFILES = 3  # planned jobs whose hour-of-day profile the HTML draws (the largest savings)
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

    def add(self, est: Estimate) -> None:
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
            key = tuple([value(est, field) for field in dim])
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
    """What the summarised period needs beyond the folds: its sums, the top runs, the rows, where runs came from."""

    def __init__(self, dims: Dims, tag_names: Sequence[str], spill: Spill):
        self.tallies = Tallies(dims)
        self.tag_names = tuple(tag_names)
        self.spill = spill
        self.top: list[Run] = []
        self.sources: dict[tuple[str, str], SourceInfo] = {}
        # carbon per result: each judged run's group along every --group-by entry, to sum its dominated kg there
        self.judged: dict[str, tuple[tuple[str, ...], ...]] = {}
        self.profiles: list[PlannedProfile] = []  # a running top PROFILES by saving

    def add(self, estimates: Sequence[Estimate]) -> None:
        """One chunk's estimates, largest first."""
        rows = []
        dims = self.tallies.dims
        for est in estimates:
            self.tallies.add(est)
            rows.append(run_row(est, self.tag_names))
            if est.job.spec.result is not None:
                self.judged[est.job.spec.id] = tuple(tuple([value(est, f) for f in dim]) for dim in dims)
        self.top = sorted([*self.top, *rows[:TOP]], key=_rank)[:TOP]
        self.spill.add(rows)
        found = [p for p in map(planned_profile, estimates) if p is not None]
        if found:
            self.profiles = sorted([*self.profiles, *found], key=lambda p: (-p.saving_kg, p.name, p.id))[:PROFILES]

    def source(self, info: SourceInfo) -> None:
        key = (info.kind, info.where)
        known = self.sources.get(key)
        self.sources[key] = info if known is None else known._replace(read=known.read + info.read)


def _rank(run: Run) -> tuple:
    return (-run.emissions_kg, run.name, run.id)


def dominated_by_group(results: Results | None, judged: Mapping[str, tuple[tuple[str, ...], ...]],
                       dims: Dims) -> list[dict[tuple[str, ...], float]]:
    """Per --group-by entry, each group's kg of dominated runs (0 where its judged runs are all on a frontier);
    groups with no judged run are absent."""
    out: list[dict[tuple[str, ...], float]] = [{} for _ in dims]
    if results is None:
        return out
    on = set(results.frontier)
    for g in results.groups:
        for p in g.points:
            keys = judged.get(p.run_id)
            if keys is None:
                continue
            for i, key in enumerate(keys):
                out[i][key] = out[i].get(key, 0.0) + (0.0 if p.run_id in on else p.kg)
        for p in g.missing:  # judged but without the metric: the group has a metric configured
            for i, key in enumerate(judged.get(p.run_id, ())):
                out[i].setdefault(key, 0.0)
    return out


def _groups(tallies: Tallies, dim: tuple[str, ...], previous: Tallies | None, whole: float,
            dominated: Mapping[tuple[str, ...], float]) -> Breakdown:
    found = tallies.groups[dim]
    before = previous.groups.get(dim, {}) if previous is not None else None
    groups = []
    for key, running in found.items():
        sums = totals(running)
        earlier = None if before is None else totals(before[key]) if key in before else Totals()
        groups.append(Group(tuple(zip(dim, key, strict=True)), sums, _share(sums.emissions_kg, whole), earlier,
                            dominated.get(key)))
    groups.sort(key=lambda g: (-g.totals.emissions_kg, [v for _, v in g.by]))
    return Breakdown(dim, tuple(groups))


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def _skips(skipped: Sequence[Skipped]) -> Skips:
    counts: dict[str, int] = {}
    examples: dict[str, list[str]] = {}
    for skip in skipped:
        counts[skip.code] = counts.get(skip.code, 0) + 1
        names = examples.setdefault(skip.code, [])
        bisect.insort(names, skip.name)
        del names[EXAMPLES:]
    return Skips(dict(sorted(counts.items())), {code: tuple(names) for code, names in sorted(examples.items())})


def finish(period: Period, collector: Collector, folds: Folds, previous: tuple[Period, Tallies] | None,
           year_ago: tuple[Period, Tallies] | None, compared: tuple[str, ...]) -> Summary:
    """The summary of the period: pure arithmetic over what was collected."""
    sums = collector.tallies
    found = folds.results.result()
    dominated = dominated_by_group(found, collector.judged, sums.dims)
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
    return Summary(
        period=period,
        totals=total,
        previous=before_summary,
        year_ago=compare(total, totals(year_ago[1].total), year_ago[0]) if year_ago else None,
        breakdowns=tuple(_groups(sums, dim, before, whole, dominated[i]) for i, dim in enumerate(sums.dims)),
        months=month_rows,
        undated=totals(sums.months.get("", tally())),
        top=tuple(collector.top),
        statuses=statuses,
        quality=quality,
        guessed=totals(sums.guessed),
        recommendations=folds.advice.result(),
        skipped=_skips(folds.skipped),
        factors=tuple(sorted(folds.factors, key=lambda f: (f.kind, f.subject, f.value, f.source))),
        equivalents=tuple(equivalents(whole)),
        sources=tuple(collector.sources.values()),
        compared=compared,
        tag_names=collector.tag_names,
        runs=collector.spill,
        results=found,
        profiles=tuple(collector.profiles),
    )


__all__ = ["Collector", "Dims", "Tallies", "Totals", "finish"]
