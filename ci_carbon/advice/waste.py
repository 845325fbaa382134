"""Cut waste: energy that bought nothing — failed or killed runs, runs that repeat a parameter set already trained in
the same experiment (the earliest run of a set bought something; the later ones repeated it), under-used GPUs."""

from __future__ import annotations

from collections.abc import Sequence

from ci_carbon.advice.names import NamesFactory, rank
from ci_carbon.core.model import Chunk, Estimate
from ci_carbon.core.report import Recommendation

WASTED_STATUSES = ("FAILED", "KILLED")
IDLE_UTILIZATION = 0.3  # measured mean GPU utilisation under which devices are called under-used

Member = tuple[tuple[int, str], str, str, float]  # ((started, id), name, id, kg)


class Waste:
    def __init__(self, names: NamesFactory):
        self.new_names = names
        self.failed, self.failed_kg, self.failed_count = names(), 0.0, 0
        self.idle, self.idle_kg, self.idle_utilization = names(), 0.0, 0.0
        self.idle_count = 0
        self.sets: dict[tuple[str, str], list[Member]] = {}  # (experiment, parameter set) → its runs

    def add(self, estimates: Sequence[Estimate], chunk: Chunk) -> None:
        for est in estimates:
            spec = est.job.spec
            member = rank(est.emissions_kg, spec.name, spec.id)
            if spec.status in WASTED_STATUSES:
                self.failed.add(member, spec.name)
                self.failed_kg += est.emissions_kg
                self.failed_count += 1
            elif spec.param_key:
                self.sets.setdefault((spec.experiment, spec.param_key), []).append(
                    ((spec.started or 0, spec.id), spec.name, spec.id, est.emissions_kg))
            utilization = spec.gpu_utilization
            if utilization is not None and utilization < IDLE_UTILIZATION:
                self.idle.add(member, spec.name)
                self.idle_kg += est.device_energy_kwh * est.job.carbon_intensity / 1000 * (1 - utilization)
                self.idle_utilization += utilization
                self.idle_count += 1

    def _repeats(self) -> Recommendation | None:
        names, saving, count = self.new_names(), 0.0, 0
        repeats = sorted(run for runs in self.sets.values() if len(runs) > 1 for run in sorted(runs)[1:])
        for started, name, run_id, kg in repeats:
            names.add(rank(kg, name, run_id), name, started)
            saving += kg
            count += 1
        if not count:
            return None
        return Recommendation("waste", names.result(), saving, {"what": "duplicates", "count": count})

    def result(self) -> list[Recommendation]:
        out = []
        if self.failed_count:
            out.append(Recommendation("waste", self.failed.result(), self.failed_kg,
                                      {"what": "failed", "count": self.failed_count}))
        repeats = self._repeats()
        if repeats is not None:
            out.append(repeats)
        if self.idle_count:
            out.append(Recommendation("waste", self.idle.result(), self.idle_kg,
                                      {"what": "idle", "count": self.idle_count,
                                       "utilization": self.idle_utilization / self.idle_count,
                                       "threshold": IDLE_UTILIZATION}))
        return out
