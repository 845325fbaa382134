"""CPU-only jobs: the power of a job that ran on CPUs alone (Green Algorithms' method).

Lannelongue L., Grealey J., Inouye M. (2021) 'Green Algorithms: Quantifying the Carbon Footprint of Computation',
Advanced Science 8(12):2100707: power = cores used × TDP per core × core usage + memory (GB) × 0.3725 W/GB.
The TDP per core is the CPU model's TDP / cores (data/cpus.csv); with no model, ``generic-cpu`` (Green
Algorithms' "Any" CPU, 12 W per core), flagged as guessed. With no core count, the CPU model's own cores (the
whole socket), flagged as guessed. Usage: measured (MLflow's ``system/cpu_utilization_percentage``, method
``measured``), else the job's ``utilization`` (method ``tdp``), else 1.0, Green Algorithms' default (method
``tdp``, guessed, the low end at ``host_power_fraction_low``).
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from ci_carbon.core import tables
from ci_carbon.core.model import Bounds, Factor, JobSpec
from ci_carbon.core.names import nearest, normalise

GENERIC = "generic-cpu"


class CpuPower(NamedTuple):
    """What a CPU-only job draws, and everything said about how it was chosen."""

    label: str
    cpu_w: float
    memory_w: float
    method: str  # measured | tdp
    bounds: Bounds
    factors: tuple[Factor, ...]
    guessed: tuple[str, ...]
    problems: tuple[tuple[str, str, list[str]], ...]  # (field, message, options)


def is_cpu_only(spec: JobSpec) -> bool:
    """No accelerator said (no hardware, no instance type) but a CPU, its cores, its memory or its usage was."""
    if spec.hardware is not None or spec.instance_type is not None:
        return False
    return any(v is not None for v in (spec.cpu, spec.cpu_count, spec.memory_gb, spec.cpu_utilization))


def _constant(name: str) -> tables.Constant:
    return tables.constants()[name]


def _cfactor(c: tables.Constant) -> Factor:
    return Factor("constant", c.name, c.value, c.unit, c.source, c.year)


@cache
def cpu_power(cpu: str | None, cpu_count: float | None, memory_gb: float | None, utilization: float | None,
              measured: bool) -> CpuPower:
    """CPU and memory watts of a CPU-only job; ``utilization`` is measured when ``measured`` (0..1)."""
    guessed: list[str] = []
    cpu_id = tables.cpu_index().get(normalise(cpu)) if cpu else None
    if cpu and cpu_id is None:
        names = {k: tables.cpus()[v].name for k, v in tables.cpu_index().items()}
        return CpuPower("", 0.0, 0.0, "", Bounds(), (), (), (("cpu", f"unknown CPU '{cpu}'", nearest(cpu, names)),))
    if cpu_id is None:
        guessed.append("cpu_model")
    model = tables.cpus()[cpu_id or GENERIC]
    cores = cpu_count
    if cores is None:
        cores = float(model.cores)
        guessed.append("cpu_count")
    factors = [Factor("cpu_tdp", model.name, model.tdp_w, "W", model.source, model.year),
               Factor("cpu_cores", model.name, model.cores, "cores", model.source, model.year)]
    if utilization is not None:
        rel = _constant("power_relative_uncertainty_utilization")
        factors.append(_cfactor(rel))
        method, share = ("measured" if measured else "tdp"), utilization
        bounds = Bounds(1 - rel.value, min(1 + rel.value, 1 / utilization) if utilization > 0 else 1 + rel.value)
    else:
        low = _constant("host_power_fraction_low")
        factors.append(_cfactor(low))
        guessed.append("cpu_utilization")
        method, share, bounds = "tdp", 1.0, Bounds(low.value, 1.0)
    memory_w = 0.0
    if memory_gb:
        per_gb = _constant("memory_w_per_gb")
        factors.append(_cfactor(per_gb))
        memory_w = memory_gb * per_gb.value
    cpu_w = cores * model.w_per_core * share
    return CpuPower(f"{model.name} × {cores:g} cores", cpu_w, memory_w, method, bounds, tuple(factors),
                    tuple(guessed), ())
