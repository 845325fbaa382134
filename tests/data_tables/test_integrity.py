"""Integrity of data/: every row sourced and dated, units sane, names unique, references resolve."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pytest

from ci_carbon.core import tables
from ci_carbon.core.names import normalise

DATA = Path(__file__).resolve().parents[2] / "data"
TABLES = sorted(p.name for p in DATA.glob("*.csv"))
NUMERIC_SOURCE = {  # numeric column → the (source, year) columns that cite it
    "regions.csv": {"pue": ("pue_source", "pue_year"),
                    "provider_intensity": ("provider_intensity_source", "provider_intensity_year"),
                    "cfe_share": ("market_source", "market_year")},
    "providers.csv": {"pue": ("pue_source", "pue_year"),
                      "renewable_matching": ("matching_source", "matching_year")},
    "grids.csv": {"carbon_intensity": ("source", "year"),
                  "lifecycle_intensity": ("lifecycle_source", "lifecycle_year")},
    "residual_mixes.csv": {"residual_intensity": ("source", "year")},
    "devices.csv": {"tdp_w": ("source", "year"), "idle_w": ("idle_source", "idle_year")},
}
ROW_SOURCE_OPTIONAL = {"providers.csv", "residual_mixes.csv"}  # their numbers carry their own citations
UNSOURCED = {"device_families.csv"}  # maps names to device ids; holds no numbers


def rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("name", TABLES)
def test_every_row_is_sourced_and_dated(name: str):
    if name in UNSOURCED:
        return
    cited = NUMERIC_SOURCE.get(name, {})
    for i, row in enumerate(rows(name), start=2):
        assert None not in row and None not in row.values(), f"{name}:{i}: wrong number of fields"
        if name not in ROW_SOURCE_OPTIONAL:
            assert row["source"].strip(), f"{name}:{i}: no source"
            assert re.fullmatch(r"(19|20)\d\d", row["year"]), f"{name}:{i}: year {row['year']!r}"
        for column, (src, year) in cited.items():
            if row[column].strip():
                assert row[src].strip(), f"{name}:{i}: {column} has no {src}"
                assert re.fullmatch(r"(19|20)\d\d", row[year]), f"{name}:{i}: {year} {row[year]!r}"


def test_devices_cover_the_required_range():
    devs = tables.devices()
    assert len(devs) + len(tables.cpus()) >= 60
    required = ["p100-pcie-16gb", "v100-sxm2-16gb", "v100-pcie-32gb", "a100-sxm4-80gb", "a100-pcie-80gb",
                "h100-sxm5-80gb", "h100-pcie-80gb", "h200-sxm-141gb", "b200", "t4", "l4", "a10", "a10g", "l40s",
                "rtx-3090", "rtx-4090", "mi250x", "mi300x", "tpu-v2", "tpu-v3", "tpu-v4", "tpu-v5e", "tpu-v5p"]
    assert [r for r in required if r not in devs] == []


@pytest.mark.parametrize("device", tables.devices().values(), ids=lambda d: d.id)
def test_device_units_are_sane(device):
    assert 10 <= device.tdp_w <= 1500
    for tflops in (device.fp32_tflops, device.fp16_tflops):
        assert tflops is None or (0.1 <= tflops <= 5000 and math.isfinite(tflops))
    if device.fp32_tflops and device.fp16_tflops:
        assert device.fp16_tflops >= device.fp32_tflops * 0.9, "dense FP16 tensor peak below FP32?"
    assert device.memory_gb is None or 1 <= device.memory_gb <= 512
    assert device.kind in {"gpu", "tpu", "accelerator"}
    assert device.segment in {"datacenter", "workstation", "consumer"}


def test_names_are_unique_after_normalising():
    seen: dict[str, str] = {}
    for dev in tables.devices().values():
        for name in {normalise(n) for n in (dev.id, dev.name, *dev.aliases)}:
            assert name not in seen, f"{name!r} names both {seen[name]} and {dev.id}"
            seen[name] = dev.id
    for cpu in tables.cpus().values():
        for name in {normalise(n) for n in (cpu.id, cpu.name, *cpu.aliases)}:
            assert name not in seen, f"{name!r} names both {seen[name]} and {cpu.id}"
            seen[name] = cpu.id
    for family, (device_id, _) in tables.device_families().items():
        assert family not in seen, f"family {family!r} is also an exact name"
        assert device_id in tables.devices()


def test_nvidia_smi_names_resolve():
    index = tables.device_index()
    expected = {"Tesla V100-SXM2-16GB": "v100-sxm2-16gb", "NVIDIA A100-SXM4-80GB": "a100-sxm4-80gb",
                "A100 SXM4 80GB": "a100-sxm4-80gb", "NVIDIA H100 80GB HBM3": "h100-sxm5-80gb",
                "Tesla T4": "t4", "NVIDIA A10G": "a10g", "NVIDIA GeForce RTX 4090": "rtx-4090"}
    assert {name: index.get(normalise(name)) for name in expected} == expected


def test_cpus_are_sane():
    assert "generic-cpu" in tables.cpus()
    for cpu in tables.cpus().values():
        assert 1 <= cpu.cores <= cpu.threads <= 1024
        assert 1 <= cpu.w_per_core <= 60, cpu.id


def test_grids_cover_countries_states_provinces():
    grids = list(tables.grids().values())
    countries = [g for g in grids if g.kind == "country"]
    assert len(countries) >= 200
    assert len({g.alpha3 for g in countries}) == len(countries)
    assert all(re.fullmatch(r"[A-Z]{2}", g.code) and re.fullmatch(r"[A-Z]{3}", g.alpha3) for g in countries)
    assert len([g for g in grids if g.kind == "us-state"]) == 51
    assert {"CA-QC", "CA-ON", "CA-AB", "CA-BC"} <= {g.code for g in grids if g.kind == "ca-province"}
    assert [g.code for g in grids if g.kind == "world"] == ["WORLD"]
    for g in grids:
        assert 0 <= g.carbon_intensity <= 1400, g.code  # Turkmenistan's lifecycle figure is 1,306 (Ember)
        assert g.kind == "world" or g.continent in {"AF", "AS", "EU", "NA", "OC", "SA", "AN"}


def test_regions_and_providers():
    regions = tables.regions()
    assert len(regions) >= 100
    assert {p for p, _ in regions} >= {"aws", "gcp", "azure"}
    for (provider, _), row in regions.items():
        assert provider in tables.providers()
        assert row.country in tables.grids(), row
        assert not row.subdivision or row.subdivision in tables.grids(), row
        assert row.carbon_intensity is None or 0 <= row.carbon_intensity <= 1300
        assert row.cfe_share is None or 0 <= row.cfe_share <= 1
        assert row.pue is None or 1.0 <= row.pue <= 2.5
    for prov in tables.providers().values():
        assert prov.pue is None or 1.0 <= prov.pue <= 2.5
        assert prov.renewable_matching is None or 0 <= prov.renewable_matching <= 1


def test_instances_reference_known_devices_and_cpus():
    rows_ = [i for rs in tables.instances().values() for i in rs]
    assert len(rows_) >= 50
    for inst in rows_:
        assert inst.device_id in tables.devices(), inst
        assert not inst.cpu_id or inst.cpu_id in tables.cpus(), inst
        assert 1 <= inst.device_count <= 64 and inst.vcpus >= 1 and inst.memory_gb > 0
        assert inst.provider in tables.providers()


def test_constants_the_estimate_needs():
    needed = {"memory_w_per_gb", "pue_default", "gpu_power_fraction_low", "sweep_budget_fraction",
              "power_relative_uncertainty_measured", "power_relative_uncertainty_measured_partial_sampling",
              "power_relative_uncertainty_reported",
              "power_relative_uncertainty_utilization", "grid_intensity_uncertainty_per_year",
              "pue_relative_uncertainty_published", "pue_relative_uncertainty_default", "host_power_fraction_low",
              "grid_intensity_relative_uncertainty_country", "grid_intensity_relative_uncertainty_subnational",
              "grid_intensity_relative_uncertainty_provider", "grid_intensity_relative_uncertainty_world"}
    assert needed <= set(tables.constants())
    for c in tables.constants().values():
        assert math.isfinite(c.value) and c.value >= 0


def test_embodied_and_equivalents():
    for row in tables.embodied().values():
        assert row.applies_to in tables.devices() or row.applies_to in {"gpu", "tpu", "accelerator"}
        assert 10 <= row.kg_co2e <= 5000 and 1 <= row.lifetime_years <= 10
    assert {"gpu", "tpu", "accelerator"} <= set(tables.embodied())
    ids = set(tables.equivalents())
    assert {"car_km", "tree_seedling_10yr", "smartphone_charge", "flight_london_new_york"} <= ids
