"""A realistic example MLflow store, so a newcomer can see a report in one step.

``create_demo_store("sqlite:///demo.db")`` (or ``python -m ci_carbon.sources.mlflow.demo demo.db``) logs, through
the real MLflow client, the kind of store an ML organisation actually has: six experiments of four teams, runs
whose hardware, GPU count and location are written under the different names people use (``gpu_type``,
``accelerator``, ``gpu``, ``ci_carbon.hardware``; ``num_gpus``, ``gpu_count`` or only the number of
``system/gpu_{i}_*`` keys; ``cloud``/``provider`` + ``region``, ``country``, ``instance_type``), measured runs with
system-metric histories exactly as MLflow ≥ 2.12 logs them (one point per ~10 s window, stamped when logged, the last
window before ``end_time`` never logged), runs that logged nothing about power, failed, killed, running and deleted
runs, a grid-search sweep with a parent run and a duplicated trial, and a run with CodeCarbon figures logged by hand.
It also holds the faults a reader must survive: a multi-minute gap in a history, a NaN and a negative watts value.

Everything but MLflow's own run ids is a function of ``seed`` and ``now_ms``, so tests and the README can name
exact figures. Needs the full ``mlflow`` package for ``sqlite:///`` URIs (the ``server`` extra); any tracking
server URI works with the client alone.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import random
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_NOW_MS", "DemoStoreExists", "create_demo_store", "describe", "main", "uri_for_path"]

#: 2026-10-15T00:00Z: the default "now", so that the runs fill 2026-Q3 and reach into Q2 and Q4.
DEFAULT_NOW_MS = int(datetime(2026, 10, 15, tzinfo=timezone.utc).timestamp() * 1000)

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
INTERVAL_MS = 10_000  # MLflow's default system-metrics sampling interval (one sample per logged window)


class DemoStoreExists(Exception):
    """The target store already holds an experiment of the demo's name (a second run would mix two demos)."""


@dataclass(frozen=True)
class Card:
    """What one accelerator model draws, as NVML reports it; used only to make believable histories."""

    power_limit_w: float  # the enforced power cap: MLflow's power percentage is watts / this × 100
    idle_w: float
    busy_w: tuple[float, float]  # the range of a training run's typical draw


CARDS: dict[str, Card] = {
    "a100-80": Card(400.0, 62.0, (250.0, 390.0)),
    "h100": Card(700.0, 72.0, (450.0, 680.0)),
    "t4": Card(70.0, 10.0, (50.0, 69.0)),
    "l4": Card(72.0, 16.0, (50.0, 71.0)),
}


@dataclass
class RunSpec:
    """One run of the demo: what a user's training script would have logged, and what became of it."""

    experiment: str
    name: str
    user: str
    start_ms: int
    minutes: float
    status: str = "FINISHED"  # FINISHED | FAILED | KILLED | RUNNING (RUNNING: never terminated)
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    card: str | None = None  # measured: the accelerator in CARDS whose power history is logged
    gpus: int = 0  # measured: GPUs per node that log system metrics
    nodes: tuple[str, ...] = ()  # multi-node: MLflow node ids, keys become system/<node>/…
    gap_minutes: float = 0.0  # a stall in the system-metrics history (the monitor logged nothing)
    faults: bool = False  # one NaN and one negative watts value in GPU 0's power history
    metrics: dict[str, float] = field(default_factory=dict)  # final values logged by hand (CodeCarbon, scores)
    kinds: tuple[str, ...] = ()
    delete: bool = False
    parent: str | None = None  # the name of the sweep parent run

    @property
    def end_ms(self) -> int:
        return self.start_ms + int(self.minutes * MINUTE)


# Experiments: name → (team, project, script). Names as users write them: team/model.
EXPERIMENTS: dict[str, tuple[str, str, str]] = {
    "nlp/bert-ranker": ("nlp", "search-ranking", "train_ranker.py"),
    "nlp/assistant-pretrain": ("nlp", "assistant", "pretrain.py"),
    "vision/detector": ("vision", "detection", "train_yolo.py"),
    "vision/vit-sweep": ("vision", "vit", "sweep.py"),
    "recsys/dlrm": ("recsys", "ads-ranking", "dlrm/train.py"),
    "speech/whisper-ft": ("speech", "asr", "finetune_whisper.py"),
}

# Final-score metric per experiment, so runs look like training runs and readers must skip non-system metrics.
SCORES: dict[str, str] = {
    "nlp/bert-ranker": "val_ndcg_at_10",
    "nlp/assistant-pretrain": "val_perplexity",
    "vision/detector": "val_map50",
    "vision/vit-sweep": "val_accuracy",
    "recsys/dlrm": "val_auc",
    "speech/whisper-ft": "val_wer",
}

A100_80 = "NVIDIA A100-SXM4-80GB"
GCP_US = {"cloud": "gcp", "region": "us-central1"}
GCP_EU = {"provider": "gcp", "region": "europe-west4"}
AWS_US = {"provider": "aws", "region": "us-east-1"}
AZURE_EU = {"cloud": "azure", "region": "westeurope"}


def _sha(rng: random.Random) -> str:
    return f"{rng.getrandbits(160):040x}"


def _specs(now_ms: int, seed: int) -> list[RunSpec]:
    """The demo's runs, by experiment; start times are days before ``now_ms`` with a deterministic jitter.

    ``now_ms`` − 150 days … ``now_ms``: with the default now, 2026-05-18 … 2026-10-14, most runs in 2026-Q3, a few
    in Q2 (the quarter before, for the trend) and Q4.
    """
    rng = random.Random(f"{seed}:times")
    commits = {name: [_sha(rng) for _ in range(3)] for name in EXPERIMENTS}

    def at(days: float) -> int:
        # Runs start in working hours give or take: jitter of ±3 h around the nominal day, whole seconds.
        return now_ms - int(days * DAY) + rng.randint(-3 * 3600, 3 * 3600) * 1000

    def common(experiment: str, user: str, commit: int = 0, **tags: str) -> dict[str, str]:
        team, project, script = EXPERIMENTS[experiment]
        return {"mlflow.user": user, "team": team, "project": project,
                "mlflow.source.git.commit": commits[experiment][commit],
                "mlflow.source.name": script, "mlflow.source.type": "LOCAL", **tags}

    ranker, pretrain, detector = "nlp/bert-ranker", "nlp/assistant-pretrain", "vision/detector"
    sweep, dlrm, whisper = "vision/vit-sweep", "recsys/dlrm", "speech/whisper-ft"
    bert = {"model": "bert-base-uncased", "epochs": "3", "optimizer": "adamw"}
    bert_large = {**bert, "model": "bert-large-uncased"}
    specs: list[RunSpec] = [
        # nlp/bert-ranker: hardware in the tag `gpu_type` (nvidia-smi's name), count in the param `num_gpus`, GCP.
        RunSpec(ranker, "bert-ranker-base-v3", "anguyen", at(120), 42,
                tags=common(ranker, "anguyen", gpu_type=A100_80, **GCP_US),  # type: ignore[arg-type]
                params={**bert, "num_gpus": "4", "lr": "3e-05", "batch_size": "64"},
                card="a100-80", gpus=4, kinds=("measured",)),
        RunSpec(ranker, "bert-ranker-large-v1", "anguyen", at(78), 55,
                tags=common(ranker, "anguyen", 1, gpu_type=A100_80, **GCP_US),
                params={**bert_large, "num_gpus": "4", "lr": "2e-05", "batch_size": "32"},
                card="a100-80", gpus=4, faults=True, kinds=("measured", "faults")),
        RunSpec(ranker, "bert-ranker-large-oom", "bschmidt", at(77), 7, status="FAILED",
                tags=common(ranker, "bschmidt", 1, gpu_type=A100_80, **GCP_US),
                params={**bert_large, "num_gpus": "4", "lr": "2e-05", "batch_size": "128"},
                card="a100-80", gpus=4, kinds=("measured", "failed")),
        RunSpec(ranker, "bert-ranker-large-full", "bschmidt", at(60), 9.5 * 60,
                tags=common(ranker, "bschmidt", 1, gpu_type=A100_80, **GCP_US),
                params={**bert_large, "num_gpus": "8", "lr": "2e-05", "batch_size": "32", "epochs": "10"},
                kinds=("unmeasured",)),
        RunSpec(ranker, "distill-ranker", "anguyen", at(9), 3 * 60,
                tags=common(ranker, "anguyen", 2, gpu_type=A100_80, **GCP_US),
                params={"model": "distilbert-base-uncased", "epochs": "5", "num_gpus": "2", "lr": "5e-05",
                        "batch_size": "128"},
                kinds=("unmeasured",)),
        # nlp/assistant-pretrain: hardware in the tag `gpu`, count in `gpu_count` or implied by the metric keys, AWS.
        RunSpec(pretrain, "pretrain-1b-multinode", "chen.wei", at(45), 50,
                tags=common(pretrain, "chen.wei", gpu="H100 SXM", **AWS_US),  # type: ignore[arg-type]
                params={"model": "decoder-1b", "num_nodes": "2", "seq_len": "4096", "lr": "0.0003",
                        "global_batch_size": "512"},
                card="h100", gpus=4, nodes=("node_0", "node_1"), kinds=("measured", "multi_node", "implied_count")),
        RunSpec(pretrain, "pretrain-1b-p4d", "chen.wei", at(95), 11 * 60,
                tags=common(pretrain, "chen.wei", **AWS_US),  # type: ignore[arg-type]
                params={"model": "decoder-1b", "instance_type": "p4d.24xlarge", "seq_len": "2048", "lr": "0.0003"},
                kinds=("unmeasured", "instance_type")),
        RunSpec(pretrain, "pretrain-1b-lr-probe", "dpatel", at(30), 2.6 * 60, status="KILLED",
                tags=common(pretrain, "dpatel", 1, gpu="H100 SXM", **AWS_US),
                params={"model": "decoder-1b", "gpu_count": "8", "seq_len": "4096", "lr": "0.001"},
                kinds=("unmeasured", "killed")),
        RunSpec(pretrain, "pretrain-3b", "chen.wei", now_ms - 31 * MINUTE, 31, status="RUNNING",
                tags=common(pretrain, "chen.wei", 2, gpu="H100 SXM", **AWS_US),
                params={"model": "decoder-3b", "gpu_count": "8", "seq_len": "4096", "lr": "0.0002"},
                card="h100", gpus=8, kinds=("measured", "running")),
        # vision/detector: hardware in the param `accelerator`, Azure; one on-premise run in Germany.
        RunSpec(detector, "yolo-t4-baseline", "emartin", at(130), 35,
                tags=common(detector, "emartin", **AZURE_EU),  # type: ignore[arg-type]
                params={"accelerator": "Tesla T4", "gpu_count": "1", "model": "yolov8s", "epochs": "30",
                        "imgsz": "640"},
                card="t4", gpus=1, kinds=("measured",)),
        RunSpec(detector, "yolo-t4-aug", "emartin", at(88), 48,
                tags=common(detector, "emartin", 1, **AZURE_EU),
                params={"accelerator": "Tesla T4", "model": "yolov8s", "epochs": "40", "imgsz": "640",
                        "augment": "mosaic"},
                card="t4", gpus=2, gap_minutes=6.5, kinds=("measured", "gap", "implied_count")),
        RunSpec(detector, "yolo-t4-badlabels", "emartin", at(70), 25,
                tags=common(detector, "emartin", 1, **AZURE_EU),
                params={"accelerator": "Tesla T4", "gpu_count": "1", "model": "yolov8m", "epochs": "20",
                        "imgsz": "640"},
                card="t4", gpus=1, delete=True, kinds=("measured", "deleted")),
        RunSpec(detector, "yolo-onprem-a100", "fkowalski", at(50), 5 * 60,
                tags=common(detector, "fkowalski", 2, country="DE", cluster="munich-onprem"),
                params={"accelerator": "NVIDIA A100-PCIE-40GB", "num_gpus": "2", "model": "yolov8x", "epochs": "100",
                        "imgsz": "1280"},
                kinds=("unmeasured", "on_premise")),
        RunSpec(detector, "yolo-t4-eval", "fkowalski", at(5), 1.2 * 60, status="FAILED",
                tags=common(detector, "fkowalski", 2, **AZURE_EU),
                params={"accelerator": "Tesla T4", "gpu_count": "1", "model": "yolov8x", "imgsz": "1280"},
                kinds=("unmeasured", "failed")),
    ]

    # vision/vit-sweep: a grid search, 12 trials plus one repeated by hand (identical params), on single L4s.
    parent_start = at(35)
    trials = [(lr, bs) for lr in ("0.0001", "0.0003", "0.001") for bs in ("32", "64", "128", "256")]
    trials.append(trials[5])
    sweep_tags = common(sweep, "gsato", **{"ci_carbon.hardware": "NVIDIA L4"}, **GCP_EU)  # type: ignore[arg-type]
    children: list[RunSpec] = []
    start = parent_start + 4_000
    for i, (lr, bs) in enumerate(trials):
        minutes = round(rng.uniform(10, 15), 2)
        child = RunSpec(sweep, f"vit-b16-grid-{i:02d}", "gsato", start, minutes,
                        tags=dict(sweep_tags),
                        params={"model": "vit_b16", "epochs": "10", "optimizer": "adamw", "gpu_count": "1",
                                "lr": lr, "batch_size": bs},
                        card="l4", gpus=1, parent="vit-b16-grid",
                        kinds=("measured", "sweep_children") + (("duplicates",) if (lr, bs) == trials[5] else ()))
        children.append(child)
        start = child.end_ms + rng.randint(5, 40) * 1000
    parent_minutes = (children[-1].end_ms + 3_000 - parent_start) / MINUTE
    specs.append(RunSpec(sweep, "vit-b16-grid", "gsato", parent_start, parent_minutes, tags=dict(sweep_tags),
                         params={"search": "grid", "n_trials": str(len(trials)), "model": "vit_b16"},
                         kinds=("unmeasured", "sweep_parent")))
    specs.extend(children)

    # recsys/dlrm: CodeCarbon figures logged by hand; a failed retry; a notebook run that says nothing at all.
    # CodeCarbon's own arithmetic: kWh of GPU + CPU + RAM (no PUE) × its grid figure for Virginia, 813.802 lb/MWh
    # in its usa_emissions.json = 0.36913 kg/kWh; emissions in kg, energy_consumed in kWh.
    hours, gpu_w, host_w, kg_per_kwh = 2.0, 312.0, 96.0, 813.802 * 0.45359237 / 1000
    energy_kwh = hours * (gpu_w + host_w) / 1000
    specs += [
        RunSpec(dlrm, "dlrm-codecarbon", "hpark", at(100), hours * 60,
                tags=common(dlrm, "hpark", gpu_type=A100_80, codecarbon="2.8.3", **AWS_US),  # type: ignore[arg-type]
                params={"num_gpus": "1", "embedding_dim": "128", "batch_size": "65536", "lr": "0.01"},
                metrics={"energy_consumed": round(energy_kwh, 6), "emissions": round(energy_kwh * kg_per_kwh, 6),
                         "emissions_rate": round(energy_kwh * kg_per_kwh / (hours * 3600), 9),
                         "gpu_energy": round(hours * gpu_w / 1000, 6),
                         "cpu_energy": round(hours * 85.0 / 1000, 6), "ram_energy": round(hours * 11.0 / 1000, 6),
                         "gpu_power": gpu_w, "cpu_power": 85.0, "ram_power": 11.0},
                kinds=("unmeasured", "codecarbon")),
        RunSpec(dlrm, "dlrm-large", "ikeller", at(65), 7 * 60,
                tags=common(dlrm, "ikeller", 1, gpu_type=A100_80, **AWS_US),
                params={"num_gpus": "8", "embedding_dim": "256", "batch_size": "262144", "lr": "0.01"},
                kinds=("unmeasured",)),
        RunSpec(dlrm, "dlrm-large-retry", "ikeller", at(64), 1.5 * 60, status="FAILED",
                tags=common(dlrm, "ikeller", 1, gpu_type=A100_80, **AWS_US),
                params={"num_gpus": "8", "embedding_dim": "256", "batch_size": "262144", "lr": "0.005"},
                kinds=("unmeasured", "failed")),
        RunSpec(dlrm, "notebook-exploration", "ikeller", at(20), 0.8 * 60,
                tags={"mlflow.user": "ikeller", "team": "recsys", "mlflow.source.name": "explore.ipynb",
                      "mlflow.source.type": "NOTEBOOK"},
                kinds=("unmeasured", "bare", "no_location")),
        # speech/whisper-ft: hardware in `ci_carbon.hardware` (or `accelerator`); one run with no location at all.
        RunSpec(whisper, "whisper-small-ft", "jlopez", at(85), 38,
                tags=common(whisper, "jlopez", **{"ci_carbon.hardware": "NVIDIA L4"}, **GCP_EU),  # type: ignore[arg-type]
                params={"model": "openai/whisper-small", "epochs": "3", "lr": "1e-05", "batch_size": "16"},
                card="l4", gpus=2, kinds=("measured", "implied_count")),
        RunSpec(whisper, "whisper-medium-ft", "jlopez", at(25), 6 * 60,
                tags=common(whisper, "jlopez", 1, **{"ci_carbon.hardware": "NVIDIA L4"}),
                params={"model": "openai/whisper-medium", "epochs": "3", "num_gpus": "4", "lr": "1e-05",
                        "batch_size": "8"},
                kinds=("unmeasured", "no_location")),
        RunSpec(whisper, "whisper-small-t4", "kim.s", at(115), 4 * 60,
                tags=common(whisper, "kim.s", 2, accelerator="Tesla T4", **GCP_US),
                params={"model": "openai/whisper-small", "epochs": "3", "lr": "1e-05", "batch_size": "8"},
                kinds=("unmeasured",)),
    ]
    return specs


def _clip(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def _timestamps(rng: random.Random, spec: RunSpec) -> list[int]:
    """When MLflow's monitor logged each window: every ~10 s after the run began, never at or after its end.

    Each window is the 10 s wait plus the monitor's own work (a ``get_run`` call and the logging, 5–250 ms);
    the window that ends after ``end_time`` is never logged, as in MLflow.
    """
    end = spec.end_ms  # a RUNNING run's end is "now": nothing is logged after it
    t = spec.start_ms + rng.randint(300, 2_500)  # the monitor thread starts a moment after the run
    stall_at = int((end - t) // INTERVAL_MS * rng.uniform(0.35, 0.6)) if spec.gap_minutes else -1
    out: list[int] = []
    while True:
        t += INTERVAL_MS + rng.randint(5, 250)
        if len(out) == stall_at:
            t += int(spec.gap_minutes * MINUTE)
        if t >= end:
            return out
        out.append(t)


def _system_metrics(rng: random.Random, spec: RunSpec, node: str | None) -> Iterator[tuple[str, int, int, float]]:
    """(key, timestamp, step, value) of one node's system metrics, as MLflow's monitor would have logged them.

    Watts: idle while the job loads data, a ramp over the first windows, then the run's own level with a few
    per cent of noise and an evaluation dip every ~5 minutes; utilisation and the power percentage follow the
    watts; memory fills during warm-up and then holds.
    """
    card = CARDS[spec.card or ""]
    prefix = f"system/{node}/" if node else "system/"
    stamps = _timestamps(rng, spec)
    level = rng.uniform(*card.busy_w)
    warmup = rng.randint(2, 6)
    eval_every = rng.randint(25, 35)
    offsets = [rng.uniform(-0.03, 0.03) for _ in range(spec.gpus)]
    memory = [rng.uniform(0.55, 0.92) for _ in range(spec.gpus)]
    host_mb = rng.uniform(30_000, 120_000)
    fault_steps = (len(stamps) // 3, 2 * len(stamps) // 3) if spec.faults and node is None else (-1, -1)
    for step, stamp in enumerate(stamps):
        evaluating = step > warmup and step % eval_every in (0, 1)
        for i in range(spec.gpus):
            if step < warmup:
                target = card.idle_w + (level - card.idle_w) * (step + 1) / (warmup + 1)
                mem = memory[i] * (step + 1) / (warmup + 1)
            else:
                target = level * (0.55 if evaluating else 1.0)
                mem = memory[i]
            watts = round(_clip(target * (1 + offsets[i] + rng.gauss(0, 0.035)), card.idle_w * 0.9,
                                card.power_limit_w), 3)
            if i == 0 and step == fault_steps[0]:
                watts = math.nan  # NVML returned nothing usable for the window
            elif i == 0 and step == fault_steps[1]:
                watts = -round(rng.uniform(1, 40), 3)  # a sign glitch: must not reduce the energy
            busy = (watts - card.idle_w) / (card.busy_w[1] - card.idle_w) if watts == watts else 0.0
            util = round(_clip(100 * busy + rng.gauss(0, 2), 0, 100))
            yield f"{prefix}gpu_{i}_power_usage_watts", stamp, step, watts
            yield f"{prefix}gpu_{i}_power_usage_percentage", stamp, step, watts / card.power_limit_w * 100
            yield f"{prefix}gpu_{i}_utilization_percentage", stamp, step, float(util)
            yield f"{prefix}gpu_{i}_memory_usage_percentage", stamp, step, round(100 * _clip(mem, 0.01, 0.99), 1)
        cpu = _clip(rng.gauss(14 if evaluating else 22, 4), 1, 100)
        yield f"{prefix}cpu_utilization_percentage", stamp, step, round(cpu, 1)
        host_mb += rng.uniform(-150, 220)
        yield f"{prefix}system_memory_usage_megabytes", stamp, step, round(host_mb, 1)


def _training_metrics(rng: random.Random, spec: RunSpec) -> Iterator[tuple[str, int, int, float]]:
    """A loss per epoch and, for runs that finished, the final score: what a training script logs by hand."""
    epochs = 5 if spec.status == "FINISHED" else 2
    loss = rng.uniform(1.5, 3.0)
    span = spec.end_ms - spec.start_ms
    for epoch in range(epochs):
        loss *= rng.uniform(0.6, 0.85)
        yield "train_loss", spec.start_ms + span * (epoch + 1) // (epochs + 1), epoch, round(loss, 4)
    if spec.status == "FINISHED":
        yield SCORES[spec.experiment], spec.end_ms - 2_000, 0, round(rng.uniform(0.3, 0.9), 4)


def create_demo_store(uri: str, seed: int = 7, now_ms: int | None = None, prefix: str = "") -> dict[str, Any]:
    """Create the demo experiments and runs in the MLflow store at ``uri`` and say what was created.

    ``prefix`` is put before every experiment name (several demos in one shared server, as the tests do).
    Refuses, with :class:`DemoStoreExists`, a store that already holds one of the demo's experiment names.
    Returns ``{"uri", "seed", "now_ms", "prefix", "seconds", "metric_points", "experiments": {name: id},
    "runs": {kind: [run_id, …]}, "names": {run_id: "experiment/run name"}, "git_commits": {run_id: sha}}``;
    kinds are ``all`` plus those of :func:`_specs` (measured, unmeasured, failed, killed, running, deleted,
    sweep_parent, sweep_children, duplicates, multi_node, gap, faults, codecarbon, on_premise, implied_count,
    instance_type, no_location, bare).
    """
    from mlflow import MlflowClient

    with _quiet_client():
        return _create(MlflowClient(uri), uri, seed, DEFAULT_NOW_MS if now_ms is None else now_ms, prefix)


@contextmanager
def _quiet_client() -> Iterator[None]:
    """Keep the client from printing a "View run at" link (and fetching the run again) for each of 35 runs."""
    name = "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"
    before = os.environ.get(name)
    os.environ[name] = "true"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def _create(client: Any, uri: str, seed: int, now: int, prefix: str) -> dict[str, Any]:
    """Log the runs of :func:`_specs` through ``client``; see :func:`create_demo_store`."""
    from mlflow.entities import Metric, Param, ViewType

    began = time.monotonic()
    names = {name: f"{prefix}{name}" for name in EXPERIMENTS}
    for full in names.values():
        found = client.get_experiment_by_name(full)
        if found is not None:
            state = "" if found.lifecycle_stage == "active" else " (deleted)"
            raise DemoStoreExists(f"{uri} already has an experiment named {full!r}{state}: create the demo in a new "
                                  "store or give a prefix")
    experiment_ids = {name: client.create_experiment(full, tags={"team": EXPERIMENTS[name][0]})
                      for name, full in names.items()}

    summary_runs: dict[str, list[str]] = {"all": []}
    run_names: dict[str, str] = {}
    commits: dict[str, str] = {}
    ids_by_name: dict[str, str] = {}
    points = 0
    specs = _specs(now, seed)
    # Parents first, so children can name them; otherwise in the order of _specs.
    for spec in sorted(specs, key=lambda s: "sweep_parent" not in s.kinds):
        rng = random.Random(f"{seed}:{spec.experiment}/{spec.name}")
        tags = dict(spec.tags)
        if spec.parent:
            tags["mlflow.parentRunId"] = ids_by_name[spec.parent]
        run = client.create_run(experiment_ids[spec.experiment], start_time=spec.start_ms, tags=tags,
                                run_name=spec.name)
        run_id = run.info.run_id
        ids_by_name[spec.name] = run_id
        series: list[tuple[str, int, int, float]] = []
        if spec.card:
            for node in spec.nodes or (None,):
                series.extend(_system_metrics(rng, spec, node))
        if "sweep_parent" not in spec.kinds:
            series.extend(_training_metrics(rng, spec))
        series.extend((key, spec.end_ms - 1_000, 0, value) for key, value in spec.metrics.items())
        metrics = [Metric(key, value, stamp, step) for key, stamp, step, value in series]
        params = [Param(key, value) for key, value in spec.params.items()]
        client.log_batch(run_id, metrics=metrics, params=params)
        points += len(metrics)
        if spec.status != "RUNNING":
            client.set_terminated(run_id, status=spec.status, end_time=spec.end_ms)
        if spec.delete:
            client.delete_run(run_id)
        summary_runs["all"].append(run_id)
        for kind in spec.kinds:
            summary_runs.setdefault(kind, []).append(run_id)
        run_names[run_id] = f"{names[spec.experiment]}/{spec.name}"
        commits[run_id] = spec.tags.get("mlflow.source.git.commit", "")

    # A cheap read-back: the store must show every run we made (a server that silently dropped one would
    # make a demo whose numbers the README cannot explain).
    visible = client.search_runs(list(experiment_ids.values()), run_view_type=ViewType.ALL, max_results=1000)
    if len(visible) != len(summary_runs["all"]):
        raise RuntimeError(f"{uri}: created {len(summary_runs['all'])} runs but the store shows {len(visible)}")
    return {"uri": uri, "seed": seed, "now_ms": now, "prefix": prefix,
            "seconds": round(time.monotonic() - began, 2), "metric_points": points,
            "experiments": {names[name]: eid for name, eid in experiment_ids.items()},
            "runs": summary_runs, "names": run_names, "git_commits": commits}


def uri_for_path(path: str) -> str:
    """A tracking URI for what a user typed: a URI as given, else a sqlite file (the path made absolute)."""
    if "://" in path:
        return path
    return f"sqlite:///{Path(path).expanduser().resolve()}"


def describe(summary: dict[str, Any]) -> str:
    """What was created, in a few lines a newcomer can act on (the CLI's and ``python -m``'s output)."""
    runs = summary["runs"]
    counts = ", ".join(f"{len(runs.get(kind, []))} {kind.replace('_', ' ')}" for kind in
                       ("measured", "unmeasured", "failed", "killed", "running", "deleted", "sweep_children"))
    lines = [f"created {summary['uri']} in {summary['seconds']:.1f} s: {len(summary['experiments'])} experiments, "
             f"{len(runs['all'])} runs ({counts.replace('sweep children', 'in a sweep')}), "
             f"{summary['metric_points']} metric points"]
    lines += [f"  {name} (id {eid})" for name, eid in summary["experiments"].items()]
    lines.append(f"next: ci-carbon report --mlflow-uri {summary['uri']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ci_carbon.sources.mlflow.demo PATH``: create the demo store; exit 2 if PATH already exists."""
    parser = argparse.ArgumentParser(prog="python -m ci_carbon.sources.mlflow.demo",
                                     description="Create a realistic example MLflow store for ci-carbon.")
    parser.add_argument("path", help="a new sqlite file (e.g. demo.db) or a tracking URI (http://…, sqlite:///…)")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the generated values (default 7)")
    parser.add_argument("--now", default="2026-10-15T00:00Z",
                        help="ISO time the demo ends at, or 'now'; runs start up to 150 days before "
                             "(default 2026-10-15T00:00Z, so every demo is the same)")
    parser.add_argument("--prefix", default="", help="put before every experiment name")
    args = parser.parse_args(argv)
    try:
        now = datetime.now(timezone.utc) if args.now == "now" else datetime.fromisoformat(
            args.now.replace("Z", "+00:00"))
    except ValueError:
        parser.error(f"--now: not an ISO time: {args.now!r}")
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    if "://" not in args.path and os.path.exists(args.path):
        print(f"demo: {args.path} already exists; give a new file name", file=sys.stderr)
        return 2
    logging.getLogger("alembic").setLevel(logging.WARNING)  # sqlite schema creation logs every migration
    try:
        summary = create_demo_store(uri_for_path(args.path), seed=args.seed,
                                    now_ms=int(now.timestamp() * 1000), prefix=args.prefix)
    except DemoStoreExists as err:
        print(f"demo: {err}", file=sys.stderr)
        return 2
    print(describe(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
