"""Energy to train of one MLPerf Training power submission, from its published logs (data/training_efficiency.csv).

MLPerf Training results repositories (github.com/mlcommons/training_results_vX.Y) hold, per submission and
benchmark, one ``result_*.txt`` MLLOG per run (``run_start`` and ``run_stop`` events) and, for power
submissions, ``power/result_*/node_*.txt`` (and ``sw_*.txt`` for switches) with ``power_reading`` events in W.
The energy of a run is the power readings integrated over its run_start..run_stop window (each reading held
until the next one), summed over every node and switch file; the submission's figure is the olympic mean (the
fastest and slowest-energy runs dropped), the way MLPerf scores a benchmark's runs.

Usage: python scripts/data/mlperf_energy.py GIT_DIR RESULTS_DIR
  GIT_DIR      a clone of a training_results_vX.Y repository (a bare git directory works: files are read with
               ``git show HEAD:path``)
  RESULTS_DIR  e.g. Lenovo/results/SR780aV3-8xB200_SXM_180GB/llama2_70b_lora
"""

from __future__ import annotations

import itertools
import json
import re
import statistics
import subprocess
import sys
from collections.abc import Iterator


def _git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, check=True).stdout


def events(text: str) -> Iterator[dict]:
    """The MLLOG events of a log, skipping lines that are not (or not valid) MLLOG JSON."""
    for line in text.splitlines():
        at = line.find(":::MLLOG ")
        if at >= 0:
            try:
                yield json.loads(line[at + len(":::MLLOG "):])
            except json.JSONDecodeError:
                continue


def run_window(log: str) -> tuple[int, int, str]:
    """(run_start ms, run_stop ms, status) of one run's result log."""
    evs = list(events(log))
    start = next(e["time_ms"] for e in evs if e["key"] == "run_start")
    stop = next(e for e in evs if e["key"] == "run_stop")
    return start, stop["time_ms"], (stop.get("metadata") or {}).get("status", "")


def energy_j(power_logs: list[str], start: int, stop: int) -> float:
    """Power readings (W) of every node/switch log, each held until the next reading, integrated over the window."""
    total = 0.0
    for log in power_logs:
        readings = sorted((e["time_ms"], float(e["value"])) for e in events(log) if e["key"] == "power_reading")
        for (t0, watts), (t1, _) in itertools.pairwise(readings):
            lo, hi = max(t0, start), min(t1, stop)
            if hi > lo:
                total += watts * (hi - lo) / 1000
    return total


def olympic_mean(values: list[float]) -> float:
    ordered = sorted(values)
    return statistics.mean(ordered[1:-1] if len(ordered) > 2 else ordered)


def submission(repo: str, results_dir: str) -> dict[str, float]:
    files = _git(repo, "ls-tree", "-r", "--name-only", "HEAD", results_dir).split()
    runs = sorted(f for f in files if re.search(r"/result_[^/]*\.txt$", f) and "/power/" not in f)
    energies, minutes = [], []
    for result in runs:
        start, stop, status = run_window(_git(repo, "show", f"HEAD:{result}"))
        if status != "success":
            continue
        name = result.rsplit("/", 1)[1][: -len(".txt")]
        logs = [_git(repo, "show", f"HEAD:{f}") for f in files if f"/power/{name}/" in f and f.endswith(".txt")]
        energies.append(energy_j(logs, start, stop))
        minutes.append((stop - start) / 60000)
    return {"runs": len(energies), "energy_j": olympic_mean(energies), "time_min": olympic_mean(minutes)}


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    result = submission(sys.argv[1], sys.argv[2])
    print(f"runs={result['runs']} energy_j={result['energy_j']:.0f} time_to_train_min={result['time_min']:.2f}")
