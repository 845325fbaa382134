"""Per-kWh figures of a cloud region, for advice that compares places without re-resolving whole jobs."""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from ci_carbon.core import tables
from ci_carbon.core.model import Basis, JobSpec, Origin
from ci_carbon.core.resolve import resolve


class RegionFigures(NamedTuple):
    provider: str
    region: str
    name: str
    continent: str | None
    carbon_intensity: float
    pue: float
    basis: Basis | None = None  # of carbon_intensity: advice compares regions on one basis only

    @property
    def kg_per_it_kwh(self) -> float:
        return self.pue * self.carbon_intensity / 1000.0


_PROBE_DEVICE = "t4"  # any device: only the place's factors are read from the probe


@cache
def region_figures(provider: str, region: str) -> RegionFigures:
    """Intensity and PUE of a region exactly as a job placed there would get them (same resolution code)."""
    spec = JobSpec(name="probe", origin=Origin("data"), hardware=_PROBE_DEVICE, hours=1.0, provider=provider,
                   region=region)
    job = resolve(spec)
    row = tables.regions()[(provider, region.lower())]
    return RegionFigures(provider, row.region, row.name, job.continent, job.carbon_intensity, job.pue, job.basis)


@cache
def provider_regions(provider: str, continent: str) -> tuple[RegionFigures, ...]:
    """A provider's regions on one continent; the continent is read from the tables before anything is resolved."""
    grids = tables.grids()
    return tuple(region_figures(p, r) for (p, r), row in sorted(tables.regions().items())
                 if p == provider and row.country in grids and grids[row.country].continent == continent)
