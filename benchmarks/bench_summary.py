"""Time and peak memory of `ci-carbon summary` on MLflow sqlite stores of N runs, against the raw SQL floor and
`mlflow.search_runs`, in the same run.

The stores are built as benchmarks/bench_mlflow.py builds them (its ``build_store``: the schema through MLflow, the
runs by bulk INSERT; a year of runs from 2025-01-01, ~2 % with power histories). Each case runs in its own
subprocess; wall time and that subprocess's own peak RSS (os.wait4) are reported. Memory should stay flat as the
store grows: the summary streams the runs a chunk at a time.

    python benchmarks/bench_summary.py                        # 10,000 and 100,000 runs (several minutes, 2 cores)
    python benchmarks/bench_summary.py --runs 10000           # quick
    python benchmarks/bench_summary.py --skip-mlflow          # leave out mlflow.search_runs (slow) and the report
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_mlflow import Result, measure, repeated

ROOT = Path(__file__).resolve().parent.parent
BENCH_MLFLOW = Path(__file__).resolve().parent / "bench_mlflow.py"


def summary(path: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "ci_carbon.summary", "--mlflow-uri", f"sqlite:///{path}", "--output", os.devnull,
            *args]


def cases(path: Path, with_mlflow: bool) -> list[tuple[str, list[str]]]:
    child = [sys.executable, str(BENCH_MLFLOW), "--store", str(path), "--case"]
    every_run = ("--since", "2025-01-01", "--until", "2026-01-01", "--compare", "none")
    out = [
        ("raw SQL floor (sqlite3, the rows SqlReader reads)", [*child, "raw"]),
        ("SqlReader.runs, every run (no estimate)", [*child, "sqlreader"]),
        ("summary, every run, Markdown", summary(path, *every_run)),
        ("summary, every run, JSON", summary(path, *every_run, "--format", "json")),
        ("summary, every run, CSV (one row per run)", summary(path, *every_run, "--format", "csv")),
        ("summary, every run, HTML, 3 breakdowns + team×hardware",
         summary(path, *every_run, "--format", "html", "--group-by", "team,user,region,team+hardware")),
        ("summary --quarter 2025-Q3 (+ Q2 and 2024-Q3 compared)", summary(path, "--quarter", "2025-Q3")),
    ]
    if with_mlflow:
        out += [("mlflow.search_runs (pandas)", [*child, "pandas"]),
                ("ci-carbon report --format json (every run held)",
                 [sys.executable, "-m", "ci_carbon", "report", "--mlflow-uri", f"sqlite:///{path}", "--format", "json",
                  "--output", os.devnull])]
    return out


def table(runs: int, rows: list[tuple[str, Result]]) -> str:
    floor = rows[0][1].wall_s
    pandas = next((r for name, r in rows if name.startswith("mlflow.search_runs") and r.code == 0), None)
    lines = [f"{runs:,} runs", "", "| case | wall s | peak MB | × raw SQL floor | mlflow.search_runs ÷ this |",
             "|---|--:|--:|--:|--:|"]
    for name, r in rows:
        if r.code != 0:
            lines.append(f"| {name} | failed (exit {r.code}) | | | |")
            continue
        versus = f"{pandas.wall_s / r.wall_s:.1f}" if pandas else "–"
        lines.append(f"| {name} | {r.wall_s:.2f} | {r.peak_mb:.0f} | {r.wall_s / floor:.2f} | {versus} |")
    return "\n".join(lines)


def bench(runs: int, repeat: int, with_mlflow: bool) -> tuple[str, list[tuple[str, Result]]]:
    with tempfile.TemporaryDirectory(prefix="bench-summary-") as tmp:
        path = Path(tmp) / "mlflow.db"
        started = time.perf_counter()
        built = subprocess.run([sys.executable, str(BENCH_MLFLOW), "--build", "--store", str(path), "--runs",
                                str(runs)], check=True, capture_output=True, text=True)
        counts = json.loads(built.stdout.strip().splitlines()[-1])
        print(f"built {path.stat().st_size / 2**20:.0f} MB store in {time.perf_counter() - started:.1f} s: "
              + ", ".join(f"{v:,} {k}" for k, v in counts.items()), file=sys.stderr)
        rows = []
        for label, command in cases(path, with_mlflow):
            print(f"timing {label} …", file=sys.stderr)
            once = measure(command)  # the first summary compiles and caches the templates: not timed
            rows.append((label, once if once.code else repeated(command, repeat)))
        return table(runs, rows), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[10_000, 100_000], help="store sizes")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each case; the median is shown")
    parser.add_argument("--skip-mlflow", action="store_true", help="leave out mlflow.search_runs and the report")
    args = parser.parse_args()
    results = [bench(n, args.repeat, not args.skip_mlflow) for n in args.runs]
    for text, rows in results:
        print(text + "\n")
        for label, r in rows:
            if r.code:
                print(f"{label} failed: {r.stderr[-800:]}\n")
    if len(results) > 1:
        first, last = results[0][1], results[-1][1]
        growth = [f"{label}: {a.peak_mb:.0f} → {b.peak_mb:.0f} MB" for (label, a), (_, b) in zip(first, last,
                                                                                                    strict=True)
                  if label.startswith("summary") and not (a.code or b.code)]
        print(f"peak memory, {args.runs[0]:,} → {args.runs[-1]:,} runs:\n  " + "\n  ".join(growth))


if __name__ == "__main__":
    main()
