"""Time reading an MLflow sqlite store of N runs: the raw SQL floor, SqlReader, MLflow's two search APIs, the report.

Builds a realistic store in a temporary directory (one MlflowClient call makes the schema and the experiments; the
runs go in by bulk INSERT, so 100,000 runs take seconds, not hours of client calls), then runs each case in its own
subprocess, reading wall time and that subprocess's peak RSS (the child's rusage from os.wait4: what
getrusage(RUSAGE_CHILDREN) reports in a parent that has no other children). Prints one table.

    python benchmarks/bench_mlflow.py                 # 100,000 runs (a few minutes on 2 cores)
    python benchmarks/bench_mlflow.py --runs 10000    # quick
Targets (issue): the report ≥ 10× faster than mlflow.search_runs and ≤ 3× the raw SQL floor, on sqlite.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENTS = ["vision-classification", "vision-detection", "nlp-pretraining", "nlp-finetune", "speech-asr",
               "recsys-ranking", "rl-agents", "diffusion", "tabular-automl", "legacy-sweeps"]
DELETED_EXPERIMENT = "legacy-sweeps"  # deleted, with its runs, as MLflow's delete_experiment leaves them
GPUS = ["A100-SXM4-80GB", "A100-SXM4-40GB", "Tesla T4", "NVIDIA H100 80GB HBM3", "Tesla V100-SXM2-16GB",
        "NVIDIA A10G", "NVIDIA L4"]
REGIONS = ["us-east-1", "eu-west-1", "us-central1", "europe-west4", "westeurope", "ap-northeast-1"]
TEAMS = ["vision", "nlp", "speech", "recsys", "research"]
USERS = [f"user{i:02d}" for i in range(40)]
STATUSES = ["FINISHED"] * 85 + ["FAILED"] * 8 + ["KILLED"] * 4 + ["RUNNING"] * 3
START = 1_735_689_600_000  # 2025-01-01, ms
YEAR_MS = 365 * 86_400_000
HISTORY_SHARE, HISTORY_POINTS, GPU_SHARE = 0.02, 60, 0.30
RUN_COLUMNS = ("run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, end_time, "
               "source_version, lifecycle_stage, artifact_uri, experiment_id, deleted_time")
PANDAS_CAP = 100_000  # mlflow.search_runs' default max_results: it stops there without a warning


class Rows(NamedTuple):
    runs: list[tuple]
    tags: list[tuple]
    params: list[tuple]
    latest: list[tuple]
    history: list[tuple]


# ---------------------------------------------------------------------------------------------- building the store


def build_store(path: Path, runs: int, seed: int = 11) -> dict[str, int]:
    """Schema and experiments through MLflow itself (so the revision and layout are real), runs by bulk INSERT."""
    import mlflow

    uri = f"sqlite:///{path}"
    client = mlflow.MlflowClient(uri)
    ids = {name: int(client.create_experiment(name, artifact_location=str(path.parent / "artifacts" / name)))
           for name in EXPERIMENTS}
    client.delete_experiment(str(ids[DELETED_EXPERIMENT]))
    counts = {"runs": 0, "tags": 0, "params": 0, "latest_metrics": 0, "metrics": 0}
    connection = sqlite3.connect(path)
    rng = random.Random(seed)
    commits = [f"{rng.getrandbits(160):040x}" for _ in range(500)]
    with connection:
        for rows in _batches(rng, runs, ids, commits, path.parent):
            connection.executemany(f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ({', '.join('?' * 14)})", rows.runs)
            connection.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", rows.tags)
            connection.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", rows.params)
            connection.executemany("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
                                   "VALUES (?, ?, ?, ?, ?, ?)", rows.latest)
            connection.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
                                   "VALUES (?, ?, ?, ?, ?, ?)", rows.history)
            for name, batch in zip(counts, rows, strict=True):
                counts[name] += len(batch)
    connection.execute("ANALYZE")
    connection.close()
    return counts


def _batches(rng: random.Random, runs: int, ids: dict[str, int], commits: list[str], root: Path,
             size: int = 10_000) -> Iterator[Rows]:
    """Rows for ``runs`` runs, ``size`` runs at a time (memory stays small while building)."""
    for start in range(0, runs, size):
        rows = Rows([], [], [], [], [])
        for _ in range(min(size, runs - start)):
            _one_run(rng, rows, ids, commits, root)
        yield rows


def _one_run(rng: random.Random, rows: Rows, ids: dict[str, int], commits: list[str], root: Path) -> None:
    """A run as MLflow's autologging and system-metrics logging leave it: tags, params, latest metrics."""
    run_id = f"{rng.getrandbits(128):032x}"
    experiment = rng.choice(EXPERIMENTS)
    status = rng.choice(STATUSES)
    start = START + rng.randrange(YEAR_MS)
    end = None if status == "RUNNING" else start + rng.randrange(60_000, 3 * 86_400_000)
    deleted = experiment == DELETED_EXPERIMENT or rng.random() < 0.03
    user, name, gpus = rng.choice(USERS), f"{experiment.split('-')[0]}-{rng.randrange(10**6):06d}", rng.choice(
        [1, 1, 2, 4, 8])
    rows.runs.append((run_id, name, "LOCAL", "train.py", "", user, status, start, end, "",
                      "deleted" if deleted else "active", f"{root}/artifacts/{experiment}/{run_id}/artifacts",
                      ids[experiment], end if deleted else None))
    tags = {"mlflow.user": user, "mlflow.runName": name, "mlflow.source.name": "train.py",
            "mlflow.source.type": "LOCAL", "mlflow.source.git.commit": rng.choice(commits),
            "team": rng.choice(TEAMS), "gpu": rng.choice(GPUS), "gpu_count": str(gpus), "region": rng.choice(REGIONS)}
    rows.tags.extend((k, v, run_id) for k, v in tags.items())
    params = {"lr": f"{10 ** rng.uniform(-5, -1):.2e}", "batch_size": str(rng.choice([16, 32, 64, 128, 256])),
              "seed": str(rng.randrange(1000)), "optimizer": rng.choice(["adamw", "sgd", "lion"]),
              "epochs": str(rng.choice([1, 3, 10, 30]))}
    rows.params.extend((k, v, run_id) for k, v in params.items())
    last = end or start + 600_000
    steps = rng.randrange(1, 50_000)
    latest = {"loss": rng.uniform(0.01, 3.0), "val_loss": rng.uniform(0.01, 3.0), "accuracy": rng.random(),
              "epoch": float(rng.randrange(30))}
    if status == "FAILED" and rng.random() < 0.3:
        latest["loss"] = float("nan")
    power_keys = []
    if rng.random() < GPU_SHARE:
        for gpu in range(gpus):
            power_keys.append(f"system/gpu_{gpu}_power_usage_watts")
            latest[power_keys[-1]] = rng.uniform(60, 700)
            latest[f"system/gpu_{gpu}_utilization_percentage"] = rng.uniform(0, 100)
        latest["system/cpu_utilization_percentage"] = rng.uniform(0, 100)
        latest["system/system_memory_usage_megabytes"] = rng.uniform(4000, 500_000)
    for key, value in latest.items():
        nan = value != value
        rows.latest.append((key, 0.0 if nan else value, last, 0 if key.startswith("system/") else steps, int(nan),
                            run_id))
    if rng.random() < HISTORY_SHARE:
        _history(rng, rows, run_id, start, last, ["loss", *power_keys], latest)


def _history(rng: random.Random, rows: Rows, run_id: str, start: int, last: int, keys: list[str],
             latest: dict[str, float]) -> None:
    """60 points per key, the last one equal to the latest metric (as MLflow's latest_metrics keeps it)."""
    span = max(last - start, HISTORY_POINTS)
    for key in keys:
        for i in range(HISTORY_POINTS):
            final = i == HISTORY_POINTS - 1
            value = latest[key] if final else rng.uniform(0.01, 700)
            nan = value != value
            timestamp = last if final else start + span * (i + 1) // HISTORY_POINTS
            rows.history.append((key, 0.0 if nan else value, timestamp, run_id, 0 if key.startswith("system/") else i,
                                 int(nan)))


# ---------------------------------------------------------------------------------------------- the cases (children)


def case_raw_sql(path: str) -> int:
    """The floor: sqlite3 reading the rows SqlReader reads, consumed at C speed, nothing built."""
    from collections import deque

    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    for sql in ("SELECT experiment_id, name, lifecycle_stage FROM experiments",
                "SELECT run_uuid, name, user_id, status, start_time, end_time, lifecycle_stage, experiment_id "
                "FROM runs",
                "SELECT run_uuid, key, value FROM tags", "SELECT run_uuid, key, value FROM params",
                "SELECT run_uuid, key, value, is_nan FROM latest_metrics"):
        deque(connection.execute(sql), maxlen=0)
    return connection.execute("SELECT count(*) FROM runs").fetchone()[0]


def case_sql_reader(path: str) -> int:
    """ci-carbon's SqlReader: every run as a RunRecord, deleted ones included."""
    sys.path.insert(0, str(ROOT))
    from ci_carbon.sources.mlflow.records import Selection
    from ci_carbon.sources.mlflow.sql_reader import open_sql_reader

    reader = open_sql_reader(f"sqlite:///{path}")
    assert reader is not None, "the store's revision is not verified"
    with reader:
        return sum(1 for _ in reader.runs(Selection()))


def case_pandas(path: str) -> int:
    """mlflow.search_runs as users call it: a DataFrame, max_results left at its default (100,000)."""
    import mlflow
    from mlflow.entities import ViewType

    mlflow.set_tracking_uri(f"sqlite:///{path}")
    ids = [e.experiment_id for e in mlflow.MlflowClient().search_experiments(view_type=ViewType.ALL)]
    frame = mlflow.search_runs(experiment_ids=ids, run_view_type=ViewType.ALL)
    return len(frame)


def case_client(path: str) -> int:
    """MlflowClient.search_runs, paging (50,000 a page, the most MLflow allows) until no token is left."""
    import mlflow
    from mlflow.entities import ViewType

    client = mlflow.MlflowClient(f"sqlite:///{path}")
    ids = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    count, token = 0, None
    while True:
        page = client.search_runs(ids, run_view_type=ViewType.ALL, max_results=50_000, page_token=token)
        count += len(page)
        token = page.token
        if not token:
            return count


def case_load(path: str) -> int:
    """ci-carbon's whole source stage: read, power histories, every run → job (what precedes the estimate).

    With the cyclic GC paused, as `ci-carbon report` runs it (cli.report.bulk_allocation): 100,000 specs otherwise
    cost a second of full collections that find nothing.
    """
    import gc

    gc.disable()
    sys.path.insert(0, str(ROOT))
    from ci_carbon.core.settings import MlflowConfig
    from ci_carbon.sources.mlflow.load import RunStream
    from ci_carbon.sources.mlflow.records import Selection

    stream = RunStream(path if "://" in path else f"sqlite:///{path}", Selection(), MlflowConfig())
    for _ in stream:
        pass
    return stream.survey.runs


def case_http_client(uri: str) -> int:
    """MlflowClient.search_runs through a tracking server, all pages (the server's largest page, 50,000)."""
    import mlflow
    from mlflow.entities import ViewType

    client = mlflow.MlflowClient(uri)
    ids = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    count = 0
    for start in range(0, len(ids), 100):
        token = None
        while True:
            page = client.search_runs(ids[start:start + 100], run_view_type=ViewType.ALL, max_results=50_000,
                                      page_token=token)
            count += len(page)
            token = page.token
            if not token:
                break
    return count


def case_http_reader(uri: str) -> int:
    """ci-carbon's ClientReader through the same server: every run as a RunRecord, nothing else."""
    sys.path.insert(0, str(ROOT))
    from ci_carbon.sources.mlflow.client_reader import ClientReader
    from ci_carbon.sources.mlflow.records import Selection

    return sum(1 for _ in ClientReader(uri).runs(Selection()))


CASES: dict[str, Callable[[str], int]] = {"raw": case_raw_sql, "sqlreader": case_sql_reader,
                                          "pandas": case_pandas, "client": case_client, "load": case_load,
                                          "http_client": case_http_client, "http_reader": case_http_reader}


def run_case(name: str, path: str) -> None:
    """Child entry point: time the read alone (imports excluded) and print it with the number of runs read."""
    started = time.perf_counter()
    runs = CASES[name](path)
    print(json.dumps({"read_s": time.perf_counter() - started, "runs": runs}))


# ---------------------------------------------------------------------------------------------- the parent


class Result(NamedTuple):
    wall_s: float
    peak_mb: float
    read_s: float | None
    runs: int | None
    code: int
    stderr: str


def measure(command: list[str]) -> Result:
    """Run ``command`` as a child; wall time, and its own peak RSS from os.wait4 (per child, not cumulative)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        lines = out.read().decode(errors="replace").strip().splitlines()
        stderr = err.read().decode(errors="replace").strip()
    info: dict[str, Any] = {}
    if lines and lines[-1].startswith("{"):
        try:
            info = json.loads(lines[-1])
        except json.JSONDecodeError:
            info = {}
    return Result(wall, usage.ru_maxrss / 1024, info.get("read_s"), info.get("runs"), process.returncode, stderr)


def repeated(command: list[str], repeat: int) -> Result:
    """The median wall (and read) time of ``repeat`` runs; the largest peak RSS."""
    return _median([measure(command) for _ in range(repeat)])


def interleaved(commands: list[tuple[str, list[str]]], repeat: int) -> list[tuple[str, Result]]:
    """Each command ``repeat`` times, taking turns (round 1 runs every case, then round 2 …): a shared machine's
    slow minute then falls on every case alike, and the median of each case is compared with the floor's."""
    results: dict[str, list[Result]] = {label: [] for label, _ in commands}
    for turn in range(repeat):
        for label, command in commands:
            print(f"timing {label} ({turn + 1}/{repeat}) …", file=sys.stderr)
            results[label].append(measure(command))
    return [(label, _median(results[label])) for label, _ in commands]


def _median(results: list[Result]) -> Result:
    """The median wall (and read) time; the largest peak RSS; the first failure, if one failed."""
    failed = [r for r in results if r.code != 0]
    if failed:
        return failed[0]
    reads = [r.read_s for r in results if r.read_s is not None]
    return Result(statistics.median(r.wall_s for r in results), max(r.peak_mb for r in results),
                  statistics.median(reads) if reads else None, results[0].runs, 0, "")


def _compiled() -> None:
    """Bytecode for ci-carbon, as an installed wheel has it (pip compiles on install): a shell with
    PYTHONDONTWRITEBYTECODE would otherwise compile every module of the checkout on every run (~0.1 s), which no
    installed copy pays. The __pycache__ folders it writes are ignored by git."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "ci_carbon")], check=True)


def report_command(path: Path, fmt: str = "json") -> list[str]:
    return [sys.executable, "-m", "ci_carbon", "report", "--mlflow-uri", f"sqlite:///{path}", "--format", fmt,
            "--output", os.devnull]


def _through_server(path: Path, child: list[str], repeat: int) -> list[tuple[str, Result]]:
    """The same store behind a real `mlflow server` (one worker): the client's own paging against ci-carbon."""
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    uri = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{path}",
                               "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                              env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("mlflow server did not start") from None
                time.sleep(0.5)
        commands = [(label, [*child[:2], "--store", uri, "--case", case]) for label, case in (
            ("through `mlflow server`: MlflowClient.search_runs, all pages", "http_client"),
            ("through `mlflow server`: ci-carbon ClientReader.runs", "http_reader"))]
        commands.append(("through `mlflow server`: ci-carbon report (Markdown, with power histories)",
                         [sys.executable, "-m", "ci_carbon", "report", "--mlflow-uri", uri, "--output", os.devnull]))
        return interleaved(commands, repeat)
    finally:
        server.terminate()
        server.wait(timeout=30)


def table(rows: list[tuple[str, Result]], runs: int) -> str:
    """Markdown table: seconds (wall and read alone), peak MB, × the raw SQL floor, how much faster than pandas."""
    floor = next(r for name, r in rows if name.startswith("raw SQL")).wall_s
    pandas = next((r for name, r in rows if name.startswith("mlflow.search_runs")), None)
    lines = [f"{runs:,} runs", "",
             "| case | wall s | read s | peak MB | runs read | × raw SQL floor | mlflow.search_runs ÷ this |",
             "|---|--:|--:|--:|--:|--:|--:|"]
    for name, r in rows:
        if r.code != 0:
            lines.append(f"| {name} | failed (exit {r.code}) | | | | | |")
            continue
        read = f"{r.read_s:.2f}" if r.read_s is not None else "–"
        read_runs = f"{r.runs:,}" if r.runs is not None else "–"
        versus = f"{pandas.wall_s / r.wall_s:.1f}" if pandas and pandas.code == 0 else "–"
        lines.append(f"| {name} | {r.wall_s:.2f} | {read} | {r.peak_mb:.0f} | {read_runs} | "
                     f"{r.wall_s / floor:.2f} | {versus} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000, help="runs in the generated store (default 100,000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each case; the median is shown")
    parser.add_argument("--skip-mlflow", action="store_true", help="leave out the two (slow) MLflow cases")
    parser.add_argument("--server", action="store_true",
                        help="also start `mlflow server` on the store and time reading through it")
    parser.add_argument("--case", choices=sorted(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("--build", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        run_case(args.case, args.store)
        return
    if args.build:
        print(json.dumps(build_store(Path(args.store), args.runs)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-mlflow-") as tmp:
        path = Path(tmp) / "mlflow.db"
        started = time.perf_counter()
        # built in a child: a parent that imported MLflow would pass its peak RSS on to every child it starts
        # (Linux keeps the larger maxrss across fork and exec), so the parent stays a small stdlib process
        built = subprocess.run([sys.executable, __file__, "--build", "--store", str(path), "--runs", str(args.runs)],
                               check=True, capture_output=True, text=True)
        counts = json.loads(built.stdout.strip().splitlines()[-1])
        print(f"built {path.stat().st_size / 2**20:.0f} MB store in {time.perf_counter() - started:.1f} s: "
              + ", ".join(f"{v:,} {k}" for k, v in counts.items()), file=sys.stderr)
        child = [sys.executable, str(Path(__file__).resolve()), "--store", str(path), "--case"]
        cases = [("raw SQL floor (sqlite3, same rows)", "raw"), ("SqlReader.runs, all runs", "sqlreader"),
                 ("source stage: load() = read + power histories + run → job", "load")]
        if not args.skip_mlflow:
            cases += [("mlflow.search_runs (pandas)", "pandas"), ("MlflowClient.search_runs, all pages", "client")]
        _compiled()
        probe = measure(report_command(path))
        commands = [(label, [*child, case]) for label, case in cases]
        if probe.code == 0:
            commands += [(f"ci-carbon report --mlflow-uri sqlite:/// --format {fmt}", report_command(path, fmt))
                         for fmt in ("markdown", "json")]
        rows = interleaved(commands, args.repeat)
        if args.server:
            rows += _through_server(path, child, args.repeat)
        print(table(rows, args.runs))
        if probe.code != 0:
            last = probe.stderr.splitlines()[-1] if probe.stderr else ""
            print(f"\nci-carbon report --mlflow-uri: not timed (exit {probe.code}: {last})")
        pandas = next((r for label, r in rows if label.startswith("mlflow.search_runs")), None)
        if pandas and pandas.code == 0:
            print(f"\nmlflow.search_runs returned {pandas.runs:,} of {args.runs:,} runs: it stops at max_results "
                  f"(default {PANDAS_CAP:,}) without a warning.")
        for label, r in rows:
            if r.code != 0:
                print(f"\n{label} failed: {r.stderr[-800:]}")


if __name__ == "__main__":
    main()
