"""Resolution picks the factor DESIGN.md says, in its order of preference, and records where it came from."""

from __future__ import annotations

import pytest

from ci_carbon.core import tables
from ci_carbon.core.model import JobSpec, Origin
from ci_carbon.core.resolve import const, resolve


def job(**fields) -> JobSpec:
    fields.setdefault("hours", 10.0)
    return JobSpec(name="j", origin=Origin("m.yaml", 3), **fields)


def test_power_preference_measured_then_reported_then_tdp():
    tdp = tables.devices()["a100-sxm4-40gb"].tdp_w
    assert resolve(job(hardware="A100 SXM4 40GB", measured_power_w=250, power_w=300)).device_power_w == 250
    assert resolve(job(hardware="A100 SXM4 40GB", power_w=300)).method == "reported"
    tdp_job = resolve(job(hardware="A100 SXM4 40GB", utilization=0.5))
    assert (tdp_job.method, tdp_job.device_power_w) == ("tdp", tdp * 0.5)
    guessed = resolve(job(hardware="A100 SXM4 40GB"))
    assert guessed.device_power_w == tdp
    assert guessed.power_bounds.low == const("gpu_power_fraction_low").value
    assert "utilization" in guessed.guessed


def test_family_name_is_assumed_and_said():
    resolved = resolve(job(hardware="A100"))
    assumed, _ = tables.device_families()["a100"]
    assert resolved.device_id == assumed
    assert resolved.notices[0].code == "assumed_variant"
    assert "hardware" in resolved.guessed


def test_device_hours_are_not_multiplied_by_count():
    resolved = resolve(JobSpec(name="j", origin=Origin("m"), hardware="T4", count=8, device_hours=640))
    assert (resolved.device_hours, resolved.hours) == (640, 80)
    resolved = resolve(job(hardware="T4", count=8, hours=10))
    assert (resolved.device_hours, resolved.hours) == (80, 10)


def test_instance_type_brings_devices_host_and_provider():
    inst = tables.instances()["p4d.24xlarge"][0]
    cpu = tables.cpus()[inst.cpu_id]
    resolved = resolve(job(instance_type="p4d.24xlarge", region="us-east-1"))
    assert (resolved.device_id, resolved.count, resolved.provider) == (inst.device_id, inst.device_count, "aws")
    assert resolved.cpu_power_w == pytest.approx(inst.vcpus * cpu.tdp_w / cpu.threads)
    assert resolved.memory_power_w == pytest.approx(inst.memory_gb * const("memory_w_per_gb").value)


def test_region_resolves_to_the_grid_it_sits_on():
    # Location-based: Google's own us-central1 figure stays a labelled column, the headline is the grid row (Iowa,
    # eGRID MROW), the same one azure centralus gets.
    row = tables.regions()[("gcp", "us-central1")]
    assert row.carbon_intensity is None and row.grid == "US-MROW" and row.provider_intensity is not None
    resolved = resolve(job(hardware="T4", provider="gcp", region="us-central1"))
    assert resolved.carbon_intensity == tables.grids()["US-MROW"].carbon_intensity
    azure = resolve(job(hardware="T4", provider="azure", region="centralus"))
    assert resolved.carbon_intensity == azure.carbon_intensity
    assert resolved.pue == (row.pue or tables.providers()["gcp"].pue)


def test_region_falls_back_to_its_grid_row():
    row = tables.regions()[("aws", "us-east-1")]
    assert row.carbon_intensity is None and row.subdivision == "US-VA" and row.grid == "US-SRVC"
    resolved = resolve(job(hardware="T4", provider="aws", region="us-east-1"))
    assert resolved.carbon_intensity == tables.grids()["US-SRVC"].carbon_intensity
    assert resolved.pue == (row.pue or tables.providers()["aws"].pue)
    # AWS lists us-east-1 as 100 % matched, but the instruments' market is not said: nothing is credited, and the
    # company-wide annual claim (providers.csv) is never subtracted per region.
    assert resolved.market.matched_share == 0.0 and resolved.market.instrument == "annual-match-listed"


def test_region_alone_infers_a_unique_provider():
    assert resolve(job(hardware="T4", region="eastus")).provider == "azure"


@pytest.mark.parametrize("country,code", [("FR", "FR"), ("FRA", "FR"), ("us-ca", "US-CA"), ("CA-QC", "CA-QC")])
def test_country_codes(country: str, code: str):
    resolved = resolve(job(hardware="T4", country=country))
    assert resolved.carbon_intensity == tables.grids()[code].carbon_intensity


def test_state_field_joins_the_country():
    resolved = resolve(job(hardware="T4", country="US", state="WA"))
    assert resolved.carbon_intensity == tables.grids()["US-WA"].carbon_intensity


def test_nothing_said_means_world_average_and_default_pue_both_guessed():
    resolved = resolve(job(hardware="T4"))
    assert resolved.carbon_intensity == tables.grids()["WORLD"].carbon_intensity
    assert resolved.pue == const("pue_default").value
    assert {"location", "pue", "host", "utilization"} <= set(resolved.guessed)  # the typical host, guessed


def test_explicit_values_win_and_are_exact():
    resolved = resolve(job(hardware="T4", provider="gcp", region="us-central1", pue=1.3, carbon_intensity=57,
                           power_w=60))
    assert (resolved.pue, resolved.carbon_intensity) == (1.3, 57)
    assert (resolved.pue_bounds.low, resolved.pue_bounds.high) == (1.0, 1.0)
    assert (resolved.intensity_bounds.low, resolved.intensity_bounds.high) == (1.0, 1.0)


def test_every_factor_carries_a_source():
    resolved = resolve(job(instance_type="p4d.24xlarge", region="us-east-1"))
    assert resolved.factors
    for f in resolved.factors:
        assert f.source and f.year >= 1990, f
