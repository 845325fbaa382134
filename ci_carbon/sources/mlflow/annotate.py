"""Write estimates back onto MLflow runs, so later reports and summaries need only `search_runs`.

Idempotent: a run already carrying the current data version and tool version is skipped; values are logged at
step 0 with the run's own end (or start) time as the timestamp, so even a repeated write adds no new history.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from ci_carbon import __version__
from ci_carbon.core import tables
from ci_carbon.core.model import Estimate
from ci_carbon.sources.mlflow.convert import ANNOTATION

WRITABLE = ("FINISHED", "FAILED", "KILLED")  # a running run's numbers are not final


class Annotated(NamedTuple):
    written: int
    current: int
    not_writable: int


def values(est: Estimate) -> dict[str, float]:
    """The metrics written for one job (all repetitions); names under carbon/ in the units they say."""
    job = est.job
    out = {
        "energy_kwh": est.energy_kwh, "emissions_kg": est.emissions_kg, "emissions_kg_low": est.emissions_kg_low,
        "emissions_kg_high": est.emissions_kg_high, "emissions_kg_market": est.emissions_kg_market,
        "embodied_kg": est.embodied_kg, "device_count": float(job.count),
        "carbon_intensity_g_per_kwh": job.carbon_intensity, "pue": job.pue,
    }
    if job.method == "measured":
        out["measured_power_w"] = job.device_power_w
        out["measured_energy_kwh"] = job.device_power_w * job.device_hours / 1000.0
        if job.spec.gpu_utilization is not None:
            out["gpu_utilization"] = job.spec.gpu_utilization
    return {f"{ANNOTATION}/{k}": v for k, v in out.items()}


def annotate(uri: str, estimates: Iterable[Estimate]) -> Annotated:
    from mlflow.entities import Metric, RunTag

    from ci_carbon.sources.mlflow.load import client_for

    reader = client_for(uri)  # its bounded retries and error translation apply to writes too; SQL stores checked
    version = tables.data_version()
    written = current = not_writable = 0
    for est in estimates:
        spec = est.job.spec
        if spec.source != "mlflow":
            continue
        if spec.status not in WRITABLE or any(n.code == "deleted_run" for n in spec.notices):
            not_writable += 1
            continue
        run = reader.call("read run", reader.client.get_run, spec.id)
        tags = run.data.tags
        if tags.get(f"{ANNOTATION}.data_version") == version and tags.get(f"{ANNOTATION}.tool_version") == __version__:
            current += 1
            continue
        stamp = run.info.end_time or run.info.start_time or 0
        metrics = [Metric(key, float(value), stamp, 0) for key, value in values(est).items()]
        new_tags = [RunTag(f"{ANNOTATION}.method", est.job.method), RunTag(f"{ANNOTATION}.data_version", version),
                    RunTag(f"{ANNOTATION}.tool_version", __version__)]
        reader.call("write run", reader.client.log_batch, spec.id, metrics=metrics, tags=new_tags)
        written += 1
    return Annotated(written, current, not_writable)
