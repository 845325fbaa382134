"""Impossible values from MLflow runs (issue 9, items 2 and 10), on a real store read both ways.

The same store is read through the tracking server (MlflowClient pages) and straight from its sqlite file (the SQL
reader): both must refuse the same runs with the same reason. A run with an impossible tag, param or power history
is listed as not estimated, never zeroed; a reading outside 0–5000 W is dropped and counted in a notice; a run still
marked RUNNING that went silent is counted up to its last metric of any key, not up to now.
"""

from __future__ import annotations

import math
import uuid

import mlflow
import pytest
from mlflow.entities import Metric

from tests.conftest import run_cli

T0 = 1_780_000_000_000  # 2026-05-28 20:26:40 UTC
S = 1000
T4 = {"gpu": "Tesla T4", "cloud": "gcp", "region": "us-central1"}
POWER = "system/gpu_0_power_usage_watts"


def _power(client: mlflow.MlflowClient, run_id: str, watts: list[float]) -> None:
    """One reading every 60 s from T0 + 60 s (MLflow stamps each point at the end of its window)."""
    metrics = [Metric(POWER, w, T0 + 60 * S * (i + 1), i) for i, w in enumerate(watts)]
    client.log_batch(run_id, metrics=metrics)


@pytest.fixture(scope="module")
def store(mlflow_server):
    client = mlflow.MlflowClient(mlflow_server.uri)
    exp_name = f"bad-values-{uuid.uuid4().hex[:8]}"
    exp = client.create_experiment(exp_name)

    def run(name: str, tags: dict[str, str], params: dict[str, str] | None = None, watts: list[float] | None = None,
            end_s: int | None = 600) -> str:
        r = client.create_run(exp, start_time=T0, tags=tags, run_name=name)
        for key, value in (params or {}).items():
            client.log_param(r.info.run_id, key, value)
        if watts is not None:
            _power(client, r.info.run_id, watts)
        if end_s is not None:
            client.set_terminated(r.info.run_id, end_time=T0 + end_s * S)
        return r.info.run_id

    run("pue-tiny", {**T4, "ci_carbon.pue": "0.001"})
    run("cpu-huge", T4, {"cpu_count": "1e308"})
    run("all-zero-watts", T4, watts=[0.0] * 10)
    run("one-infinite", T4, watts=[70.0] * 9 + [math.inf])
    run("terawatts", T4, watts=[1e12] * 10)
    stale = client.create_run(exp, start_time=T0, tags=T4, run_name="stale")  # never terminated: RUNNING
    client.log_metric(stale.info.run_id, "loss", 0.5, timestamp=T0 + 7200 * S, step=1)
    return mlflow_server, exp_name


@pytest.fixture(params=["server", "sqlite"])
def report(request, store):
    server, exp_name = store
    uri = server.uri if request.param == "server" else server.backend
    result = run_cli("report", "--mlflow-uri", uri, "--experiment", exp_name, "--format", "json")
    assert result.code == 0, result.err
    data = result.json()
    return {j["name"]: j for j in data["jobs"]}, {s["name"]: s for s in data["skipped"]}, data


def test_impossible_values_are_listed_not_estimated_with_the_field(report):
    _, skipped, data = report
    assert {name: s["code"] for name, s in skipped.items()} == {
        "pue-tiny": "bad_value", "cpu-huge": "bad_value", "all-zero-watts": "bad_value", "terawatts": "bad_value"}
    assert "pue" in skipped["pue-tiny"]["detail"] and "0.001" in skipped["pue-tiny"]["detail"]
    assert "cpu_count" in skipped["cpu-huge"]["detail"]
    assert skipped["all-zero-watts"]["detail"].startswith("logged power per device")
    # every 1e12 W reading is outside 0–5000 W: all ten left out, the reason says so
    assert "after leaving out 10 impossible readings" in skipped["terawatts"]["detail"]
    assert data["totals"]["jobs"] == 2 and data["totals"]["jobs_not_estimated"] == 4
    assert math.isfinite(data["totals"]["emissions_kg"]) and data["totals"]["emissions_kg"] > 0


def test_an_infinite_reading_is_dropped_and_counted(report):
    jobs, _, _ = report
    job = jobs["one-infinite"]
    # nine 70 W readings kept: mean 70 W, never inf or 0
    assert job["method"] == "measured" and job["power_w"] == pytest.approx(70.0)
    assert {"code": "power_points_dropped", "params": {"count": 1}} in job["notices"]
    assert math.isfinite(job["emissions_kg"]) and job["emissions_kg"] > 0


def test_a_silent_running_run_is_counted_to_its_last_metric_of_any_key(report):
    jobs, _, _ = report
    job = jobs["stale"]
    # started T0, last sign of life: the loss metric at T0 + 2 h → exactly 2 hours, not "up to now" (months later)
    assert job["hours"] == pytest.approx(2.0)
    assert [n for n in job["notices"] if n["code"] == "stale_running"] == [
        {"code": "stale_running", "params": {"since": "2026-05-28 22:26 UTC"}}]
