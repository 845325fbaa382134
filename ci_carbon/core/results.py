"""Carbon per result: each run's emissions against the metric it is judged by (``--metric NAME[:max|:min]``).

Pure arithmetic over estimates whose spec carries a :class:`~ci_carbon.core.model.Result`; the words are in
templates/results.j2. The rules, so that a reader can check every number by hand:

- **Groups.** Runs are grouped by experiment and sweep: the runs nested under one parent run (``sweep``, the
  parent's run id) are one group; the runs of an experiment that are nested under no parent are another
  (``sweep`` ""). Every run is in exactly one group, so the groups' dominated kg add up without double counting.
- **Frontier** (Pareto): a run *dominates* another when it emitted no more and scored no worse, and is strictly
  better on one of the two (emissions: lower is better; the metric: per its direction, ``max`` higher, ``min``
  lower). The frontier is the runs no run of their group dominates; two runs with the same kg and the same value are
  both on it. ``dominated_kg`` is the emissions of the group's other runs that logged the metric.
- **Runs without the metric** are neither on the frontier nor dominated: they are listed (``missing``), with their
  kg, never dropped.
- **Best run**: the best value (per direction), then the lower kg, then the run id. ``best_kg`` is its own emissions.
- **Marginal cost of the last gain** (the best-so-far curve of a search): the runs that logged the metric, in the
  order they started (then by run id), improved the best value so far at some runs (the *records*); the last record
  is the best run. ``last_gain`` is the best value minus the record before it (signed, in the metric's units: a
  ``min`` metric gains by going down), and its cost is the emissions of the runs started after that previous record
  up to and including the best run (``trials`` of them). The runs started after the best run (``after_best``) added
  nothing to the best value: that is what stopping the search at its best run would have saved, which the advice
  (advice/results.py) quantifies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from ci_carbon.core.model import Estimate


class Point(NamedTuple):
    """One estimated run as carbon per result sees it."""

    run_id: str
    name: str
    kg: float
    value: float | None  # the metric's latest value; None: the run did not log it
    started: int | None  # ms since the epoch: the order of a search's trials


class LastGain(NamedTuple):
    """What the last improvement of the best value cost (see the module's rule)."""

    change: float  # best value − the previous record's (signed, metric units)
    previous: str  # run id of the previous record
    kg: float  # emissions of the runs after the previous record up to and including the best run
    trials: int  # how many runs those are


class Tail(NamedTuple):
    """The runs that started after the best run: they did not improve the best value."""

    trials: int = 0
    kg: float = 0.0


class Group(NamedTuple):
    experiment: str
    sweep: str  # the parent run id of a search's trials; "" for runs nested under no parent
    metric: str
    direction: str  # max | min
    points: tuple[Point, ...]  # runs with the metric, lowest kg first (then better value, then run id)
    missing: tuple[Point, ...]  # runs without the metric, largest kg first
    frontier: tuple[str, ...]  # run ids on the frontier, lowest kg first
    dominated_kg: float
    total_kg: float  # every run of the group, with or without the metric
    best: Point | None
    last_gain: LastGain | None  # None with fewer than two records
    after_best: Tail


class Change(NamedTuple):
    """A pull request's best run against the merge-base's best run (same metric)."""

    metric: str
    direction: str
    head: Point
    base: Point

    @property
    def value_change(self) -> float:
        return float(self.head.value or 0.0) - float(self.base.value or 0.0)

    @property
    def kg_change(self) -> float:
        return self.head.kg - self.base.kg


class Results(NamedTuple):
    metric: str | None  # the one metric of every group; None when groups are judged by different metrics
    direction: str | None
    groups: tuple[Group, ...]  # by experiment, then sweep
    frontier: tuple[str, ...]  # the union of the groups' frontiers
    dominated_kg: float  # the sum of the groups' dominated kg
    values: Mapping[str, float | None]  # run id → value (None: not logged)
    against_base: Change | None = None  # with --base on MLflow runs


def better(a: float, b: float, direction: str) -> bool:
    """Whether value ``a`` is strictly better than ``b``."""
    return a > b if direction == "max" else a < b


def _key(point: Point, direction: str) -> tuple[float, float, str]:
    """Lowest kg first, then the better value, then the run id: the order frontier and tables use."""
    value = float(point.value)  # type: ignore[arg-type]
    return (point.kg, -value if direction == "max" else value, point.run_id)


def frontier(points: Sequence[Point], direction: str) -> tuple[str, ...]:
    """Run ids no point dominates, lowest kg first. One pass in kg order: within a block of equal kg only the best
    value can survive, and it survives when every lower-kg run scored strictly worse."""
    ordered = sorted(points, key=lambda p: _key(p, direction))
    kept: list[str] = []
    best_lower: float | None = None  # the best value among runs of strictly lower kg
    i = 0
    while i < len(ordered):
        j = i
        while j < len(ordered) and ordered[j].kg == ordered[i].kg:
            j += 1
        top = float(ordered[i].value)  # type: ignore[arg-type]  # the block's best value (sorted first)
        if best_lower is None or better(top, best_lower, direction):
            kept += [p.run_id for p in ordered[i:j] if p.value == top]
            best_lower = top
        i = j
    return tuple(kept)


def best(points: Iterable[Point], direction: str) -> Point | None:
    """The best value, then the lower kg, then the run id."""
    scored = [p for p in points if p.value is not None]
    if not scored:
        return None
    sign = -1.0 if direction == "max" else 1.0
    return min(scored, key=lambda p: (sign * float(p.value), p.kg, p.run_id))  # type: ignore[arg-type]


def chronological(points: Iterable[Point]) -> list[Point]:
    """The order a search ran its trials: by start time (runs without one last), then by run id."""
    return sorted(points, key=lambda p: (p.started is None, p.started or 0, p.run_id))


def last_gain(points: Sequence[Point], direction: str) -> tuple[LastGain | None, Tail]:
    """The cost of the last improvement of the best-so-far value, and the runs after the best (module's rule)."""
    runs = chronological(points)
    records: list[int] = []
    for i, p in enumerate(runs):
        if not records or better(float(p.value), float(runs[records[-1]].value), direction):  # type: ignore[arg-type]
            records.append(i)
    if not records:
        return None, Tail()
    top = records[-1]
    tail = Tail(len(runs) - top - 1, sum(p.kg for p in runs[top + 1:]))
    if len(records) < 2:
        return None, tail
    before = records[-2]
    spent = runs[before + 1:top + 1]
    change = float(runs[top].value) - float(runs[before].value)  # type: ignore[arg-type]
    return LastGain(change, runs[before].run_id, sum(p.kg for p in spent), len(spent)), tail


def group(experiment: str, sweep: str, metric: str, direction: str, points: Sequence[Point]) -> Group:
    scored = sorted((p for p in points if p.value is not None), key=lambda p: _key(p, direction))
    missing = tuple(sorted((p for p in points if p.value is None), key=lambda p: (-p.kg, p.name, p.run_id)))
    on = frontier(scored, direction)
    kept = set(on)
    gain, tail = last_gain(scored, direction)
    return Group(experiment, sweep, metric, direction, tuple(scored), missing, on,
                 sum(p.kg for p in scored if p.run_id not in kept), sum(p.kg for p in points),
                 best(scored, direction), gain, tail)


GroupKey = tuple[str, str, str, str]  # experiment, sweep, metric, direction


class ResultsFold:
    """Collects the runs a metric is asked of while chunks stream past (a few numbers per run); ``result`` groups
    them at the end. Runs with no metric asked (manifest jobs, experiments without one) are not collected."""

    def __init__(self) -> None:
        self.points: dict[GroupKey, list[Point]] = {}

    def add(self, estimates: Iterable[Estimate]) -> None:
        for est in estimates:
            spec = est.job.spec
            if spec.result is None:
                continue
            key = (spec.experiment, spec.sweep, spec.result.metric, spec.result.direction)
            self.points.setdefault(key, []).append(
                Point(spec.id, spec.name, est.emissions_kg, spec.result.value, spec.started))

    def result(self) -> Results | None:
        return results(self.points) if self.points else None


def results(points: Mapping[GroupKey, Sequence[Point]]) -> Results:
    groups = tuple(group(*key, found) for key, found in sorted(points.items()))
    metrics = {(g.metric, g.direction) for g in groups}
    metric, direction = metrics.pop() if len(metrics) == 1 else (None, None)
    union = sorted({run for g in groups for run in g.frontier})
    values = {p.run_id: p.value for found in points.values() for p in found}
    return Results(metric, direction, groups, tuple(union), sum(g.dominated_kg for g in groups),
                   dict(sorted(values.items())))


def overall_best(found: Results) -> Point | None:
    """The best run of every group (one metric only: values of different metrics do not compare)."""
    if found.metric is None or found.direction is None:
        return None
    return best((p for g in found.groups for p in g.points), found.direction)


def against(head: Results | None, base: Results | None) -> Change | None:
    """The head's best run against the base's, when both judge their runs by the same metric and direction."""
    if head is None or base is None or head.metric is None or (head.metric, head.direction) != (
            base.metric, base.direction):
        return None
    mine, theirs = overall_best(head), overall_best(base)
    if mine is None or theirs is None:
        return None
    return Change(head.metric, str(head.direction), mine, theirs)
