"""Choose efficient hardware: a training part the job could move to without changing how it is built.

A suggestion is a device an ML engineer could run the same job on: a training-class part (data/devices.csv
``training_class``: no inference, graphics or workstation card) of the same vendor (the software stack), the same
system class, form factor and interconnect (no power-capped PCIe card for an NVLink cluster, no datacenter card for a
workstation job: workstation cards are never training-class, so a workstation job gets no suggestion), with at least
as much memory, offered by the job's cloud (on premises: any such part, it is bought, not rented).

The saving rests on measured energy to train where a published benchmark has both devices (MLPerf Training power
results, data/training_efficiency.csv: the same benchmark trained on both, so the energy ratio is the ratio for the
same work); the sentence names the benchmark, the systems and the round. Where no measurement pairs them, the
peak-FLOPS-per-TDP ratio is only a hint: the recommendation says how much better the peak is and has no kg figure
(``saving_kg`` None, as the design contract allows).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import NamedTuple

from ci_carbon.advice.names import Names, NamesFactory, rank
from ci_carbon.core import tables
from ci_carbon.core.model import Chunk, Estimate
from ci_carbon.core.report import Recommendation

HARDWARE_MIN_GAIN = 1.2  # a peak-efficiency hint only when the peak FLOPS per watt is at least 20 % better
ON_PREMISES = (None, "on-premise", "unknown")


def efficiency(dev: tables.Device, precision: str) -> float | None:
    tflops = dev.fp16_tflops if precision == "fp16" else dev.fp32_tflops
    return tflops / dev.tdp_w if tflops else None


class Measured(NamedTuple):
    """The energy to train one benchmark on the suggested system over that on the job's device's system."""

    ratio: float  # suggested / current energy to train the same benchmark (< 1: the suggestion uses less)
    benchmark: str
    current: tables.TrainingEfficiency
    best: tables.TrainingEfficiency
    low: float  # the smallest and largest ratio over every benchmark both were measured on
    high: float
    benchmarks: int


def measured(current: str, other: str) -> Measured | None:
    """The median (the lower middle one for an even count, so it is always one benchmark's measurement) of the
    energy-to-train ratios over every benchmark measured on both devices; None when no benchmark pairs them."""
    rows = tables.training_efficiency()
    mine = {r.benchmark: r for r in rows if r.device_id == current}
    pairs = sorted((r.energy_j / mine[r.benchmark].energy_j, r.benchmark, mine[r.benchmark], r)
                   for r in rows if r.device_id == other and r.benchmark in mine)
    if not pairs:
        return None
    ratio, benchmark, here, there = pairs[(len(pairs) - 1) // 2]
    return Measured(ratio, benchmark, here, there, pairs[0][0], pairs[-1][0], len(pairs))


def same_system(current: tables.Device, other: tables.Device) -> bool:
    """Whether a job built for ``current`` could run on ``other`` as it is: a training part of the same kind of
    machine (vendor, system class, form factor, interconnect) with room for the job's memory."""
    return (other.id != current.id and other.training_class and other.segment == "datacenter"
            and (other.vendor, other.system_class, other.form_factor, other.interconnect)
            == (current.vendor, current.system_class, current.form_factor, current.interconnect)
            and (other.memory_gb or 0) >= (current.memory_gb or 0))


@cache
def _offered(provider: str | None) -> frozenset[str] | None:
    """Device ids the job's cloud offers as instances; None on premises or where nothing is said (any part)."""
    if provider in ON_PREMISES:
        return None
    return frozenset(i.device_id for rs in tables.instances().values() for i in rs if i.provider == provider)


class Choice(NamedTuple):
    best: tables.Device
    precision: str
    peak_gain: float | None  # suggested / current peak FLOPS per watt
    measured: Measured | None


@cache
def better_device(current: tables.Device, provider: str | None) -> Choice | None:
    """A measured saving first (the largest); else the best peak efficiency if it is ``HARDWARE_MIN_GAIN`` better."""
    offered = _offered(provider)
    candidates = [d for d in tables.devices().values()
                  if same_system(current, d) and (offered is None or d.id in offered)]
    precision = "fp16" if current.fp16_tflops else "fp32"
    mine = efficiency(current, precision)

    def gain(d: tables.Device) -> float | None:
        theirs = efficiency(d, precision)
        return theirs / mine if theirs and mine else None

    found = sorted((m.ratio, d.id, d, m) for d in candidates if (m := measured(current.id, d.id)) and m.ratio < 1)
    if found:
        _, _, best, m = found[0]
        return Choice(best, precision, gain(best), m)
    hinted = sorted(((g, -(d.memory_gb or 0), d.id), d) for d in candidates if (g := gain(d)) is not None)
    if not hinted or hinted[-1][0][0] < HARDWARE_MIN_GAIN:
        return None
    return Choice(hinted[-1][1], precision, hinted[-1][0][0], None)


class _Group:
    __slots__ = ("choice", "current", "names", "saving")

    def __init__(self, current: tables.Device, choice: Choice, names: Names):
        self.current, self.choice, self.names = current, choice, names
        self.saving = 0.0


class Hardware:
    def __init__(self, names: NamesFactory):
        self.new_names = names
        self.groups: dict[tuple[str, str], _Group] = {}

    def add(self, estimates: Sequence[Estimate], chunk: Chunk) -> None:
        for est in estimates:
            current = tables.devices().get(est.job.device_id or "")
            choice = better_device(current, est.job.provider) if current else None
            if current is None or choice is None:
                continue
            group = self.groups.get((current.id, choice.best.id))
            if group is None:
                group = self.groups[(current.id, choice.best.id)] = _Group(current, choice, self.new_names())
            if choice.measured is not None:  # node AC energy for the same work: the job's whole energy scales
                group.saving += est.emissions_kg * (1 - choice.measured.ratio)
            group.names.add(rank(est.emissions_kg, est.job.spec.name, est.job.spec.id), est.job.spec.name)

    def result(self) -> list[Recommendation]:
        return [_recommendation(g) for _, g in sorted(self.groups.items())]


def _recommendation(g: _Group) -> Recommendation:
    c = g.choice
    mine, theirs = efficiency(g.current, c.precision) or 0.0, efficiency(c.best, c.precision) or 0.0
    params: dict[str, object] = {"current": g.current, "best": c.best, "precision": c.precision,
                                 "current_eff": mine * 1000, "best_eff": theirs * 1000, "basis": "peak"}
    if c.measured is None:
        params["percent_peak"] = 100 * (1 - mine / theirs) if theirs else 0.0
        return Recommendation("hardware", g.names.result(), None, params)
    m = c.measured
    params.update(basis="measured", ratio=m.ratio, percent_energy=100 * (1 - m.ratio), benchmark=m.benchmark,
                  benchmarks=m.benchmarks, ratio_low=m.low, ratio_high=m.high,
                  current_run=_run(m.current), best_run=_run(m.best))
    return Recommendation("hardware", g.names.result(), g.saving, params)


def _run(r: tables.TrainingEfficiency) -> dict[str, object]:
    """The measured result a sentence cites: who ran what, in which round, how long, how much energy."""
    return {"submitter": r.submitter, "round": r.mlperf_round, "accelerators": r.accelerators,
            "minutes": r.time_to_train_min, "energy_mj": r.energy_j / 1e6, "source": r.source, "year": r.year}
