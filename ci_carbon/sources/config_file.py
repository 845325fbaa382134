"""Read ``ci-carbon.yaml`` (``--config FILE`` or ``./ci-carbon.yaml``) into :class:`~ci_carbon.core.settings.Config`.

Read with the same safe YAML reader and job field rules as the manifest, so a mistake here is one clear line with
its file and line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ci_carbon.core import fields
from ci_carbon.core.fields import FIELDS, THRESHOLDS, type_name
from ci_carbon.core.model import EMPTY
from ci_carbon.core.names import nearest
from ci_carbon.core.settings import (
    ALL_EXPERIMENTS,
    BUDGET_KEYS,
    BUDGET_KG,
    DEFAULTS_APPLY_TO,
    INTENSITY_BASES,
    INTENSITY_KEYS,
    INTENSITY_SOURCES,
    BudgetConfig,
    Config,
    IntensityConfig,
    MetricChoice,
    MlflowConfig,
    inverted_pairs,
    parse_metric,
)
from ci_carbon.errors import InputError
from ci_carbon.sources import yaml_tree
from ci_carbon.sources.yaml_fields import Problems, check_fields
from ci_carbon.sources.yaml_tree import Located

DEFAULT_FILE = "ci-carbon.yaml"
MLFLOW_KEYS = ("fields", "team", "project", "defaults", "defaults_apply_to", "metric")
TOP = {"version": "version", "mlflow": "mlflow", "budget": "budget", "intensity": "intensity"}


def _names(item: Located, where: str, out: Problems) -> tuple[str, ...]:
    values = item.value if isinstance(item.value, list) else [item]
    names = tuple(v.value for v in values if isinstance(v.value, str) and v.value.strip())
    if len(names) != len(values):
        out.add(item.line, where, "must be a name or a list of tag/param names")
    return names


def _metric(item: Located, where: str, out: Problems) -> MetricChoice | None:
    if not isinstance(item.value, str):
        out.add(item.line, where, f"must be a metric name, NAME:max or NAME:min, got {type_name(item.value)}")
        return None
    choice, why = parse_metric(item.value)
    if why is not None:
        out.add(item.line, where, why)
    return choice


def _metrics(item: Located, out: Problems) -> dict[str, MetricChoice]:
    """``metric: val_accuracy`` (every experiment) or a mapping of experiment name → metric, ``"*"`` for the rest."""
    if not isinstance(item.value, dict):
        choice = _metric(item, "mlflow.metric", out)
        return {ALL_EXPERIMENTS: choice} if choice else {}
    found = {}
    for experiment, value in item.value.items():
        choice = _metric(value, f"mlflow.metric.{experiment}", out)
        if choice is not None:
            found[str(experiment)] = choice
    return found


def _mlflow(item: Located, out: Problems) -> MlflowConfig:
    if not isinstance(item.value, dict):
        out.add(item.line, "mlflow", "must be a mapping")
        return MlflowConfig()
    fields: dict[str, tuple[str, ...]] = {}
    team = project = ()
    defaults: Mapping[str, object] = EMPTY
    apply_to = "accelerator"
    metrics: dict[str, MetricChoice] = {}
    for key, value in item.value.items():
        if key == "fields" and isinstance(value.value, dict):
            for field, names in value.value.items():
                if field not in FIELDS or field in ("name", "tags"):
                    out.add(names.line, f"mlflow.fields.{field}", "unknown field",
                            nearest(field, {f: f for f in FIELDS if f not in ("name", "tags")}))
                else:
                    fields[field] = _names(names, f"mlflow.fields.{field}", out)
        elif key in ("team", "project"):
            names = _names(value, f"mlflow.{key}", out)
            team, project = (names, project) if key == "team" else (team, names)  # type: ignore[assignment]
        elif key == "defaults" and isinstance(value.value, dict):
            defaults = {k: v.value for k, v in check_fields(value.value, "mlflow.defaults", out, False).items()}
        elif key == "defaults_apply_to":
            if value.value in DEFAULTS_APPLY_TO:
                apply_to = value.value
            else:
                out.add(value.line, "mlflow.defaults_apply_to", f"must be one of {', '.join(DEFAULTS_APPLY_TO)}, "
                        f"got {type_name(value.value)}", list(DEFAULTS_APPLY_TO))
        elif key == "metric":
            metrics = _metrics(value, out)
        else:
            problem = "unknown setting" if key not in MLFLOW_KEYS else "must be a mapping"
            out.add(value.line, f"mlflow.{key}", problem, nearest(key, {k: k for k in MLFLOW_KEYS}))
    return MlflowConfig(fields, team, project, defaults, apply_to, metrics)


def _threshold(key: str, item: Located, out: Problems) -> float | None:
    """A threshold by the core's rule (:data:`~ci_carbon.core.fields.THRESHOLDS`), as --budget-* reads it."""
    value, why = fields.check(THRESHOLDS["kg" if key in BUDGET_KG else "percent"], item.value)
    if why is not None:
        out.add(item.line, f"budget.{key}", why)
    return value


def _budget(item: Located, out: Problems) -> BudgetConfig:
    if not isinstance(item.value, dict):
        out.add(item.line, "budget", "must be a mapping of thresholds, e.g. 'fail_kg: 500'")
        return BudgetConfig()
    values: dict[str, object] = {}
    lines = {key: value.line for key, value in item.value.items()}
    for key, value in item.value.items():
        if key == "approve_label":
            if isinstance(value.value, str) and value.value.strip():
                values[key] = value.value.strip()
            else:
                out.add(value.line, "budget.approve_label", "must be a label name")
        elif key in BUDGET_KEYS:
            values[key] = _threshold(key, value, out)
        else:
            out.add(value.line, f"budget.{key}", "unknown setting", nearest(key, {k: k for k in BUDGET_KEYS}))
    for warn, fail in inverted_pairs(values):
        out.add(lines[warn], f"budget.{warn}", f"{values[warn]:g} is above {fail} ({values[fail]:g}); a warning "
                                             "threshold must not be above its failure threshold")
    return BudgetConfig(**{k: v for k, v in values.items() if v is not None})  # type: ignore[arg-type]


def _choice(item: Located, where: str, options: tuple[str, ...], out: Problems) -> str | None:
    if item.value in options:
        return str(item.value)
    out.add(item.line, where, f"must be one of {', '.join(options)}, got {type_name(item.value)}",
            nearest(str(item.value), {o: o for o in options}))
    return None


def _intensity(item: Located, out: Problems) -> IntensityConfig:
    """``intensity:`` — the time-resolved grid source (issue 14): source, zone, emission_factor_type, latitude,
    longitude (WattTime's region-from-loc)."""
    if not isinstance(item.value, dict):
        out.add(item.line, "intensity", "must be a mapping, e.g. 'source: electricitymaps'")
        return IntensityConfig()
    values: dict[str, object] = {}
    for key, value in item.value.items():
        where = f"intensity.{key}"
        if key == "source":
            values[key] = _choice(value, where, INTENSITY_SOURCES, out)
        elif key == "emission_factor_type":
            values[key] = _choice(value, where, INTENSITY_BASES, out) or "direct"
        elif key == "zone":
            if isinstance(value.value, str) and value.value.strip():
                values[key] = value.value.strip()
            else:
                out.add(value.line, where, "must be a zone code, e.g. DE or US-CAL-CISO")
        elif key in ("latitude", "longitude"):
            limit = 90.0 if key == "latitude" else 180.0
            number = value.value
            if isinstance(number, (int, float)) and not isinstance(number, bool) and -limit <= number <= limit:
                values[key] = float(number)
            else:
                out.add(value.line, where, f"must be a number from -{limit:g} to {limit:g}, got {type_name(number)}")
        else:
            out.add(value.line, where, "unknown setting", nearest(key, {k: k for k in INTENSITY_KEYS}))
    return IntensityConfig(**values)  # type: ignore[arg-type]


def load(path: str | None) -> Config:
    """The configuration at ``path``, or ./ci-carbon.yaml when it exists, or the built-in defaults."""
    if path is None:
        if not os.path.isfile(DEFAULT_FILE):
            return Config()
        path = DEFAULT_FILE
    out = Problems(path)
    root = yaml_tree.load(path, what="configuration file")
    if root is None:
        return Config(path)
    if not isinstance(root.value, dict):
        out.add(root.line, None, "must be a mapping with 'version: 1'")
        raise InputError(out.items)
    mlflow, budget, intensity = MlflowConfig(), BudgetConfig(), IntensityConfig()
    for key, item in root.value.items():
        if key == "version":
            if item.value != 1 or isinstance(item.value, bool):
                out.add(item.line, "version", f"unsupported version {type_name(item.value)}; this ci-carbon reads "
                        "version 1")
        elif key == "mlflow":
            mlflow = _mlflow(item, out)
        elif key == "budget":
            budget = _budget(item, out)
        elif key == "intensity":
            intensity = _intensity(item, out)
        else:
            out.add(item.line, key, "unknown top-level setting", nearest(key, TOP))
    if out.items:
        raise InputError(out.items)
    return Config(path, mlflow, budget, intensity)
