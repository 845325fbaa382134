"""The estimate's arithmetic, checked against numbers worked out by hand (no tables involved)."""

from __future__ import annotations

import pytest

from ci_carbon.core.estimate import estimate
from ci_carbon.core.model import Bounds, Job, JobSpec, Market, Origin
from ci_carbon.core.totals import Totals


def make_job(**over) -> Job:
    base = dict(
        spec=JobSpec(name="j", origin=Origin("m.yaml")), hardware="X", device_id="x", device_kind="gpu", count=8,
        hours=12.5, device_hours=100.0, runs=5, device_power_w=400.0, method="tdp",
        power_bounds=Bounds(0.5, 1.0), cpu_power_w=288.0, memory_power_w=126.65, host_bounds=Bounds(0.6, 1.0),
        pue=1.1, pue_bounds=Bounds(0.95, 1.05), carbon_intensity=400.0, intensity_bounds=Bounds(0.9, 1.1),
        location="somewhere", provider=None, region=None, country=None, continent=None,
        market=Market("instrument-grid-average", "hourly-cfe", "within", True, 0.6, True, "grid-average", 400.0,
                      None, "none"),
        embodied_kg_per_device_hour=150.0 / (4 * 8760), factors=(),
    )
    base.update(over)
    return Job(**base)


def test_central_energy_and_emissions_by_hand():
    est = estimate(make_job())
    # devices: 100 device-h × 400 W × 5 runs = 200 kWh; host: 12.5 h × (288 + 126.65) W × 5 = 25.915625 kWh
    assert est.energy_kwh == pytest.approx((200 + 25.915625) * 1.1)  # 248.5071875 kWh
    assert est.emissions_kg == pytest.approx(248.5071875 * 0.4)  # 99.402875 kg
    assert est.device_energy_kwh == pytest.approx(220.0)


def test_range_multiplies_the_bounds():
    est = estimate(make_job())
    low_energy = (200 * 0.5 + 25.915625 * 0.6) * 1.1 * 0.95  # 120.749096875
    high_energy = 225.915625 * 1.1 * 1.05  # 260.932546875
    assert est.energy_kwh_low == pytest.approx(low_energy)
    assert est.energy_kwh_high == pytest.approx(high_energy)
    assert est.emissions_kg_low == pytest.approx(low_energy * 0.4 * 0.9)
    assert est.emissions_kg_high == pytest.approx(high_energy * 0.4 * 1.1)
    assert est.emissions_kg_low < est.emissions_kg < est.emissions_kg_high


def test_market_based_and_embodied():
    est = estimate(make_job())
    # 60 % matched at 0 g/kWh, 40 % at the 400 g/kWh residual factor: 248.5071875 kWh × 0.4 kg/kWh × 0.4
    assert est.emissions_kg_market == pytest.approx(99.402875 * 0.4)
    assert est.embodied_kg == pytest.approx(150.0 / 35040 * 100 * 5)  # 2.140411 kg


def test_no_host_no_range_when_everything_is_known():
    est = estimate(make_job(cpu_power_w=0.0, memory_power_w=0.0, power_bounds=Bounds(), pue_bounds=Bounds(),
                            intensity_bounds=Bounds(), runs=1))
    assert est.energy_kwh == est.energy_kwh_low == est.energy_kwh_high == pytest.approx(44.0)
    assert est.emissions_kg == pytest.approx(17.6)


def test_totals_add_every_key():
    a, b = estimate(make_job()), estimate(make_job(runs=1))
    t = Totals.of([a, b])
    assert t.jobs == 2
    assert t.emissions_kg == pytest.approx(a.emissions_kg + b.emissions_kg)
    assert t.emissions_kg_low == pytest.approx(a.emissions_kg_low + b.emissions_kg_low)
    assert t.embodied_kg == pytest.approx(a.embodied_kg * 1.2)
    assert t.runs == a.job.runs + 1 and t.device_hours == pytest.approx((a.job.runs + 1) * a.job.device_hours)


def test_totals_add_up_field_by_field():
    a, b = Totals.of([estimate(make_job())]), Totals.of([estimate(make_job(runs=1))])
    both = a + b
    assert both.jobs == 2 and both.runs == a.runs + b.runs
    assert both.emissions_kg == pytest.approx(a.emissions_kg + b.emissions_kg)
    assert Totals() + a == a
