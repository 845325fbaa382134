"""When to run (issue 14): a planned job with a flexible start (``start_window_hours``) starts at the hour of the
window whose expected grid intensity, over the job's duration, is lowest.

The expectation is the zone's mean intensity by UTC hour of day over the last 30 days (the estimate's
:class:`~ci_carbon.core.model.Profile`, read by :mod:`ci_carbon.sources.intensity`), against a start at the
report's hour; the arithmetic is :func:`ci_carbon.core.hourly.best_start`. The saving is the job's (yearly-table)
emissions × the cut 1 − best / now: a relative gain applied to the headline figure, so it adds to nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence

from ci_carbon.advice.names import NamesFactory, rank
from ci_carbon.core.hourly import best_start
from ci_carbon.core.model import Chunk, Estimate
from ci_carbon.core.report import Recommendation

LABEL = {"electricitymaps": "Electricity Maps", "watttime": "WattTime"}


class When:
    def __init__(self, names: NamesFactory):
        self.new_names = names
        self.found: list[Recommendation] = []

    def add(self, estimates: Sequence[Estimate], chunk: Chunk) -> None:
        for est in estimates:
            spec, profile = est.job.spec, est.profile
            if profile is None or spec.start_window_hours is None:
                continue
            start = best_start(profile.by_hour, profile.now_ms, spec.start_window_hours, est.job.hours)
            if start is None or start.delay_hours == 0 or start.cut <= 0:
                continue
            names = self.new_names()
            names.add(rank(est.emissions_kg, spec.name, spec.id), spec.name)
            self.found.append(Recommendation("when", names.result(), est.emissions_kg * start.cut, {
                "source": LABEL.get(profile.source, profile.source), "zone": profile.zone,
                "basis": profile.emission_factor_type, "days": profile.days,
                "window_hours": spec.start_window_hours, "hours": est.job.hours,
                "best_hour": f"{start.best_hour:02d}:00", "now_hour": f"{start.now_hour:02d}:00",
                "delay_hours": start.delay_hours, "now_intensity": start.now_intensity,
                "best_intensity": start.best_intensity, "percent": 100.0 * start.cut,
                "current_kg": est.emissions_kg}))

    def result(self) -> list[Recommendation]:
        return list(self.found)
