"""Recommendations with estimated savings, after the five actions of Lacoste et al. (2019).

Each recommendation is computed alone against the current estimate (they are alternatives, so their savings
do not simply add up) and carries the numbers its sentence shows; the sentence itself is in
templates/advice.j2. Advice reads estimates and the data tables, never a source.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import NamedTuple

from ci_carbon.core import tables
from ci_carbon.core.figures import provider_regions, region_figures
from ci_carbon.core.model import EMPTY, Estimate
from ci_carbon.core.resolve import const

SWEEP_MIN_RUNS = 8  # repetitions from which a job is treated as a search rather than a few seeds
HARDWARE_MIN_GAIN = 1.2  # suggest a device only when its peak FLOPS per watt is at least 20 % better
IDLE_UTILIZATION = 0.3  # measured mean GPU utilisation under which devices are called under-used
WASTED_STATUSES = ("FAILED", "KILLED")
KIND_ORDER = ("region", "provider", "hardware", "search", "waste", "quantify")


class Recommendation(NamedTuple):
    kind: str
    jobs: tuple[str, ...]
    saving_kg: float
    params: Mapping[str, object] = EMPTY


def _region(estimates: list[Estimate]) -> Iterable[Recommendation]:
    groups: dict[tuple[str, str], list[Estimate]] = defaultdict(list)
    for est in estimates:
        job = est.job
        if job.provider and job.region and job.spec.carbon_intensity is None:
            groups[(job.provider, job.region)].append(est)
    for (provider, region), members in sorted(groups.items()):
        here = region_figures(provider, region)
        if here.continent is None:
            continue
        options = [r for r in provider_regions(provider, here.continent) if r.region != region]
        if not options:
            continue
        best = min(options, key=lambda r: (r.kg_per_it_kwh, r.region))
        saving = 0.0
        for est in members:
            it_kwh = est.energy_kwh / est.job.pue
            pue = est.job.pue if est.job.spec.pue is not None else best.pue
            saving += est.emissions_kg - it_kwh * pue * best.carbon_intensity / 1000.0
        if saving > 0:
            current = sum(e.emissions_kg for e in members)
            yield Recommendation("region", tuple(e.job.spec.name for e in members), saving,
                                 {"provider": provider, "from": here, "to": best, "current_kg": current,
                                  "percent": 100.0 * saving / current})


def _provider(estimates: list[Estimate]) -> Iterable[Recommendation]:
    published = [p for p in tables.providers().values() if p.pue is not None and p.renewable_matching]
    if not published:
        return
    best = min(published, key=lambda p: (p.pue, p.provider))
    members = [e for e in estimates if e.job.provider in (None, "on-premise", "unknown") and e.job.pue > best.pue
               and e.job.spec.pue is None]
    if not members:
        return
    saving = sum(e.emissions_kg * (1 - best.pue / e.job.pue) for e in members)
    current = sum(e.emissions_kg for e in members)
    yield Recommendation("provider", tuple(e.job.spec.name for e in members), saving,
                         {"best": best, "pue": members[0].job.pue, "current_kg": current,
                          "percent": 100.0 * saving / current})


def _efficiency(dev: tables.Device, precision: str) -> float | None:
    tflops = dev.fp16_tflops if precision == "fp16" else dev.fp32_tflops
    return tflops / dev.tdp_w if tflops else None


@cache
def _offered(provider: str | None) -> frozenset[str]:
    """Device ids the job's cloud offers as instances; for on-premise or unknown, what any listed cloud offers.

    Suggesting only devices someone rents out keeps advice to what can be bought or booked today.
    """
    rows = [i for rs in tables.instances().values() for i in rs]
    offered = frozenset(i.device_id for i in rows if i.provider == provider)
    return offered or frozenset(i.device_id for i in rows)


@cache
def _better_device(current: tables.Device, provider: str | None) -> tuple[tables.Device, str] | None:
    precision = "fp16" if current.fp16_tflops else "fp32"
    mine = _efficiency(current, precision)
    if mine is None:
        return None
    offered = _offered(provider)
    candidates = [
        d for d in tables.devices().values()
        if d.kind == current.kind and d.segment == "datacenter" and d.id in offered
        and (d.memory_gb or 0) >= (current.memory_gb or 0)  # the job must still fit on one device
        and _efficiency(d, precision) is not None
    ]
    if not candidates:
        return None
    best = max(candidates, key=lambda d: (_efficiency(d, precision), d.id))
    if _efficiency(best, precision) < mine * HARDWARE_MIN_GAIN:
        return None
    return best, precision


def _hardware(estimates: list[Estimate]) -> Iterable[Recommendation]:
    groups: dict[tuple[str, str], list[Estimate]] = defaultdict(list)
    choice: dict[tuple[str, str], tuple[tables.Device, tables.Device, str]] = {}
    for est in estimates:
        current = tables.devices().get(est.job.device_id or "")
        found = _better_device(current, est.job.provider) if current else None
        if found is None:
            continue
        best, precision = found
        key = (current.id, best.id)
        groups[key].append(est)
        choice[key] = (current, best, precision)
    for key, members in sorted(groups.items()):
        current, best, precision = choice[key]
        ratio = _efficiency(current, precision) / _efficiency(best, precision)
        saving = sum(e.device_energy_kwh * (1 - ratio) * e.job.carbon_intensity / 1000.0 for e in members)
        yield Recommendation("hardware", tuple(e.job.spec.name for e in members), saving,
                             {"current": current, "best": best, "precision": precision,
                              "current_eff": _efficiency(current, precision) * 1000,
                              "best_eff": _efficiency(best, precision) * 1000, "percent_energy": 100 * (1 - ratio)})


def _search(estimates: list[Estimate]) -> Iterable[Recommendation]:
    """Exhaustive searches: a manifest job with many runs, or a source's sweep of many trial runs."""
    groups: dict[str, list[Estimate]] = defaultdict(list)
    for est in estimates:
        if est.job.spec.sweep:
            groups[est.job.spec.sweep].append(est)
        elif est.job.runs >= SWEEP_MIN_RUNS:
            groups[""].append(est)
    fraction = const("sweep_budget_fraction")
    for key, members in sorted(groups.items()):
        trials = sum(e.job.runs for e in members)
        if key and trials < SWEEP_MIN_RUNS:
            continue
        current = sum(e.emissions_kg for e in members)
        yield Recommendation("search", tuple(e.job.spec.name for e in members), current * (1 - fraction.value),
                             {"fraction": fraction.value, "runs": trials, "current_kg": current,
                              "sweep": bool(key), "experiment": members[0].job.spec.experiment})


def _started(est: Estimate) -> tuple[int, str]:
    return est.job.spec.started or 0, est.job.spec.id


def _waste(estimates: list[Estimate]) -> Iterable[Recommendation]:
    """Energy that bought nothing: failed or killed runs, repeated parameter sets, under-used devices."""
    failed = [e for e in estimates if e.job.spec.status in WASTED_STATUSES]
    if failed:
        yield Recommendation("waste", tuple(e.job.spec.name for e in failed), sum(e.emissions_kg for e in failed),
                             {"what": "failed", "count": len(failed)})
    alike: dict[tuple[str, str], list[Estimate]] = defaultdict(list)
    for est in estimates:
        spec = est.job.spec
        if spec.param_key and spec.status not in WASTED_STATUSES:
            alike[(spec.experiment, spec.param_key)].append(est)
    # the first run of each parameter set bought something; the later ones repeated it
    repeats = sorted((est for group in alike.values() if len(group) > 1
                      for est in sorted(group, key=_started)[1:]), key=_started)
    if repeats:
        yield Recommendation("waste", tuple(e.job.spec.name for e in repeats), sum(e.emissions_kg for e in repeats),
                             {"what": "duplicates", "count": len(repeats)})
    idle = [e for e in estimates
            if e.job.spec.gpu_utilization is not None and e.job.spec.gpu_utilization < IDLE_UTILIZATION]
    if idle:
        saving = sum(e.device_energy_kwh * e.job.carbon_intensity / 1000 * (1 - e.job.spec.gpu_utilization)
                     for e in idle)
        mean = sum(e.job.spec.gpu_utilization for e in idle) / len(idle)
        yield Recommendation("waste", tuple(e.job.spec.name for e in idle), saving,
                             {"what": "idle", "count": len(idle), "utilization": mean, "threshold": IDLE_UTILIZATION})


def _quantify(estimates: list[Estimate]) -> Iterable[Recommendation]:
    by_guesses: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for est in estimates:
        if est.job.guessed:
            by_guesses[est.job.guessed].append(est.job.spec.name)
    if not by_guesses:
        return
    missing: dict[str, list[str]] = defaultdict(list)
    for guessed, names in by_guesses.items():  # jobs alike share their guesses: grouped first, then spread
        for what in guessed:
            missing[what] += names
    guessed = [e for e in estimates if e.job.guessed]
    yield Recommendation("quantify", tuple(e.job.spec.name for e in guessed), 0.0,
                         {"missing": dict(sorted(missing.items())),
                          "low_kg": sum(e.emissions_kg_low for e in guessed),
                          "high_kg": sum(e.emissions_kg_high for e in guessed)})


RULES: tuple[Callable[[list[Estimate]], Iterable[Recommendation]], ...] = (
    _region, _provider, _hardware, _search, _waste, _quantify,
)


def recommend(estimates: list[Estimate]) -> list[Recommendation]:
    """Every recommendation that saves something (plus what to measure), largest saving first."""
    found = [rec for rule in RULES for rec in rule(estimates)]
    return sorted(found, key=lambda r: (-round(r.saving_kg, 9), KIND_ORDER.index(r.kind), r.jobs))
