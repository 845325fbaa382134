"""The hourly weighting and the best start (ci_carbon/core/hourly.py), and the power history bucketed by hour
(ci_carbon/sources/mlflow/hourly_power.py), against hand computations."""

from __future__ import annotations

import pytest

from ci_carbon.core.hourly import HOUR_MS, best_start, energy_weights, time_weights, weighted_intensity
from ci_carbon.sources.mlflow.hourly_power import energy_by_hour
from ci_carbon.sources.mlflow.records import MetricPoint

H0 = 1_700_000_000_000 - 1_700_000_000_000 % HOUR_MS  # an hour's start
MIN = 60_000


def test_time_weights_are_each_hours_share_of_the_run():
    # 00:45 to 02:15: 15 min, 60 min, 15 min of 90
    got = time_weights(H0 + 45 * MIN, H0 + 2 * HOUR_MS + 15 * MIN)
    assert got == {H0: pytest.approx(1 / 6), H0 + HOUR_MS: pytest.approx(4 / 6), H0 + 2 * HOUR_MS: pytest.approx(1 / 6)}


def test_weighted_intensity_and_a_missing_hour():
    weights = {H0: 0.25, H0 + HOUR_MS: 0.75}
    assert weighted_intensity(weights, {H0: 400.0, H0 + HOUR_MS: 200.0}).intensity == pytest.approx(250.0)  # 100+150
    assert weighted_intensity(weights, {H0: 400.0}).missing == (H0 + HOUR_MS,)


def test_power_is_bucketed_by_the_hour_it_was_drawn_in():
    # points every 20 min from 00:40: 00:40 (100 W, for 00:20–00:40), 01:00 (100 W), 01:20 (300 W); run 00:20–01:30
    start = H0 + 20 * MIN
    points = [MetricPoint(H0 + 40 * MIN, 0, 100.0), MetricPoint(H0 + 60 * MIN, 1, 100.0),
              MetricPoint(H0 + 80 * MIN, 2, 300.0)]
    got = dict(energy_by_hour({"system/gpu_0_power_usage_watts": points}, start, H0 + 90 * MIN))
    # hour 0: 100 W × 40 min = 240,000 W·s; hour 1: 300 W × 20 min + tail 300 W × 10 min = 540,000 W·s
    assert got == {H0: pytest.approx(240_000.0), H0 + HOUR_MS: pytest.approx(540_000.0)}
    weights = energy_weights(start, H0 + 90 * MIN, got.items())
    assert weights == {H0: pytest.approx(240 / 780), H0 + HOUR_MS: pytest.approx(540 / 780)}


def test_best_start_prefers_the_earliest_of_equal_hours_and_none_without_a_profile():
    profile = tuple(100.0 if h in (2, 3) else 200.0 for h in range(24))
    start = best_start(profile, H0 - H0 % (24 * HOUR_MS), 6, 1.5)  # now 00:00; 1.5 h runs
    # now: (200 + 0.5·200) / 1.5 = 200; 02:00: (100 + 0.5·100) / 1.5 = 100 → cut 50 %, 2 h from now
    assert (start.best_hour, start.delay_hours, start.cut) == (2, 2, pytest.approx(0.5))
    assert best_start((None,) * 24, H0, 6, 1.0) is None
