"""Time `ci-carbon report --manifest` against the import floor, in the same run.

The floor is a Python process that only imports what the manifest path imports (PyYAML, jinja2, click): no
report can start faster. For 10,000 jobs, PyYAML's C loader reading the same file is shown too: the parse alone.
Prints the median wall time of each and the ratio to the floor; the 100-job cases and the floor run in turn, so a
change of load on a shared machine moves them alike. "Cold cache" starts each run with an empty template cache, as a
fresh CI runner does: a built wheel carries its templates precompiled, so it needs none. Run it from an installed
(non-editable) venv, so that ci-carbon's modules are byte-compiled as a user's are.

    .venv/bin/python benchmarks/bench_report.py [--repeat 15]
Targets (issue 2): ≤ 1.5× the floor for 100 jobs; 10,000 jobs in under 2 s.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HARDWARE = ["A100 SXM4 40GB", "NVIDIA A100-SXM4-80GB", "Tesla T4", "NVIDIA H100 80GB HBM3", "NVIDIA L4",
            "Tesla V100-SXM2-16GB", "NVIDIA GeForce RTX 4090", "TPU v4", "NVIDIA A10G", "AMD Instinct MI300X"]
PLACES = [{"provider": "gcp", "region": "us-central1"}, {"provider": "gcp", "region": "europe-west4"},
          {"provider": "aws", "region": "us-east-1"}, {"provider": "aws", "region": "eu-west-1"},
          {"provider": "azure", "region": "westeurope"}, {"country": "DE"}, {"country": "US-CA"},
          {"country": "CA-QC"}]
TEAMS = ["nlp", "vision", "recsys", "speech", "research"]


def manifest(jobs: int, seed: int = 7) -> dict:
    rng = random.Random(seed)
    out = []
    for i in range(jobs):
        job = {"name": f"job-{i:05d}", "hardware": rng.choice(HARDWARE), "count": rng.choice([1, 2, 4, 8]),
               "hours": round(rng.uniform(0.5, 72), 2), "runs": rng.choice([1, 1, 1, 3, 5, 20]),
               **rng.choice(PLACES), "tags": {"team": rng.choice(TEAMS), "project": f"p{rng.randrange(30)}"}}
        if rng.random() < 0.3:
            job["utilization"] = round(rng.uniform(0.4, 1.0), 2)
        if rng.random() < 0.3:
            job.update(cpu_count=rng.choice([8, 16, 32]), memory_gb=rng.choice([64, 128, 256]))
        out.append(job)
    return {"version": 1, "jobs": out}


def once(command: list[str], cold_cache: bool = False) -> float:
    """Wall time of one run; with ``cold_cache`` it starts with an empty template cache, as a fresh runner does."""
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as cache:
        if cold_cache:
            env["XDG_CACHE_HOME"] = cache
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
        return time.perf_counter() - start


def timed(command: list[str], repeat: int, cold_cache: bool = False) -> list[float]:
    return [once(command, cold_cache) for _ in range(repeat)]


def round_robin(cases: list[tuple[str, list[str], bool]], repeat: int) -> list[tuple[str, list[float]]]:
    """The cases run in turn, ``repeat`` rounds: on a shared machine a change of load then moves them all alike."""
    times: dict[str, list[float]] = {label: [] for label, _, _ in cases}
    for _ in range(repeat):
        for label, command, cold in cases:
            times[label].append(once(command, cold))
    return list(times.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for n in (100, 10_000):
            paths[n] = Path(tmp) / f"jobs-{n}.yaml"
            paths[n].write_text(yaml.safe_dump(manifest(n), sort_keys=False), encoding="utf-8")
        report = [py, "-m", "ci_carbon", "report", "--manifest"]
        rows = round_robin([("import floor (yaml, jinja2, click)", [py, "-c", "import yaml, jinja2, click"], False),
                            ("report    100 jobs, markdown", [*report, str(paths[100]), "--format", "markdown"], False),
                            ("report    100 jobs, json", [*report, str(paths[100]), "--format", "json"], False),
                            ("report    100 jobs, markdown, cold cache", [*report, str(paths[100])], True)],
                           args.repeat)
        floor = rows[0][1]
        repeat = max(3, args.repeat // 5)
        parse = "import sys, yaml; yaml.load(open(sys.argv[1]), Loader=yaml.CSafeLoader)"
        rows.append(("yaml.load CSafeLoader 10,000 jobs", timed([py, "-c", parse, str(paths[10_000])], repeat)))
        for fmt in ("markdown", "json"):
            rows.append((f"report 10,000 jobs, {fmt}", timed([*report, str(paths[10_000]), "--format", fmt], repeat)))
    base = statistics.median(floor)
    print(f"{'case':<42} {'median s':>9} {'min s':>7} {'× floor':>8}")
    for label, times in rows:
        med = statistics.median(times)
        print(f"{label:<42} {med:>9.3f} {min(times):>7.3f} {med / base:>8.2f}")


if __name__ == "__main__":
    main()
