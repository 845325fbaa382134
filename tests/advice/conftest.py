"""Helpers for the advice tests: a job resolved and estimated by the real core, then folded by the real rules."""

from __future__ import annotations

from typing import Any

from ci_carbon.advice.fold import recommend
from ci_carbon.core.estimate import estimate
from ci_carbon.core.model import Estimate, JobSpec, Origin
from ci_carbon.core.report import Recommendation
from ci_carbon.core.resolve import resolve


def estimated(name: str, **fields: Any) -> Estimate:
    return estimate(resolve(JobSpec(name=name, origin=Origin("test.yaml"), id=name, **fields)))


def advice(*estimates: Estimate) -> tuple[Recommendation, ...]:
    return recommend(list(estimates))


def of_kind(recs: tuple[Recommendation, ...], kind: str) -> list[Recommendation]:
    return [r for r in recs if r.kind == kind]
