"""An organisation's settings (``ci-carbon.yaml``) as the stages use them: its MLflow tag and param names and
defaults, and its carbon budget for pull requests. The file itself is read by :mod:`ci_carbon.sources.config_file`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from ci_carbon.core.model import EMPTY

BUDGET_KG = ("warn_kg", "fail_kg", "job_warn_kg", "job_fail_kg")  # kg CO2eq: the PR's total, one job's
BUDGET_PERCENT = ("warn_percent", "fail_percent")  # increase of the total over the base, in %
BUDGET_PAIRS = (("warn_kg", "fail_kg"), ("job_warn_kg", "job_fail_kg"), ("warn_percent", "fail_percent"))
BUDGET_KEYS = (*BUDGET_KG, *BUDGET_PERCENT, "approve_label")
DEFAULT_APPROVE_LABEL = "carbon-budget-approved"


METRIC_DIRECTIONS = ("max", "min")
ALL_EXPERIMENTS = "*"  # mlflow.metric's key for every experiment not named on its own


class MetricChoice(NamedTuple):
    """The metric runs are judged by (carbon per result): its name and whether higher (max) or lower is better."""

    name: str
    direction: str = "max"


def parse_metric(text: str) -> tuple[MetricChoice | None, str | None]:
    """``NAME``, ``NAME:max`` or ``NAME:min`` → the choice, or why not (one line for the caller to place)."""
    name, colon, direction = text.strip().rpartition(":")
    if not colon:
        name, direction = direction, "max"
    name, direction = name.strip(), direction.strip()
    if direction not in METRIC_DIRECTIONS:
        return None, f"'{text}': the direction after ':' must be max or min (e.g. val_accuracy:max, loss:min)"
    if not name:
        return None, f"'{text}': give a metric name, e.g. val_accuracy or loss:min"
    return MetricChoice(name, direction), None


class MlflowConfig(NamedTuple):
    fields: Mapping[str, tuple[str, ...]] = EMPTY  # ci-carbon field → the organisation's names, in order
    team: tuple[str, ...] = ()
    project: tuple[str, ...] = ()
    defaults: Mapping[str, object] = EMPTY
    # "accelerator": the defaults' accelerator fields (ACCELERATOR_DEFAULTS) apply only to runs that show one
    # (GPU metrics, or a hardware/count/instance tag or param); "all": to every run (the old behaviour)
    defaults_apply_to: str = "accelerator"
    # carbon per result: experiment name → the metric its runs are judged by; ALL_EXPERIMENTS for the others
    metrics: Mapping[str, MetricChoice] = EMPTY

    def metric_for(self, experiment: str) -> MetricChoice | None:
        """The metric of an experiment's runs: its own, else the one for every experiment, else none."""
        return self.metrics.get(experiment) or self.metrics.get(ALL_EXPERIMENTS)


ACCELERATOR_DEFAULTS = ("hardware", "count", "instance_type", "power_w", "utilization")
DEFAULTS_APPLY_TO = ("accelerator", "all")


class BudgetConfig(NamedTuple):
    """Thresholds of the budget gate; None: not set. The command line's --budget-* options win over these."""

    warn_kg: float | None = None
    fail_kg: float | None = None
    job_warn_kg: float | None = None
    job_fail_kg: float | None = None
    warn_percent: float | None = None
    fail_percent: float | None = None
    approve_label: str = DEFAULT_APPROVE_LABEL

    def limits(self) -> dict[str, float | None]:
        """The numeric thresholds by name (approve_label aside)."""
        return {k: getattr(self, k) for k in (*BUDGET_KG, *BUDGET_PERCENT)}


INTENSITY_SOURCES = ("electricitymaps", "watttime")
INTENSITY_BASES = ("direct", "lifecycle")  # Electricity Maps' emissionFactorType; direct is the headline basis
INTENSITY_KEYS = ("source", "zone", "emission_factor_type", "latitude", "longitude")


class IntensityConfig(NamedTuple):
    """The time-resolved grid source (issue 14); ``source`` None: off, no request is ever made."""

    source: str | None = None  # electricitymaps | watttime
    zone: str | None = None  # one zone (or WattTime region) for every job, instead of each job's own
    emission_factor_type: str = "direct"
    latitude: float | None = None  # WattTime: the region is asked for these coordinates (region-from-loc)
    longitude: float | None = None


class Config(NamedTuple):
    path: str | None = None
    mlflow: MlflowConfig = MlflowConfig()
    budget: BudgetConfig = BudgetConfig()
    intensity: IntensityConfig = IntensityConfig()


def inverted_pairs(values: Mapping[str, object]) -> list[tuple[str, str]]:
    """(warn, fail) threshold names where the warning is above the failure: it could never show, a mistake."""
    out = []
    for warn, fail in BUDGET_PAIRS:
        low, high = values.get(warn), values.get(fail)
        if isinstance(low, float) and isinstance(high, float) and low > high:
            out.append((warn, fail))
    return out
