"""Cut exhaustive searches: a manifest job with many runs, the children of one parent run, or the sibling runs of
an experiment that differ only in their parameters — a search nobody declared, seen only over the whole stream."""

from __future__ import annotations

from collections.abc import Sequence

from ci_carbon.advice.names import Names, NamesFactory, Rank, rank
from ci_carbon.core.model import Chunk, Estimate
from ci_carbon.core.report import Recommendation
from ci_carbon.core.resolve import const

SWEEP_MIN_RUNS = 8  # trials from which repetitions are a search rather than a few seeds
SWEEP_MIN_SIBLINGS = 8  # sibling runs (estimated or not) from which they are one search, when their params differ


class _Trials:
    """The estimated trials of one search: emissions, count, names, and the experiment of its largest trial."""

    __slots__ = ("current", "names", "runs", "top")

    def __init__(self, names: Names):
        self.names = names
        self.current = 0.0
        self.runs = 0
        self.top: tuple[Rank, str] | None = None

    def add(self, est: Estimate) -> None:
        spec = est.job.spec
        member = rank(est.emissions_kg, spec.name, spec.id)
        self.current += est.emissions_kg
        self.runs += est.job.runs
        self.names.add(member, spec.name)
        if self.top is None or member < self.top[0]:
            self.top = (member, spec.experiment)


class _Siblings:
    """One sibling group: how many runs were read, whether their parameter values differ, and its trials."""

    __slots__ = ("differs", "first", "read", "trials")

    def __init__(self, key: str, trials: _Trials):
        self.read, self.first, self.differs, self.trials = 0, key, False, trials

    def count(self, key: str) -> None:
        self.read += 1
        self.differs = self.differs or key != self.first

    def is_search(self) -> bool:
        return self.read >= SWEEP_MIN_SIBLINGS and self.differs


class Search:
    def __init__(self, names: NamesFactory):
        self.new_names = names
        self.sweeps: dict[str, _Trials] = {}  # a declared search (a parent's children) → its trials
        self.siblings: dict[str, _Siblings] = {}  # a candidate sibling group → its runs
        self.repeated = _Trials(names())  # manifest jobs of many runs each

    def add(self, estimates: Sequence[Estimate], chunk: Chunk) -> None:
        for group, key in chunk.siblings.values():
            found = self.siblings.get(group)
            if found is None:
                found = self.siblings[group] = _Siblings(key, _Trials(self.new_names()))
            found.count(key)
        for est in estimates:
            spec = est.job.spec
            if spec.sweep:
                trials = self.sweeps.get(spec.sweep)
                if trials is None:
                    trials = self.sweeps[spec.sweep] = _Trials(self.new_names())
                trials.add(est)
            elif spec.id in chunk.siblings:
                self.siblings[chunk.siblings[spec.id][0]].trials.add(est)
            elif est.job.runs >= SWEEP_MIN_RUNS:
                self.repeated.add(est)

    def result(self) -> list[Recommendation]:
        searches = [("", self.repeated), *sorted(self.sweeps.items()),
                    *sorted((group, s.trials) for group, s in self.siblings.items() if s.is_search())]
        return [rec for key, trials in searches if (rec := _recommendation(bool(key), trials)) is not None]


def _recommendation(sweep: bool, trials: _Trials) -> Recommendation | None:
    if trials.top is None or (sweep and trials.runs < SWEEP_MIN_RUNS):
        return None
    fraction = const("sweep_budget_fraction").value
    return Recommendation("search", trials.names.result(), trials.current * (1 - fraction),
                          {"fraction": fraction, "runs": trials.runs, "current_kg": trials.current, "sweep": sweep,
                           "experiment": trials.top[1]})
