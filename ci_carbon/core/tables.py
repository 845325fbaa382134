"""The curated factor tables in data/, loaded once and indexed for lookups.

Each CSV row carries its own source and year; the loaders keep them beside the numbers so that every factor
the estimate uses can be reported with its provenance. Loading is lazy and cached: a report touches each table
once, and the manifest path imports nothing heavier than :mod:`csv`.
"""

from __future__ import annotations

import csv
import os
from functools import cache
from typing import NamedTuple

from ci_carbon.core.names import normalise
from ci_carbon.resources import data_dir


def _rows(name: str) -> list[dict[str, str]]:
    with open(os.path.join(data_dir(), name), encoding="utf-8", newline="") as handle:
        return [row for row in csv.DictReader(handle) if any(v.strip() for v in row.values() if v)]


def _num(text: str | None) -> float | None:
    text = (text or "").strip()
    return float(text) if text else None


def _year(text: str | None) -> int:
    text = (text or "").strip()
    return int(text) if text else 0


def _yes(text: str | None) -> bool:
    """The tables' booleans are written yes/no."""
    return (text or "").strip().lower() == "yes"


class Device(NamedTuple):
    id: str
    name: str
    vendor: str
    kind: str
    segment: str
    tdp_w: float
    fp32_tflops: float | None
    fp16_tflops: float | None
    memory_gb: float | None
    aliases: tuple[str, ...]
    source: str
    year: int
    form_factor: str = ""
    training_class: bool = False  # a datacenter part its vendor positions for training
    system_class: str = ""  # accelerator-cluster | tpu-pod | neuron-cluster | pcie-server | workstation
    interconnect: str = ""
    smi_devices: int = 1  # devices nvidia-smi/rocm-smi lists per row (2 GCDs for one MI250/MI250X module)
    smi_power_sampled: float | None = None  # share of runtime the built-in power sensor averages, where studied
    idle_w: float | None = None
    idle_source: str = ""
    idle_year: int = 0
    spec_source: str = ""  # the source of the TFLOPS and memory figures when it is not `source`
    spec_year: int = 0
    accessed: str = ""


class Cpu(NamedTuple):
    id: str
    name: str
    cores: int
    threads: int
    tdp_w: float
    aliases: tuple[str, ...]
    source: str
    year: int
    accessed: str = ""

    @property
    def w_per_core(self) -> float:
        return self.tdp_w / self.cores


class Grid(NamedTuple):
    """One grid's location-based factor. ``carbon_intensity`` is the headline, on one basis for every row."""

    code: str
    alpha3: str
    name: str
    kind: str
    parent: str
    continent: str
    carbon_intensity: float
    source: str
    year: int
    basis_emissions: str = "direct"  # direct (combustion at the plant) | lifecycle (upstream included)
    basis_grid: str = "generation"  # generation (per kWh generated in the grid) | consumption (imports traced)
    method: str = ""  # published (the source prints the figure) | derived (mix x per-fuel factors, see source)
    accessed: str = ""
    lifecycle_intensity: float | None = None  # Ember's lifecycle figure beside it, where published
    lifecycle_source: str = ""
    lifecycle_year: int = 0


class Region(NamedTuple):
    """A cloud region: where it is, the grid row it sits on, and what the provider itself publishes for it.

    ``carbon_intensity`` is kept for callers written before the grid column existed and is always None: the
    location-based factor comes from ``grid`` (the same grid row whatever provider name a job uses). The
    provider's own figure, on its own basis, is ``provider_intensity``.
    """

    provider: str
    region: str
    name: str
    country: str
    subdivision: str
    carbon_intensity: float | None
    cfe_share: float | None
    pue: float | None
    source: str
    year: int
    pue_source: str
    pue_year: int
    grid: str = ""
    accessed: str = ""
    pue_accessed: str = ""
    provider_intensity: float | None = None
    provider_intensity_emissions: str = ""
    provider_intensity_grid: str = ""
    provider_intensity_source: str = ""
    provider_intensity_year: int = 0
    market_instrument: str = "none"  # hourly-cfe | annual-match-listed | none
    market_boundary: str = "none"  # within | unverified | none
    market_source: str = ""
    market_year: int = 0
    market_accessed: str = ""


class Provider(NamedTuple):
    provider: str
    name: str
    pue: float | None
    pue_source: str
    pue_year: int
    renewable_matching: float | None
    matching_source: str
    matching_year: int
    matching_scope: str = ""  # global-annual: a company-wide annual claim, never a per-region instrument
    pue_accessed: str = ""
    matching_accessed: str = ""


class ResidualMix(NamedTuple):
    """The published residual mix of a grid's market, or why there is none in the tables."""

    grid: str
    residual_intensity: float | None
    emissions: str
    publisher: str
    status: str  # recorded | not-recorded (published, value not in the tables) | unknown
    source: str
    year: int
    accessed: str


class FuelFactor(NamedTuple):
    fuel: str
    emissions: str
    g_per_kwh: float
    derivation: str
    source: str
    year: int
    accessed: str


class GridMix(NamedTuple):
    """Generation by fuel behind a derived grid row (TWh, or per cent of generation)."""

    code: str
    year: int
    unit: str
    generation: dict[str, float]
    total: float
    source: str
    accessed: str


class IntensityHistory(NamedTuple):
    provider: str
    region: str
    year: int
    intensity: float
    cfe_share: float | None
    basis_emissions: str
    basis_grid: str
    source: str
    accessed: str


class Instance(NamedTuple):
    provider: str
    instance_type: str
    device_id: str
    device_count: int
    vcpus: int
    memory_gb: float  # GB (10^9 bytes); AWS and Azure publish GiB, converted
    cpu_id: str
    source: str
    year: int
    memory_as_published: float | None = None
    memory_unit: str = ""
    vcpu_is_core: bool = False  # one vCPU is one physical core (SMT off), not one hardware thread
    cpu_source: str = ""
    accessed: str = ""


class Constant(NamedTuple):
    name: str
    value: float
    unit: str
    source: str
    year: int
    accessed: str = ""


class Host(NamedTuple):
    """The typical host of a device (or of a device class) when a job says nothing about its host."""

    applies_to: str  # a device id, or a system class (accelerator-cluster, pcie-server, ...)
    system: str
    devices_per_host: int
    cpu_id: str  # empty where the host CPU is part of the device (GH200)
    cpu_sockets: int | None
    vcpus: int  # hardware threads, or cores where vcpu_is_core
    vcpu_is_core: bool
    memory_gb: float
    derived_from: str  # "provider:instance_type" for rows derived from instances.csv
    source: str
    year: int
    accessed: str
    note: str


class Availability(NamedTuple):
    """A provider region (and its zones) that offers a device, through an instance type where one is named."""

    provider: str
    region: str
    device_id: str
    instance_type: str  # empty where the device is offered by itself (TPUs)
    zones: tuple[str, ...]
    source: str
    year: int
    accessed: str


class TrainingEfficiency(NamedTuple):
    """Measured energy to train a benchmark on one system (MLPerf Training power results)."""

    device_id: str
    benchmark: str
    mlperf_round: str
    submitter: str
    system: str
    nodes: int
    accelerators: int
    runs: int
    time_to_train_min: float
    energy_j: float
    energy_per_accelerator_j: float
    measurement: str
    source: str
    year: int
    accessed: str
    note: str


class Embodied(NamedTuple):
    applies_to: str
    kg_co2e: float
    lifetime_years: float
    source: str
    year: int


def _aliases(text: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in (text or "").split(";") if a.strip())


@cache
def devices() -> dict[str, Device]:
    out: dict[str, Device] = {}
    for r in _rows("devices.csv"):
        out[r["id"]] = Device(
            r["id"], r["name"], r["vendor"], r["kind"], r["segment"], float(r["tdp_w"]),
            _num(r["fp32_tflops"]), _num(r["fp16_tflops"]), _num(r["memory_gb"]),
            _aliases(r["aliases"]), r["source"], _year(r["year"]), r["form_factor"], _yes(r["training_class"]),
            r["system_class"], r["interconnect"], int(r["smi_devices"] or 1), _num(r["smi_power_sampled"]),
            _num(r["idle_w"]), r["idle_source"], _year(r["idle_year"]), r["spec_source"], _year(r["spec_year"]),
            r["accessed"],
        )
    return out


@cache
def device_index() -> dict[str, str]:
    """Normalised id, name and alias → device id."""
    index: dict[str, str] = {}
    for dev in devices().values():
        for key in (dev.id, dev.name, *dev.aliases):
            index[normalise(key)] = dev.id
    return index


@cache
def device_families() -> dict[str, tuple[str, str]]:
    """Normalised ambiguous family name ('A100') → (assumed device id, why)."""
    return {normalise(r["family"]): (r["device_id"], r["note"]) for r in _rows("device_families.csv")}


@cache
def device_family_candidates() -> dict[str, tuple[str, ...]]:
    """Normalised ambiguous family name → every device it may be (the assumed one first)."""
    out: dict[str, tuple[str, ...]] = {}
    for r in _rows("device_families.csv"):
        others = [d for d in _aliases(r["candidates"]) if d != r["device_id"]]
        out[normalise(r["family"])] = (r["device_id"], *others)
    return out


@cache
def cpus() -> dict[str, Cpu]:
    return {
        r["id"]: Cpu(r["id"], r["name"], int(r["cores"]), int(r["threads"]), float(r["tdp_w"]),
                     _aliases(r["aliases"]), r["source"], _year(r["year"]), r["accessed"])
        for r in _rows("cpus.csv")
    }


@cache
def cpu_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for cpu in cpus().values():
        for key in (cpu.id, cpu.name, *cpu.aliases):
            index[normalise(key)] = cpu.id
    return index


@cache
def grids() -> dict[str, Grid]:
    """Upper-case code (alpha-2, ISO 3166-2 subdivision, US-<eGRID subregion>, WORLD) → grid."""
    return {
        r["code"].upper(): Grid(r["code"].upper(), r["alpha3"].upper(), r["name"], r["kind"], r["parent"].upper(),
                                r["continent"].upper(), float(r["carbon_intensity"]), r["source"], _year(r["year"]),
                                r.get("basis_emissions", ""), r.get("basis_grid", ""), r.get("method", ""),
                                r.get("accessed", ""), _num(r.get("lifecycle_intensity")),
                                r.get("lifecycle_source", ""),
                                _year(r.get("lifecycle_year")))
        for r in _rows("grids.csv")
    }


@cache
def alpha3_index() -> dict[str, str]:
    return {g.alpha3: g.code for g in grids().values() if g.alpha3}


@cache
def regions() -> dict[tuple[str, str], Region]:
    return {
        (r["provider"].lower(), r["region"].lower()): Region(
            r["provider"].lower(), r["region"], r["name"], r["country"].upper(), r["subdivision"].upper(),
            _num(r.get("carbon_intensity")), _num(r["cfe_share"]), _num(r["pue"]), r["source"], _year(r["year"]),
            r.get("pue_source", ""), _year(r.get("pue_year")), r.get("grid", "").upper(), r.get("accessed", ""),
            r.get("pue_accessed", ""), _num(r.get("provider_intensity")), r.get("provider_intensity_emissions", ""),
            r.get("provider_intensity_grid", ""), r.get("provider_intensity_source", ""),
            _year(r.get("provider_intensity_year")), r.get("market_instrument") or "none",
            r.get("market_boundary") or "none", r.get("market_source", ""), _year(r.get("market_year")),
            r.get("market_accessed", ""),
        )
        for r in _rows("regions.csv")
    }


@cache
def providers() -> dict[str, Provider]:
    return {
        r["provider"].lower(): Provider(
            r["provider"].lower(), r["name"], _num(r["pue"]), r["pue_source"], _year(r["pue_year"]),
            _num(r["renewable_matching"]), r["matching_source"], _year(r["matching_year"]),
            r.get("matching_scope", ""), r.get("pue_accessed", ""), r.get("matching_accessed", ""),
        )
        for r in _rows("providers.csv")
    }


@cache
def residual_mixes() -> dict[str, ResidualMix]:
    """Grid code → the residual mix of its market (for the market-based method), or why it is missing."""
    return {
        r["grid"].upper(): ResidualMix(r["grid"].upper(), _num(r["residual_intensity"]), r["emissions"], r["publisher"],
                                       r["status"], r["source"], _year(r["year"]), r["accessed"])
        for r in _rows("residual_mixes.csv")
    }


@cache
def fuel_factors() -> dict[tuple[str, str], FuelFactor]:
    """(fuel, emissions basis) → per-fuel factor used to derive grid rows from their generation mix."""
    return {
        (r["fuel"], r["emissions"]): FuelFactor(r["fuel"], r["emissions"], float(r["g_per_kwh"]), r["derivation"],
                                                r["source"], _year(r["year"]), r["accessed"])
        for r in _rows("fuel_factors.csv")
    }


MIX_FUELS = ("coal", "gas", "oil", "biomass", "nuclear", "hydro", "wind", "solar", "other_renewable")


@cache
def grid_mix() -> dict[str, GridMix]:
    """Grid code → the generation mix a derived grid row was computed from."""
    return {
        r["code"].upper(): GridMix(r["code"].upper(), _year(r["year"]), r["unit"],
                                   {f: float(r[f] or 0) for f in MIX_FUELS}, float(r["total"]), r["source"],
                                   r["accessed"])
        for r in _rows("grid_mix.csv")
    }


@cache
def provider_intensity_history() -> tuple[IntensityHistory, ...]:
    """Every yearly figure a provider published for its regions (the base of the provider intensity band)."""
    return tuple(
        IntensityHistory(r["provider"].lower(), r["region"], _year(r["year"]), float(r["intensity"]),
                         _num(r["cfe_share"]), r["basis_emissions"], r["basis_grid"], r["source"], r["accessed"])
        for r in _rows("provider_intensity_history.csv")
    )


@cache
def instances() -> dict[str, list[Instance]]:
    """Normalised instance type → the providers' rows (a name may exist at several providers)."""
    out: dict[str, list[Instance]] = {}
    for r in _rows("instances.csv"):
        inst = Instance(r["provider"].lower(), r["instance_type"], r["device_id"], int(r["device_count"]),
                        int(float(r["vcpus"])), float(r["memory_gb"]), r.get("cpu_id", ""), r["source"],
                        _year(r["year"]), _num(r["memory_as_published"]), r["memory_unit"],
                        _yes(r["vcpu_is_core"]), r["cpu_source"], r["accessed"])
        out.setdefault(normalise(inst.instance_type), []).append(inst)
    return out


@cache
def constants() -> dict[str, Constant]:
    return {
        r["name"]: Constant(r["name"], float(r["value"]), r["unit"], r["source"], _year(r["year"]), r["accessed"])
        for r in _rows("constants.csv")
    }


@cache
def hosts() -> dict[str, Host]:
    """Device id or system class → its typical host."""
    return {
        r["applies_to"]: Host(
            r["applies_to"], r["system"], int(r["devices_per_host"]), r["cpu_id"],
            int(r["cpu_sockets"]) if r["cpu_sockets"].strip() else None, int(r["vcpus"]), _yes(r["vcpu_is_core"]),
            float(r["memory_gb"]), r["derived_from"], r["source"], _year(r["year"]), r["accessed"], r["note"],
        )
        for r in _rows("hosts.csv")
    }


def typical_host(device_id: str) -> Host | None:
    """The device's own typical host, else its system class's; None for an unknown device."""
    dev = devices().get(device_id)
    if dev is None:
        return None
    return hosts().get(device_id) or hosts().get(dev.system_class)


@cache
def availability() -> tuple[Availability, ...]:
    return tuple(
        Availability(r["provider"].lower(), r["region"], r["device_id"], r["instance_type"], _aliases(r["zones"]),
                     r["source"], _year(r["year"]), r["accessed"])
        for r in _rows("availability.csv")
    )


def regions_offering(provider: str, device_id: str | None = None, instance_type: str | None = None) -> frozenset[str]:
    """The provider's regions that offer the instance type (when given), else the device through any of its rows."""
    provider = provider.lower()
    return frozenset(
        a.region for a in availability()
        if a.provider == provider
        and (normalise(a.instance_type) == normalise(instance_type) if instance_type else a.device_id == device_id)
    )


@cache
def training_efficiency() -> tuple[TrainingEfficiency, ...]:
    return tuple(
        TrainingEfficiency(
            r["device_id"], r["benchmark"], r["mlperf_round"], r["submitter"], r["system"], int(r["nodes"]),
            int(r["accelerators"]), int(r["runs"]), float(r["time_to_train_min"]), float(r["energy_j"]),
            float(r["energy_per_accelerator_j"]), r["measurement"], r["source"], _year(r["year"]), r["accessed"],
            r["note"],
        )
        for r in _rows("training_efficiency.csv")
    )


@cache
def embodied() -> dict[str, Embodied]:
    return {
        r["applies_to"]: Embodied(r["applies_to"], float(r["kg_co2e"]), float(r["lifetime_years"]), r["source"],
                                  _year(r["year"]))
        for r in _rows("embodied.csv")
    }


@cache
def equivalents() -> dict[str, Constant]:
    return {
        r["id"]: Constant(r["id"], float(r["kg_co2e"]), r["per"], r["source"], _year(r["year"]))
        for r in _rows("equivalents.csv")
    }


@cache
def newest_intensity_year() -> int:
    """The reference year for data age: the newest intensity year in the tables (deterministic, not today)."""
    years = [g.year for g in grids().values()] + [r.year for r in regions().values() if r.carbon_intensity]
    return max(years)


@cache
def data_version() -> str:
    """A fingerprint of every table: results written back to runs are recomputed when it changes."""
    import hashlib

    digest = hashlib.sha256()
    for name in sorted(n for n in os.listdir(data_dir()) if n.endswith(".csv")):
        with open(os.path.join(data_dir(), name), "rb") as handle:
            digest.update(name.encode() + b"\0" + handle.read())
    return digest.hexdigest()[:12]
