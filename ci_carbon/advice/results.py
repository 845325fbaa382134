"""Stop searches where they flattened: the trials of a sweep that started after its best run did not improve the
best value of its metric (carbon per result, ci_carbon/core/results.py), so their emissions are what stopping the
sweep at its best run would have saved. Quantified from the sweep's own runs; the sentence is templates/results.j2's.

Only sweeps (runs nested under one parent) of at least SWEEP_MIN_RUNS trials that logged the metric are judged, and
only when at least MIN_AFTER trials came after the best: fewer is noise, not a plateau. The rule says what the last
improvement cost too, so a reader sees how flat the curve was before it stopped rising.
"""

from __future__ import annotations

from collections.abc import Sequence

from ci_carbon.advice.names import NamesFactory, rank
from ci_carbon.advice.search import SWEEP_MIN_RUNS
from ci_carbon.core.model import Chunk, Estimate
from ci_carbon.core.report import Recommendation
from ci_carbon.core.results import Group, ResultsFold, chronological

MIN_AFTER = 2  # trials after the best, from which a sweep is said to have flattened


class Plateau:
    """The advice fold: collects the runs a metric is asked of, judges each sweep at the end."""

    def __init__(self, names: NamesFactory):
        self.new_names = names
        self.fold = ResultsFold()

    def add(self, estimates: Sequence[Estimate], chunk: Chunk) -> None:
        self.fold.add(estimates)

    def result(self) -> list[Recommendation]:
        found = self.fold.result()
        if found is None:
            return []
        return [rec for g in found.groups if (rec := self._recommendation(g)) is not None]

    def _recommendation(self, g: Group) -> Recommendation | None:
        if not g.sweep or g.best is None or len(g.points) < SWEEP_MIN_RUNS or g.after_best.trials < MIN_AFTER:
            return None
        if g.after_best.kg <= 0:
            return None
        names = self.new_names()
        runs = chronological(g.points)
        for p in runs[runs.index(g.best) + 1:]:
            names.add(rank(p.kg, p.name, p.run_id), p.name)
        gain = g.last_gain
        scored_kg = sum(p.kg for p in g.points)
        return Recommendation("results", names.result(), g.after_best.kg, {
            "experiment": g.experiment, "sweep": g.sweep, "metric": g.metric, "direction": g.direction,
            "trials": len(g.points), "after": g.after_best.trials, "best": g.best.name, "best_value": g.best.value,
            "best_position": runs.index(g.best) + 1, "percent": 100.0 * g.after_best.kg / scored_kg,
            "last_change": gain.change if gain else None, "last_kg": gain.kg if gain else None,
            "last_trials": gain.trials if gain else None})
