"""Choose the provider: a job on premises (or nowhere said) at the industry-average PUE, against the best published
fleet PUE of a provider that also matches its electricity with renewable purchases."""

from __future__ import annotations

from collections.abc import Sequence

from ci_carbon.advice.names import NamesFactory, Rank, rank
from ci_carbon.core import tables
from ci_carbon.core.model import Chunk, Estimate
from ci_carbon.core.report import Recommendation

ON_PREMISES = (None, "on-premise", "unknown")


class Provider:
    def __init__(self, names: NamesFactory):
        published = [p for p in tables.providers().values() if p.pue is not None and p.renewable_matching]
        self.best = min(published, key=lambda p: (p.pue, p.provider)) if published else None
        self.names = names()
        self.saving = self.current = 0.0
        self.top: tuple[Rank, float] | None = None  # the largest member's rank and PUE: the sentence's PUE

    def add(self, estimates: Sequence[Estimate], chunk: Chunk) -> None:
        if self.best is None:
            return
        for est in estimates:
            job = est.job
            if job.provider not in ON_PREMISES or job.pue <= self.best.pue or job.spec.pue is not None:  # type: ignore[operator]
                continue
            self.saving += est.emissions_kg * (1 - self.best.pue / job.pue)  # type: ignore[operator]
            self.current += est.emissions_kg
            member = rank(est.emissions_kg, job.spec.name, job.spec.id)
            self.names.add(member, job.spec.name)
            if self.top is None or member < self.top[0]:
                self.top = (member, job.pue)

    def result(self) -> list[Recommendation]:
        if self.top is None or self.best is None or self.saving <= 0:  # 0 kg on a zero-carbon grid: nothing to save
            return []
        return [Recommendation("provider", self.names.result(), self.saving,
                               {"best": self.best, "pue": self.top[1], "current_kg": self.current,
                                "percent": 100.0 * self.saving / self.current})]
