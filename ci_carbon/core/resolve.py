"""Resolve a :class:`JobSpec` into a :class:`Job`: choose every factor and keep its source.

The order of preference is docs/design.md's: measured power, else the job's ``power_w``, else TDP × utilisation;
the job's own PUE and intensity, else the region's published figure, else the grid of its state or country,
else the world average — each fallback recorded as a guess so that advice can say what to measure.

Each part of a job (its hardware, its place, its host, its power method) depends on a few fields only and
repeats across jobs, so each is resolved once per distinct value (``functools.cache``) into a :class:`_Part`
that carries its factors, notices, guesses and problems; a 10,000-job manifest touches each table a few
dozen times, not 10,000.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cache, lru_cache
from typing import Any, NamedTuple

from ci_carbon.core import tables
from ci_carbon.core.cpu import cpu_power, is_cpu_only
from ci_carbon.core.model import Basis, Bounds, Factor, Job, JobSpec, Market, Notice
from ci_carbon.core.names import nearest, normalise, suggestion
from ci_carbon.errors import InputError, InputProblem

HOURS_PER_YEAR = 8760.0  # 365 × 24: amortisation periods are given in years


def const(name: str) -> tables.Constant:
    return tables.constants()[name]


def _factor(c: tables.Constant) -> Factor:
    return Factor("constant", c.name, c.value, c.unit, c.source, c.year)


class _Part:
    """One resolved part of a job and everything said about it; shared by every job with the same inputs."""

    __slots__ = ("factors", "guessed", "notices", "problems", "value")

    def __init__(self, value: Any = None, factors: list[Factor] | None = None):
        self.value = value
        self.factors: list[Factor] = factors or []
        self.notices: list[Notice] = []
        self.guessed: list[str] = []
        self.problems: list[tuple[str, str, list[str]]] = []  # (field, message, options)

    def problem(self, name: str, message: str, options: list[str] | None = None) -> None:
        self.problems.append((name, message, options or []))

    def notice(self, code: str, **params: object) -> None:
        self.notices.append(Notice(code, params))

    def take(self, other: _Part) -> Any:
        """Adopt another part's factors, notices, guesses and problems; return its value."""
        self.factors += other.factors
        self.notices += other.notices
        self.guessed += other.guessed
        self.problems += other.problems
        return other.value


def _located(spec: JobSpec, problems: list[tuple[str, str, list[str]]]) -> list[InputProblem]:
    origin = spec.origin
    return [InputProblem(origin.file, origin.line_of(name), origin.field(name), message, suggestion(options))
            for name, message, options in problems]


# --- hardware -----------------------------------------------------------------------------------------------


class _Hardware(NamedTuple):
    label: str
    device_id: str | None
    kind: str
    tdp_w: float
    count: int  # type: ignore[assignment]  # a field named like tuple.count
    instance: tables.Instance | None
    nodes: int = 1  # machines of the instance type: count is the total of devices across them
    tdp_low_w: float = 0.0  # the lowest and highest TDP of every variant an ambiguous name may be (else tdp_w)
    tdp_high_w: float = 0.0


class _Device(NamedTuple):
    label: str
    id: str  # a device or cpu id
    tdp_w: float
    tdp_low_w: float
    tdp_high_w: float


def _variants(part: _Part, name: str, key: str) -> tuple[str, float, float, list[Factor]]:
    """The assumed variant of an ambiguous family, and the TDP span of every variant it may be: the estimate takes
    the assumed one, its range covers them all (an "H100" may be a PCIe card at half the SXM5's 700 W)."""
    dev_id, why = tables.device_families()[key]
    candidates = [tables.devices()[c] for c in tables.device_family_candidates().get(key, (dev_id,))]
    low, high = min(c.tdp_w for c in candidates), max(c.tdp_w for c in candidates)
    part.notice("assumed_variant", written=name, device=tables.devices()[dev_id].name, why=why,
                covered=tuple(c.name for c in candidates), low_w=low, high_w=high)
    part.guessed.append("hardware")
    return dev_id, low, high, [Factor("tdp", c.name, c.tdp_w, "W", c.source, c.year) for c in candidates
                               if c.id != dev_id]


def _lookup_device(part: _Part, name: str) -> _Device | None:
    """The device (or CPU) a name means, with its TDP; the kind is read from the table it matched."""
    key = normalise(name)
    dev_id = tables.device_index().get(key)
    low = high = None
    others: list[Factor] = []
    if dev_id is None and key in tables.device_families():
        dev_id, low, high, others = _variants(part, name, key)
    if dev_id is not None:
        dev = tables.devices()[dev_id]
        part.factors += [Factor("tdp", dev.name, dev.tdp_w, "W", dev.source, dev.year), *others]
        return _Device(dev.name, dev.id, dev.tdp_w, low or dev.tdp_w, high or dev.tdp_w)
    cpu_id = tables.cpu_index().get(key)
    if cpu_id is not None:
        cpu = tables.cpus()[cpu_id]
        part.factors.append(Factor("tdp", cpu.name, cpu.tdp_w, "W", cpu.source, cpu.year))
        return _Device(cpu.name, cpu.id, cpu.tdp_w, cpu.tdp_w, cpu.tdp_w)
    names = {k: tables.devices()[v].name for k, v in tables.device_index().items()}
    names.update({k: tables.devices()[v].name for k, (v, _) in tables.device_families().items()})
    part.problem("hardware", f"unknown hardware '{name}'; `ci-carbon hardware` lists the names", nearest(name, names))
    return None


def _lookup_instance(part: _Part, name: str, provider: str | None) -> tables.Instance | None:
    rows = tables.instances().get(normalise(name), [])
    if provider:
        rows = [r for r in rows if r.provider == provider.lower()]
    if len(rows) == 1:
        return rows[0]
    if len(rows) > 1:
        part.problem("instance_type", f"instance type '{name}' exists at several providers; set provider",
                     sorted(r.provider for r in rows))
        return None
    names = {k: v[0].instance_type for k, v in tables.instances().items()}
    part.problem("instance_type", f"unknown instance type '{name}'", nearest(name, names))
    return None


@cache
def _hardware(hardware: str | None, instance_type: str | None, provider: str | None, count: int | None,
              measured: bool = False) -> _Part:
    part = _Part()
    inst = _lookup_instance(part, instance_type, provider) if instance_type else None
    if instance_type and inst is None:
        return part
    if inst is not None:
        part.factors.append(Factor("instance", f"{inst.instance_type}: {inst.device_id}", inst.device_count,
                                   "devices", inst.source, inst.year))
    wanted = hardware or (inst.device_id if inst else None)
    if wanted is None:
        part.problem("hardware", "give hardware (with count) or instance_type")
        return part
    found = _lookup_device(part, wanted)
    if found is None:
        return part
    dev_id = found.id
    if inst is not None and dev_id != inst.device_id:
        part.problem("hardware", f"'{hardware}' does not match instance type {inst.instance_type} "
                                 f"({inst.device_id}); remove one of them")
        return part
    kind = tables.devices()[dev_id].kind if dev_id in tables.devices() else "cpu"
    nodes = _nodes(part, inst, count, measured) if inst is not None else 1
    if nodes is None:
        return part
    part.value = _Hardware(found.label, dev_id, kind, found.tdp_w, count or (inst.device_count if inst else 1), inst,
                           nodes, found.tdp_low_w, found.tdp_high_w)
    return part


def _nodes(part: _Part, inst: tables.Instance, count: int | None, measured: bool) -> int | None:
    """Machines of ``inst`` a job uses. With an instance type, ``count`` is the total of devices across nodes
    (docs/design.md): 16 on an 8-GPU type is two nodes, 12 is no whole number of them. A run that logged power for
    fewer devices than its machine has used part of one machine: that is measured, not a mistake."""
    per_node = inst.device_count
    if count is None or per_node <= 0:
        return 1
    if count % per_node and not measured:
        part.problem("count", f"{inst.instance_type} has {per_node} devices per node; with instance_type, count is "
                              f"the total across nodes, a multiple of {per_node} ({per_node}, {2 * per_node}, …), "
                              f"got {count}")
        return None
    return max(1, -(-count // per_node))


@cache
def _power_method(measured: bool, reported: bool, utilization: float | None, partial_sampling: bool = False) -> _Part:
    """(method, bounds, TDP multiplier) — the power method depends only on what the job said, not its numbers.

    Measured power's band is the built-in sensor's: ±5 % where it averages the whole runtime, wider on devices
    whose sensor samples only part of it (A100/H100: 25 ms of every 100 ms, Yang et al. 2024)."""
    part = _Part()
    if measured or reported:
        rel = const(("power_relative_uncertainty_measured_partial_sampling" if partial_sampling
                     else "power_relative_uncertainty_measured") if measured else "power_relative_uncertainty_reported")
        part.factors.append(_factor(rel))
        part.value = ("measured" if measured else "reported", Bounds(1 - rel.value, 1 + rel.value), None)
    elif utilization is not None:
        rel = const("power_relative_uncertainty_utilization")
        part.factors.append(_factor(rel))
        part.value = ("tdp", Bounds(1 - rel.value, min(1 + rel.value, 1 / utilization)), utilization)
    else:
        low = const("gpu_power_fraction_low")
        part.factors.append(_factor(low))
        part.guessed.append("utilization")
        part.value = ("tdp", Bounds(low.value, 1.0), 1.0)
    return part


def _variant_bounds(bounds: Bounds, hw: _Hardware) -> Bounds:
    """A TDP-based power range widened to every variant an ambiguous name may be: the low end at the lowest
    variant's TDP, the high end at the highest's, both relative to the assumed one's."""
    if not hw.tdp_w or (hw.tdp_low_w, hw.tdp_high_w) == (hw.tdp_w, hw.tdp_w):
        return bounds
    return Bounds(bounds.low * min(1.0, hw.tdp_low_w / hw.tdp_w), bounds.high * max(1.0, hw.tdp_high_w / hw.tdp_w))


class _HostPower(NamedTuple):
    cpu_w: float
    mem_w: float
    bounds: Bounds


@cache
def _host(cpu_name: str | None, cpu_count: float | None, memory_gb: float | None, inst: tables.Instance | None,
          kind: str, nodes: int = 1, device_id: str | None = None, count: int = 1) -> _Part:
    """CPU and memory power, with its range. Instance vCPUs are hardware threads (cores where the provider says
    SMT is off); a user's cpu_count is cores (Green Algorithms).

    An instance's CPUs and memory are per node, so a job on ``nodes`` machines has that many of each; a user's own
    cpu_count and memory_gb are the job's, as written. A job that says nothing about its host gets the device's
    typical host (data/hosts.csv), flagged as guessed: never zero with a range that leaves the host out."""
    if inst is None and cpu_name is None and cpu_count is None and memory_gb is None and kind != "cpu":
        typical = tables.typical_host(device_id or "")
        if typical is not None:
            return _typical_host(typical, max(count, 1))
    part = _Part(value=_HostPower(0.0, 0.0, _host_bounds()))
    cpu_name = cpu_name or (inst.cpu_id if inst and inst.cpu_id else None)
    cpu_id = tables.cpu_index().get(normalise(cpu_name)) if cpu_name else None
    if cpu_name and cpu_id is None:
        names = {k: tables.cpus()[v].name for k, v in tables.cpu_index().items()}
        part.problem("cpu", f"unknown CPU '{cpu_name}'", nearest(cpu_name, names))
        return part
    cpu = tables.cpus()[cpu_id or "generic-cpu"]
    cpu_w = 0.0
    if cpu_count is not None:
        cpu_w = cpu_count * cpu.w_per_core
    elif inst is not None:
        cpu_w = inst.vcpus * cpu.tdp_w / (cpu.cores if inst.vcpu_is_core else cpu.threads) * nodes
    elif kind != "cpu":
        part.guessed.append("cpu")
    if cpu_w:
        part.factors += [Factor("cpu_tdp", cpu.name, cpu.tdp_w, "W", cpu.source, cpu.year),
                         Factor("cpu_cores", cpu.name, cpu.cores, "cores", cpu.source, cpu.year)]
    memory_gb = memory_gb if memory_gb is not None else (inst.memory_gb * nodes if inst else 0.0)
    mem_w = 0.0
    if memory_gb:
        per_gb = const("memory_w_per_gb")
        part.factors.append(_factor(per_gb))
        mem_w = memory_gb * per_gb.value
    if cpu_w or mem_w:
        part.factors.append(_factor(const("host_power_fraction_low")))
    part.value = _HostPower(cpu_w, mem_w, _host_bounds())
    return part


def _typical_host(host: tables.Host, count: int) -> _Part:
    """The sourced typical host of the device, its share for ``count`` devices (count / devices per host, as a
    cloud VM with part of a node's devices has that part of its CPUs and memory); the high end is every host the
    devices occupy, whole (ceil(count / devices per host)), the low end host_power_fraction_low of the share."""
    part = _Part()
    share = count / host.devices_per_host
    hosts = -(-count // host.devices_per_host)
    cpu_w = mem_w = 0.0
    part.factors.append(Factor("host", host.system, host.devices_per_host, "devices per host", host.source,
                               host.year))
    if host.cpu_id and host.vcpus:
        cpu = tables.cpus()[host.cpu_id]
        cpu_w = host.vcpus * cpu.tdp_w / (cpu.cores if host.vcpu_is_core else cpu.threads) * share
        part.factors += [Factor("cpu_tdp", cpu.name, cpu.tdp_w, "W", cpu.source, cpu.year),
                         Factor("cpu_cores", cpu.name, cpu.cores, "cores", cpu.source, cpu.year)]
    if host.memory_gb:
        per_gb = const("memory_w_per_gb")
        part.factors.append(_factor(per_gb))
        mem_w = host.memory_gb * share * per_gb.value
    low = const("host_power_fraction_low")
    part.factors.append(_factor(low))
    part.guessed.append("host")  # said once per kind (notice guessed_host); the host itself is among the factors
    part.value = _HostPower(cpu_w, mem_w, Bounds(low.value, hosts / share))
    return part


@cache
def _embodied(device_id: str | None, kind: str) -> _Part:
    rows = tables.embodied()
    row = rows.get(device_id or "") or rows.get(kind)
    if row is None:
        return _Part(value=0.0)
    factors = [Factor("embodied", row.applies_to, row.kg_co2e, "kgCO2eq", row.source, row.year),
               Factor("embodied_life", row.applies_to, row.lifetime_years, "years", row.source, row.year)]
    return _Part(value=row.kg_co2e / (row.lifetime_years * HOURS_PER_YEAR), factors=factors)


# --- location -----------------------------------------------------------------------------------------------


class _Place(NamedTuple):
    label: str
    provider: str | None
    region: str | None
    country: str | None
    continent: str | None
    intensity: float
    intensity_bounds: Bounds  # the factor's own half-width, before its age is added (_aged)
    region_row: tables.Region | None = None
    grid: tables.Grid | None = None  # the grid row the factor is (None: the job's own intensity)
    data_year: int = 0  # the intensity's data year; 0: given by the job, never aged


def _aged(part: _Part, place: _Place, job_year: int | None) -> Bounds:
    """Widen the intensity's half-width by its age: the years between the factor's data year and the job's own
    year (when it ran), else the newest intensity year of the tables (a planned job runs about now)."""
    if not place.data_year:
        return place.intensity_bounds
    per_year = const("grid_intensity_uncertainty_per_year")
    age = abs((job_year or tables.newest_intensity_year()) - place.data_year)
    if not age:
        return place.intensity_bounds
    part.factors.append(_factor(per_year))
    half = 1 - place.intensity_bounds.low + per_year.value * age
    return Bounds(max(0.0, 1 - half), 1 + half)


def _half(rel: float) -> Bounds:
    return Bounds(max(0.0, 1 - rel), 1 + rel)


def _continent(country: str | None) -> str | None:
    grid = tables.grids().get(country or "")
    return grid.continent if grid else None


def _grid_place(part: _Part, grid: tables.Grid, provider: str | None = None, row: tables.Region | None = None,
                label: str | None = None) -> _Place:
    kind = {"world": "world", "country": "country"}.get(grid.kind, "subnational")
    rel = const(f"grid_intensity_relative_uncertainty_{kind}")
    part.factors.append(Factor("grid", grid.name, grid.carbon_intensity, "gCO2eq/kWh",
                               grid.source, grid.year))
    country = grid.parent or (grid.code if grid.kind == "country" else None)
    return _Place(label or grid.name, provider, row.region if row else None, country, _continent(country),
                  grid.carbon_intensity, _half(rel.value), row, grid, grid.year)


def _world(part: _Part, provider: str | None = None) -> _Place:
    part.guessed.append("location")
    return _grid_place(part, tables.grids()["WORLD"], provider=provider)


def _grid_names(written: str, parent: str | None = None) -> list[str]:
    grids = [g for g in tables.grids().values() if not parent or g.parent == parent]
    names = {normalise(g.code): g.code for g in grids}
    names.update({normalise(g.name): g.code for g in grids})
    return nearest(written, names)


def _country_place(part: _Part, country: str, state: str | None) -> _Place | None:
    written = country.strip().upper()
    code, _, sub = written.partition("-")
    if state:
        sub = state.strip().upper()
    code = tables.alpha3_index().get(code, code)
    grid = tables.grids().get(f"{code}-{sub}" if sub else code)
    if grid is None and sub:
        part.problem("state" if state else "country", f"no grid data for '{code}-{sub}'",
                     _grid_names(f"{code}-{sub}", code))
        return None
    if grid is None or grid.kind == "world":
        part.problem("country", f"unknown country '{country}' (ISO 3166 alpha-2 or alpha-3)", _grid_names(written))
        return None
    return _grid_place(part, grid)


def _region_place(part: _Part, provider: str, region: str) -> _Place | None:
    row = tables.regions().get((provider, region.strip().lower()))
    if row is None:
        names = {normalise(r.region): r.region for (p, _), r in tables.regions().items() if p == provider}
        part.problem("region", f"unknown {provider} region '{region}'; `ci-carbon regions {provider}` lists them",
                     nearest(region, names))
        return None
    label = f"{provider} {row.region} ({row.name})"
    if row.carbon_intensity is not None:
        rel = const("grid_intensity_relative_uncertainty_provider")
        part.factors.append(Factor("grid", f"{provider} {row.region}", row.carbon_intensity,
                                   "gCO2eq/kWh", row.source, row.year))
        return _Place(label, provider, row.region, row.country, _continent(row.country), row.carbon_intensity,
                      _half(rel.value), row, None, row.year)
    # The grid row the region sits on: the same location gets the same factor whatever provider name is used.
    grid = tables.grids().get(row.grid) or tables.grids().get(row.subdivision) or tables.grids().get(row.country)
    if grid is None:
        return _world(part, provider)
    place = _grid_place(part, grid, provider, row, label)
    return _Place(place.label, provider, row.region, row.country, place.continent, place.intensity,
                  place.intensity_bounds, row, grid, place.data_year)


def _provider(part: _Part, provider: str | None, region: str | None) -> str | None:
    if provider:
        key = provider.strip().lower()
        if key not in tables.providers():
            names = {normalise(p): p for p in tables.providers()}
            part.problem("provider", f"unknown provider '{provider}'", nearest(provider, names))
            return None
        return key
    if region:
        owners = sorted({p for (p, r) in tables.regions() if r == region.strip().lower()})
        if len(owners) == 1:
            return owners[0]
        part.problem("provider", f"region '{region}' needs a provider", owners)
    return None


def _pue(part: _Part, provider: str | None, place: _Place, pue: float | None, file: str) -> tuple[float, Bounds]:
    if pue is not None:
        part.factors.append(Factor("given_pue", file, pue, "ratio", file, 0))
        return pue, Bounds()
    published = const("pue_relative_uncertainty_published")
    row = place.region_row
    if row is not None and row.pue is not None:
        part.factors += [Factor("pue", f"{row.provider} {row.region}", row.pue, "ratio", row.pue_source, row.pue_year),
                         _factor(published)]
        return row.pue, Bounds(1 - published.value, 1 + published.value)
    prov = tables.providers().get(provider or "")
    if prov is not None and prov.pue is not None:
        part.factors += [Factor("pue", prov.name, prov.pue, "ratio", prov.pue_source, prov.pue_year),
                         _factor(published)]
        return prov.pue, Bounds(1 - published.value, 1 + published.value)
    default, rel = const("pue_default"), const("pue_relative_uncertainty_default")
    part.factors += [_factor(default), _factor(rel)]
    part.guessed.append("pue")
    return default.value, Bounds(max(1.0 / default.value, 1 - rel.value), 1 + rel.value)


def _basis(place: _Place) -> Basis | None:
    """The basis of the place's grid factor (data/README.md "One emission-factor basis"); a given intensity's is
    the user's, not known here."""
    grid = place.grid
    return Basis(grid.basis_emissions or "direct", grid.basis_grid or "generation") if grid else None


def _instrument(part: _Part, row: tables.Region | None) -> tuple[str, str, float]:
    """(instrument, boundary, credited share) of the region's provider, GHG Protocol Scope 2 Quality Criteria.

    Only an instrument within the market boundary of the region counts: Google's hourly carbon-free-energy share
    for the grid the region sits on (an upper bound of what is matched: it counts the grid's own carbon-free supply
    too). AWS's list of regions "matched with 100 % renewable energy" is not credited: AWS says it buys attributes
    "in other locations" for some of them without naming which, so the same-market criterion cannot be checked.
    A provider's company-wide annual claim (providers.csv, matching_scope global-annual) is never an instrument."""
    if row is None:
        return "none", "none", 0.0
    if row.market_instrument == "hourly-cfe" and row.market_boundary == "within" and row.cfe_share is not None:
        part.factors.append(Factor("market_instrument", f"{row.provider} {row.region}", row.cfe_share, "share",
                                   row.market_source, row.market_year))
        return row.market_instrument, row.market_boundary, row.cfe_share
    if row.market_instrument != "none":
        part.notice("market_boundary_unverified", provider=row.provider, region=row.region,
                    instrument=row.market_instrument, year=row.market_year)
    return row.market_instrument, row.market_boundary, 0.0


def _market(part: _Part, place: _Place) -> Market:
    """The market-based method for the place: the credited share at 0 g/kWh, the rest at the grid's residual mix
    where one is recorded, else at the grid average (said, for a cloud region, in a notice)."""
    row, grid = place.region_row, place.grid
    instrument, boundary, share = _instrument(part, row)
    credited = share > 0.0
    mix = tables.residual_mixes().get(grid.code) if grid else None
    same_basis = mix is not None and grid is not None and mix.emissions in ("", grid.basis_emissions)
    if mix is not None and mix.residual_intensity is not None and same_basis:  # like with like, as the grid factor
        part.factors.append(Factor("residual_mix", grid.name if grid else mix.grid, mix.residual_intensity,
                                   "gCO2eq/kWh", mix.source, mix.year))
        residual, value, status = "residual-mix", mix.residual_intensity, "recorded"
    else:
        residual, value, status = "grid-average", place.intensity, mix.status if mix else "none"
        if row is not None:
            part.notice("residual_mix_missing", grid=grid.name if grid else place.label, status=status,
                        publisher=mix.publisher if mix else "")
    return Market(f"instrument-{residual}" if credited else residual, instrument, boundary, credited, share,
                  credited and instrument == "hourly-cfe", residual, value, grid.code if grid else None, status)


class _Site(NamedTuple):
    provider: str | None
    place: _Place
    pue: float
    pue_bounds: Bounds
    market: Market


@cache
def _site(provider: str | None, region: str | None, country: str | None, state: str | None,
          carbon_intensity: float | None, pue: float | None, implied_provider: str | None, file: str) -> _Part:
    """Where the job runs: grid intensity, PUE and the market-based method, each with its source."""
    part = _Part()
    provider_key = implied_provider if provider is None and implied_provider else _provider(part, provider, region)
    if part.problems:
        return part
    place: _Place | None
    if carbon_intensity is not None:
        part.factors.append(Factor("given_intensity", file, carbon_intensity, "gCO2eq/kWh", file, 0))
        place = _Place(f"{carbon_intensity:g} gCO2eq/kWh", provider_key, region, None, None, carbon_intensity,
                       Bounds())
    elif region and provider_key:
        place = _region_place(part, provider_key, region)
    elif country:
        place = _country_place(part, country, state)
    else:
        place = _world(part, provider_key)
    if place is None:
        return part
    pue_value, pue_bounds = _pue(part, provider_key, place, pue, file)
    part.value = _Site(provider_key, place, pue_value, pue_bounds, _market(part, place))
    return part


# --- the job --------------------------------------------------------------------------------------------------


class _Shape(NamedTuple):
    """Everything a job's factors depend on except its own numbers (hours, measured or reported power)."""

    problems: tuple[tuple[str, str, list[str]], ...]
    hardware: _Hardware | None
    site: _Site | None
    method: str
    power_bounds: Bounds
    tdp_share: float | None
    cpu_w: float
    mem_w: float
    embodied: float
    factors: tuple[Factor, ...]
    notices: tuple[Notice, ...]  # the parts' notices, then one per guess and per assumed default
    guessed: tuple[str, ...]
    host_bounds: Bounds = Bounds()
    intensity_bounds: Bounds = Bounds()


def _partial_sampling(device_id: str | None) -> bool:
    """Whether the device's built-in power sensor averages only part of the runtime (devices.csv)."""
    dev = tables.devices().get(device_id or "")
    return dev is not None and dev.smi_power_sampled is not None and dev.smi_power_sampled < 1


@lru_cache(maxsize=8192)  # bounded: runs that each log their own intensity or PUE are each a shape
def _shape(hardware: str | None, instance_type: str | None, provider: str | None, count: int | None,
           region: str | None, country: str | None, state: str | None, carbon_intensity: float | None,
           pue: float | None, file: str, measured: bool, reported_power: bool, total_energy: bool,
           utilization: float | None, cpu: str | None, cpu_count: float | None, memory_gb: float | None,
           assumed: tuple[str, ...], year: int | None = None) -> _Shape:
    """Resolve the parts of every job that says the same things once: a store's 100,000 runs have a few hundred."""
    job = _Part()
    hw: _Hardware | None = job.take(_hardware(hardware, instance_type, provider, count, measured))
    implied = hw.instance.provider if hw and hw.instance else None
    site: _Site | None = job.take(_site(provider, region, country, state, carbon_intensity, pue, implied, file))
    if job.problems or hw is None or site is None:
        return _Shape(tuple(job.problems), hw, site, "", Bounds(), None, 0.0, 0.0, 0.0, (), (), ())
    method, power_bounds, tdp_share = job.take(_power_method(measured, reported_power or total_energy, utilization,
                                                             measured and _partial_sampling(hw.device_id)))
    if method == "tdp":
        power_bounds = _variant_bounds(power_bounds, hw)
    host: _HostPower = _HostPower(0.0, 0.0, _host_bounds()) if total_energy else job.take(
        _host(cpu, cpu_count, memory_gb, hw.instance, hw.kind, hw.nodes, hw.device_id, hw.count))
    embodied = job.take(_embodied(hw.device_id, hw.kind))
    intensity_bounds = _aged(job, site.place, year)
    guessed = tuple(dict.fromkeys([*job.guessed, *(f"default_{f}" for f in assumed)]))
    notices = (*job.notices, *(Notice(f"guessed_{code}") for code in guessed
                               if code != "hardware" and code[:8] != "default_"),
               *(Notice("assumed_default", {"field": f}) for f in assumed))
    return _Shape(tuple(job.problems), hw, site, method, power_bounds, tdp_share, host.cpu_w, host.mem_w, embodied,
                  tuple(job.factors), notices, guessed, host.bounds, intensity_bounds)


def _job_year(spec: JobSpec) -> int | None:
    """The calendar year (UTC) the job started, where its source knows it (MLflow, CodeCarbon)."""
    if spec.started is None:
        return None
    return datetime.fromtimestamp(spec.started / 1000.0, tz=timezone.utc).year


def _durations(hours: float | None, device_hours: float | None, count: int) -> tuple[float, float]:
    """(device-hours, hours per device) from whichever the job gave; the field rules ask for exactly one."""
    if device_hours is not None:
        return device_hours, hours if hours is not None else device_hours / count
    if hours is None:
        raise ValueError("a job with neither hours nor device_hours passed the field rules")
    return hours * count, hours


def _cpu_only(spec: JobSpec) -> Job:
    """A job without accelerators: no device, its CPUs and memory as the host (core/cpu.py says how)."""
    power = cpu_power(spec.cpu, spec.cpu_count, spec.memory_gb,
                      spec.cpu_utilization if spec.cpu_utilization is not None else spec.utilization,
                      spec.cpu_utilization is not None)
    part = _Part()
    site: _Site | None = part.take(_site(spec.provider, spec.region, spec.country, spec.state,
                                         spec.carbon_intensity, spec.pue, None, spec.origin.file))
    problems = [*power.problems, *part.problems]
    if spec.hours is None:
        problems.append(("hours", "a CPU-only job needs hours (it has no device-hours)", []))
    if problems or site is None or spec.hours is None:
        raise InputError(_located(spec, problems))
    intensity_bounds = _aged(part, site.place, _job_year(spec))
    guessed = tuple(dict.fromkeys([*power.guessed, *part.guessed, *(f"default_{f}" for f in spec.assumed)]))
    notices = (*spec.notices, Notice("cpu_only", {"cpu": power.label, "method": power.method}), *part.notices,
               *(Notice(f"guessed_{code}") for code in guessed if code[:8] != "default_"),
               *(Notice("assumed_default", {"field": f}) for f in spec.assumed))
    place = site.place
    return Job(
        spec=spec, hardware=power.label, device_id=None, device_kind="cpu", count=0, hours=spec.hours,
        device_hours=0.0, runs=spec.runs, device_power_w=0.0, method=power.method, power_bounds=power.bounds,
        cpu_power_w=power.cpu_w, memory_power_w=power.memory_w, host_bounds=power.bounds, pue=site.pue,
        pue_bounds=site.pue_bounds, carbon_intensity=place.intensity, intensity_bounds=intensity_bounds,
        location=place.label, provider=site.provider, region=place.region, country=place.country,
        continent=place.continent, market=site.market, embodied_kg_per_device_hour=0.0,
        factors=(*power.factors, *part.factors), notices=notices, guessed=guessed, basis=_basis(place),
    )


def resolve(spec: JobSpec) -> Job:
    """Choose every factor for one job; raise InputError listing every problem found in it."""
    if is_cpu_only(spec):
        return _cpu_only(spec)
    total_energy = spec.reported_energy_kwh is not None  # a tool measured the whole machine: no host on top
    shape = _shape(spec.hardware, spec.instance_type, spec.provider, spec.count, spec.region, spec.country,
                   spec.state, spec.carbon_intensity, spec.pue, spec.origin.file, spec.measured_power_w is not None,
                   spec.power_w is not None, total_energy, spec.utilization, spec.cpu, spec.cpu_count,
                   spec.memory_gb, spec.assumed, _job_year(spec))
    if shape.problems or shape.hardware is None or shape.site is None:
        raise InputError(_located(spec, list(shape.problems)))
    hw, site = shape.hardware, shape.site
    device_hours, hours = _durations(spec.hours, spec.device_hours, hw.count)
    if shape.method == "measured" and spec.measured_power_w is not None:
        power_w = spec.measured_power_w
    elif total_energy and spec.reported_energy_kwh is not None:
        power_w = spec.reported_energy_kwh * 1000.0 / device_hours
    elif shape.method == "reported" and spec.power_w is not None:
        power_w = spec.power_w
    else:
        power_w = hw.tdp_w * (shape.tdp_share if shape.tdp_share is not None else 1.0)
    place = site.place
    return Job(
        spec=spec, hardware=hw.label, device_id=hw.device_id, device_kind=hw.kind, count=hw.count, hours=hours,
        device_hours=device_hours, runs=spec.runs, device_power_w=power_w, method=shape.method,
        power_bounds=shape.power_bounds, memory_power_w=shape.mem_w,
        cpu_power_w=shape.cpu_w * (spec.cpu_utilization if spec.cpu_utilization is not None else 1.0),
        host_bounds=shape.host_bounds, pue=site.pue, pue_bounds=site.pue_bounds,
        carbon_intensity=place.intensity, intensity_bounds=shape.intensity_bounds, location=place.label,
        provider=site.provider, region=place.region, country=place.country, continent=place.continent,
        market=site.market, embodied_kg_per_device_hour=shape.embodied,
        factors=shape.factors, notices=(*spec.notices, *shape.notices) if spec.notices else shape.notices,
        guessed=shape.guessed, basis=_basis(place),
    )


@cache
def _host_bounds() -> Bounds:
    return Bounds(const("host_power_fraction_low").value, 1.0)


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

