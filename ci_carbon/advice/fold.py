"""Advice as a fold: every rule is an accumulator over chunks of estimates, so one job, a pull request's report and
a quarter of 100,000 runs are advised by the same code, a chunk at a time.

Each recommendation is computed alone against the current estimate (they are alternatives, so their savings do not
simply add up) and carries the numbers its sentence shows; the sentence itself is in templates/advice.j2. Advice
reads estimates and the data tables, never a source. The rules follow the five actions of Lacoste et al. (2019).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ci_carbon.advice.hardware import Hardware
from ci_carbon.advice.names import AllNames, NamesFactory
from ci_carbon.advice.provider import Provider
from ci_carbon.advice.quantify import Quantify
from ci_carbon.advice.region import Region
from ci_carbon.advice.results import Plateau
from ci_carbon.advice.search import Search
from ci_carbon.advice.waste import Waste
from ci_carbon.advice.when import When
from ci_carbon.core.model import Chunk, Estimate
from ci_carbon.core.report import Recommendation

KIND_ORDER = ("region", "provider", "hardware", "search", "results", "waste", "quantify", "when")


class Rule(Protocol):
    def add(self, estimates: Sequence[Estimate], chunk: Chunk) -> None:
        """Take in one chunk's estimates (and what the chunk says about its runs)."""
        ...

    def result(self) -> list[Recommendation]:
        """What the rule recommends over everything added so far."""
        ...


class Advice:
    """All rules, folded together; ``names`` chooses which job names each recommendation keeps."""

    def __init__(self, names: NamesFactory = AllNames):
        self.rules: tuple[Rule, ...] = (Region(names), Provider(names), Hardware(names), Search(names),
                                        Plateau(names), Waste(names), Quantify(names), When(names))

    def add(self, estimates: Sequence[Estimate], chunk: Chunk) -> None:
        for rule in self.rules:
            rule.add(estimates, chunk)

    def result(self) -> tuple[Recommendation, ...]:
        """Every recommendation that saves something (plus hints and what to measure), largest saving first; a hint
        without a kg figure (``saving_kg`` None) sorts as 0 kg."""
        found = [rec for rule in self.rules for rec in rule.result()]
        return tuple(sorted(found, key=lambda r: (-round(r.saving_kg or 0.0, 9), KIND_ORDER.index(r.kind),
                                                  tuple(r.jobs))))


def recommend(estimates: Sequence[Estimate], chunk: Chunk | None = None) -> tuple[Recommendation, ...]:
    """The advice on one list of estimates (a fold of one chunk)."""
    advice = Advice()
    advice.add(estimates, chunk or Chunk(()))
    return advice.result()
