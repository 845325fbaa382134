"""`ci-carbon report --mlflow-uri` against a real MLflow server: runs logged with the real client, energies by hand."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import mlflow
import pytest
from mlflow.entities import Metric

from ci_carbon.core import tables
from tests.conftest import run_cli

T0 = 1_780_000_000_000  # 2026-05-28T20:26:40Z, a fixed start for hand-computed durations
S = 1000


def _power(gpus: int, watts: float, points: int, start: int = T0, every: int = 10 * S, node: str = "") -> list[Metric]:
    prefix = f"system/{node}/" if node else "system/"
    return [Metric(f"{prefix}gpu_{g}_power_usage_watts", watts, start + every * (i + 1), i)
            for g in range(gpus) for i in range(points)]


def _log(client: mlflow.MlflowClient, run_id: str, metrics: list[Metric]) -> None:
    for i in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[i:i + 1000])


@pytest.fixture(scope="module")
def store(mlflow_server):
    """One experiment with every kind of run the source must handle; returns (server, experiment name, run ids)."""
    client = mlflow.MlflowClient(mlflow_server.uri)
    name = f"report-{uuid.uuid4().hex[:8]}"
    exp = client.create_experiment(name)
    ids: dict[str, str] = {}

    def run(key: str, tags: dict, end: int | None, status: str = "FINISHED", params: dict | None = None) -> str:
        created = client.create_run(exp, start_time=T0, tags=tags, run_name=key)
        for k, v in (params or {}).items():
            client.log_param(created.info.run_id, k, v)
        ids[key] = created.info.run_id
        return created.info.run_id

    # measured: 2 GPUs at 300 W logged every 10 s for 1 h, ended 5 s after the last point (tail)
    rid = run("measured", {"gpu_type": "NVIDIA A100-SXM4-80GB", "cloud": "gcp", "region": "us-central1",
                           "team": "nlp"}, T0 + 3_605 * S)
    _log(client, rid, _power(2, 300.0, 360))
    client.set_terminated(rid, end_time=T0 + 3_605 * S)
    # a gap: points every 10 s for 10 min, nothing for 20 min, 10 min more; 200 W, one GPU
    rid = run("gap", {"ci_carbon.hardware": "Tesla T4", "cloud": "aws", "region": "us-east-1"}, None)
    first = _power(1, 200.0, 60)
    second = [Metric(m.key, 200.0, m.timestamp + 30 * 60 * S, m.step + 60) for m in _power(1, 200.0, 60)]
    _log(client, rid, first + second)
    client.set_terminated(rid, end_time=T0 + 40 * 60 * S)
    # unmeasured: TDP, with a count param
    rid = run("unmeasured", {"accelerator": "Tesla T4", "provider": "gcp", "region": "europe-west4"}, None,
              params={"num_gpus": "4"})
    client.set_terminated(rid, end_time=T0 + 2 * 3600 * S)
    # failed and killed runs
    for key, status in (("failed", "FAILED"), ("killed", "KILLED")):
        rid = run(key, {"gpu": "NVIDIA L4", "cloud": "gcp", "region": "us-central1"}, None)
        client.set_terminated(rid, status=status, end_time=T0 + 600 * S)
    # CodeCarbon-style energy logged by hand: 1.5 kWh over 2 h on one A10G
    rid = run("codecarbon", {"gpu": "NVIDIA A10G", "cloud": "aws", "region": "us-east-1"}, None)
    client.log_metric(rid, "energy_consumed", 1.5)
    client.log_metric(rid, "emissions", 0.6)
    client.set_terminated(rid, end_time=T0 + 2 * 3600 * S)
    # deleted: still counted
    rid = run("deleted", {"gpu": "Tesla T4", "cloud": "gcp", "region": "us-central1"}, None)
    client.set_terminated(rid, end_time=T0 + 3600 * S)
    client.delete_run(rid)
    # no hardware anywhere: listed as not estimated
    rid = run("nohardware", {"team": "nlp"}, None)
    client.set_terminated(rid, end_time=T0 + 60 * S)
    # a sweep: parent + 9 children differing in lr
    parent = run("sweep-parent", {"gpu": "Tesla T4", "cloud": "gcp", "region": "us-central1"}, None)
    for i in range(9):
        child = run(f"trial-{i}", {"gpu": "Tesla T4", "cloud": "gcp", "region": "us-central1",
                                   "mlflow.parentRunId": parent}, None, params={"lr": str(0.001 * (i + 1))})
        client.set_terminated(child, end_time=T0 + 1800 * S)
    client.set_terminated(parent, end_time=T0 + 2 * 3600 * S)
    return mlflow_server, name, ids


def report(server_uri: str, name: str, *args: str) -> dict:
    result = run_cli("report", "--mlflow-uri", server_uri, "--experiment", name, "--format", "json", *args)
    assert result.code == 0, result.err
    return result.json()


def by_name(data: dict) -> dict[str, dict]:
    return {j["name"]: j for j in data["jobs"]}


def test_measured_energy_by_hand(store):
    server, name, _ = store
    job = by_name(report(server.uri, name))["measured"]
    # 2 GPUs × 300 W × 3,605 s (360 windows of 10 s from the start + a 5 s tail) = 0.600833 kWh of IT energy
    pue = tables.regions()[("gcp", "us-central1")].pue or tables.providers()["gcp"].pue
    # the run names no host: the DGX A100 80GB host (hosts.csv), 2 of its 8 GPUs' share: 2 × EPYC 7742 (225 W)
    # = 450 W × 2/8 = 112.5 W of CPU, 2199.02 GB × 0.3725 W/GB × 2/8 = 204.7837 W of memory, over the same 3,605 s
    host_w = 450 * 2 / 8 + 2199.02 * 0.3725 * 2 / 8
    assert job["method"] == "measured" and job["count"] == 2
    assert job["power_w"] == pytest.approx(300.0)
    assert job["energy_kwh"] == pytest.approx((2 * 300 + host_w) * 3605 / 3.6e6 * pue, rel=1e-6)
    assert job["hours"] == pytest.approx(3605 / 3600)


def test_rocm_smi_gcds_are_counted_as_mi250_modules(mlflow_server):
    client = mlflow.MlflowClient(mlflow_server.uri)
    name = f"gcds-{uuid.uuid4().hex[:8]}"
    exp = client.create_experiment(name)
    rid = client.create_run(exp, start_time=T0, run_name="mi250",
                            tags={"gpu_type": "AMD Instinct MI250X / MI250", "country": "FR"}).info.run_id
    _log(client, rid, _power(4, 200.0, 360))  # rocm-smi: 4 GCDs at 200 W each, every 10 s for an hour
    client.set_terminated(rid, end_time=T0 + 3_600 * S)
    job = by_name(report(mlflow_server.uri, name))["mi250"]
    # 4 GCDs are 2 modules (smi_devices 2) at 2 × 200 = 400 W each: the device energy is unchanged,
    # 2 × 400 W × 1 h = 0.8 kWh; the host is the accelerator-cluster default (OCI H100 host, 8 devices per host):
    # 224 vCPUs × 350 W / 112 threads = 700 W + 2199.02 GB × 0.3725 = 819.13495 W, 2/8 of it = 379.7837375 W
    assert (job["count"], job["power_w"]) == (2, pytest.approx(400.0))
    assert job["energy_kwh"] == pytest.approx((800 + (700 + 2199.02 * 0.3725) * 2 / 8) / 1000
                                              * tables.constants()["pue_default"].value, rel=1e-6)
    assert any(n["code"] == "smi_modules" for n in job["notices"])


def test_gap_is_reported_and_filled_at_mean_power(store):
    server, name, _ = store
    job = by_name(report(server.uri, name))["gap"]
    # covered: 600 s + one interval for the first point after the gap + 590 s + tail; the run lasts 2,400 s
    assert job["method"] == "measured" and job["power_w"] == pytest.approx(200.0)
    assert job["device_hours"] == pytest.approx(2400 / 3600)
    assert any("Power logging stopped for" in w for w in job["warnings"])


def test_statuses_deleted_and_unmeasured(store):
    server, name, _ = store
    data = report(server.uri, name)
    jobs = by_name(data)
    assert jobs["unmeasured"]["count"] == 4 and jobs["unmeasured"]["method"] == "tdp"
    assert jobs["unmeasured"]["device_hours"] == pytest.approx(8.0)
    assert jobs["failed"]["status"] == "FAILED" and jobs["killed"]["status"] == "KILLED"
    assert any("Deleted in MLflow" in w for w in jobs["deleted"]["warnings"])
    assert "deleted" not in by_name(report(server.uri, name, "--active-only"))
    waste = [r for r in data["recommendations"] if r["kind"] == "waste"]
    failed = next(r for r in waste if "failed or killed" in r["text"])
    assert sorted(failed["jobs"]) == ["failed", "killed"]
    both = jobs["failed"]["emissions_kg"] + jobs["killed"]["emissions_kg"]
    assert failed["saving_kg"] == pytest.approx(both, abs=2e-6)


def test_reported_energy_is_used_with_our_grid(store):
    server, name, _ = store
    job = by_name(report(server.uri, name))["codecarbon"]
    pue = tables.regions()[("aws", "us-east-1")].pue or tables.providers()["aws"].pue
    assert job["method"] == "reported"
    assert job["energy_kwh"] == pytest.approx(1.5 * pue)


def test_sweep_parent_not_double_counted_and_search_advice(store):
    server, name, _ = store
    data = report(server.uri, name)
    assert "sweep-parent" not in by_name(data)
    skipped = {s["name"]: s for s in data["skipped"]}
    assert skipped["sweep-parent"]["code"] == "parent" and skipped["nohardware"]["code"] == "no_hardware"
    search = next(r for r in data["recommendations"] if r["kind"] == "search")
    assert sorted(search["jobs"]) == [f"trial-{i}" for i in range(9)]
    assert "ran 9 trials" in search["text"]


def test_sql_path_equals_client_path(store):
    server, name, _ = store
    through_server = report(server.uri, name)
    direct = report(server.backend, name)
    assert through_server["source"]["reader"] == "client" and direct["source"]["reader"] == "sql"
    for data in (through_server, direct):
        data.pop("source")
    assert direct == through_server


def test_annotate_is_idempotent_and_later_reads_use_it(store):
    server, name, ids = store
    first = run_cli("annotate", "--mlflow-uri", server.uri, "--experiment", name)
    assert first.code == 0, first.err
    # 6 single runs + 9 trials written; the deleted run is not; the parent and the run without hardware not estimated
    assert first.out == "annotated 15 runs; 0 already current; 1 deleted or running not written; 2 not estimated\n"
    again = run_cli("annotate", "--mlflow-uri", server.uri, "--experiment", name)
    assert again.out == "annotated 0 runs; 15 already current; 1 deleted or running not written; 2 not estimated\n"
    run = mlflow.MlflowClient(server.uri).get_run(ids["measured"])
    jobs = by_name(report(server.uri, name))
    assert run.data.metrics["carbon/emissions_kg"] == pytest.approx(jobs["measured"]["emissions_kg"], abs=1e-6)
    assert run.data.tags["carbon.data_version"] == tables.data_version()
    history = mlflow.MlflowClient(server.uri).get_metric_history(ids["measured"], "carbon/emissions_kg")
    assert len(history) == 1
    # a later read takes the written power and reads no power history for annotated runs
    from ci_carbon.core.settings import MlflowConfig
    from ci_carbon.sources.mlflow import load
    from ci_carbon.sources.mlflow.client_reader import ClientReader
    from ci_carbon.sources.mlflow.records import Selection

    asked: list[str] = []
    original = ClientReader.histories

    def spy(self, run_ids, keys):
        asked.extend(run_ids)
        return original(self, run_ids, keys)

    ClientReader.histories = spy
    try:
        specs = [s for c in load.RunStream(server.uri, Selection(experiments=(name,)), MlflowConfig()) for s in c.specs]
    finally:
        ClientReader.histories = original
    assert ids["measured"] not in asked and ids["gap"] not in asked
    spec = next(s for s in specs if s.id == ids["measured"])
    assert spec.measured_power_w == pytest.approx(300.0)


def test_system_metrics_of_real_cpu_work(mlflow_server, tmp_path):
    """A run recorded by MLflow's own system-metrics logger while this machine's CPU does real work."""
    name = f"sysmetrics-{uuid.uuid4().hex[:8]}"
    code = f"""
import mlflow, time, hashlib
mlflow.set_tracking_uri({mlflow_server.uri!r})
mlflow.set_experiment({name!r})
with mlflow.start_run(run_name="cpu-work", log_system_metrics=True,
                      tags={{"ci_carbon.hardware": "generic-cpu", "ci_carbon.country": "FR"}}):
    end = time.time() + 4
    data = b"x" * 1_000_000
    while time.time() < end:
        data = hashlib.sha256(data).digest() * 31250
"""
    env = {**os.environ, "MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL": "1",
           "MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING": "1"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)
    client = mlflow.MlflowClient(mlflow_server.uri)
    run = client.search_runs([client.get_experiment_by_name(name).experiment_id])[0]
    assert "system/cpu_utilization_percentage" in run.data.metrics
    job = by_name(report(mlflow_server.uri, name))["cpu-work"]
    assert job["hardware"] == tables.cpus()["generic-cpu"].name and job["method"] == "tdp"
    assert 3.5 / 3600 < job["hours"] < 60 / 3600


def test_unknown_experiment_is_bad_input(store):
    server, name, _ = store
    result = run_cli("report", "--mlflow-uri", server.uri, "--experiment", name[:-1] + "x")
    assert result.code == 2
    assert result.err.startswith(f"ci-carbon: {server.uri}: --experiment: unknown experiment")
    assert f"(did you mean '{name}'" in result.err


def test_unreachable_server_exits_3_after_retries(tmp_path):
    with __import__("socket").socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    result = run_cli("report", "--mlflow-uri", f"http://127.0.0.1:{port}")
    assert result.code == 3
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ci-carbon: MLflow at http://127.0.0.1:{port}")
    assert "Traceback" not in result.err
    assert time.monotonic() - started < 90


def test_clock_skew_is_listed_not_estimated(mlflow_server):
    """A run whose end time is before its start (a skewed clock) is listed with the reason, not counted as 0 or < 0."""
    client = mlflow.MlflowClient(mlflow_server.uri)
    name = f"skew-{uuid.uuid4().hex[:8]}"
    exp = client.create_experiment(name)
    run = client.create_run(exp, start_time=T0, tags={"gpu": "Tesla T4", "cloud": "gcp", "region": "us-central1"},
                            run_name="skewed")
    client.set_terminated(run.info.run_id, end_time=T0 - 60 * S)
    result = run_cli("report", "--mlflow-uri", mlflow_server.uri, "--experiment", name, "--format", "json")
    assert result.code == 2  # selected, none estimated: not a green check
    data = result.json()
    assert data["jobs"] == [] and data["totals"]["jobs_not_estimated"] == 1
    assert [(s["name"], s["code"]) for s in data["skipped"]] == [("skewed", "no_times")]
    assert "end is before the start" in data["skipped"][0]["reason"]
