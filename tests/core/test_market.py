"""Market-based emissions as the GHG Protocol Scope 2 Guidance defines them (issue 11, item 2), and the basis of
every job's grid factor (item 1): hand-computed figures for each kind of place, through the real command line.

Every job below has the same energy, chosen so that no default moves it: 4 devices × 10 h × 250 W (power_w) =
10 kWh; host 10 h × (8 cores × 12 W, the generic CPU + 100 GB × 0.3725 W/GB) = 10 × 133.25 W = 1.3325 kWh; PUE 1.0
given: 11.3325 kWh in all.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from ci_carbon.core import tables
from ci_carbon.core.figures import provider_regions, region_figures
from ci_carbon.core.model import JobSpec, Origin
from ci_carbon.core.resolve import resolve
from tests.conftest import EXAMPLE, ROOT, run_cli

SCHEMA = json.loads((ROOT / "schemas" / "report-v1.schema.json").read_text(encoding="utf-8"))
ENERGY_KWH = 11.3325  # (4 × 10 × 250 + 10 × (8 × 12 + 100 × 0.3725)) / 1000, PUE 1.0

JOB = {"hardware": "A100 SXM4 40GB", "count": 4, "hours": 10, "power_w": 250, "cpu_count": 8, "memory_gb": 100,
       "pue": 1.0}
PLACES = {
    "gcp-iowa": {"provider": "gcp", "region": "us-central1"},
    "aws-singapore": {"provider": "aws", "region": "ap-southeast-1"},
    "aws-virginia": {"provider": "aws", "region": "us-east-1"},
    "azure-iowa": {"provider": "azure", "region": "centralus"},
    "no-provider-france": {"country": "FR"},
    "given-intensity": {"carbon_intensity": 100},
}


def _manifest(tmp_path: Path, places: dict[str, dict[str, object]] = PLACES) -> Path:
    path = tmp_path / "jobs.yaml"
    jobs = [{"name": name, **JOB, **place} for name, place in places.items()]
    path.write_text(yaml.safe_dump({"version": 1, "jobs": jobs}, sort_keys=False), encoding="utf-8")
    return path


def _report(manifest: Path, fmt: str = "json", cwd: Path | None = None, python: str | None = None) -> str:
    result = run_cli("report", "--manifest", str(manifest), "--format", fmt, cwd=cwd,
                     executable=[python, "-m", "ci_carbon"] if python else None)
    assert result.code == 0, result.err
    return result.out


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    doc = json.loads(_report(_manifest(tmp_path_factory.mktemp("market"))))
    jsonschema.validate(doc, SCHEMA)
    return {job["name"]: job for job in doc["jobs"]}


def test_every_job_has_the_same_energy(report: dict[str, dict]):
    for job in report.values():
        assert job["energy_kwh"] == pytest.approx(ENERGY_KWH)


def test_gcp_credits_only_its_hourly_cfe_share_as_an_upper_bound(report: dict[str, dict]):
    job = report["gcp-iowa"]
    # regions.csv: gcp us-central1 sits on eGRID MROW (grids.csv 394.0 g/kWh, direct, generation) with Google's
    # 2025 hourly CFE share 0.88 (hourly-cfe, within). Location: 11.3325 kWh × 0.394 = 4.465005 kg.
    # Market: 12 % unmatched at the grid average (no MROW residual mix recorded): 4.465005 × 0.12 = 0.5358006 kg.
    assert tables.grids()["US-MROW"].carbon_intensity == 394.0
    assert tables.regions()[("gcp", "us-central1")].cfe_share == 0.88
    assert job["emissions_kg"] == pytest.approx(4.465005)
    assert job["emissions_kg_market"] == pytest.approx(0.5358006, abs=1e-6)
    assert job["market_method"] == {
        "method": "instrument-grid-average", "instrument": "hourly-cfe", "boundary": "within", "credited": True,
        "matched_share": 0.88, "upper_bound": True, "residual": "grid-average", "residual_g_per_kwh": 394.0,
        "grid": "US-MROW", "residual_status": "not-recorded"}
    assert [n["code"] for n in job["notices"]].count("residual_mix_missing") == 1


def test_aws_region_outside_its_matched_list_is_not_zero(report: dict[str, dict]):
    job = report["aws-singapore"]
    # ap-southeast-1 is not in AWS's list (instrument none); Singapore 428.6 g/kWh: 11.3325 × 0.4286 = 4.8571095 kg,
    # and nothing is credited, so market = location (before issue 11: 0 kg, AWS's annual 100 % claim subtracted).
    assert job["emissions_kg"] == pytest.approx(4.8571095, abs=1e-6)
    assert job["emissions_kg_market"] == job["emissions_kg"]
    assert job["market_method"]["instrument"] == "none" and job["market_method"]["method"] == "grid-average"


def test_aws_listed_region_is_not_credited_while_its_boundary_is_unverified(report: dict[str, dict]):
    job = report["aws-virginia"]
    # us-east-1: eGRID SRVC 290.6 g/kWh; 11.3325 × 0.2906 = 3.2932245 kg, the listed match not credited
    assert job["emissions_kg_market"] == pytest.approx(3.2932245, abs=1e-6) == job["emissions_kg"]
    assert job["market_method"]["instrument"] == "annual-match-listed"
    assert job["market_method"]["boundary"] == "unverified" and job["market_method"]["credited"] is False
    said = [w for w in job["warnings"] if "not credited" in w]
    assert said == ["Market-based: AWS lists us-east-1 among the regions whose 2023 electricity it matched with "
                    "renewable energy, but does not say the certificates come from the same grid market, so they are "
                    "not credited (GHG Protocol Scope 2 Quality Criteria: instruments from the market where the energy "
                    "is used)."]


def test_azure_has_no_instrument_and_the_same_location_factor_as_gcp_in_iowa(report: dict[str, dict]):
    job = report["azure-iowa"]
    # Azure publishes no per-region instrument: 4.465005 kg market = location, the same Iowa grid factor as gcp
    assert job["carbon_intensity_g_per_kwh"] == report["gcp-iowa"]["carbon_intensity_g_per_kwh"] == 394.0
    assert job["emissions_kg_market"] == pytest.approx(4.465005) == job["emissions_kg"]
    assert job["market_method"]["instrument"] == "none"
    grid = tables.grids()["US-MROW"].name
    assert f"Market-based: no residual mix is recorded for {grid}, so the electricity no instrument covers is " \
           "counted at the grid average; Green-e publishes one, not yet in ci-carbon's tables." in job["warnings"]


def test_job_without_provider_is_grid_average_without_instrument(report: dict[str, dict]):
    job = report["no-provider-france"]
    # France 31.5 g/kWh: 11.3325 × 0.0315 = 0.35697375 kg, market the same; no cloud region, so no residual notice
    assert job["emissions_kg"] == pytest.approx(0.35697375, abs=1e-6) == job["emissions_kg_market"]
    assert job["market_method"]["method"] == "grid-average" and job["market_method"]["instrument"] == "none"
    assert "residual_mix_missing" not in [n["code"] for n in job["notices"]]
    assert job["basis"] == {"emissions": "direct", "grid": "generation"}


def test_a_given_intensity_has_no_known_basis(report: dict[str, dict]):
    job = report["given-intensity"]
    # 11.3325 kWh × 0.1 kg/kWh = 1.13325 kg, both methods
    assert job["emissions_kg"] == pytest.approx(1.13325) == job["emissions_kg_market"]
    assert job["basis"] is None and job["market_method"]["grid"] is None


def test_every_grid_job_carries_the_headline_basis(report: dict[str, dict]):
    for name, job in report.items():
        assert set(job) >= {"basis", "market_method"}
        if name != "given-intensity":
            assert job["basis"] == {"emissions": "direct", "grid": "generation"}, name


def test_the_provider_annual_claim_is_no_factor_any_more(report: dict[str, dict]):
    doc = json.loads(_report(EXAMPLE))
    jsonschema.validate(doc, SCHEMA)
    names = [f["name"] for f in doc["factors"]]
    assert not [n for n in names if n.startswith("Renewable matching")]
    assert "Hourly carbon-free energy share (market-based, upper bound of the matched share), gcp us-central1" in names


def _probe(provider: str, region: str):
    return resolve(JobSpec(name="probe", origin=Origin("test"), hardware="T4", hours=1.0, provider=provider,
                           region=region))


def test_no_cloud_region_is_zero_unless_an_instrument_covers_it_fully():
    for (provider, region), row in sorted(tables.regions().items()):
        job = _probe(provider, region)
        unmatched = 1.0 - job.market.matched_share
        assert job.market.matched_share == (row.cfe_share if row.market_boundary == "within" else 0.0), region
        assert job.market.residual_g_per_kwh == job.carbon_intensity  # no residual mix is recorded yet
        if job.carbon_intensity > 0 and unmatched > 0:
            assert job.market.residual_g_per_kwh * unmatched > 0, (provider, region)


def test_the_same_grid_gets_the_same_factor_whatever_the_provider():
    gcp, azure = region_figures("gcp", "us-central1"), region_figures("azure", "centralus")
    assert gcp.carbon_intensity == azure.carbon_intensity == tables.grids()["US-MROW"].carbon_intensity
    assert gcp.basis == azure.basis
    # the regions region advice compares are all on the headline basis (grids.csv has one basis)
    bases = {r.basis for p in ("gcp", "aws", "azure") for c in ("NA", "EU", "AS") for r in provider_regions(p, c)}
    assert len(bases) == 1 and bases.pop() == ("direct", "generation")


def test_csv_ends_with_the_basis_and_market_columns(tmp_path: Path):
    rows = list(csv.reader(io.StringIO(_report(_manifest(tmp_path), "csv"))))
    header = rows[0]
    assert header[-6:] == ["basis_emissions", "basis_grid", "market_method", "market_instrument",
                           "market_matched_share", "market_residual_g_per_kwh"]
    gcp = next(r for r in rows[1:] if r[0] == "gcp-iowa")
    assert gcp[-6:] == ["direct", "generation", "instrument-grid-average", "hourly-cfe", "0.88", "394.0"]


def test_a_recorded_residual_mix_is_used_for_the_unmatched_share(tmp_path: Path):
    # A copy of the source tree with one residual mix recorded (US-MROW 500 g/kWh), run as a real process.
    tree = tmp_path / "tree"
    for part in ("ci_carbon", "data", "templates"):
        shutil.copytree(ROOT / part, tree / part, ignore=shutil.ignore_patterns("__pycache__"))
    mixes = tree / "data" / "residual_mixes.csv"
    lines = mixes.read_text(encoding="utf-8").splitlines(keepends=True)
    recorded = [lines[0]] + [("US-MROW,500,direct,Green-e,recorded,test copy,2024,2026-12-02\n"
                              if line.startswith("US-MROW,") else line) for line in lines[1:]]
    assert recorded != lines
    mixes.write_text("".join(recorded), encoding="utf-8")
    places = {k: PLACES[k] for k in ("gcp-iowa", "azure-iowa")}
    doc = json.loads(_report(_manifest(tmp_path, places), cwd=tree, python=sys.executable))
    jobs = {j["name"]: j for j in doc["jobs"]}
    # gcp: 11.3325 kWh × 0.12 unmatched × 0.5 kg/kWh = 0.67995 kg; azure: 11.3325 × 0.5 = 5.66625 kg (above its
    # 4.465005 kg location-based figure: the residual mix has the claimed clean energy taken out)
    assert jobs["gcp-iowa"]["emissions_kg_market"] == pytest.approx(0.67995)
    assert jobs["gcp-iowa"]["market_method"]["method"] == "instrument-residual-mix"
    assert jobs["azure-iowa"]["emissions_kg_market"] == pytest.approx(5.66625)
    assert jobs["azure-iowa"]["market_method"]["residual_status"] == "recorded"
    assert "residual_mix_missing" not in [n["code"] for j in jobs.values() for n in j["notices"]]
