"""What a pull-request review adds to a report: where the pull request started, what it changes job by job, and
the budget's verdict. Plain values: :mod:`ci_carbon.compare` computes them, every format renders them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from ci_carbon.core.model import Origin
from ci_carbon.core.totals import Totals

CHANGE_KINDS = ("added", "removed", "changed", "unchanged")


class BasePoint(NamedTuple):
    """The commit a pull request is compared with."""

    ref: str  # the base as the user named it (origin/main, a SHA)
    sha: str  # the merge-base of HEAD and ref
    head: str  # HEAD's SHA
    deepened: int = 0  # commits fetched with `git fetch --deepen` to find the merge-base in a shallow clone


class Baseline(NamedTuple):
    """What the head is compared with: a manifest at the merge-base, or the MLflow runs of that commit."""

    point: BasePoint
    source: str  # manifest | mlflow
    path: str = ""  # manifest: the repository-relative path read at the base
    renamed_from: str = ""  # manifest: the old path when the pull request renamed the manifest
    found: bool = True  # the manifest existed at the base / the base commit has runs


class JobChange(NamedTuple):
    name: str
    kind: str  # added | removed | changed | unchanged
    base_kg: float
    head_kg: float
    fields: tuple[str, ...] = ()  # the fields that differ (changed jobs)

    @property
    def delta_kg(self) -> float:
        return self.head_kg - self.base_kg

    @property
    def percent(self) -> float | None:
        """Relative change in %; None for an added job (nothing to divide by)."""
        return self.delta_kg / self.base_kg * 100 if self.base_kg > 0 else None


class Comparison(NamedTuple):
    baseline: Baseline
    totals: Totals  # the base's totals
    changes: tuple[JobChange, ...]  # added, removed and changed first (largest |delta| first), then unchanged
    delta_kg: float
    percent: float | None  # None when the base emitted nothing
    not_estimated: int = 0  # inputs of the base that were not estimated

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    def counts(self) -> dict[str, int]:
        """Jobs of each kind that has any, in the order a reader wants them: added, removed, changed, unchanged."""
        return {kind: n for kind in CHANGE_KINDS if (n := self.count(kind))}

    def of(self, kind: str) -> list[JobChange]:
        return [c for c in self.changes if c.kind == kind]


class Breach(NamedTuple):
    """One threshold exceeded."""

    threshold: str  # the setting's name: fail_kg, job_warn_kg, warn_percent …
    level: str  # warn | fail
    scope: str  # total | increase | job
    limit: float
    actual: float
    unit: str  # kg | %
    job: str = ""
    origin: Origin | None = None  # where the job is written (annotations point there)

    @property
    def over_by(self) -> float:
        return self.actual - self.limit


class Budget(NamedTuple):
    status: str  # pass | warn | fail
    limit_kg: float | None  # the tightest limit on the total in kg (a relative one converted), failure first
    limits: Mapping[str, float | None]  # every threshold by name; None: not set
    breaches: tuple[Breach, ...]
    approve_label: str
    approved_by: str = ""  # flag | label: an approval turned a failure into a warning
    unchecked: tuple[str, ...] = ()  # relative thresholds that could not be checked (no base, or a base at 0 kg)
    changed_only: bool = False  # per-job thresholds looked only at added and changed jobs
