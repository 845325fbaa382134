"""The job model that flows through the pipeline: sources → estimate → advice → render → publish.

A source yields :class:`JobSpec` (what the user or the run said, with where it said it); the core resolves it
into a :class:`Job` (every factor chosen, with its provenance) and turns that into an :class:`Estimate`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

from ci_carbon.errors import InputProblem

EMPTY: Mapping[str, Any] = MappingProxyType({})  # the shared, read-only default for mapping fields


class Origin(NamedTuple):
    """Where a job was described, so that every problem can name the file, line and field."""

    file: str
    line: int | None = None
    path: str = ""
    field_lines: Mapping[str, int] = EMPTY

    def line_of(self, name: str) -> int | None:
        return self.field_lines.get(name, self.line)

    def field(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name


class Notice(NamedTuple):
    """Something a reader should know about a job; the words live in templates/notices.j2."""

    code: str
    params: Mapping[str, object] = EMPTY


class Result(NamedTuple):
    """The metric a run is judged by (``--metric`` / ``mlflow.metric``) and its latest logged value.

    ``value`` is None when the run did not log the metric: it is still listed (core/results.py), never dropped.
    ``direction`` is ``max`` (higher is better, the default) or ``min``.
    """

    metric: str
    direction: str = "max"
    value: float | None = None


class JobSpec(NamedTuple):
    """A training job as its source described it; nothing looked up yet."""

    name: str
    origin: Origin
    source: str = "manifest"
    id: str = ""
    status: str = "planned"
    hardware: str | None = None
    count: int | None = None  # type: ignore[assignment]  # a field named like tuple.count
    hours: float | None = None
    device_hours: float | None = None
    runs: int = 1
    instance_type: str | None = None
    power_w: float | None = None
    measured_power_w: float | None = None
    utilization: float | None = None
    cpu: str | None = None
    cpu_count: float | None = None
    memory_gb: float | None = None
    provider: str | None = None
    region: str | None = None
    country: str | None = None
    state: str | None = None
    carbon_intensity: float | None = None
    pue: float | None = None
    tags: Mapping[str, str] = EMPTY
    # what a source measured or knows beyond the manifest's fields
    reported_energy_kwh: float | None = None  # IT energy a tool reported (CodeCarbon's energy_consumed)
    gpu_utilization: float | None = None  # measured time-weighted mean, 0..1 (advice: idle devices)
    cpu_utilization: float | None = None  # measured time-weighted mean of the host's CPUs, 0..1 (core/cpu.py)
    experiment: str = ""
    sweep: str = ""  # jobs of one hyper-parameter search share this key
    param_key: str = ""  # identical parameter sets share this key (advice: duplicates)
    started: int | None = None  # ms since the epoch (quarterly attribution)
    assumed: tuple[str, ...] = ()  # fields filled from defaults rather than said by the run
    notices: tuple[Notice, ...] = ()  # what the source noticed (gaps, running runs, deleted runs)
    # issue 14: the measured energy per UTC hour ((hour start ms, W·s), from power histories), the hourly
    # intensity's weights; and a planned job's flexible start (when-to-run advice)
    energy_by_hour: tuple[tuple[int, float], ...] = ()
    start_window_hours: float | None = None
    result: Result | None = None  # the run's metric when one is asked for (carbon per result); None: not asked


class Factor(NamedTuple):
    """A number the estimate used, with the publication it came from.

    ``kind`` says what the number is (tdp, grid, pue, …) and ``subject`` what it is of (a device, a region, a
    constant's name); the words a reader sees for them are in templates/factors.j2.
    """

    kind: str
    subject: str
    value: float
    unit: str
    source: str
    year: int


class Bounds(NamedTuple):
    """Relative low/high multipliers around a central value (low <= 1 <= high)."""

    low: float = 1.0
    high: float = 1.0


class Basis(NamedTuple):
    """The basis of a grid factor (docs/design.md, JSON ``basis``): what it counts and per kWh of what."""

    emissions: str  # direct (combustion at the plant: GHG Protocol Scope 2) | lifecycle (upstream too: Scope 3 cat. 3)
    grid: str  # generation (per kWh generated on the grid) | consumption (imports traced)


class Market(NamedTuple):
    """How a job's market-based figure was made (GHG Protocol Scope 2 market-based method; JSON ``market_method``).

    ``matched_share`` of the electricity is credited to a contractual instrument within the market boundary of the
    job's region (carbon-free: 0 g/kWh); the rest is at ``residual_g_per_kwh``: the grid's published residual mix
    where the tables record one (``residual`` = residual-mix), else the grid average (``residual`` = grid-average).
    A provider's company-wide annual renewable claim is never an instrument here.
    """

    method: str  # instrument-residual-mix | instrument-grid-average | residual-mix | grid-average
    instrument: str  # hourly-cfe | annual-match-listed | none: what the region's provider publishes for it
    boundary: str  # within | unverified | none
    credited: bool  # whether the instrument counts (within the boundary)
    matched_share: float  # share of the electricity credited, 0..1 (0 when not credited)
    upper_bound: bool  # the share is an upper bound of what is matched (Google's hourly CFE)
    residual: str  # residual-mix | grid-average
    residual_g_per_kwh: float
    grid: str | None  # the grid code whose residual mix was looked up
    residual_status: str  # recorded | not-recorded | unknown | none (no row, or no grid known)


class Job(NamedTuple):
    """A job with every factor resolved: what the estimate multiplies, and where each number came from."""

    spec: JobSpec
    hardware: str
    device_id: str | None
    device_kind: str
    count: int  # type: ignore[assignment]  # a field named like tuple.count
    hours: float
    device_hours: float
    runs: int
    device_power_w: float
    method: str  # tdp | reported | measured
    power_bounds: Bounds
    cpu_power_w: float
    memory_power_w: float
    host_bounds: Bounds
    pue: float
    pue_bounds: Bounds
    carbon_intensity: float
    intensity_bounds: Bounds
    location: str
    provider: str | None
    region: str | None
    country: str | None
    continent: str | None
    market: Market
    embodied_kg_per_device_hour: float
    factors: tuple[Factor, ...]
    notices: tuple[Notice, ...] = ()
    guessed: tuple[str, ...] = ()
    basis: Basis | None = None  # of the grid factor; None where the job gave its own carbon_intensity


class Estimate(NamedTuple):
    """Energy and emissions of one job (all repetitions), with its range."""

    job: Job
    device_energy_kwh: float
    energy_kwh: float
    energy_kwh_low: float
    energy_kwh_high: float
    emissions_kg: float
    emissions_kg_low: float
    emissions_kg_high: float
    emissions_kg_market: float
    embodied_kg: float
    hourly: Hourly | None = None  # the grid at the run's own hours, beside the yearly figure (issue 14)
    profile: Profile | None = None  # a planned job's zone hour-of-day profile (when-to-run advice)


class Hourly(NamedTuple):
    """The grid intensity over the hours a run drew power, from a time-resolved source (core/hourly.py).

    Shown beside the yearly-table figure, never instead of it: budgets judge the yearly figure, so a gate never
    depends on whether an API answered. ``emission_factor_type`` is the source's basis: ``direct`` or
    ``lifecycle`` (Electricity Maps, averages), or ``marginal`` (WattTime's MOER, never a headline).
    """

    source: str  # electricitymaps | watttime
    zone: str  # the source's zone or region code
    first_hour_ms: int  # the first UTC hour covered (its start)
    last_hour_ms: int  # the last UTC hour covered (its start)
    hours: int  # UTC hours covered
    intensity: float  # gCO2eq/kWh, energy-weighted over those hours
    emissions_kg: float  # the estimate's energy × that intensity
    emission_factor_type: str  # direct | lifecycle | marginal
    weights: str  # measured (power history by hour) | uniform (in time)
    estimated_hours: int = 0  # hours the source flagged isEstimated


class Profile(NamedTuple):
    """A zone's mean intensity by UTC hour of day over a past window (the when-to-run advice reads it)."""

    source: str
    zone: str
    by_hour: tuple[float | None, ...]  # 24 means, gCO2eq/kWh; None where the window had no value
    days: int  # the window's length
    now_ms: int  # when the report was made: a start now is the baseline
    emission_factor_type: str


class Skipped(NamedTuple):
    """An input that was read but not estimated, and why (words in templates/notices.j2); reports list these."""

    name: str
    id: str
    code: str  # parent | no_times | no_hardware | no_accelerator | unresolved | …
    detail: str = ""


class Chunk(NamedTuple):
    """Consecutive jobs of a source, as its stream hands them on; a source of any size is a stream of these.

    ``problems`` are a strict source's own findings (a manifest's schema errors): the user's to fix, reported with
    every lookup problem of the jobs before anything is estimated. ``siblings`` names, for each run that could be a
    trial of a search nobody declared (same experiment, same parameter names), its candidate group and parameter
    key; whether a group is a search is known only once the whole stream has been seen, so the advice decides.
    """

    specs: Sequence[JobSpec]
    skipped: Sequence[Skipped] = ()
    problems: Sequence[InputProblem] = ()
    siblings: Mapping[str, tuple[str, str]] = EMPTY
