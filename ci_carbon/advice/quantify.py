"""Quantify: which jobs rest on guessed inputs (power draw, location, PUE, CPU, an ambiguous device, defaults),
and the range that leaves their emissions in — what to measure to narrow it."""

from __future__ import annotations

from collections.abc import Sequence

from ci_carbon.advice.names import NamesFactory, Sample, rank
from ci_carbon.core.model import Chunk, Estimate
from ci_carbon.core.report import Recommendation


class Quantify:
    def __init__(self, names: NamesFactory):
        self.names = names()
        self.missing: dict[str, int] = {}  # what was guessed → how many jobs
        self.low_kg = self.high_kg = 0.0
        self.count = 0

    def add(self, estimates: Sequence[Estimate], chunk: Chunk) -> None:
        for est in estimates:
            guessed = est.job.guessed
            if not guessed:
                continue
            self.count += 1
            self.names.add(rank(est.emissions_kg, est.job.spec.name, est.job.spec.id), est.job.spec.name)
            self.low_kg += est.emissions_kg_low
            self.high_kg += est.emissions_kg_high
            for what in guessed:
                self.missing[what] = self.missing.get(what, 0) + 1

    def result(self) -> list[Recommendation]:
        if not self.count:
            return []
        missing = {what: Sample((), n) for what, n in sorted(self.missing.items())}
        return [Recommendation("quantify", self.names.result(), 0.0,
                               {"missing": missing, "low_kg": self.low_kg, "high_kg": self.high_kg})]
