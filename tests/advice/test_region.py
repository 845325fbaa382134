"""Region advice: only regions that offer the job's hardware (data/availability.csv), compared on one basis."""

from __future__ import annotations

import pytest

from ci_carbon.core import tables
from ci_carbon.core.figures import region_figures
from ci_carbon.render.payload import recommendation
from tests.advice.conftest import advice, estimated, of_kind


def test_a_tpu_v4_job_is_not_moved_out_of_the_only_tpu_v4_region():
    assert tables.regions_offering("gcp", device_id="tpu-v4") == frozenset({"us-central2"})
    job = estimated("moe", hardware="TPU v4", count=32, hours=18, provider="gcp", region="us-central2")
    assert of_kind(advice(job), "region") == []


def test_an_a100_job_moves_only_to_a_region_that_offers_eight_a100s():
    job = estimated("bert", hardware="A100 SXM4 40GB", count=8, hours=12.5, provider="gcp", region="us-central1")
    (rec,) = of_kind(advice(job), "region")
    to = rec.params["to"]
    eight = {a.region for a in tables.availability() if a.instance_type == "a2-highgpu-8g"}
    assert to.region in eight and to.continent == region_figures("gcp", "us-central1").continent
    # the cleanest of them: no other region offering a2-highgpu-8g on the continent has a lower PUE × intensity
    others = [region_figures("gcp", r) for r in eight if r != "us-central1"]
    same = [r for r in others if r.continent == to.continent]
    assert to.kg_per_it_kwh == min(r.kg_per_it_kwh for r in same)
    # the saving: the same IT energy at the destination's PUE and intensity
    it_kwh = job.energy_kwh / job.job.pue
    assert rec.saving_kg == pytest.approx(job.emissions_kg - it_kwh * to.pue * to.carbon_intensity / 1000)
    assert rec.params["offers"] == [{"kind": "device", "name": "A100 SXM4 40GB", "count": 8, "regions": 10}]
    assert "8 × A100 SXM4 40GB: 10 regions offer it" in recommendation(rec)["text"]


def test_an_instance_type_is_looked_up_as_itself():
    job = estimated("p4d", instance_type="p4d.24xlarge", hours=96, provider="aws", region="us-east-1")
    (rec,) = of_kind(advice(job), "region")
    assert rec.params["to"].region in tables.regions_offering("aws", instance_type="p4d.24xlarge")


def test_no_move_where_availability_is_unknown():
    # Azure has no availability rows yet (data/README.md, "Not covered"): unknown, not "nowhere", so no move
    job = estimated("detr", hardware="H100 SXM5 80GB", count=4, hours=20, provider="azure", region="eastus")
    assert of_kind(advice(job), "region") == []
