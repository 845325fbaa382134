"""Idle GPUs: only the draw above the device's published idle minimum is saved, never down to 0 W."""

from __future__ import annotations

import pytest

from ci_carbon.render.payload import recommendation
from tests.advice.conftest import advice, estimated


def _idle(recs):
    return [r for r in recs if r.kind == "waste" and r.params["what"] == "idle"]


def test_idle_saving_is_the_draw_above_idle_over_the_unused_share():
    # 4 × V100 SXM2 16GB at a measured 150 W, 20 % utilised, 10 h, PUE 1.5, 400 g/kWh; V100 idle 35 W (CCF):
    # (150 − 35) W × 4 × 10 h = 4.6 kWh; × PUE 1.5 = 6.9 kWh; × (1 − 0.2) = 5.52 kWh; × 0.4 kg/kWh = 2.208 kg.
    # (Linear to 0 W it would be 150 × 40 h × 1.5 × 0.8 × 0.4 = 2.88 kg.)
    job = estimated("underused", hardware="V100 SXM2 16GB", count=4, hours=10, power_w=150, gpu_utilization=0.2,
                    pue=1.5, carbon_intensity=400)
    (rec,) = _idle(advice(job))
    assert rec.saving_kg == pytest.approx(2.208)
    assert rec.params["count"] == 1 and rec.params["unknown_idle"] == 0
    assert "idle minimum" in recommendation(rec)["text"]


def test_a_device_without_a_published_idle_draw_gets_no_kg():
    job = estimated("h100-idle", hardware="H100 SXM5 80GB", count=8, hours=10, power_w=300, gpu_utilization=0.1,
                    pue=1.2, carbon_intensity=400)
    (rec,) = _idle(advice(job))
    assert rec.saving_kg is None and rec.params["unknown_idle"] == 1
    view = recommendation(rec)
    assert view["saving_kg"] is None and "no idle draw is published" in view["text"]


def test_a_mix_counts_only_the_known_devices():
    known = estimated("v100", hardware="V100 SXM2 16GB", count=4, hours=10, power_w=150, gpu_utilization=0.2,
                      pue=1.5, carbon_intensity=400)
    unknown = estimated("h100", hardware="H100 SXM5 80GB", count=8, hours=10, power_w=300, gpu_utilization=0.1,
                        pue=1.2, carbon_intensity=400)
    (rec,) = _idle(advice(known, unknown))
    assert rec.saving_kg == pytest.approx(2.208) and rec.params["unknown_idle"] == 1 and rec.params["count"] == 2
    assert "1 of 2 runs is on devices with no published idle draw" in recommendation(rec)["text"]


def test_a_draw_at_or_below_idle_saves_nothing():
    job = estimated("asleep", hardware="V100 SXM2 16GB", count=1, hours=10, power_w=30, gpu_utilization=0.05,
                    pue=1.0, carbon_intensity=400)
    (rec,) = _idle(advice(job))
    assert rec.saving_kg == 0.0
