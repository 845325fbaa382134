"""A run's measured energy per UTC hour, from its power histories: the weights of its hourly grid intensity.

The same reading of MLflow's window means as :func:`ci_carbon.sources.mlflow.power.integrate`: point k stands for
the span (t_{k-1}, t_k] from the run's start, the last point also for the tail up to the end; a span longer than
``GAP_FACTOR`` logging intervals counts only its last interval (a gap). Each span's W·s is split over the UTC hours
it crosses in proportion to the time in each, summed over every device.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import pairwise
from statistics import median

from ci_carbon.core.fields import READINGS
from ci_carbon.core.hourly import HOUR_MS
from ci_carbon.sources.mlflow.power import GAP_FACTOR, device_keys
from ci_carbon.sources.mlflow.records import MetricPoint


def _spread(out: dict[int, float], start: float, end: float, watts: float) -> None:
    """Add ``watts`` over [start, end) ms to the hours it covers, as W·s."""
    at = start
    while at < end:
        hour = int(at - at % HOUR_MS)
        upto = min(end, hour + HOUR_MS)
        out[hour] = out.get(hour, 0.0) + watts * (upto - at) / 1000.0
        at = upto


def _series(points: Sequence[MetricPoint], start_ms: int, end_ms: int, out: dict[int, float]) -> None:
    rule = READINGS["power_usage_watts"]
    high = rule.high if rule.high is not None else math.inf
    clean = sorted((p for p in points if 0 <= p.value <= high), key=lambda p: p.timestamp)
    if not clean:
        return
    steps = [b.timestamp - a.timestamp for a, b in pairwise(clean) if b.timestamp > a.timestamp]
    interval = median(steps) if steps else max(clean[0].timestamp - start_ms, 0)
    previous = start_ms
    for point in clean:
        span_start: float = previous
        if interval and point.timestamp - previous > GAP_FACTOR * interval:
            span_start = point.timestamp - interval
        _spread(out, max(span_start, start_ms), max(point.timestamp, start_ms), point.value)
        previous = max(previous, point.timestamp)
    tail_end: float = end_ms
    if interval and end_ms - previous > GAP_FACTOR * interval:
        tail_end = previous + interval
    _spread(out, previous, tail_end, clean[-1].value)


def energy_by_hour(histories: Mapping[str, Sequence[MetricPoint]], start_ms: int,
                   end_ms: int) -> tuple[tuple[int, float], ...]:
    """(hour start ms, W·s of every device in that hour), in order; empty without a power history."""
    out: dict[int, float] = {}
    for key in device_keys(histories).values():
        _series(histories[key], start_ms, end_ms, out)
    return tuple(sorted(out.items()))
