"""Resolve a :class:`JobSpec` into a :class:`Job`: choose every factor and keep its source.

The order of preference is DESIGN.md's: measured power, else the job's ``power_w``, else TDP × utilisation;
the job's own PUE and intensity, else the region's published figure, else the grid of its state or country,
else the world average — each fallback recorded as a guess so that advice can say what to measure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ci_carbon.core import tables
from ci_carbon.core.model import Bounds, Factor, Job, JobSpec, Notice
from ci_carbon.core.names import nearest, normalise, suggestion
from ci_carbon.errors import InputError, InputProblem

HOURS_PER_YEAR = 8760.0  # 365 × 24: amortisation periods are given in years


def const(name: str) -> tables.Constant:
    return tables.constants()[name]


def _factor(c: tables.Constant, label: str | None = None) -> Factor:
    return Factor(label or c.name, c.value, c.unit, c.source, c.year)


@dataclass
class _Draft:
    """What resolution has decided so far for one job; turned into a frozen Job at the end."""

    spec: JobSpec
    problems: list[InputProblem] = field(default_factory=list)
    factors: list[Factor] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    guessed: list[str] = field(default_factory=list)

    def problem(self, name: str, message: str, options: list[str] | None = None) -> None:
        origin = self.spec.origin
        self.problems.append(
            InputProblem(origin.file, origin.line_of(name), origin.field(name), message, suggestion(options or []))
        )

    def notice(self, code: str, **params: object) -> None:
        self.notices.append(Notice(code, params))


# --- hardware -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Hardware:
    label: str
    device_id: str | None
    kind: str
    tdp_w: float
    count: int
    instance: tables.Instance | None


def _lookup_device(draft: _Draft, name: str) -> tuple[str, str, float] | None:
    """(label, device id or cpu id, TDP) for a device name; the kind is read from the table it matched."""
    key = normalise(name)
    dev_id = tables.device_index().get(key)
    if dev_id is None and key in tables.device_families():
        dev_id, why = tables.device_families()[key]
        draft.notice("assumed_variant", written=name, device=tables.devices()[dev_id].name, why=why)
        draft.guessed.append("hardware")
    if dev_id is not None:
        dev = tables.devices()[dev_id]
        draft.factors.append(Factor(f"TDP {dev.name}", dev.tdp_w, "W", dev.source, dev.year))
        return dev.name, dev.id, dev.tdp_w
    cpu_id = tables.cpu_index().get(key)
    if cpu_id is not None:
        cpu = tables.cpus()[cpu_id]
        draft.factors.append(Factor(f"TDP {cpu.name}", cpu.tdp_w, "W", cpu.source, cpu.year))
        return cpu.name, cpu.id, cpu.tdp_w
    names = {k: tables.devices()[v].name for k, v in tables.device_index().items()}
    names.update({k: tables.devices()[v].name for k, (v, _) in tables.device_families().items()})
    draft.problem("hardware", f"unknown hardware '{name}'; `ci-carbon hardware` lists the names",
                  nearest(name, names))
    return None


def _lookup_instance(draft: _Draft, name: str) -> tables.Instance | None:
    rows = tables.instances().get(normalise(name), [])
    provider = (draft.spec.provider or "").lower()
    if provider:
        rows = [r for r in rows if r.provider == provider]
    if len(rows) == 1:
        return rows[0]
    if len(rows) > 1:
        draft.problem("instance_type", f"instance type '{name}' exists at several providers; set provider",
                      sorted(r.provider for r in rows))
        return None
    names = {k: v[0].instance_type for k, v in tables.instances().items()}
    draft.problem("instance_type", f"unknown instance type '{name}'", nearest(name, names))
    return None


def _hardware(draft: _Draft) -> _Hardware | None:
    spec = draft.spec
    inst = _lookup_instance(draft, spec.instance_type) if spec.instance_type else None
    if spec.instance_type and inst is None:
        return None
    if inst is not None:
        draft.factors.append(Factor(f"Instance {inst.instance_type}: {inst.device_id}", inst.device_count,
                                    "devices", inst.source, inst.year))
    wanted = spec.hardware or (inst.device_id if inst else None)
    if wanted is None:
        draft.problem("hardware", "give hardware (with count) or instance_type")
        return None
    found = _lookup_device(draft, wanted)
    if found is None:
        return None
    label, dev_id, tdp = found
    if inst is not None and dev_id != inst.device_id:
        draft.problem("hardware", f"'{spec.hardware}' does not match instance type {inst.instance_type} "
                                  f"({inst.device_id}); remove one of them")
        return None
    kind = tables.devices()[dev_id].kind if dev_id in tables.devices() else "cpu"
    count = spec.count or (inst.device_count if inst else 1)
    return _Hardware(label, dev_id, kind, tdp, count, inst)


def _device_power(draft: _Draft, hw: _Hardware) -> tuple[float, str, Bounds]:
    spec = draft.spec
    if spec.measured_power_w is not None:
        rel = const("power_relative_uncertainty_measured")
        draft.factors.append(_factor(rel))
        return spec.measured_power_w, "measured", Bounds(1 - rel.value, 1 + rel.value)
    if spec.power_w is not None:
        rel = const("power_relative_uncertainty_reported")
        draft.factors.append(_factor(rel))
        return spec.power_w, "reported", Bounds(1 - rel.value, 1 + rel.value)
    if spec.utilization is not None:
        rel = const("power_relative_uncertainty_utilization")
        draft.factors.append(_factor(rel))
        high = min(1 + rel.value, 1 / spec.utilization)
        return hw.tdp_w * spec.utilization, "tdp", Bounds(1 - rel.value, high)
    low = const("gpu_power_fraction_low")
    draft.factors.append(_factor(low))
    draft.guessed.append("utilization")
    return hw.tdp_w, "tdp", Bounds(low.value, 1.0)


def _host_power(draft: _Draft, hw: _Hardware) -> tuple[float, float]:
    """(CPU W, memory W). Instance vCPUs are hardware threads; a user's cpu_count is cores (Green Algorithms)."""
    spec, inst = draft.spec, hw.instance
    cpu_name = spec.cpu or (inst.cpu_id if inst and inst.cpu_id else None)
    cpu_id = tables.cpu_index().get(normalise(cpu_name)) if cpu_name else None
    if cpu_name and cpu_id is None:
        names = {k: tables.cpus()[v].name for k, v in tables.cpu_index().items()}
        draft.problem("cpu", f"unknown CPU '{cpu_name}'", nearest(cpu_name, names))
        return 0.0, 0.0
    cpu = tables.cpus()[cpu_id or "generic-cpu"]
    cpu_w = 0.0
    if spec.cpu_count is not None:
        cpu_w = spec.cpu_count * cpu.w_per_core
    elif inst is not None:
        cpu_w = inst.vcpus * cpu.tdp_w / cpu.threads
    elif hw.kind != "cpu":
        draft.guessed.append("cpu")
    if cpu_w:
        draft.factors.append(Factor(f"TDP {cpu.name} ({cpu.cores} cores)", cpu.tdp_w, "W", cpu.source, cpu.year))
    memory_gb = spec.memory_gb if spec.memory_gb is not None else (inst.memory_gb if inst else 0.0)
    mem_w = 0.0
    if memory_gb:
        per_gb = const("memory_w_per_gb")
        draft.factors.append(_factor(per_gb))
        mem_w = memory_gb * per_gb.value
    return cpu_w, mem_w


# --- location -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Place:
    label: str
    provider: str | None
    region: str | None
    country: str | None
    continent: str | None
    intensity: float
    intensity_bounds: Bounds
    region_pue: tables.Region | None


def _aged(draft: _Draft, rel: float, year: int) -> Bounds:
    """Widen a relative half-width by the intensity data's age against the newest year in the tables."""
    per_year = const("grid_intensity_uncertainty_per_year")
    age = max(0, tables.newest_intensity_year() - year)
    if age:
        draft.factors.append(_factor(per_year))
    half = rel + per_year.value * age
    return Bounds(max(0.0, 1 - half), 1 + half)


def _grid_place(draft: _Draft, grid: tables.Grid, provider: str | None = None, region: str | None = None,
                label: str | None = None) -> _Place:
    kind = {"world": "world", "country": "country"}.get(grid.kind, "subnational")
    rel = const(f"grid_intensity_relative_uncertainty_{kind}")
    draft.factors.append(Factor(f"Grid carbon intensity {grid.name}", grid.carbon_intensity, "gCO2eq/kWh",
                                grid.source, grid.year))
    country = grid.parent or (grid.code if grid.kind == "country" else None)
    continent = grid.continent or (tables.grids()[country].continent if country in tables.grids() else None)
    return _Place(label or grid.name, provider, region, country, continent or None, grid.carbon_intensity,
                  _aged(draft, rel.value, grid.year), None)


def _world(draft: _Draft, provider: str | None = None) -> _Place:
    draft.guessed.append("location")
    return _grid_place(draft, tables.grids()["WORLD"], provider=provider)


def _country_place(draft: _Draft) -> _Place | None:
    spec = draft.spec
    written = spec.country.strip().upper()
    code, _, sub = written.partition("-")
    if spec.state:
        sub = spec.state.strip().upper()
    code = tables.alpha3_index().get(code, code)
    grid = tables.grids().get(f"{code}-{sub}" if sub else code)
    if grid is None and sub:
        field_name = "state" if spec.state else "country"
        draft.problem(field_name, f"no grid data for '{code}-{sub}'", _grid_names(f"{code}-{sub}", code))
        return None
    if grid is None or grid.kind == "world":
        draft.problem("country", f"unknown country '{spec.country}' (ISO 3166 alpha-2 or alpha-3)",
                      _grid_names(written))
        return None
    return _grid_place(draft, grid)


def _grid_names(written: str, parent: str | None = None) -> list[str]:
    names = {normalise(g.code): g.code for g in tables.grids().values() if not parent or g.parent == parent}
    names.update({normalise(g.name): g.code for g in tables.grids().values() if not parent or g.parent == parent})
    return nearest(written, names)


def _region_place(draft: _Draft, provider: str) -> _Place | None:
    spec = draft.spec
    row = tables.regions().get((provider, spec.region.strip().lower()))
    if row is None:
        names = {normalise(r.region): r.region for (p, _), r in tables.regions().items() if p == provider}
        draft.problem("region", f"unknown {provider} region '{spec.region}'; `ci-carbon regions {provider}` "
                                f"lists them", nearest(spec.region, names))
        return None
    label = f"{provider} {row.region} ({row.name})"
    if row.carbon_intensity is not None:
        rel = const("grid_intensity_relative_uncertainty_provider")
        draft.factors.append(Factor(f"Grid carbon intensity {provider} {row.region}", row.carbon_intensity,
                                    "gCO2eq/kWh", row.source, row.year))
        continent = tables.grids()[row.country].continent if row.country in tables.grids() else None
        return _Place(label, provider, row.region, row.country, continent, row.carbon_intensity,
                      _aged(draft, rel.value, row.year), row)
    grid = tables.grids().get(row.subdivision) or tables.grids().get(row.country)
    if grid is None:
        return _world(draft, provider)
    place = _grid_place(draft, grid, provider, row.region, label)
    return _Place(place.label, provider, row.region, row.country, place.continent, place.intensity,
                  place.intensity_bounds, row)


def _provider(draft: _Draft) -> str | None:
    spec = draft.spec
    if spec.provider:
        key = spec.provider.strip().lower()
        if key not in tables.providers():
            names = {normalise(p): p for p in tables.providers()}
            draft.problem("provider", f"unknown provider '{spec.provider}'", nearest(spec.provider, names))
            return None
        return key
    if spec.region:
        owners = sorted({p for (p, r) in tables.regions() if r == spec.region.strip().lower()})
        if len(owners) == 1:
            return owners[0]
        draft.problem("provider", f"region '{spec.region}' needs a provider", owners)
    return None


def _place(draft: _Draft, provider: str | None) -> _Place | None:
    spec = draft.spec
    if spec.carbon_intensity is not None:
        draft.factors.append(Factor("Carbon intensity given for the job", spec.carbon_intensity, "gCO2eq/kWh",
                                    spec.origin.file, 0))
        return _Place(f"{spec.carbon_intensity:g} gCO2eq/kWh", provider, spec.region, None, None,
                      spec.carbon_intensity, Bounds(), None)
    if spec.region and provider:
        return _region_place(draft, provider)
    if spec.country:
        return _country_place(draft)
    return _world(draft, provider)


def _pue(draft: _Draft, provider: str | None, place: _Place) -> tuple[float, Bounds]:
    spec = draft.spec
    if spec.pue is not None:
        draft.factors.append(Factor("PUE given for the job", spec.pue, "ratio", spec.origin.file, 0))
        return spec.pue, Bounds()
    published = const("pue_relative_uncertainty_published")
    row = place.region_pue
    if row is not None and row.pue is not None:
        draft.factors.append(Factor(f"PUE {row.provider} {row.region}", row.pue, "ratio", row.pue_source,
                                    row.pue_year))
        draft.factors.append(_factor(published))
        return row.pue, Bounds(1 - published.value, 1 + published.value)
    prov = tables.providers().get(provider or "")
    if prov is not None and prov.pue is not None:
        draft.factors.append(Factor(f"PUE {prov.name}", prov.pue, "ratio", prov.pue_source, prov.pue_year))
        draft.factors.append(_factor(published))
        return prov.pue, Bounds(1 - published.value, 1 + published.value)
    default, rel = const("pue_default"), const("pue_relative_uncertainty_default")
    draft.factors.extend([_factor(default), _factor(rel)])
    draft.guessed.append("pue")
    return default.value, Bounds(max(1.0 / default.value, 1 - rel.value), 1 + rel.value)


def _matching(draft: _Draft, provider: str | None) -> float:
    prov = tables.providers().get(provider or "")
    if prov is None or prov.renewable_matching is None:
        return 0.0
    draft.factors.append(Factor(f"Renewable matching {prov.name}", prov.renewable_matching, "share",
                                prov.matching_source, prov.matching_year))
    return prov.renewable_matching


def _embodied(draft: _Draft, hw: _Hardware) -> float:
    rows = tables.embodied()
    row = rows.get(hw.device_id or "") or rows.get(hw.kind)
    if row is None:
        return 0.0
    draft.factors.append(Factor(f"Embodied emissions per device ({row.applies_to}), {row.lifetime_years:g}-year "
                                f"life", row.kg_co2e, "kgCO2eq", row.source, row.year))
    return row.kg_co2e / (row.lifetime_years * HOURS_PER_YEAR)


# --- the job --------------------------------------------------------------------------------------------------


def resolve(spec: JobSpec) -> Job:
    """Choose every factor for one job; raise InputError listing every problem found in it."""
    draft = _Draft(spec)
    hw = _hardware(draft)
    provider = _provider(draft)
    if provider is None and hw is not None and hw.instance is not None:
        provider = hw.instance.provider
    place = _place(draft, provider) if not draft.problems else None
    if draft.problems or hw is None or place is None:
        raise InputError(draft.problems)
    power_w, method, power_bounds = _device_power(draft, hw)
    cpu_w, mem_w = _host_power(draft, hw)
    pue, pue_bounds = _pue(draft, provider, place)
    if draft.problems:
        raise InputError(draft.problems)
    host_low = const("host_power_fraction_low")
    if cpu_w or mem_w:
        draft.factors.append(_factor(host_low))
    device_hours = spec.device_hours if spec.device_hours is not None else spec.hours * hw.count
    hours = spec.hours if spec.hours is not None else spec.device_hours / hw.count
    for code in dict.fromkeys(draft.guessed):
        if code != "hardware":  # the assumed_variant notice already says what was assumed
            draft.notice(f"guessed_{code}")
    return Job(
        spec=spec, hardware=hw.label, device_id=hw.device_id, device_kind=hw.kind, count=hw.count, hours=hours,
        device_hours=device_hours, runs=spec.runs, device_power_w=power_w, method=method,
        power_bounds=power_bounds, cpu_power_w=cpu_w, memory_power_w=mem_w,
        host_bounds=Bounds(host_low.value, 1.0), pue=pue, pue_bounds=pue_bounds,
        carbon_intensity=place.intensity, intensity_bounds=place.intensity_bounds, location=place.label,
        provider=provider, region=place.region, country=place.country, continent=place.continent,
        renewable_matching=_matching(draft, provider), embodied_kg_per_device_hour=_embodied(draft, hw),
        factors=tuple(dict.fromkeys(draft.factors)), notices=tuple(draft.notices),
        guessed=tuple(dict.fromkeys(draft.guessed)),
    )


def resolve_all(specs: list[JobSpec]) -> list[Job]:
    """Resolve every job, collecting the problems of all of them before failing."""
    jobs: list[Job] = []
    problems: list[InputProblem] = []
    for spec in specs:
        try:
            jobs.append(resolve(spec))
        except InputError as err:
            problems.extend(err.problems)
    if problems:
        raise InputError(problems)
    return jobs
