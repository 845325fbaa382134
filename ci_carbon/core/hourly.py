"""The grid at the hours a run used, and when to start a planned one (issue 14). Pure arithmetic, no I/O.

A yearly grid average hides that a grid's carbon intensity swings through the day. A run that knows its own hours
(an MLflow run's start and end) is weighted by the zone's hourly intensity over exactly those hours:

    I_run = Σ_h w_h · I_h,   Σ_h w_h = 1,   emissions = facility energy × I_run / 1000

where ``w_h`` is the share of the run's energy drawn in UTC hour ``h``: from its measured power history bucketed by
hour where it logged one (:func:`energy_weights`), else its share of the run's wall-clock time (uniform power,
:func:`time_weights`). An hour the source has no value for makes the whole figure unavailable (the caller falls
back to the yearly table): a partial average would silently re-weight the hours that remain.

For a planned job with a flexible start, the zone's mean intensity by hour of day over the last 30 days is the
expectation for each hour; :func:`best_start` slides the job's duration over the start window and picks the start
hour with the lowest expected intensity, against a start now.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import NamedTuple

HOUR_MS = 3_600_000


def hour_of(ms: int) -> int:
    """The start of the UTC hour that contains ``ms``."""
    return ms - ms % HOUR_MS


def hours_between(start_ms: int, end_ms: int) -> list[int]:
    """Every UTC hour (its start) that [start_ms, end_ms) touches, in order."""
    if end_ms <= start_ms:
        return [hour_of(start_ms)]
    return list(range(hour_of(start_ms), hour_of(end_ms - 1) + 1, HOUR_MS))


def time_weights(start_ms: int, end_ms: int) -> dict[int, float]:
    """Each hour's share of the run's wall-clock time: the weights of a run drawing constant power."""
    span = end_ms - start_ms
    if span <= 0:
        return {hour_of(start_ms): 1.0}
    return {h: (min(end_ms, h + HOUR_MS) - max(start_ms, h)) / span for h in hours_between(start_ms, end_ms)}


def energy_weights(start_ms: int, end_ms: int, energy_by_hour: Iterable[tuple[int, float]]) -> dict[int, float] | None:
    """Each hour's share of the measured energy (W·s by hour start); None when nothing usable was measured.

    Hours of the run with no measured energy keep weight 0: the power history says the devices drew nothing
    counted there (a gap is already estimated by :mod:`ci_carbon.sources.mlflow.hourly_power`).
    """
    inside = {h: 0.0 for h in hours_between(start_ms, end_ms)}
    for hour, ws in energy_by_hour:
        if hour in inside and math.isfinite(ws) and ws > 0:
            inside[hour] += ws
    total = sum(inside.values())
    if total <= 0:
        return None
    return {h: ws / total for h, ws in inside.items()}


class Weighted(NamedTuple):
    intensity: float  # gCO2eq/kWh
    missing: tuple[int, ...]  # hours with weight but no value (the figure is then unusable)


def weighted_intensity(weights: Mapping[int, float], intensity_by_hour: Mapping[int, float]) -> Weighted:
    """Σ w_h · I_h over the weighted hours; the hours that had weight and no value are listed as missing."""
    missing = tuple(h for h, w in weights.items() if w > 0 and h not in intensity_by_hour)
    if missing:
        return Weighted(math.nan, missing)
    return Weighted(sum(w * intensity_by_hour[h] for h, w in weights.items() if w > 0), ())


def hour_of_day_profile(intensity_by_hour: Mapping[int, float]) -> tuple[float | None, ...]:
    """The mean intensity at each UTC hour of day (0–23) over the hours given; None for an hour never seen."""
    sums, counts = [0.0] * 24, [0] * 24
    for hour_ms, value in intensity_by_hour.items():
        index = datetime.fromtimestamp(hour_ms / 1000, tz=timezone.utc).hour
        sums[index] += value
        counts[index] += 1
    return tuple(s / c if c else None for s, c in zip(sums, counts, strict=True))


def expected(profile: Sequence[float | None], start_hour: int, hours: float) -> float | None:
    """The expected intensity of a run of ``hours`` starting at UTC hour of day ``start_hour``: the profile
    averaged over the hours it spans, the last (partial) hour weighted by its fraction."""
    whole, part = int(hours), hours - int(hours)
    spans = [(k, 1.0) for k in range(whole)] + ([(whole, part)] if part > 1e-9 else [])
    if not spans:
        return None
    total = weight = 0.0
    for k, w in spans:
        value = profile[(start_hour + k) % 24]
        if value is None:
            return None
        total += w * value
        weight += w
    return total / weight


class Start(NamedTuple):
    """The best start in a window, against a start now."""

    now_hour: int  # UTC hour of day of a start now
    best_hour: int  # UTC hour of day of the best start
    delay_hours: int  # hours from now to the best start
    now_intensity: float
    best_intensity: float
    cut: float  # 1 − best / now: the share of the emissions a start at best_hour saves


def best_start(profile: Sequence[float | None], now_ms: int, window_hours: float, hours: float) -> Start | None:
    """The start hour within ``window_hours`` from now with the lowest expected intensity; None without a profile
    for now or any later start. Ties go to the earliest start (a job should not wait for nothing)."""
    now_hour = datetime.fromtimestamp(hour_of(now_ms) / 1000, tz=timezone.utc).hour
    now_value = expected(profile, now_hour, hours)
    if now_value is None or now_value <= 0:
        return None
    best = (now_value, 0)
    for delay in range(1, int(window_hours) + 1):
        value = expected(profile, (now_hour + delay) % 24, hours)
        if value is not None and value < best[0] - 1e-9:
            best = (value, delay)
    value, delay = best
    return Start(now_hour, (now_hour + delay) % 24, delay, now_value, value, 1.0 - value / now_value)
