"""Recommendations over a whole quarter, from recommendations computed a chunk of runs at a time.

:func:`ci_carbon.advice.recommend.recommend` runs on each chunk's estimates. Most of its rules add up over any split
of the runs (the saving of a region move, a device change, failed or idle runs, guessed inputs is a sum over runs),
so chunk results are merged per rule and key. Two rules look across runs and are therefore counted over the whole
stream here, with recommend's own thresholds and the same parameters for the same sentences (templates/advice.j2):

- searches: a parent's children, or ≥ 8 sibling runs of an experiment with the same parameter names and different
  values (what ``load`` calls a sweep), with ≥ 8 estimated trials;
- duplicates: runs repeating a parameter set already trained in the same experiment, the earliest one being the
  original (ordered by start time, then id, as recommend orders them).

tests/summary/test_advice.py checks that the result equals ``recommend`` over all estimates at once.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from ci_carbon.advice.recommend import KIND_ORDER, SWEEP_MIN_RUNS, WASTED_STATUSES, Recommendation
from ci_carbon.core.model import Estimate
from ci_carbon.core.resolve import const
from ci_carbon.sources.mlflow.load import SWEEP_MIN_SIBLINGS
from ci_carbon.summary.model import Sample

NAMED = 20  # run names kept per recommendation (its sentence names three; JSON lists these)
_ADDED = ("current_kg", "count", "low_kg", "high_kg", "runs")


class _Names:
    """The NAMED largest runs (emissions, then name, then id) of a recommendation, and how many there are."""

    __slots__ = ("heap", "total")

    def __init__(self) -> None:
        self.heap: list[tuple[float, str, str]] = []  # (emissions, reversed name order …): a min-heap of the kept
        self.total = 0

    def add(self, emissions: float, name: str, run_id: str) -> None:
        self.total += 1
        item = (emissions, _Desc(name), _Desc(run_id))
        if len(self.heap) < NAMED:
            heapq.heappush(self.heap, item)
        elif item > self.heap[0]:
            heapq.heapreplace(self.heap, item)

    def sample(self) -> Sample:
        ranked = sorted(self.heap, reverse=True)
        return Sample((name.value for _, name, _ in ranked), self.total)


class _Desc:
    """A string that sorts backwards: a min-heap on (emissions, _Desc(name)) keeps the largest, then a–z names."""

    __slots__ = ("value",)

    def __init__(self, value: str):
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        return self.value > other.value

    def __gt__(self, other: _Desc) -> bool:
        return self.value < other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)


def members(names: Sequence[str], estimates: Sequence[Estimate]) -> Iterator[Estimate]:
    """The estimates a chunk recommendation is about: its names in the order of the chunk's estimates.

    recommend collects each rule's runs by walking the estimates in order, so the names are a subsequence of the
    estimates' names; matching them in order finds each one's estimate (and so its emissions) without an index.
    """
    walk = iter(estimates)
    for name in names:
        for est in walk:
            if est.job.spec.name == name:
                yield est
                break


class _Merged:
    """One recommendation summed over chunks."""

    __slots__ = ("kind", "names", "params", "saving")

    def __init__(self, kind: str, params: dict[str, Any]):
        self.kind = kind
        self.saving = 0.0
        self.params = params
        self.names = _Names()


def _key(rec: Recommendation) -> tuple:
    p = rec.params
    if rec.kind == "region":
        return ("region", p["provider"], p["from"].region)
    if rec.kind == "hardware":
        return ("hardware", p["current"].id, p["best"].id)
    if rec.kind == "waste":
        return ("waste", p["what"])
    return (rec.kind,)


def _global(rec: Recommendation) -> bool:
    """Rules counted over the whole stream, not merged: sweeps and duplicates (a manifest's many-run jobs merge)."""
    return (rec.kind == "search" and rec.params.get("sweep")) or (
        rec.kind == "waste" and rec.params.get("what") == "duplicates")


class Merger:
    """Chunk recommendations → the quarter's, plus the sweeps and duplicates counted over every run."""

    def __init__(self) -> None:
        self.merged: dict[tuple, _Merged] = {}
        self.sweeps: dict[str, _Sweep] = {}  # parent run id → its estimated children
        self.siblings: dict[str, _Siblings] = {}  # sibling group → its runs

    def add_chunk(self, recommendations: Iterable[Recommendation], estimates: Sequence[Estimate]) -> None:
        for rec in recommendations:
            if _global(rec):
                continue
            merged = self.merged.get(_key(rec))
            if merged is None:
                merged = self.merged[_key(rec)] = _Merged(rec.kind, _counted(rec.params))
            else:
                _merge_params(merged.params, rec.params)
            merged.saving += rec.saving_kg
            if "percent" in merged.params and merged.params.get("current_kg"):
                merged.params["percent"] = 100.0 * merged.saving / merged.params["current_kg"]
            for est in members(rec.jobs, estimates):
                merged.names.add(est.emissions_kg, est.job.spec.name, est.job.spec.id)

    def add_runs(self, siblings: dict[str, tuple[str, str]], estimates: Sequence[Estimate]) -> None:
        """Count every read run into its sibling group, and every estimated trial into its search."""
        for group, key in siblings.values():
            found = self.siblings.get(group)
            if found is None:
                self.siblings[group] = _Siblings(key)
            else:
                found.add(key)
        for est in estimates:
            spec = est.job.spec
            if spec.sweep:
                sweep = self.sweeps.get(spec.sweep)
                if sweep is None:
                    sweep = self.sweeps[spec.sweep] = _Sweep()
                sweep.add(est)
            elif spec.id in siblings:
                self.siblings[siblings[spec.id][0]].trials.add(est)

    def recommendations(self, duplicates: Recommendation | None) -> list[Recommendation]:
        """Everything, largest saving first, in recommend's order."""
        out = [Recommendation(m.kind, m.names.sample(), m.saving, _final(m.params)) for m in self.merged.values()]
        searches = [*self.sweeps.values(), *(s.trials for s in self.siblings.values() if s.qualifies())]
        out += [rec for sweep in searches if (rec := sweep.recommendation()) is not None]
        if duplicates is not None:
            out.append(duplicates)
        return sorted(out, key=lambda r: (-round(r.saving_kg, 9), KIND_ORDER.index(r.kind), tuple(r.jobs)))


def _counted(params: dict[str, Any]) -> dict[str, Any]:
    """A chunk's params, ready to be added to: per-guess lists of names (quantify) become counts."""
    if "missing" not in params:
        return dict(params)
    return {**params, "missing": {what: len(names) for what, names in params["missing"].items()}}


def _merge_params(into: dict[str, Any], more: dict[str, Any]) -> None:
    if "utilization" in into:  # idle devices: the mean over all their runs
        count = into["count"] + more["count"]
        into["utilization"] = (into["utilization"] * into["count"] + more["utilization"] * more["count"]) / count
    for key in _ADDED:
        if key in into:
            into[key] += more[key]
    for what, names in more.get("missing", {}).items():
        into["missing"][what] = into["missing"].get(what, 0) + len(names)


def _final(params: dict[str, Any]) -> dict[str, Any]:
    """Params as the advice template reads them: counted guesses (``missing``) become Samples of that length."""
    if "missing" not in params:
        return params
    return {**params, "missing": {what: Sample((), n) for what, n in sorted(params["missing"].items())}}


class _Sweep:
    """The estimated trials of one search: emissions, count, the experiment of its largest trial, names."""

    __slots__ = ("current", "experiment", "largest", "names")

    def __init__(self) -> None:
        self.current = 0.0
        self.names = _Names()
        self.experiment = ""
        self.largest: tuple[float, _Desc, _Desc] | None = None

    def add(self, est: Estimate) -> None:
        spec = est.job.spec
        self.current += est.emissions_kg
        self.names.add(est.emissions_kg, spec.name, spec.id)
        rank = (est.emissions_kg, _Desc(spec.name), _Desc(spec.id))
        if self.largest is None or rank > self.largest:
            self.largest, self.experiment = rank, spec.experiment

    def recommendation(self) -> Recommendation | None:
        """recommend's search rule for one sweep: at least SWEEP_MIN_RUNS estimated trials."""
        trials = self.names.total
        if trials < SWEEP_MIN_RUNS:
            return None
        fraction = const("sweep_budget_fraction").value
        return Recommendation("search", self.names.sample(), self.current * (1 - fraction),
                              {"fraction": fraction, "runs": trials, "current_kg": self.current, "sweep": True,
                               "experiment": self.experiment})


class _Siblings:
    """One sibling group (same experiment, same parameter names): how many runs, whether their values differ."""

    __slots__ = ("differs", "first", "runs", "trials")

    def __init__(self, key: str):
        self.runs, self.first, self.differs = 1, key, False
        self.trials = _Sweep()

    def add(self, key: str) -> None:
        self.runs += 1
        self.differs = self.differs or key != self.first

    def qualifies(self) -> bool:
        """load's sibling-sweep rule: enough runs (estimated or not) whose parameter values differ."""
        return self.runs >= SWEEP_MIN_SIBLINGS and self.differs


class Candidate(NamedTuple):
    """A run that could repeat another's parameter set: estimated, not failed, with parameters."""

    experiment: str
    param_key: str
    started: int
    id: str
    name: str
    emissions_kg: float


def candidate(est: Estimate) -> Candidate | None:
    spec = est.job.spec
    if not spec.param_key or spec.status in WASTED_STATUSES:
        return None
    return Candidate(spec.experiment, spec.param_key, spec.started or 0, spec.id, spec.name, est.emissions_kg)


def duplicates(ordered: Iterable[Candidate]) -> Recommendation | None:
    """recommend's duplicates rule over candidates sorted by (experiment, param_key, started, id)."""
    names = _Names()
    saving = 0.0
    previous: tuple[str, str] | None = None
    for run in ordered:
        key = (run.experiment, run.param_key)
        if key == previous:
            names.add(run.emissions_kg, run.name, run.id)
            saving += run.emissions_kg
        previous = key
    if not names.total:
        return None
    return Recommendation("waste", names.sample(), saving, {"what": "duplicates", "count": names.total})
