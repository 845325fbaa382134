"""The summary model: what every summary format renders (Markdown, HTML, CSV, JSON), and the pure functions that
turn one estimate into its contribution.

Figures are sums over runs, so they are kept as running tallies (a short list of floats per total, month, group)
while the runs stream past, and become :class:`Totals` at the end; nothing here holds a run once it is counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from operator import add
from typing import NamedTuple

from ci_carbon import __version__
from ci_carbon.core.equivalents import Equivalent
from ci_carbon.core.hourly import Start, best_start
from ci_carbon.core.model import Estimate, Factor, Profile
from ci_carbon.core.report import Recommendation, SourceInfo
from ci_carbon.core.results import Results
from ci_carbon.core.totals import Totals
from ci_carbon.summary.period import Period

FIELDS = ("team", "project", "user", "experiment", "region", "provider", "hardware", "status")
TAG_PREFIX = "tag:"
BASES = ("measured", "reported", "tdp", "defaults")  # data quality, best first
NOT_SET = ""  # a run that does not say (no team tag …): its own group, named by the templates


def contribution(est: Estimate) -> tuple[float, ...]:
    """What one estimate adds to every tally it belongs to, in :class:`Totals` order."""
    job = est.job
    return (1, est.energy_kwh, est.energy_kwh_low, est.energy_kwh_high, est.emissions_kg, est.emissions_kg_low,
            est.emissions_kg_high, est.emissions_kg_market, est.embodied_kg, job.device_hours * job.runs,
            job.hours * job.runs, job.runs)


def tally() -> list[float]:
    """An empty running sum (a list: adding in place is what makes 100,000 runs cheap)."""
    return [0.0] * len(Totals._fields)


def accumulate(running: list[float], values: tuple[float, ...]) -> None:
    running[:] = map(add, running, values)


def totals(running: Sequence[float]) -> Totals:
    jobs, *floats, runs = running
    return Totals(int(jobs), *floats, int(runs))  # type: ignore[arg-type, call-arg]


def basis(est: Estimate) -> str:
    """How good a run's numbers are: measured power, energy a tool reported, TDP, or inputs from the defaults.

    A run with any input filled in from ci-carbon.yaml's defaults counts as "defaults" whatever its power method:
    its footprint is only as good as that guess.
    """
    return "defaults" if est.job.spec.assumed else est.job.method


def value(est: Estimate, field: str) -> str:
    """The group a run belongs to along one --group-by field; NOT_SET when the run does not say.

    tag:NAME reads the job's tags, which the source filled with the asked names (a run's tag, else its param)."""
    job, spec = est.job, est.job.spec
    if field.startswith(TAG_PREFIX):
        return spec.tags.get(field[len(TAG_PREFIX):], NOT_SET)
    if field == "experiment":
        return spec.experiment or spec.tags.get("experiment", NOT_SET)
    if field == "region":
        return job.location
    if field == "provider":
        return job.provider or NOT_SET
    if field == "hardware":
        return job.hardware
    if field == "status":
        return spec.status
    return spec.tags.get(field, NOT_SET)


class PeriodChange(NamedTuple):
    """The period itself against another one (the quarter before, the same quarter a year before)."""

    period: Period
    totals: Totals
    delta_kg: float | None  # this period − the other; None when the other had no runs
    percent: float | None  # of the other period's emissions; None when it had none


class Group(NamedTuple):
    by: tuple[tuple[str, str], ...]  # (field, value) per --group-by field
    totals: Totals
    share: float  # of the period's emissions, 0..1
    previous: Totals | None = None  # the same group in the quarter before, when compared
    # carbon per result: kg of the group's dominated runs (core/results.py); None when no run of it has a metric
    dominated_kg: float | None = None

    @property
    def dominated_share(self) -> float | None:
        """The dominated kg as a share of the group's emissions (0..1)."""
        if self.dominated_kg is None:
            return None
        return self.dominated_kg / self.totals.emissions_kg if self.totals.emissions_kg else 0.0


class Breakdown(NamedTuple):
    fields: tuple[str, ...]  # one --group-by entry: ("team",) or ("team", "hardware")
    groups: tuple[Group, ...]  # largest emissions first, then by name


class Month(NamedTuple):
    month: str  # YYYY-MM
    totals: Totals
    by_basis: Mapping[str, float]  # emissions per data-quality basis


class Quality(NamedTuple):
    basis: str  # measured | reported | tdp | defaults
    runs: int
    emissions_kg: float
    share: float  # of the period's emissions, 0..1


class Run(NamedTuple):
    """One run as the top-10 table and the CSV show it (the CSV writes these fields, one row per run)."""

    started: int | None  # ms, UTC
    id: str
    name: str
    source: str
    experiment: str
    team: str
    project: str
    user: str
    status: str
    hardware: str
    count: int  # type: ignore[assignment]  # a field named like tuple.count
    hours: float
    device_hours: float
    method: str
    basis: str
    provider: str
    region: str
    location: str
    pue: float
    carbon_intensity: float
    energy_kwh: float
    energy_kwh_low: float
    energy_kwh_high: float
    emissions_kg: float
    emissions_kg_low: float
    emissions_kg_high: float
    emissions_kg_market: float
    embodied_kg: float
    guessed: str  # what was guessed, ';'-separated
    market_method: str  # how emissions_kg_market was made (the report's market_method.method)
    market_scope: str  # scope3-category1 (a cloud provider's electricity) | scope2 (on premises) | "" (not said)
    tags: tuple[str, ...] = ()  # values of the tag:NAME group-by fields, in order


NOT_CLOUD = ("on-premise", "unknown")


def market_scope(provider: str | None) -> str:
    """Where an organisation reports a job's emissions (GHG Protocol): a cloud provider's electricity is the
    customer's Scope 3 category 1 (purchased goods and services); its own data centre's is its Scope 2."""
    if provider is None or provider == "unknown":
        return ""
    return "scope2" if provider in NOT_CLOUD else "scope3-category1"


def run_row(est: Estimate, tag_names: Sequence[str]) -> Run:
    job, spec = est.job, est.job.spec
    return Run(
        spec.started, spec.id, spec.name, spec.source, value(est, "experiment"), spec.tags.get("team", ""),
        spec.tags.get("project", ""), spec.tags.get("user", ""), spec.status, job.hardware, job.count, job.hours,
        job.device_hours * job.runs, job.method, basis(est), job.provider or "", job.region or "", job.location,
        job.pue, job.carbon_intensity, est.energy_kwh, est.energy_kwh_low, est.energy_kwh_high, est.emissions_kg,
        est.emissions_kg_low, est.emissions_kg_high, est.emissions_kg_market, est.embodied_kg, ";".join(job.guessed),
        job.market.method, market_scope(job.provider), tuple(value(est, TAG_PREFIX + name) for name in tag_names),
    )


class PlannedProfile(NamedTuple):
    """A planned job's zone hour-of-day profile and its best start in the window (the HTML draws it)."""

    name: str
    id: str
    profile: Profile
    window_hours: float
    hours: float
    start: Start  # now, the best start hour, and the cut (core/hourly.best_start)
    saving_kg: float  # the job's emissions × the cut (the when advice's saving)


def planned_profile(est: Estimate) -> PlannedProfile | None:
    """The profile worth drawing for one estimate: a planned job with a window, a profile and a best start."""
    spec, profile = est.job.spec, est.profile
    if profile is None or spec.start_window_hours is None:
        return None
    start = best_start(profile.by_hour, profile.now_ms, spec.start_window_hours, est.job.hours)
    if start is None:
        return None
    return PlannedProfile(spec.name, spec.id, profile, spec.start_window_hours, est.job.hours, start,
                          est.emissions_kg * max(start.cut, 0.0))


class Skips(NamedTuple):
    """Runs read but not estimated: how many for each reason, and a few names for each."""

    counts: Mapping[str, int]
    examples: Mapping[str, tuple[str, ...]]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class Summary(NamedTuple):
    period: Period
    totals: Totals
    previous: PeriodChange | None
    year_ago: PeriodChange | None
    breakdowns: tuple[Breakdown, ...]
    months: tuple[Month, ...]
    undated: Totals  # planned jobs (a manifest): in the totals, in no month
    top: tuple[Run, ...]
    statuses: tuple[Group, ...]  # always by status, for the waste section
    quality: tuple[Quality, ...]
    guessed: Totals  # runs with any guessed input
    recommendations: tuple[Recommendation, ...]
    skipped: Skips
    factors: tuple[Factor, ...]
    equivalents: tuple[Equivalent, ...]
    sources: tuple[SourceInfo, ...]
    compared: tuple[str, ...]  # what was asked: previous, year
    tag_names: tuple[str, ...]  # the tag:NAME fields, in CSV column order
    runs: Iterable[Run] = ()  # every run, by start time: read from disk when rendered (CSV)
    tool_version: str = __version__
    results: Results | None = None  # carbon per result over the period, when a metric is configured
    profiles: tuple[PlannedProfile, ...] = ()  # planned jobs' hour-of-day profiles, largest saving first (a few)


def compare(current: Totals, other: Totals | None, period: Period) -> PeriodChange | None:
    """This period against another; None when the other was not read or had no runs (nothing to compare with)."""
    if other is None or other.jobs == 0:
        return None
    delta = current.emissions_kg - other.emissions_kg
    percent = 100.0 * delta / other.emissions_kg if other.emissions_kg else None
    return PeriodChange(period, other, delta, percent)
