"""Energy from MLflow's system-metric power histories (pure arithmetic, no MLflow import).

MLflow logs each point as the mean of a ~10 s window, stamped when it is logged; the run's last, partial window is
never logged. So the energy that matches the truth is Σ P_k·(t_k − t_{k−1}) from the run's start_time, plus
P_last·(end_time − t_last) for the tail. A naive count × interval × power is 19–27 % low (measured for issue 3).

A step much longer than the logging interval is a gap (the logger stopped, the machine slept): its point counts
only for one interval and the gap is reported, not bridged with a guess.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import pairwise
from statistics import median
from typing import NamedTuple

from ci_carbon.core.fields import READINGS, FieldRule
from ci_carbon.sources.mlflow.records import MetricPoint

GAP_FACTOR = 3.0  # a step over 3 logging intervals is a gap
_DEVICE_KEY = re.compile(
    r"^system/(?:(?P<node>[^/]+)/)?gpu_(?P<index>\d+)_(?P<what>power_usage_watts|utilization_percentage)$")


class Integral(NamedTuple):
    """The time integral of one series over a run."""

    value_seconds: float  # Σ value × seconds (W·s for power)
    seconds: float  # the time the points cover
    gaps: tuple[tuple[int, int], ...]  # (from ms, to ms) not covered
    dropped: int  # points left out: outside the reading's rule (NaN, infinite, negative, impossibly high)


def device_keys(metric_keys: Iterable[str], what: str = "power_usage_watts") -> dict[tuple[str, int], str]:
    """(node, gpu index) → metric key, for every device that logged ``what``; node is '' on one machine."""
    found: dict[tuple[str, int], str] = {}
    for key in metric_keys:
        if "gpu_" not in key:  # most keys of most runs: skip the regular expression
            continue
        match = _DEVICE_KEY.match(key)
        if match and match["what"] == what:
            found[(match["node"] or "", int(match["index"]))] = key
    return dict(sorted(found.items()))


CPU_KEY = "system/cpu_utilization_percentage"  # psutil.cpu_percent(): all of the machine's logical CPUs
MEMORY_KEY = "system/system_memory_usage_megabytes"  # psutil.virtual_memory().used / 1e6
HOST_KEYS = (CPU_KEY, MEMORY_KEY)


def shows_gpu(metric_keys: Iterable[str]) -> bool:
    """The run logged any GPU system metric (power, utilisation, memory): it ran on an accelerator."""
    return any(key.startswith("system/") and "gpu_" in key for key in metric_keys)


@lru_cache(maxsize=4096)
def history_keys(metric_keys: tuple[str, ...]) -> tuple[str, ...]:
    """The power, utilisation and host keys among a run's metric keys, sorted; runs repeat a few key sets."""
    return tuple(sorted((*device_keys(metric_keys).values(),
                         *device_keys(metric_keys, "utilization_percentage").values(),
                         *(k for k in HOST_KEYS if k in metric_keys))))


class Host(NamedTuple):
    """What a run's system metrics say about its host: time-weighted means over the run."""

    cpu_utilization: float | None  # 0..1 of all logical CPUs
    memory_gb: float | None  # used memory, GB (10^9 bytes)


def measure_host(histories: Mapping[str, Sequence[MetricPoint]], start_ms: int, end_ms: int) -> Host | None:
    """The mean CPU utilisation and used memory of a run's host; None when neither was logged."""
    means: list[float | None] = []
    for key in HOST_KEYS:
        part = integrate(histories.get(key, ()), start_ms, end_ms)
        means.append(part.value_seconds / part.seconds if part.seconds > 0 else None)
    cpu, memory_mb = means
    if cpu is None and memory_mb is None:
        return None
    return Host(min(cpu / 100.0, 1.0) if cpu is not None else None,
                memory_mb / 1000.0 if memory_mb is not None else None)


def integrate(points: Sequence[MetricPoint], start_ms: int, end_ms: int,
              rule: FieldRule = READINGS["power_usage_watts"]) -> Integral:
    """Integrate a window-mean series over [start_ms, end_ms]; see the module docstring for the rule.

    A reading outside ``rule`` (the core's range for one reading) is dropped and counted: MLflow stores an infinite
    value as 1.8e308, which would otherwise make the run's energy infinite, and every total with it.
    """
    low, high = rule.low or 0.0, rule.high if rule.high is not None else math.inf
    clean = sorted((p for p in points if low <= p.value <= high), key=lambda p: p.timestamp)
    dropped = len(points) - len(clean)
    if not clean:
        return Integral(0.0, 0.0, (), dropped)
    steps = [b.timestamp - a.timestamp for a, b in pairwise(clean) if b.timestamp > a.timestamp]
    interval = median(steps) if steps else max(clean[0].timestamp - start_ms, 0)
    total, covered, gaps = 0.0, 0.0, []
    previous = start_ms
    for point in clean:
        span = max(point.timestamp - previous, 0)
        if interval and span > GAP_FACTOR * interval:
            gaps.append((previous, point.timestamp - int(interval)))
            span = interval  # type: ignore[assignment]
        total += point.value * span
        covered += span
        previous = point.timestamp
    tail = max(end_ms - previous, 0)
    if interval and tail > GAP_FACTOR * interval:
        gaps.append((previous + int(interval), end_ms))
        tail = interval  # type: ignore[assignment]
    total += clean[-1].value * tail
    covered += tail
    return Integral(total / 1000.0, covered / 1000.0, tuple(gaps), dropped)


class Measured(NamedTuple):
    """What a run's system metrics say about its accelerators."""

    devices: int
    energy_kwh: float  # all devices, over the time covered
    mean_power_w: float  # per device, over the time covered
    utilization: float | None  # time-weighted mean GPU utilisation, 0..1
    gap_seconds: float  # per device, on average
    dropped: int


def measure(histories: Mapping[str, Sequence[MetricPoint]], start_ms: int, end_ms: int) -> Measured | None:
    """Integrate every GPU's power (and utilisation) history of one run; None when no power was logged.

    A mean power of 0 W (every reading 0, or every one dropped) is returned as such: the caller refuses it by the
    power field's rule, so the run is listed as not estimated rather than counted as 0 kWh or guessed at TDP.
    """
    power = device_keys(histories)
    if not power:
        return None
    energy_ws = seconds = gap_s = 0.0
    dropped = 0
    for key in power.values():
        part = integrate(histories[key], start_ms, end_ms)
        energy_ws += part.value_seconds
        seconds += part.seconds
        gap_s += sum(b - a for a, b in part.gaps) / 1000.0
        dropped += part.dropped
    if seconds <= 0:  # every reading dropped: measured, but nothing usable (the run says why; no TDP guess)
        return Measured(len(power), 0.0, 0.0, None, 0.0, dropped) if dropped else None
    util_keys = device_keys(histories, "utilization_percentage").values()
    util_parts = [integrate(histories[k], start_ms, end_ms, READINGS["utilization_percentage"]) for k in util_keys]
    util_s = sum(p.seconds for p in util_parts)
    utilization = sum(p.value_seconds for p in util_parts) / util_s / 100.0 if util_s else None
    return Measured(len(power), energy_ws / 3.6e6, energy_ws / seconds, utilization, gap_s / len(power), dropped)
