"""The demo store: what a newcomer's first report reads must really be in MLflow, as MLflow itself stores it.

The demo is created once into the session's real ``mlflow server`` (under a unique prefix, the server is shared)
and once into a sqlite file through ``python -m``'s entry point; everything is read back with ``MlflowClient``.
"""

from __future__ import annotations

import itertools
import math
import re
import subprocess
import sys
import uuid
from collections import Counter
from datetime import datetime, timezone
from typing import Any

import mlflow.server  # noqa: F401  # the demo store needs the full mlflow (the `server` extra, in the test extra)
import pytest
from mlflow import MlflowClient
from mlflow.entities import Run, ViewType

from ci_carbon.sources.mlflow import demo
from tests.conftest import ROOT

RUNS = 35
SHA = re.compile(r"[0-9a-f]{40}")


@pytest.fixture(scope="module")
def created(mlflow_server) -> dict[str, Any]:
    return demo.create_demo_store(mlflow_server.uri, prefix=f"demo-{uuid.uuid4().hex[:8]}/")


@pytest.fixture(scope="module")
def client(mlflow_server) -> MlflowClient:
    return MlflowClient(mlflow_server.uri)


@pytest.fixture(scope="module")
def runs(created, client) -> dict[str, Run]:
    """Every run of this demo, deleted ones included, by run name."""
    found = client.search_runs(list(created["experiments"].values()), run_view_type=ViewType.ALL, max_results=1000)
    return {run.info.run_name: run for run in found}


def _gaps(client: MlflowClient, run: Run, key: str) -> list[int]:
    history = sorted(client.get_metric_history(run.info.run_id, key), key=lambda m: m.timestamp)
    return [b.timestamp - a.timestamp for a, b in itertools.pairwise(history)]


def test_experiments_runs_and_statuses(created, client, runs):
    names = sorted(created["experiments"])
    prefix = created["prefix"]
    assert names == sorted(prefix + name for name in demo.EXPERIMENTS)
    assert len(runs) == RUNS == len(created["runs"]["all"])
    assert Counter(run.info.status for run in runs.values()) == {"FINISHED": 30, "FAILED": 3, "KILLED": 1,
                                                                  "RUNNING": 1}
    assert runs["pretrain-3b"].info.end_time is None
    assert all(run.info.end_time > run.info.start_time for run in runs.values() if run.info.status != "RUNNING")
    kinds = {kind: len(ids) for kind, ids in created["runs"].items()}
    assert kinds["measured"] == 22 and kinds["unmeasured"] == 13 and kinds["sweep_children"] == 13
    # Start times span 2026-Q2 … Q4 with the default now (2026-10-15), most of them in Q3.
    starts = sorted(run.info.start_time for run in runs.values())
    assert starts[0] > demo.DEFAULT_NOW_MS - 151 * demo.DAY and starts[-1] < demo.DEFAULT_NOW_MS
    q3 = [int(datetime(2026, month, 1, tzinfo=timezone.utc).timestamp() * 1000) for month in (7, 10)]
    assert sum(q3[0] <= start < q3[1] for start in starts) > RUNS // 2


def test_deleted_run_only_with_view_type_all(created, client, runs):
    deleted = runs["yolo-t4-badlabels"]
    assert deleted.info.lifecycle_stage == "deleted"
    assert created["runs"]["deleted"] == [deleted.info.run_id]
    experiment = created["experiments"][created["prefix"] + "vision/detector"]
    default = {r.info.run_id for r in client.search_runs([experiment])}
    assert deleted.info.run_id not in default and len(default) == 4
    assert [r.info.run_id for r in client.search_runs([experiment], run_view_type=ViewType.DELETED_ONLY)] == [
        deleted.info.run_id]


def test_measured_history_every_ten_seconds_as_mlflow_logs_it(client, runs):
    run = runs["bert-ranker-base-v3"]  # 42 minutes on 4 × A100 80GB
    keys = {k for k in run.data.metrics if k.startswith("system/")}
    assert keys == {f"system/gpu_{i}_{what}" for i in range(4) for what in (
        "power_usage_watts", "power_usage_percentage", "utilization_percentage", "memory_usage_percentage")} | {
        "system/cpu_utilization_percentage", "system/system_memory_usage_megabytes"}
    history = sorted(client.get_metric_history(run.info.run_id, "system/gpu_0_power_usage_watts"),
                     key=lambda m: m.timestamp)
    duration = run.info.end_time - run.info.start_time
    assert duration // 10_250 - 1 <= len(history) <= duration // 10_005
    assert [m.step for m in history] == list(range(len(history)))
    assert all(10_005 <= gap <= 10_250 for gap in _gaps(client, run, "system/gpu_0_power_usage_watts"))
    assert run.info.start_time < history[0].timestamp < run.info.start_time + 13_000
    assert 0 < run.info.end_time - history[-1].timestamp < 10_250  # the last window is never logged
    watts = [m.value for m in history]
    assert all(50 <= w <= 400 for w in watts) and 250 <= sorted(watts)[len(watts) // 2] <= 400
    percent = {m.step: m.value for m in client.get_metric_history(run.info.run_id,
                                                                   "system/gpu_0_power_usage_percentage")}
    assert all(math.isclose(percent[m.step], m.value / 4) for m in history)  # a 400 W cap
    t4 = client.get_metric_history(runs["yolo-t4-baseline"].info.run_id, "system/gpu_0_power_usage_watts")
    assert all(9 <= m.value <= 70 for m in t4)
    assert len(history) <= 360 and len(t4) <= 360


def test_gap_faults_and_multi_node(client, runs):
    gaps = _gaps(client, runs["yolo-t4-aug"], "system/gpu_1_power_usage_watts")
    assert sum(gap > 60_000 for gap in gaps) == 1 and 6 * 60_000 < max(gaps) < 7 * 60_000
    faulty = [m.value for m in client.get_metric_history(runs["bert-ranker-large-v1"].info.run_id,
                                                         "system/gpu_0_power_usage_watts")]
    assert sum(math.isnan(v) for v in faulty) == 1 and sum(v < 0 for v in faulty) == 1
    multi = runs["pretrain-1b-multinode"]
    watts = sorted(k for k in multi.data.metrics if k.endswith("_power_usage_watts"))
    assert watts == [f"system/node_{n}/gpu_{i}_power_usage_watts" for n in range(2) for i in range(4)]
    node_0, node_1 = (client.get_metric_history(multi.info.run_id, f"system/node_{n}/gpu_0_power_usage_watts")
                      for n in range(2))
    assert abs(len(node_0) - len(node_1)) <= 1 and len(node_0) > 250
    running = client.get_metric_history(runs["pretrain-3b"].info.run_id, "system/gpu_7_power_usage_watts")
    assert running and max(m.timestamp for m in running) < demo.DEFAULT_NOW_MS


def test_sweep_parent_and_children(created, runs):
    parent = runs["vit-b16-grid"]
    children = [run for run in runs.values() if run.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(children) == 13 and set(created["runs"]["sweep_children"]) == {c.info.run_id for c in children}
    assert parent.data.metrics == {}
    assert all(parent.info.start_time <= c.info.start_time and c.info.end_time <= parent.info.end_time
               for c in children)
    varying = {key for c in children for key in c.data.params if c.data.params[key] != children[0].data.params[key]}
    assert varying == {"lr", "batch_size"}
    same = Counter(tuple(sorted(c.data.params.items())) for c in children)
    assert sorted(same.values()) == [1] * 11 + [2]
    assert len(created["runs"]["duplicates"]) == 2


def test_names_users_really_write(created, runs):
    assert runs["bert-ranker-base-v3"].data.tags["gpu_type"] == "NVIDIA A100-SXM4-80GB"
    assert runs["bert-ranker-base-v3"].data.params["num_gpus"] == "4"
    assert runs["yolo-t4-baseline"].data.params["accelerator"] == "Tesla T4"
    assert runs["pretrain-3b"].data.tags["gpu"] == "H100 SXM"
    assert runs["pretrain-3b"].data.params["gpu_count"] == "8"
    assert runs["whisper-small-ft"].data.tags["ci_carbon.hardware"] == "NVIDIA L4"
    assert not {"num_gpus", "gpu_count"} & set(runs["whisper-small-ft"].data.params)  # count: the metric keys
    assert runs["pretrain-1b-p4d"].data.params["instance_type"] == "p4d.24xlarge"
    onprem = runs["yolo-onprem-a100"].data.tags
    assert onprem["country"] == "DE" and not {"cloud", "provider", "region"} & set(onprem)
    locations = {(r.data.tags.get("cloud") or r.data.tags.get("provider"), r.data.tags.get("region"))
                 for r in runs.values()}
    assert locations >= {("gcp", "us-central1"), ("aws", "us-east-1"), ("azure", "westeurope"),
                         ("gcp", "europe-west4"), (None, None)}
    for run in runs.values():
        tags = run.data.tags
        assert run.info.user_id == tags["mlflow.user"] and tags["team"]
        if run.info.run_name != "notebook-exploration":
            assert SHA.fullmatch(tags["mlflow.source.git.commit"]) and tags["project"]
    assert created["git_commits"][runs["distill-ranker"].info.run_id] == runs["distill-ranker"].data.tags[
        "mlflow.source.git.commit"]
    codecarbon = runs["dlrm-codecarbon"]
    assert codecarbon.data.tags["codecarbon"] and not any(k.startswith("system/") for k in codecarbon.data.metrics)
    energy, emissions = codecarbon.data.metrics["energy_consumed"], codecarbon.data.metrics["emissions"]
    assert 0.5 < energy < 1.5 and math.isclose(emissions / energy, 0.36913, rel_tol=1e-4)  # kWh, kg (Virginia)


def test_second_demo_with_the_same_names_is_refused(created, mlflow_server):
    with pytest.raises(demo.DemoStoreExists, match="already has an experiment"):
        demo.create_demo_store(mlflow_server.uri, prefix=created["prefix"])


def _content(client: MlflowClient, run: Run) -> tuple:
    """What the seed decides about a run: all but MLflow's ids (the parent's id differs between stores)."""
    tags = {k: v for k, v in run.data.tags.items() if k != "mlflow.parentRunId"}
    history = [(m.timestamp, m.step, m.value) for m in client.get_metric_history(run.info.run_id, "train_loss")]
    return (run.info.status, run.info.lifecycle_stage, run.info.start_time, run.info.end_time, tags,
            run.data.params, {k: v for k, v in run.data.metrics.items() if v == v}, history)


def test_sqlite_file_through_python_dash_m_matches_the_server_demo(tmp_path, created, client, runs, capsys):
    path = tmp_path / "demo.db"
    assert demo.main([str(path)]) == 0
    out = capsys.readouterr().out
    uri = f"sqlite:///{path.resolve()}"
    assert "35 runs (22 measured, 13 unmeasured" in out and f"ci-carbon report --mlflow-uri {uri}" in out
    local = MlflowClient(uri)
    experiments = [e for e in local.search_experiments() if e.name != "Default"]  # every store has "Default"
    assert sorted(e.name for e in experiments) == sorted(demo.EXPERIMENTS)
    found = local.search_runs([e.experiment_id for e in experiments], run_view_type=ViewType.ALL, max_results=1000)
    assert len(found) == RUNS
    # Same seed and now: the same store, whichever backend holds it.
    by_name = {run.info.run_name: run for run in found}
    assert by_name.keys() == runs.keys()
    for name in ("bert-ranker-large-v1", "vit-b16-grid-05", "dlrm-codecarbon", "yolo-t4-badlabels"):
        assert _content(local, by_name[name]) == _content(client, runs[name]), name
    watts = "system/gpu_0_power_usage_watts"
    assert [(m.timestamp, m.value) for m in local.get_metric_history(by_name["yolo-t4-aug"].info.run_id, watts)] == [
        (m.timestamp, m.value) for m in client.get_metric_history(runs["yolo-t4-aug"].info.run_id, watts)]
    # An existing file is refused before MLflow is even imported: exit 2, one line.
    again = subprocess.run([sys.executable, "-m", "ci_carbon.sources.mlflow.demo", str(path)], cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_other_seed_other_values_same_shape():
    """The seed moves values, never the cast of runs the tests and README name."""
    now = demo.DEFAULT_NOW_MS
    one, same, other = demo._specs(now, 7), demo._specs(now, 7), demo._specs(now, 8)
    assert one == same
    assert [s.name for s in one] == [s.name for s in other]
    assert [s.start_ms for s in one] != [s.start_ms for s in other]
