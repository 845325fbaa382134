"""Does the second reader process (prefetch) help? ci-carbon's source stage with and without it, per database.

Builds one store of N runs (bench_mlflow's generator, on sqlite), copies the same rows into a real PostgreSQL and a
real MariaDB (Debian's packages, started as the tests start them: tests/sources/mlflow/db_servers.py; MLflow makes
the schema on each), then times ``load()`` over every run in its own process with ``CI_CARBON_PREFETCH=0`` (the
anchor) and ``=1`` taking turns, on each database, in the same run. Prints one table: rows, seconds (median and
fastest), with ÷ without (medians).

    python benchmarks/bench_prefetch.py                  # 30,000 runs, 3 turns each
    python benchmarks/bench_prefetch.py --runs 20000 --repeat 1
The rule in ci_carbon/sources/mlflow/prefetch.py (``worth_it``) follows these numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_mlflow  # noqa: E402  (the store generator and the per-case child processes)

TABLES = {  # the rows bench_mlflow writes, in an order that satisfies the foreign keys
    "runs": bench_mlflow.RUN_COLUMNS,
    "tags": "key, value, run_uuid",
    "params": "key, value, run_uuid",
    "latest_metrics": "key, value, timestamp, step, is_nan, run_uuid",
    "metrics": "key, value, timestamp, run_uuid, step, is_nan",
}
BATCH = 5_000


def make_schema(uri: str) -> None:
    """MLflow's own tables and the generator's experiments, through MLflow (ids 1… in the same order as sqlite's)."""
    import mlflow

    client = mlflow.MlflowClient(uri)
    for name in bench_mlflow.EXPERIMENTS:
        client.create_experiment(name, artifact_location=f"/tmp/artifacts/{name}")
    client.delete_experiment(client.get_experiment_by_name(bench_mlflow.DELETED_EXPERIMENT).experiment_id)


def copy_rows(source: Path, connect, quote: str, analyze: str) -> int:
    """Every generated row of ``source`` into the database that ``connect()`` opens (``quote``: its identifier
    quote; KEY is reserved in MySQL)."""
    rows_copied = 0
    reader = sqlite3.connect(source)
    target = connect()
    with target.cursor() as cursor:
        for table, columns in TABLES.items():
            width = columns.count(",") + 1
            names = ", ".join(f"{quote}{c.strip()}{quote}" for c in columns.split(","))
            insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * width)})"
            rows = reader.execute(f"SELECT {columns} FROM {table}")
            flag = [c.strip() for c in columns.split(",")].index("is_nan") if "is_nan" in columns else None
            while batch := rows.fetchmany(BATCH):
                if flag is not None:  # sqlite's 0/1; PostgreSQL's column is boolean
                    batch = [(*row[:flag], bool(row[flag]), *row[flag + 1:]) for row in batch]
                cursor.executemany(insert, batch)
                rows_copied += len(batch)
            target.commit()
        for table in TABLES:
            cursor.execute(analyze.format(table=table))
    target.commit()
    target.close()
    reader.close()
    return rows_copied


def timed(uri: str, repeat: int) -> tuple[list[float], list[float], int]:
    """Wall seconds of load() over every run, each in a fresh process, without and with prefetch taking turns (so
    that other load on a shared machine falls on both alike); and the runs read."""
    command = [sys.executable, str(ROOT / "benchmarks" / "bench_mlflow.py"), "--store", uri, "--case", "load"]
    times: dict[str, list[float]] = {"0": [], "1": []}
    runs = set()
    for _ in range(repeat):
        for prefetch in ("0", "1"):
            os.environ["CI_CARBON_PREFETCH"] = prefetch
            result = bench_mlflow.measure(command)
            if result.code != 0:
                raise RuntimeError(result.stderr[-2000:])
            times[prefetch].append(result.wall_s)
            runs.add(int(result.runs or 0))
    assert len(runs) == 1, runs
    return times["0"], times["1"], runs.pop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from tests.sources.mlflow.db_servers import PASSWORD, USER, MariaDB, Postgres

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-prefetch-") as tmp:
        path = Path(tmp) / "mlflow.db"
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_mlflow.py"), "--build", "--store", str(path),
                        "--runs", str(args.runs)], check=True, capture_output=True)
        stores = [("sqlite", f"sqlite:///{path}", None)]
        with Postgres() as postgres, MariaDB() as mariadb:
            import psycopg
            import pymysql

            for server, connect, quote, analyze in (
                    (postgres, lambda: psycopg.connect(host="127.0.0.1", port=postgres.port, user=USER,
                                                       password=PASSWORD, dbname="mlflow"), '"', "ANALYZE {table}"),
                    (mariadb, lambda: pymysql.connect(host="127.0.0.1", port=mariadb.port, user=USER,
                                                      password=PASSWORD, database="mlflow"), "`",
                     "ANALYZE TABLE {table}")):
                server.create_database("mlflow")
                driver = "postgresql+psycopg" if server.kind == "postgresql" else "mysql+pymysql"
                make_schema(server.uri("mlflow", driver))
                started = time.perf_counter()
                copied = copy_rows(path, connect, quote, analyze)
                print(f"{server.version}: {copied:,} rows copied in {time.perf_counter() - started:.0f} s",
                      file=sys.stderr)
                stores.append((server.version, server.uri("mlflow", driver), server))
            for label, uri, _ in stores:
                print(f"timing {label} …", file=sys.stderr)
                without, with_prefetch, runs = timed(uri, args.repeat)
                assert runs == args.runs, runs
                rows.append((label, runs, without, with_prefetch))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0]
    print(f"load() over every run, {args.repeat} turns each, {cores} cores (load average {load:.1f} at the end); "
          "anchor: CI_CARBON_PREFETCH=0\n")
    print("| database | runs | without prefetch s (median, min) | with prefetch s (median, min) | with ÷ without |")
    print("|---|--:|--:|--:|--:|")
    for label, runs, without, with_prefetch in rows:
        a, b = statistics.median(without), statistics.median(with_prefetch)
        print(f"| {label} | {runs:,} | {a:.2f} ({min(without):.2f}) | {b:.2f} ({min(with_prefetch):.2f}) | "
              f"{b / a:.2f} |")
    print(json.dumps([dict(zip(("database", "runs", "without_s", "with_s"), row, strict=True)) for row in rows]))


if __name__ == "__main__":
    main()
