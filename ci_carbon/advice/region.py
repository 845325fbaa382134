"""Choose the region: the cleanest region of the same provider on the same continent that offers what the job runs
on, per region and hardware a job ran in.

Only regions that data/availability.csv lists for the job's instance type (or, without one, for its device through
an instance with at least as many devices as the job uses, up to the largest such instance) are candidates: a move to
a region without the hardware is advice nobody can take, and a TPU v4 job, offered in one region only, gets none.
Where the table has no row for the hardware, availability is unknown, not "nowhere", and no move is suggested.
Both places' factors are resolved by the same code as a job placed there (core.figures): the headline
location-based grid factor of each, so the comparison is on one basis.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from ci_carbon.advice.names import Names, NamesFactory, rank
from ci_carbon.core import tables
from ci_carbon.core.figures import RegionFigures, provider_regions, region_figures
from ci_carbon.core.model import Chunk, Estimate, Job
from ci_carbon.core.report import Recommendation


class _Group:
    """The jobs of one region moving to one destination; what they run on, each offered there."""

    __slots__ = ("current", "here", "names", "offers", "saving", "to")

    def __init__(self, here: RegionFigures, to: RegionFigures, names: Names):
        self.here, self.to, self.names = here, to, names
        self.offers: dict[tuple[str, str, int], int] = {}  # what a job runs on → how many regions offer it
        self.saving = self.current = 0.0


def runs_on(job: Job) -> tuple[str, str, int]:
    """What the region must offer: ("instance", type, 0) for an instance type, else ("device", id, devices)."""
    if job.spec.instance_type:
        return "instance", job.spec.instance_type, 0
    return "device", job.device_id or "", job.count


@cache
def offering(provider: str, what: str, name: str, count: int) -> frozenset[str]:
    """The provider's regions that offer the instance type, or the device through an instance big enough."""
    if what == "instance":
        return tables.regions_offering(provider, instance_type=name)
    sizes = {i.instance_type: i.device_count for rs in tables.instances().values() for i in rs
             if i.provider == provider and i.device_id == name}
    rows = [a for a in tables.availability() if a.provider == provider and a.device_id == name]
    largest = max((sizes.get(a.instance_type, 0) for a in rows), default=0)
    need = min(count, largest)
    return frozenset(a.region for a in rows if not a.instance_type or sizes.get(a.instance_type, 0) >= need)


def _cleanest(provider: str, region: str, offered: frozenset[str]) -> RegionFigures | None:
    here = region_figures(provider, region)
    if here.continent is None:
        return None
    # like with like: a region whose factor is on another basis (lifecycle, consumption) is no comparison
    options = [r for r in provider_regions(provider, here.continent) if r.region != here.region
               and r.region in offered and r.basis == here.basis]
    return min(options, key=lambda r: (r.kg_per_it_kwh, r.region)) if options else None


@cache
def destination(provider: str, region: str, what: tuple[str, str, int]) -> tuple[RegionFigures | None, int]:
    """The cleanest region offering ``what`` (None when none does or availability is unknown), and how many do."""
    offered = offering(provider, *what)
    return _cleanest(provider, region, offered), len(offered)


class Region:
    def __init__(self, names: NamesFactory):
        self.new_names = names
        self.groups: dict[tuple[str, str, str], _Group] = {}  # (provider, from, to) → its jobs

    def add(self, estimates: Sequence[Estimate], chunk: Chunk) -> None:
        for est in estimates:
            job = est.job
            if not (job.provider and job.region and job.spec.carbon_intensity is None):
                continue
            what = runs_on(job)
            to, offered = destination(job.provider, job.region, what)
            if to is None:
                continue
            key = (job.provider, job.region, to.region)
            group = self.groups.get(key)
            if group is None:
                group = self.groups[key] = _Group(region_figures(job.provider, job.region), to, self.new_names())
            group.offers[what] = offered
            it_kwh = est.energy_kwh / job.pue
            pue = job.pue if job.spec.pue is not None else to.pue
            group.saving += est.emissions_kg - it_kwh * pue * to.carbon_intensity / 1000.0
            group.current += est.emissions_kg
            group.names.add(rank(est.emissions_kg, job.spec.name, job.spec.id), job.spec.name)

    def result(self) -> list[Recommendation]:
        return [Recommendation("region", g.names.result(), g.saving,
                               {"provider": provider, "from": g.here, "to": g.to, "current_kg": g.current,
                                "percent": 100.0 * g.saving / g.current,
                                "offers": [_offers(what, n) for what, n in sorted(g.offers.items())]})
                for (provider, _, _), g in sorted(self.groups.items()) if g.saving > 0]


def _offers(what: tuple[str, str, int], regions: int) -> dict[str, object]:
    """What the sentence says the region offers: the instance type, or the device by name (and how many), and in
    how many of the provider's regions it is offered."""
    kind, name, count = what
    device = tables.devices().get(name)
    return {"kind": kind, "name": device.name if device else name, "count": count, "regions": regions}
