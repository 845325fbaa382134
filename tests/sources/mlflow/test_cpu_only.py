"""CPU-only MLflow runs (issue 12): system CPU utilisation and memory → Green Algorithms' CPU + memory power.

Against a real `mlflow server`; the last test trains a real scikit-learn model with MLflow's system metrics and a
real CodeCarbon tracker on the same run, on this machine, and compares the two.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import mlflow
import pytest
from mlflow.entities import Metric

from tests.conftest import run_cli

T0 = 1_780_000_000_000
S = 1000
CPU, MEM = "system/cpu_utilization_percentage", "system/system_memory_usage_megabytes"


def _report(uri: str, name: str, *args: str) -> dict:
    result = run_cli("report", "--mlflow-uri", uri, "--experiment", name, "--format", "json", *args)
    assert result.code == 0, result.err
    return result.json()


@pytest.fixture(scope="module")
def store(mlflow_server):
    """cpu: 1 h, CPU at 50 % and 4,000 MB used (two 30-minute windows), 4 cores; bare: no metrics at all."""
    client = mlflow.MlflowClient(mlflow_server.uri)
    name = f"cpu-{uuid.uuid4().hex[:8]}"
    exp = client.create_experiment(name)
    tags = {"ci_carbon.pue": "1.0", "ci_carbon.carbon_intensity": "100"}
    rid = client.create_run(exp, start_time=T0, tags=tags, run_name="cpu").info.run_id
    client.log_param(rid, "cpu_count", "4")
    client.log_batch(rid, metrics=[Metric(k, v, T0 + i * 1800 * S, i) for i in (1, 2)
                                   for k, v in ((CPU, 50.0), (MEM, 4000.0))])
    client.set_terminated(rid, end_time=T0 + 3600 * S)
    rid = client.create_run(exp, start_time=T0, tags=tags, run_name="bare").info.run_id
    client.set_terminated(rid, end_time=T0 + 3600 * S)
    return mlflow_server, name


def test_cpu_only_run_by_hand(store):
    server, name = store
    data = _report(server.uri, name)
    (job,) = data["jobs"]
    # 4 cores × 12 W (generic, guessed) × 0.50 = 24 W; 4.0 GB × 0.3725 W/GB = 1.49 W; 1 h, PUE 1.0, 100 g/kWh
    assert job["name"] == "cpu" and job["method"] == "measured" and job["count"] == 0
    assert job["energy_kwh"] == pytest.approx(0.02549, abs=1e-6)
    assert job["emissions_kg"] == pytest.approx(0.002549, abs=1e-6)
    assert job["guessed"] == ["cpu_model"]
    assert [s["code"] for s in data["skipped"]] == ["no_hardware"]


def test_default_device_applies_only_to_accelerator_runs(store, tmp_path):
    server, name = store
    config = tmp_path / "ci-carbon.yaml"
    config.write_text("version: 1\nmlflow:\n  defaults: {hardware: A100 SXM4 40GB}\n", encoding="utf-8")
    data = _report(server.uri, name, "--config", str(config))
    assert [j["name"] for j in data["jobs"]] == ["cpu"] and data["jobs"][0]["count"] == 0
    assert [s["code"] for s in data["skipped"]] == ["no_accelerator"]
    config.write_text("version: 1\nmlflow:\n  defaults_apply_to: all\n  defaults: {hardware: A100 SXM4 40GB}\n",
                      encoding="utf-8")
    jobs = {j["name"]: j for j in _report(server.uri, name, "--config", str(config))["jobs"]}
    assert jobs["bare"]["hardware"] == "A100 SXM4 40GB" and jobs["cpu"]["hardware"] == "A100 SXM4 40GB"


def test_bad_defaults_apply_to_is_one_line(tmp_path, store):
    server, name = store
    config = tmp_path / "ci-carbon.yaml"
    config.write_text("version: 1\nmlflow:\n  defaults_apply_to: some\n", encoding="utf-8")
    result = run_cli("report", "--mlflow-uri", server.uri, "--experiment", name, "--config", str(config))
    assert result.code == 2 and "mlflow.defaults_apply_to" in result.err and "Traceback" not in result.err


def _train(seconds: float) -> None:
    """A real small training: scikit-learn SGD on 20,000 × 50 random rows, refitted until ``seconds`` pass."""
    import numpy as np
    from sklearn.linear_model import SGDClassifier

    rng = np.random.default_rng(0)
    x = rng.normal(size=(20_000, 50))
    y = (x[:, 0] + 0.1 * rng.normal(size=20_000) > 0).astype(int)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        SGDClassifier(max_iter=5, tol=None).fit(x, y)


def test_real_training_within_2x_of_codecarbon(mlflow_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Same run, same machine: ci-carbon from MLflow's system metrics vs CodeCarbon's own energy_consumed.

    Without RAPL (this machine) both rest on TDP: CodeCarbon on its cpu_load model (4 W per thread for an unknown
    CPU) and its RAM figure; ci-carbon on Green Algorithms' 12 W per core × logged utilisation (CPU model guessed)
    and the logged used memory × 0.3725 W/GB. Both compared as IT energy (PUE 1).
    """
    import codecarbon  # the test extra installs codecarbon, scikit-learn and psutil: never skipped
    import psutil

    # mlflow.set_tracking_uri also sets MLFLOW_TRACKING_URI, which every later ci-carbon subprocess would inherit
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
    mlflow.set_tracking_uri(mlflow_server.uri)
    mlflow.set_system_metrics_sampling_interval(1)
    mlflow.set_system_metrics_samples_before_logging(1)
    name = f"real-cpu-{uuid.uuid4().hex[:8]}"
    mlflow.set_experiment(name)
    tracker = codecarbon.OfflineEmissionsTracker(country_iso_code="FRA", output_dir=str(tmp_path),
                                                 measure_power_secs=1, log_level="error", save_to_file=True)
    with mlflow.start_run(run_name="sgd", log_system_metrics=True):
        mlflow.log_param("cpu_count", str(psutil.cpu_count(logical=True) or os.cpu_count()))
        mlflow.set_tag("ci_carbon.pue", "1.0")
        tracker.start()
        _train(20.0)
        tracker.stop()
        time.sleep(2)  # one more system-metrics window before the run ends
    codecarbon_kwh = tracker.final_emissions_data.energy_consumed
    (job,) = _report(mlflow_server.uri, name)["jobs"]
    assert job["method"] == "measured" and job["count"] == 0
    ratio = job["energy_kwh"] / codecarbon_kwh
    print(f"ci-carbon {job['energy_kwh']:.6g} kWh, CodeCarbon {codecarbon_kwh:.6g} kWh, ratio {ratio:.3g}, "
          f"guessed {job['guessed']}")
    assert 0.5 <= ratio <= 2.0
    assert "cpu_model" in job["guessed"]
