"""When to run (issue 14, item 3): a planned manifest job with ``start_window_hours``, an hour-of-day profile of its
zone over the last 30 days from the stand-in Electricity Maps, and the best start in the window as advice."""

from __future__ import annotations

import json

import jsonschema
import pytest

from tests.conftest import ROOT, run_cli
from tests.sources.intensity.standin import JOBS, ElectricityMaps

NOW = "2026-11-03T08:00:00Z"  # the report's time: a start now is at 08:00 UTC



@pytest.fixture(autouse=True)
def _grid(monkeypatch):
    """The zone's grid: 100 g/kWh from 13:00 to 17:00 UTC, 300 otherwise, every day."""
    monkeypatch.setitem(ElectricityMaps.ZONES, "US-CAL-CISO", lambda h: 100.0 if 13 <= h.hour <= 16 else 300.0)


@pytest.fixture
def jobs(manifest, monkeypatch):
    monkeypatch.setenv("CI_CARBON_NOW", NOW)
    return manifest(JOBS)


def test_the_best_start_in_the_window_is_advised_with_its_cut(em, jobs):
    result = run_cli("report", "--manifest", str(jobs), "--format", "json", "--intensity-source", "electricitymaps")
    assert result.code == 0, result.err
    report = result.json()
    jsonschema.validate(report, json.loads((ROOT / "schemas" / "report-v1.schema.json").read_text()))
    (when,) = [r for r in report["recommendations"] if r["kind"] == "when"]
    # a start now (08:00) spans 08, 09, 10: (300 + 300 + 300) / 3 = 300 g/kWh. Within 12 h the starts are 09:00 …
    # 20:00; 13:00 spans 13, 14, 15 = 100 (14:00 too, the earliest wins): cut 1 − 100 / 300 = 66.7 %, 5 h from now
    assert when["params"]["best_hour"] == "13:00" and when["params"]["delay_hours"] == 5
    assert when["params"]["percent"] == pytest.approx(66.666667, abs=1e-5)
    assert when["saving_kg"] == pytest.approx(report["jobs"][0]["emissions_kg"] * 2 / 3, rel=1e-5)
    assert when["text"].startswith("Starting 'plan' at 13:00 UTC (5 h from now, within its 12 h window) would cut "
                                   "about 67 % here: over the last 30 days, zone US-CAL-CISO averaged 100 "
                                   "gCO2eq/kWh across its 3 h from 13:00 against 300 from 08:00")
    # the profile: 30 days before today's 00:00 UTC, in 10-day pages (past-range's longest hourly request)
    assert [(q["start"][0], q["end"][0]) for _, q, _ in em.requests] == [
        ("2026-10-04T00:00:00Z", "2026-10-14T00:00:00Z"), ("2026-10-14T00:00:00Z", "2026-10-24T00:00:00Z"),
        ("2026-10-24T00:00:00Z", "2026-11-03T00:00:00Z")]
    assert report["jobs"][0]["emissions_kg"] > 0 and "hourly" not in report["jobs"][0]  # a plan has no hours yet
    again = run_cli("report", "--manifest", str(jobs), "--intensity-source", "electricitymaps")
    assert again.code == 0 and len(em.requests) == 3  # the profile came from the disk cache
    assert "would cut about 67 % here" in again.out


def test_no_window_no_profile_no_request(em, manifest, monkeypatch):
    monkeypatch.setenv("CI_CARBON_NOW", NOW)
    result = run_cli("report", "--manifest", str(manifest(JOBS.replace("    start_window_hours: 12\n", ""))),
                     "--format", "json", "--intensity-source", "electricitymaps")
    assert result.code == 0, result.err
    assert em.requests == [] and not [r for r in result.json()["recommendations"] if r["kind"] == "when"]


def test_a_bad_window_is_one_line(manifest):
    jobs_file = manifest(JOBS.replace("start_window_hours: 12", "start_window_hours: 0"))
    result = run_cli("validate", str(jobs_file))
    assert result.code == 2
    assert result.err.strip() == (f"ci-carbon: {jobs_file}:8: jobs[0].start_window_hours: must be above 0 and at most "
                                  "168 hours, got 0")


def test_a_grid_without_a_single_zone_keeps_the_yearly_figure_and_asks_nothing(em, manifest, monkeypatch):
    """Sweden is four Electricity Maps zones (SE-SE1 … SE-SE4): no zone for 'SE', so no request and a notice."""
    monkeypatch.setenv("CI_CARBON_NOW", NOW)
    jobs = manifest(JOBS.replace("    provider: gcp\n    region: us-west2\n", "    country: SE\n"))
    result = run_cli("report", "--manifest", str(jobs), "--format", "json", "--intensity-source", "electricitymaps")
    assert result.code == 0, result.err
    assert em.requests == []
    (job,) = result.json()["jobs"]
    assert [n["params"]["reason"] for n in job["notices"] if n["code"] == "hourly_unavailable"] == ["no_zone"]
    assert ("Electricity Maps has no single zone for Sweden: the yearly table's figure stands (intensity.zone in "
            "ci-carbon.yaml names one).") in job["warnings"]
