"""A real MLflow server with runs of several teams spread over quarters, logged with the real client.

Every run is unmeasured (no power history, no CPU given), so its footprint is TDP × count × hours × PUE × grid
intensity, which the tests write out by hand. Start and end times are exact UTC instants, including a run that
starts one minute before midnight at the end of 2026-Q3.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

import mlflow
import pytest

from tests.conftest import ROOT, Result
from tests.sources.mlflow.conftest import mlflow_server  # noqa: F401

ARTIFACTS = ROOT / "tests" / "artifacts"


def ms(text: str) -> int:
    """'2026-09-30T23:59' (UTC) → ms since the epoch."""
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp() * 1000)


class Planned(NamedTuple):
    """One run to log: (key, team tag, hardware, count, region, start, end, status)."""

    key: str
    team: str
    hardware: str
    count: int
    region: str
    start: str
    end: str
    status: str = "FINISHED"
    experiment: str = "train"
    tags: Mapping[str, str] = MappingProxyType({})


RUNS = [
    # 2026-Q3, the quarter summarised
    Planned("q3-nlp-t4", "nlp", "Tesla T4", 4, "us-central1", "2026-07-10T08:00", "2026-07-10T10:00",
            tags={"cluster": "a"}),
    Planned("q3-vision-a100", "vision", "NVIDIA A100-SXM4-80GB", 8, "europe-west4", "2026-08-05T06:00",
            "2026-08-05T12:00", experiment="vision", tags={"cluster": "b"}),
    Planned("q3-vision-l4-failed", "vision", "NVIDIA L4", 2, "europe-west4", "2026-09-12T09:00", "2026-09-12T10:30",
            "FAILED", experiment="vision"),
    Planned("q3-boundary", "nlp", "Tesla T4", 1, "us-central1", "2026-09-30T23:59", "2026-10-01T00:30"),
    # 2026-Q4: starts exactly at midnight, so not in Q3
    Planned("q4-midnight", "nlp", "Tesla T4", 1, "us-central1", "2026-10-01T00:00", "2026-10-01T01:00"),
    # 2026-Q2, the quarter before; the research run crosses midnight into Q3 and stays in Q2
    Planned("q2-nlp-t4", "nlp", "Tesla T4", 2, "us-central1", "2026-05-20T12:00", "2026-05-20T15:00"),
    Planned("q2-research-cross", "", "NVIDIA L4", 1, "europe-west4", "2026-06-30T23:30", "2026-07-01T01:00",
            tags={"squad": "research"}),
    # 2025-Q3, the same quarter a year before
    Planned("y-vision-a100", "vision", "NVIDIA A100-SXM4-80GB", 8, "europe-west4", "2025-08-01T10:00",
            "2025-08-01T11:00", experiment="vision"),
    # 2026-Q1: only failed runs
    Planned("q1-failed-a", "nlp", "Tesla T4", 1, "us-central1", "2026-02-03T10:00", "2026-02-03T11:00", "FAILED"),
    Planned("q1-killed-b", "vision", "NVIDIA L4", 1, "europe-west4", "2026-03-04T10:00", "2026-03-04T10:30",
            "KILLED", experiment="vision"),
    # 2025-Q1: team names that must be escaped
    Planned("esc-script", "<script>alert(1)</script>", "Tesla T4", 1, "us-central1", "2025-02-01T10:00",
            "2025-02-01T12:00", experiment="escape"),
    Planned("esc-pipe", "a|b", "Tesla T4", 1, "us-central1", "2025-02-02T10:00", "2025-02-02T11:00",
            experiment="escape"),
    Planned("esc-mention", "@team", "Tesla T4", 1, "us-central1", "2025-02-03T10:00", "2025-02-03T10:30",
            experiment="escape"),
]


class Store(NamedTuple):
    server: Any  # the session's mlflow server (uri, backend)
    experiments: dict[str, str]  # short name → full name
    ids: dict[str, str]  # run key → run id

    def selection(self) -> list[str]:
        return [arg for name in self.experiments.values() for arg in ("--experiment", name)]


@pytest.fixture(scope="session")
def store(mlflow_server) -> Store:  # noqa: F811
    client = mlflow.MlflowClient(mlflow_server.uri)
    prefix = f"summary-{uuid.uuid4().hex[:8]}"
    experiments = {name: f"{prefix}/{name}" for name in ("train", "vision", "escape")}
    exp_ids = {name: client.create_experiment(full) for name, full in experiments.items()}
    ids = {}
    for run in RUNS:
        tags = {"ci_carbon.hardware": run.hardware, "cloud": "gcp", "region": run.region, "mlflow.user": "alice",
                **run.tags}
        if run.team:
            tags["team"] = run.team
        created = client.create_run(exp_ids[run.experiment], start_time=ms(run.start), tags=tags, run_name=run.key)
        client.log_param(created.info.run_id, "num_gpus", str(run.count))
        client.set_terminated(created.info.run_id, status=run.status, end_time=ms(run.end))
        ids[run.key] = created.info.run_id
    return Store(mlflow_server, experiments, ids)


def run_summary(*args: str, cwd=None) -> Result:
    """`ci-carbon summary` as a user runs it, as a user runs it."""
    proc = subprocess.run([sys.executable, "-m", "ci_carbon", "summary", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=180)
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """The demo store (ci_carbon.sources.mlflow.demo, now = 2026-10-15) in a sqlite file, made as a newcomer would."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    subprocess.run([sys.executable, "-m", "ci_carbon.sources.mlflow.demo", str(path)], check=True, cwd=ROOT,
                   capture_output=True, timeout=300)
    return path
