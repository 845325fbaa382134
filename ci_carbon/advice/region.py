"""Choose the region: the cleanest region of the same provider on the same continent, per region a job ran in."""

from __future__ import annotations

from collections.abc import Sequence

from ci_carbon.advice.names import Names, NamesFactory, rank
from ci_carbon.core.figures import RegionFigures, provider_regions, region_figures
from ci_carbon.core.model import Chunk, Estimate
from ci_carbon.core.report import Recommendation


class _Group:
    __slots__ = ("current", "here", "names", "saving", "to")

    def __init__(self, here: RegionFigures, to: RegionFigures | None, names: Names):
        self.here, self.to, self.names = here, to, names
        self.saving = self.current = 0.0


def _cleanest(provider: str, region: str) -> tuple[RegionFigures, RegionFigures | None]:
    here = region_figures(provider, region)
    if here.continent is None:
        return here, None
    # like with like: a region whose factor is on another basis (lifecycle, consumption) is no comparison
    options = [r for r in provider_regions(provider, here.continent) if r.region != region and r.basis == here.basis]
    return here, min(options, key=lambda r: (r.kg_per_it_kwh, r.region)) if options else None


class Region:
    def __init__(self, names: NamesFactory):
        self.new_names = names
        self.groups: dict[tuple[str, str], _Group] = {}

    def add(self, estimates: Sequence[Estimate], chunk: Chunk) -> None:
        for est in estimates:
            job = est.job
            if not (job.provider and job.region and job.spec.carbon_intensity is None):
                continue
            group = self.groups.get((job.provider, job.region))
            if group is None:
                group = self.groups[(job.provider, job.region)] = _Group(*_cleanest(job.provider, job.region),
                                                                         self.new_names())
            if group.to is None:
                continue
            it_kwh = est.energy_kwh / job.pue
            pue = job.pue if job.spec.pue is not None else group.to.pue
            group.saving += est.emissions_kg - it_kwh * pue * group.to.carbon_intensity / 1000.0
            group.current += est.emissions_kg
            group.names.add(rank(est.emissions_kg, job.spec.name, job.spec.id), job.spec.name)

    def result(self) -> list[Recommendation]:
        return [Recommendation("region", g.names.result(), g.saving,
                               {"provider": provider, "from": g.here, "to": g.to, "current_kg": g.current,
                                "percent": 100.0 * g.saving / g.current})
                for (provider, _), g in sorted(self.groups.items()) if g.to is not None and g.saving > 0]
