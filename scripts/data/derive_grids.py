#!/usr/bin/env python3
"""Rebuild the derived rows of data/grids.csv and the provider band in data/constants.csv from recorded figures.

Why this exists: the headline grid factor is direct (combustion) CO2 per kWh *generated*. Only the US (eGRID) and
a few agencies publish that figure; for every other grid it is derived from the published generation mix by fuel
(data/grid_mix.csv) times direct per-fuel factors (data/fuel_factors.csv). eGRID's subregion rates are published
as CO2, CH4 and N2O separately (data/egrid_rates.csv) and are combined to CO2e here. The script makes every derived
number reproducible from figures a reviewer can check against the cited sources; it reads nothing from the network.

    python scripts/data/derive_grids.py          # rewrite the derived rows in place
    python scripts/data/derive_grids.py --check  # exit 1 if a table differs from what the recorded figures give
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "data"
FUELS = ("coal", "gas", "oil", "biomass", "nuclear", "hydro", "wind", "solar", "other_renewable")
LB_TO_G_PER_KWH = 0.45359237  # 1 lb/MWh = 0.45359237 g/kWh
GWP_CH4, GWP_N2O = 27, 273  # IPCC AR6 GWP100, as the EPA Emission Factors Hub 2026 applies them
MIX_LABEL = {  # short citation in a derived row; the full source sits on the grid_mix.csv row
    "Ember Yearly": "Ember/EI generation by fuel via Our World in Data (CC BY 4.0)",
    "Our World in Data energy dataset": "Ember generation by fuel via the Our World in Data energy dataset (CC BY 4.0)",
    "Ember and Energy Institute via": "Ember/EI generation by fuel via Our World in Data as compiled by codecarbon",
    "Canada Energy Regulator": "Canada Energy Regulator provincial generation shares",
}
PROVIDER_BAND = "grid_intensity_relative_uncertainty_provider"


def read(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def write(name: str, fields: list[str], rows: list[dict[str, str]]) -> None:
    with (DATA / name).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def direct_factors() -> dict[str, float]:
    _, rows = read("fuel_factors.csv")
    return {r["fuel"]: float(r["g_per_kwh"]) for r in rows if r["emissions"] == "direct"}


def mix_intensity(row: dict[str, str], factors: dict[str, float]) -> float:
    """Generation-weighted direct factor: sum(generation_f x factor_f) / total generation."""
    total = float(row["total"])
    return sum(float(row[f] or 0) * factors[f] for f in FUELS) / total


def mix_source(row: dict[str, str], factors: dict[str, float], value: float) -> str:
    unit = "%" if row["unit"] == "percent" else " TWh"
    terms = [f"{f} {float(row[f]):g}{unit} x {factors[f]:g}" for f in FUELS if factors[f] and float(row[f] or 0)]
    label = next((v for k, v in MIX_LABEL.items() if row["source"].startswith(k)), row["source"][:60])
    sum_text = " + ".join(terms) if terms else "0"
    return (f"Derived, direct CO2 per kWh generated: ({sum_text} g/kWh) / {float(row['total']):g}{unit} total "
            f"generation = {value:.1f} g/kWh. Mix: {label}, data year {row['year']}, data/grid_mix.csv; "
            "factors: data/fuel_factors.csv (US EIA 2023 fleet rates for coal, gas and oil; 0 for non-combustion "
            "and biogenic sources, IPCC AR5 Annex III / GHG Protocol)")


def egrid_intensity(row: dict[str, str]) -> float:
    co2e_lb = (float(row["co2_lb_per_mwh"]) + GWP_CH4 * float(row["ch4_lb_per_mwh"])
               + GWP_N2O * float(row["n2o_lb_per_mwh"]))
    return co2e_lb * LB_TO_G_PER_KWH


def egrid_source(row: dict[str, str], value: float) -> str:
    return (f"eGRID2024 {row['subregion']} ({row['name']}) total output emission rates CO2 {row['co2_lb_per_mwh']}, "
            f"CH4 {row['ch4_lb_per_mwh']}, N2O {row['n2o_lb_per_mwh']} lb/MWh; (CO2 + 27 CH4 + 273 N2O) x "
            f"0.45359237 = {value:.1f} gCO2e/kWh generated; data/egrid_rates.csv; {row['source']}")


def rebuild_grids(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    factors = direct_factors()
    _, mixes = read("grid_mix.csv")
    _, egrid = read("egrid_rates.csv")
    mix_by_code = {r["code"]: r for r in mixes}
    egrid_by_code = {r["code"]: r for r in egrid}
    out = []
    for row in rows:
        row = dict(row)
        code = row["code"]
        if code in egrid_by_code:
            src, value = egrid_by_code[code], egrid_intensity(egrid_by_code[code])
            row.update(carbon_intensity=f"{value:.1f}", method="published", source=egrid_source(src, value),
                       year=src["year"], accessed=src["accessed"])
        elif code in mix_by_code:
            src = mix_by_code[code]
            value = mix_intensity(src, factors)
            row.update(carbon_intensity=f"{value:.1f}", method="derived", source=mix_source(src, factors, value),
                       year=src["year"], accessed=src["accessed"])
        else:
            out.append(row)
            continue
        row.update(basis_emissions="direct", basis_grid="generation")
        out.append(row)
    return out


def provider_band() -> tuple[float, int, int, float]:
    """Median relative change of a region's published figure from one year's file to the next."""
    _, rows = read("provider_intensity_history.csv")
    series: dict[tuple[str, str], dict[int, float]] = {}
    for r in rows:
        series.setdefault((r["provider"], r["region"]), {})[int(r["year"])] = float(r["intensity"])
    changes = [abs(ys[y] / ys[y - 1] - 1) for ys in series.values() for y in ys if y - 1 in ys and ys[y - 1] > 0]
    quartiles = statistics.quantiles(changes, n=4)
    return statistics.median(changes), len(changes), len(series), quartiles[2]


def rebuild_constants(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    median, pairs, regions, p75 = provider_band()
    out = []
    for row in rows:
        row = dict(row)
        if row["name"] == PROVIDER_BAND:
            row["value"] = f"{median:.3f}"
            row["source"] = (
                f"Derived: median relative year-to-year change of Google's published per-region grid intensity, "
                f"{pairs} consecutive-year pairs over {regions} regions in GoogleCloudPlatform/region-carbon-info "
                f"data/yearly/2021..2025.csv (same 'operational gross emissions' basis; the 2019-2020 files are "
                f"lifecycle and left out), recorded in data/provider_intensity_history.csv; median {median:.4f}, "
                f"75th percentile {p75:.4f}; scripts/data/derive_grids.py")
        out.append(row)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    stale = []
    for name, rebuild in (("grids.csv", rebuild_grids), ("constants.csv", rebuild_constants)):
        fields, rows = read(name)
        new = rebuild(rows)
        if new == rows:
            continue
        if args.check:
            changed = [r.get("code") or r.get("name") for r, n in zip(rows, new, strict=True) if r != n]
            stale.append(f"{name}: {len(changed)} rows differ from the recorded figures, e.g. {changed[:5]}")
        else:
            write(name, fields, new)
    for line in stale:
        print(line, file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
