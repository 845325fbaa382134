"""The power-history integration rule, against energies worked out by hand."""

from __future__ import annotations

import math

import pytest

from ci_carbon.sources.mlflow.power import device_keys, integrate, measure
from ci_carbon.sources.mlflow.records import MetricPoint

S = 1000  # ms per second


def series(start: int, *pairs: tuple[float, float]) -> list[MetricPoint]:
    return [MetricPoint(start + int(t * S), i, w) for i, (t, w) in enumerate(pairs)]


def test_window_means_from_the_start_plus_the_tail():
    # start at 0 s; points at 10, 20, 30 s with 100, 200, 300 W; the run ends at 34 s
    points = series(0, (10, 100), (20, 200), (30, 300))
    got = integrate(points, 0, 34 * S)
    # 100·10 + 200·10 + 300·10 + tail 300·4 = 7,200 J over 34 s
    assert got.value_seconds == pytest.approx(7200.0)
    assert got.seconds == pytest.approx(34.0)
    assert got.gaps == () and got.dropped == 0


def test_naive_count_times_interval_is_low():
    points = series(0, (10, 250), (20, 250), (30, 250))
    exact = integrate(points, 0, 38 * S).value_seconds  # 250 W × 38 s = 9,500 J
    naive = len(points) * 10 * 250  # 7,500 J: misses the final 8 s
    assert exact == pytest.approx(9500.0)
    assert naive / exact == pytest.approx(0.789, abs=0.001)


def test_a_gap_is_not_bridged_and_is_reported():
    # 10 s logging, then nothing from 30 s to 130 s: the 130 s point covers one interval only
    points = series(0, (10, 100), (20, 100), (30, 100), (130, 400), (140, 400))
    got = integrate(points, 0, 140 * S)
    # 100·10·3 + 400·10 (gap point, one interval) + 400·10 = 11,000 J over 50 s
    assert got.value_seconds == pytest.approx(11000.0)
    assert got.seconds == pytest.approx(50.0)
    assert got.gaps == ((30 * S, 120 * S),)


def test_nan_and_negative_watts_are_dropped_and_counted():
    points = series(0, (10, 100), (20, math.nan), (30, -5), (40, 100))
    got = integrate(points, 0, 40 * S)
    # the clean points are 10 s and 40 s; their one step (30 s) is the interval: 100·10 + 100·30
    assert got.dropped == 2
    assert got.value_seconds == pytest.approx(4000.0)


def test_device_keys_single_and_multi_node():
    keys = ["system/gpu_0_power_usage_watts", "system/gpu_1_power_usage_watts", "system/node-a/gpu_0_power_usage_watts",
            "system/gpu_0_utilization_percentage", "loss", "system/cpu_utilization_percentage"]
    assert device_keys(keys) == {("", 0): "system/gpu_0_power_usage_watts", ("", 1): "system/gpu_1_power_usage_watts",
                                 ("node-a", 0): "system/node-a/gpu_0_power_usage_watts"}
    assert device_keys(keys, "utilization_percentage") == {("", 0): "system/gpu_0_utilization_percentage"}


def test_measure_two_gpus_and_utilisation():
    histories = {
        "system/gpu_0_power_usage_watts": series(0, (10, 200), (20, 200)),
        "system/gpu_1_power_usage_watts": series(0, (10, 300), (20, 300)),
        "system/gpu_0_utilization_percentage": series(0, (10, 50), (20, 100)),
    }
    got = measure(histories, 0, 25 * S)
    # gpu0 200 W × 25 s = 5,000 J; gpu1 300 W × 25 s = 7,500 J; 12,500 J = 0.003472 kWh over 50 device-s
    assert got.devices == 2
    assert got.energy_kwh == pytest.approx(12500 / 3.6e6)
    assert got.mean_power_w == pytest.approx(250.0)
    # utilisation: 50·10 + 100·10 + 100·5 = 2,000 %·s over 25 s = 80 %
    assert got.utilization == pytest.approx(0.80)
    assert measure({"loss": series(0, (10, 1.0))}, 0, 10 * S) is None
