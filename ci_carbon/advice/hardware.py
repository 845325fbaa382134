"""Choose efficient hardware: the datacenter device of the same kind with the best peak FLOPS per watt in the same
precision class, offered by the job's provider, with at least as much memory."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from ci_carbon.advice.names import Names, NamesFactory, rank
from ci_carbon.core import tables
from ci_carbon.core.model import Chunk, Estimate
from ci_carbon.core.report import Recommendation

HARDWARE_MIN_GAIN = 1.2  # suggest a device only when its peak FLOPS per watt is at least 20 % better


def efficiency(dev: tables.Device, precision: str) -> float | None:
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
def better_device(current: tables.Device, provider: str | None) -> tuple[tables.Device, str] | None:
    precision = "fp16" if current.fp16_tflops else "fp32"
    mine = efficiency(current, precision)
    if mine is None:
        return None
    offered = _offered(provider)
    candidates = [
        d for d in tables.devices().values()
        if d.kind == current.kind and d.segment == "datacenter" and d.id in offered
        and (d.memory_gb or 0) >= (current.memory_gb or 0)  # the job must still fit on one device
        and efficiency(d, precision) is not None
    ]
    if not candidates:
        return None
    best = max(candidates, key=lambda d: (efficiency(d, precision), d.id))
    if (efficiency(best, precision) or 0.0) < mine * HARDWARE_MIN_GAIN:
        return None
    return best, precision


class _Group:
    __slots__ = ("best", "current", "names", "precision", "saving")

    def __init__(self, current: tables.Device, best: tables.Device, precision: str, names: Names):
        self.current, self.best, self.precision, self.names = current, best, precision, names
        self.saving = 0.0

    def ratio(self) -> float:
        return (efficiency(self.current, self.precision) or 0.0) / (efficiency(self.best, self.precision) or 1.0)


class Hardware:
    def __init__(self, names: NamesFactory):
        self.new_names = names
        self.groups: dict[tuple[str, str], _Group] = {}

    def add(self, estimates: Sequence[Estimate], chunk: Chunk) -> None:
        for est in estimates:
            current = tables.devices().get(est.job.device_id or "")
            found = better_device(current, est.job.provider) if current else None
            if current is None or found is None:
                continue
            best, precision = found
            group = self.groups.get((current.id, best.id))
            if group is None:
                group = self.groups[(current.id, best.id)] = _Group(current, best, precision, self.new_names())
            group.saving += est.device_energy_kwh * (1 - group.ratio()) * est.job.carbon_intensity / 1000.0
            group.names.add(rank(est.emissions_kg, est.job.spec.name, est.job.spec.id), est.job.spec.name)

    def result(self) -> list[Recommendation]:
        out = []
        for _, g in sorted(self.groups.items()):
            mine, theirs = efficiency(g.current, g.precision) or 0.0, efficiency(g.best, g.precision) or 0.0
            out.append(Recommendation("hardware", g.names.result(), g.saving,
                                      {"current": g.current, "best": g.best, "precision": g.precision,
                                       "current_eff": mine * 1000, "best_eff": theirs * 1000,
                                       "percent_energy": 100 * (1 - g.ratio())}))
        return out
