"""Integrity of the emission-factor basis, the region → grid mapping and the market-based inputs in data/.

Each test states a rule of the tables (data/README.md) and checks every row against it, recomputing derived numbers
from the recorded inputs rather than comparing with stored output.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ci_carbon.core import tables
from ci_carbon.core.model import JobSpec, Origin
from ci_carbon.core.resolve import resolve

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
HEADLINE = ("direct", "generation")  # the declared headline basis (data/README.md, "One basis")
EMISSIONS = {"direct", "lifecycle"}
GRID = {"generation", "consumption"}
ISO_DATE = re.compile(r"20\d\d-[01]\d-[0-3]\d")


def rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_grid_row_is_on_the_headline_basis():
    bases = {(g.basis_emissions, g.basis_grid) for g in tables.grids().values()}
    assert bases == {HEADLINE}
    assert {g.method for g in tables.grids().values()} <= {"published", "derived"}


@pytest.mark.parametrize("name", ["grids.csv", "regions.csv", "grid_mix.csv", "fuel_factors.csv", "egrid_rates.csv",
                                  "residual_mixes.csv", "provider_intensity_history.csv"])
def test_every_row_of_the_new_columns_has_an_accessed_date(name):
    for i, row in enumerate(rows(name), start=2):
        accessed = [k for k in row if k.endswith("accessed")]
        assert accessed, name
        for key in accessed:
            number = {"accessed": None, "pue_accessed": "pue", "market_accessed": "market_source",
                      "matching_accessed": "renewable_matching"}.get(key)
            if number is None or row.get(number, "").strip():
                assert ISO_DATE.fullmatch(row[key]), f"{name}:{i}: {key} {row[key]!r}"


def test_derived_rows_recompute_from_the_recorded_mix_and_factors():
    factors = {f: ff.g_per_kwh for (f, basis), ff in tables.fuel_factors().items() if basis == "direct"}
    assert set(factors) == set(tables.MIX_FUELS)
    mixes = tables.grid_mix()
    derived = [g for g in tables.grids().values() if g.method == "derived"]
    assert len(derived) >= 220
    for grid in derived:
        mix = mixes[grid.code]
        assert mix.year == grid.year, grid.code
        assert mix.total > 0 and abs(sum(mix.generation.values()) - mix.total) <= 0.05 + 0.002 * mix.total, grid.code
        expected = sum(mix.generation[f] * factors[f] for f in factors) / mix.total
        assert grid.carbon_intensity == pytest.approx(round(expected, 1), abs=0.051), grid.code
        assert f"= {grid.carbon_intensity:.1f} g/kWh" in grid.source, grid.code  # the source contains its number


def test_fossil_factors_follow_from_the_figures_they_cite():
    coal, gas = tables.fuel_factors()[("coal", "direct")], tables.fuel_factors()[("gas", "direct")]
    assert coal.g_per_kwh == pytest.approx(709e12 / 675_115e6, abs=0.05)  # Mt CO2 / million kWh, EIA 2023
    assert gas.g_per_kwh == pytest.approx(790e12 / 1_806_063e6, abs=0.05)
    oil = tables.fuel_factors()[("oil", "direct")]
    assert oil.g_per_kwh == pytest.approx(173.906 * 10_416 / 1e6 * 453.59237, abs=0.05)  # lb/MMBtu x Btu/kWh
    zero = [f for f in tables.MIX_FUELS if f not in ("coal", "gas", "oil")]
    assert all(tables.fuel_factors()[(f, "direct")].g_per_kwh == 0 for f in zero)


def test_egrid_rows_are_the_published_rates_in_co2e():
    grids = tables.grids()
    for row in rows("egrid_rates.csv"):
        co2e_lb = float(row["co2_lb_per_mwh"]) + 27 * float(row["ch4_lb_per_mwh"]) + 273 * float(row["n2o_lb_per_mwh"])
        assert grids[row["code"]].carbon_intensity == pytest.approx(co2e_lb * 0.45359237, abs=0.051), row["code"]
        assert grids[row["code"]].method == "published" and grids[row["code"]].year == 2024
    assert len([g for g in grids.values() if g.kind == "egrid-subregion"]) == 27


def test_grid_numbers_are_plausible_and_lifecycle_sits_beside_the_headline():
    mixes = tables.grid_mix()
    for grid in tables.grids().values():
        assert 0 <= grid.carbon_intensity <= 1300, grid.code
        assert re.fullmatch(r"(19|20)\d\d", str(grid.year)) and ISO_DATE.fullmatch(grid.accessed), grid.code
        if grid.lifecycle_intensity is None:
            continue
        assert grid.lifecycle_source and 2009 <= grid.lifecycle_year <= 2026, grid.code
        assert 0 <= grid.lifecycle_intensity <= 1400, grid.code
        if grid.lifecycle_intensity >= 100:  # same grid on two bases: a factor of two apart means a wrong row
            ratio = grid.carbon_intensity / grid.lifecycle_intensity
            mix = mixes.get(grid.code)
            # biomass is 0 direct (biogenic) but ~230 lifecycle: a biomass-heavy grid (Eswatini: 0.21 of 0.56 TWh
            # bagasse) may sit far below its lifecycle figure, never above it
            biomass_heavy = mix is not None and mix.generation["biomass"] / mix.total > 0.2
            assert (0.0 if biomass_heavy else 0.3) <= ratio <= 1.7, grid.code
    countries = [g for g in tables.grids().values() if g.kind in ("country", "world")]
    assert sum(g.lifecycle_intensity is not None for g in countries) == len(countries)


def test_the_derivation_script_reproduces_the_tables():
    result = subprocess.run([sys.executable, str(ROOT / "scripts/data/derive_grids.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_region_sits_on_an_existing_grid_of_its_country():
    grids = tables.grids()
    for (provider, name), region in tables.regions().items():
        assert region.grid in grids, (provider, name)
        grid = grids[region.grid]
        assert region.grid == region.country or grid.parent == region.country, (provider, name)
        assert region.carbon_intensity is None, (provider, name)  # the location factor comes from the grid row
        if region.country == "US":
            assert grid.kind == "egrid-subregion" or region.grid == "US", (provider, name)


def test_the_same_location_gets_the_same_grid_whatever_the_provider():
    by_place: dict[tuple[str, str], set[str]] = {}
    for region in tables.regions().values():
        if region.subdivision:
            by_place.setdefault((region.country, region.subdivision), set()).add(region.grid)
    assert {place: g for place, g in by_place.items() if len(g) > 1} == {}
    regions = tables.regions()
    iowa = {regions[("gcp", "us-central1")].grid, regions[("azure", "centralus")].grid}
    virginia = {regions[k].grid for k in [("aws", "us-east-1"), ("azure", "eastus"), ("gcp", "us-east4"),
                                          ("oci", "us-ashburn-1")]}
    assert iowa == {"US-MROW"} and virginia == {"US-SRVC"}


def test_resolved_jobs_in_the_same_place_get_the_same_factor():
    def factor(provider: str, region: str) -> float:
        job = resolve(JobSpec(name="probe", origin=Origin("test"), hardware="t4", hours=1.0, provider=provider,
                              region=region))
        return job.carbon_intensity

    assert factor("gcp", "us-central1") == factor("azure", "centralus") == tables.grids()["US-MROW"].carbon_intensity
    assert factor("aws", "us-east-1") == factor("gcp", "us-east4") == factor("azure", "eastus")
    assert factor("gcp", "europe-west3") == factor("aws", "eu-central-1") == tables.grids()["DE"].carbon_intensity


def test_provider_figures_are_labelled_and_match_their_published_history():
    history = {(h.provider, h.region, h.year): h for h in tables.provider_intensity_history()}
    assert {(h.basis_emissions, h.basis_grid) for h in history.values()} == {("direct", "consumption")}
    with_figure = [r for r in tables.regions().values() if r.provider_intensity is not None]
    assert len(with_figure) >= 45
    for region in with_figure:
        assert region.provider_intensity_emissions in EMISSIONS and region.provider_intensity_grid in GRID
        assert region.provider_intensity_source and region.provider_intensity_year >= 2021
        published = history[(region.provider, region.region, region.provider_intensity_year)]
        assert region.provider_intensity == published.intensity and region.cfe_share == published.cfe_share


def test_market_instruments_are_per_region_and_bounded():
    allowed = {"hourly-cfe": {"within"}, "annual-match-listed": {"unverified"}, "none": {"none"}}
    for (provider, name), region in tables.regions().items():
        assert region.market_boundary in allowed[region.market_instrument], (provider, name)
        assert region.market_source and region.market_year >= 2023, (provider, name)
        if region.market_instrument == "hourly-cfe":
            assert region.cfe_share is not None and 0 <= region.cfe_share <= 1, (provider, name)
        else:
            assert region.cfe_share is None, (provider, name)
    listed = {r.region for r in tables.regions().values() if r.market_instrument == "annual-match-listed"}
    assert "us-east-1" in listed and "ap-southeast-1" not in listed  # Singapore is not in AWS's matched list


def test_provider_annual_claims_are_never_region_instruments():
    for provider in tables.providers().values():
        if provider.renewable_matching:
            assert provider.matching_scope == "global-annual", provider.provider
        assert provider.matching_scope in {"global-annual", "none", ""}


def test_residual_mixes_reference_existing_grids_and_say_why_a_value_is_missing():
    grids, mixes = tables.grids(), tables.residual_mixes()
    assert {r.grid for r in tables.regions().values()} <= set(mixes)
    for code, mix in mixes.items():
        assert code in grids and mix.emissions in EMISSIONS and mix.source
        assert mix.status in {"recorded", "not-recorded", "unknown"}
        if mix.status == "recorded":
            assert mix.residual_intensity is not None and 0 <= mix.residual_intensity <= 1500 and mix.year >= 2020
        else:
            assert mix.residual_intensity is None, code
        assert ISO_DATE.fullmatch(mix.accessed)


def test_the_provider_band_is_the_recorded_year_to_year_spread():
    series: dict[tuple[str, str], dict[int, float]] = {}
    for h in tables.provider_intensity_history():
        series.setdefault((h.provider, h.region), {})[h.year] = h.intensity
    changes = sorted(abs(s[y] / s[y - 1] - 1) for s in series.values() for y in s if y - 1 in s and s[y - 1] > 0)
    middle = len(changes) // 2
    median = changes[middle] if len(changes) % 2 else (changes[middle - 1] + changes[middle]) / 2
    band = tables.constants()["grid_intensity_relative_uncertainty_provider"]
    assert band.value == pytest.approx(median, abs=0.0005) and 0.02 <= band.value <= 0.5
    assert str(len(changes)) in band.source
