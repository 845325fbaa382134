"""Cut waste: energy that bought nothing — failed or killed runs, runs that repeat a parameter set already trained in
the same experiment (the earliest run of a set bought something; the later ones repeated it), under-used GPUs.

Under-used GPUs: of each device-hour, the unused share (1 − mean utilisation) bought nothing, but a powered device
never draws less than its idle minimum (data/devices.csv ``idle_w``, sourced), so what better use can save is the draw
above it: (mean device power − idle_w) × device-hours × (1 − utilisation) × PUE × grid intensity. Not linear down to
0 W. A device with no published idle draw is not assumed to idle at 0 W: its jobs are named and counted, without kg.
"""

from __future__ import annotations

from collections.abc import Sequence

from ci_carbon.advice.names import NamesFactory, rank
from ci_carbon.core import tables
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
        self.idle_count = self.idle_unknown = 0  # under-used jobs; of them, on a device without a published idle draw
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
                saving = idle_saving_kg(est, utilization)
                if saving is None:
                    self.idle_unknown += 1
                else:
                    self.idle_kg += saving
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
            known = self.idle_count - self.idle_unknown
            out.append(Recommendation("waste", self.idle.result(), self.idle_kg if known else None,
                                      {"what": "idle", "count": self.idle_count, "unknown_idle": self.idle_unknown,
                                       "utilization": self.idle_utilization / self.idle_count,
                                       "threshold": IDLE_UTILIZATION}))
        return out


def idle_saving_kg(est: Estimate, utilization: float) -> float | None:
    """(mean device power − idle draw) × device-hours (all runs) × (1 − utilisation) × PUE × intensity, in kg;
    None where the device has no published idle draw."""
    job = est.job
    device = tables.devices().get(job.device_id or "")
    if device is None or device.idle_w is None:
        return None
    above_idle_w = max(0.0, job.device_power_w - device.idle_w)
    kwh = above_idle_w * job.device_hours * job.runs / 1000.0 * job.pue
    return kwh * (1 - utilization) * job.carbon_intensity / 1000.0
