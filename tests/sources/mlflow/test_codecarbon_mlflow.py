"""CodeCarbon's metrics logged to a real MLflow server, bare or under "codecarbon/": energy as measured, and
CodeCarbon's own figure beside ci-carbon's (notice ``codecarbon``)."""

from __future__ import annotations

import uuid

import mlflow
import pytest

from tests.conftest import ROOT, run_cli

V3 = ROOT / "tests" / "data" / "codecarbon" / "v3" / "emissions.csv"

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


def test_an_emissions_csv_artifact_is_the_runs_measured_energy_and_place(mlflow_server, tmp_path):
    """A run tagged codecarbon=<version> with CodeCarbon's file logged as an artifact: its rows' energy summed
    (the real 3.3.2 fixture: two rows in France, pue 1 → ci-carbon's industry-average PUE 1.56, 31.5 g/kWh)."""
    client = mlflow.MlflowClient(mlflow_server.uri)
    name = f"cc-art-{uuid.uuid4().hex[:8]}"
    exp = client.create_experiment(name)
    tags = {"gpu": "NVIDIA A10G", "cloud": "aws", "region": "us-east-1", "codecarbon": "3.3.2"}
    good = client.create_run(exp, start_time=T0, run_name="good", tags=tags).info.run_id
    client.log_artifact(good, str(V3))
    client.set_terminated(good, end_time=T0 + H)
    bad = client.create_run(exp, start_time=T0, run_name="bad", tags=tags).info.run_id
    broken = tmp_path / "emissions.csv"
    broken.write_text("project_name,run_id,duration,energy_consumed\np,r,10,-1\n", encoding="utf-8")
    client.log_artifact(bad, str(broken), "codecarbon")
    client.set_terminated(bad, end_time=T0 + H)
    result = run_cli("report", "--mlflow-uri", mlflow_server.uri, "--experiment", name, "--format", "json")
    assert result.code == 0, result.err
    jobs = {j["name"]: j for j in result.json()["jobs"]}
    energy = 2.343527328713162e-05 + 2.3336930911491506e-05
    assert jobs["good"]["method"] == "reported" and jobs["good"]["location"] == "France"
    assert jobs["good"]["energy_kwh"] == round(energy * 1.56, 6)
    said = next(n["params"] for n in jobs["good"]["notices"] if n["code"] == "codecarbon")
    assert said["energy_kwh"] == pytest.approx(energy) and said["artifact"] == "emissions.csv"
    assert said["emissions_kg"] == pytest.approx(1.3132892797375691e-06 + 1.3077782713490727e-06)
    assert jobs["bad"]["method"] == "tdp" and jobs["bad"]["location"].startswith("aws us-east-1")
    assert ("The run's CodeCarbon file could not be read (codecarbon/emissions.csv:2: energy_consumed: must be a "
            "finite number at least 0, got -1); its energy is estimated as for any run.") in jobs["bad"]["warnings"]
