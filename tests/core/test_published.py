"""Published trainings whose papers state their inputs: the report reproduces their MWh and tCO2eq (±1 %)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, run_cli

CASES = yaml.safe_load((ROOT / "tests" / "data" / "published_trainings.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_reproduces_the_paper(case: dict, tmp_path: Path):
    # papers that give only GPU-hours are entered as device_hours (the count is then not multiplied again)
    duration = {"device_hours": case["device_hours"]} if "device_hours" in case else {"hours": case["hours"]}
    # the papers count the accelerators' (system) power alone: memory_gb 0 keeps the typical host out, so no CPU
    # or memory is added on top of their stated power
    job = {"name": case["name"], "hardware": case["device"], "count": case["count"], **duration,
           "power_w": case["power_w"], "pue": case["pue"], "carbon_intensity": case["carbon_intensity"],
           "memory_gb": 0}
    path = tmp_path / "jobs.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "jobs": [job]}), encoding="utf-8")
    result = run_cli("report", "--manifest", str(path), "--format", "json")
    assert result.code == 0, result.err
    got = result.json()["jobs"][0]
    assert got["energy_kwh"] / 1000 == pytest.approx(case["expect_mwh"], rel=0.01)
    assert got["emissions_kg"] / 1000 == pytest.approx(case["expect_tco2e"], rel=0.01)
    assert got["method"] == "reported"


def test_several_trainings_are_checked():
    assert len(CASES) >= 4
    assert all(c["citation"] for c in CASES)
