"""CodeCarbon's metrics logged to a real MLflow server, bare or under "codecarbon/": energy as measured, and
CodeCarbon's own figure beside ci-carbon's (notice ``codecarbon``)."""

from __future__ import annotations

import uuid

import mlflow
import pytest

from tests.conftest import run_cli

T0 = 1_780_000_000_000
H = 3_600_000


@pytest.mark.parametrize("prefix", ["", "codecarbon/"])
def test_codecarbon_metrics_are_measured_energy_with_codecarbon_figure(mlflow_server, prefix):
    client = mlflow.MlflowClient(mlflow_server.uri)
    name = f"cc-{uuid.uuid4().hex[:8]}"
    exp = client.create_experiment(name)
    run = client.create_run(exp, start_time=T0, run_name="cc",
                            tags={"gpu": "NVIDIA A10G", "cloud": "aws", "region": "us-east-1"})
    rid = run.info.run_id
    for key, value in (("energy_consumed", 0.8), ("emissions", 0.32), ("cpu_energy", 0.1), ("gpu_energy", 0.6),
                       ("ram_energy", 0.1), ("duration", 3600.0)):
        client.log_metric(rid, f"{prefix}{key}", value)
    client.set_terminated(rid, end_time=T0 + H)
    result = run_cli("report", "--mlflow-uri", mlflow_server.uri, "--experiment", name, "--format", "json")
    assert result.code == 0, result.err
    (job,) = result.json()["jobs"]
    assert job["method"] == "reported"
    assert job["energy_kwh"] == pytest.approx(0.8 * job["pue"])  # CodeCarbon's pue is 1 by default: ours applies
    said = next(n["params"] for n in job["notices"] if n["code"] == "codecarbon")
    assert said == {"emissions_kg": 0.32, "energy_kwh": 0.8, "pue": 1.0, "pue_applied": False,
                    "intensity_g_per_kwh": pytest.approx(400.0), "metric": f"{prefix}energy_consumed",
                    "cpu_energy": 0.1, "gpu_energy": 0.6, "ram_energy": 0.1}
    assert "CodeCarbon's own figure: 0.32 kg CO2eq at 400.0 g/kWh" in " ".join(job["warnings"])
