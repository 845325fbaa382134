"""The job field rules: what each field of a :class:`~ci_carbon.core.model.JobSpec` may hold.

One rule set for every place a job's numbers enter — a manifest, ``ci-carbon.yaml``'s defaults, command-line
options, an MLflow run's tags and params, a CodeCarbon file — so that a value the manifest refuses is never used
because it arrived another way. :func:`check` judges a parsed value, :func:`parse` a text (tags and params are
text); both return the value or the reason it is refused, and each caller says where the value was.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple


class FieldRule(NamedTuple):
    """The type and range of one job field; ``low_open`` means the low bound itself is not allowed."""

    kind: str  # str | int | float | tags
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    unit: str = ""


FIELDS: dict[str, FieldRule] = {
    "name": FieldRule("str"),
    "hardware": FieldRule("str"),
    "count": FieldRule("int", 1, 1_000_000, unit="devices"),
    "hours": FieldRule("float", 0, 87_600, low_open=True, unit="hours"),
    "device_hours": FieldRule("float", 0, 1e9, low_open=True, unit="device-hours"),
    "runs": FieldRule("int", 1, 10_000_000, unit="runs"),
    "instance_type": FieldRule("str"),
    "power_w": FieldRule("float", 0, 5_000, low_open=True, unit="W"),
    "utilization": FieldRule("float", 0, 1, low_open=True, unit="fraction of TDP"),
    "cpu": FieldRule("str"),
    "cpu_count": FieldRule("float", 0, 100_000, low_open=True, unit="cores"),
    "memory_gb": FieldRule("float", 0, 1_000_000, unit="GB"),
    "provider": FieldRule("str"),
    "region": FieldRule("str"),
    "country": FieldRule("str"),
    "state": FieldRule("str"),
    "carbon_intensity": FieldRule("float", 0, 2_000, unit="gCO2eq/kWh"),
    "pue": FieldRule("float", 1.0, 3.0, unit="ratio"),
    "tags": FieldRule("tags"),
    "start_window_hours": FieldRule("float", 0, 168, low_open=True, unit="hours"),  # planned: flexible start
}
PLACE = ("region", "country", "state", "carbon_intensity")  # a job that names one takes none from defaults

# Numbers that enter beside the job fields, by the same rules: one logged reading of a run's system metrics (a
# reading outside these is dropped and counted), and the budget thresholds of ci-carbon.yaml and --budget-*.
READINGS: dict[str, FieldRule] = {
    "power_usage_watts": FieldRule("float", 0, FIELDS["power_w"].high, unit="W"),
    "utilization_percentage": FieldRule("float", 0, 100, unit="%"),
}
THRESHOLDS: dict[str, FieldRule] = {
    "kg": FieldRule("float", 0, 1e12, unit="kg CO2eq"),  # a PR's total or one job's
    "percent": FieldRule("float", -100, 1e6, unit="percent"),  # a relative one may ask for a reduction: -5 %
}
_LARGEST = 1e18  # no field's range comes near; an integer beyond it is refused before float() could overflow


def type_name(value: Any) -> str:
    """How a refused value is named in a message: never Python's repr of a container or of None."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    if isinstance(value, str):
        return f"text '{value}'"
    return repr(value)


def _number(rule: FieldRule, value: Any) -> tuple[Any, str | None]:
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if numeric and isinstance(value, int) and abs(value) > _LARGEST:
        return None, f"must be at most {rule.high:g} {rule.unit}, got a whole number of more than 18 digits"
    if not numeric or (rule.kind == "int" and not float(value).is_integer()):
        wanted = "a whole number" if rule.kind == "int" else "a number"
        return None, f"must be {wanted} of {rule.unit}, got {type_name(value)}"
    if not math.isfinite(value):
        return None, f"must be a finite number of {rule.unit}, got {value}"
    too_low = rule.low is not None and (value < rule.low or (rule.low_open and value == rule.low))
    if too_low or (rule.high is not None and value > rule.high):
        low = f"above {rule.low:g}" if rule.low_open else f"at least {rule.low:g}"
        return None, f"must be {low} and at most {rule.high:g} {rule.unit}, got {value:g}"
    return (int(value) if rule.kind == "int" else float(value)), None


def check(rule: FieldRule, value: Any) -> tuple[Any, str | None]:
    """(the value as the job holds it, None) if ``value`` fits ``rule``, else (None, why not)."""
    if rule.kind == "str":
        if isinstance(value, str) and value.strip():
            return value.strip(), None
        return None, f"must be non-empty text, got {type_name(value)}"
    if rule.kind == "tags":
        if not isinstance(value, Mapping):
            return None, f"must be a mapping of names to text, got {type_name(value)}"
        return dict(value), None
    return _number(rule, value)


def parse(field: str, text: str) -> tuple[Any, str | None]:
    """A field's value from text (a run's tag or param), judged by the same rule as a manifest's value."""
    rule = FIELDS[field]
    if rule.kind == "str":
        return check(rule, text)
    return parse_number(rule, text)


def parse_number(rule: FieldRule, text: str) -> tuple[Any, str | None]:
    """A number from text by ``rule``: 'nan', 'inf' and '1e999' are text that float() accepts, and are refused."""
    try:
        number = float(text)
    except (ValueError, TypeError):
        return None, f"must be a number of {rule.unit}, got {type_name(text)}"
    return _number(rule, number)


def applicable_defaults(own: Mapping[str, Any], defaults: Mapping[str, Any],
                        value: Callable[[Any], Any] = lambda v: v) -> dict[str, Any]:
    """The defaults that apply to a job (or run) that already says ``own``; shared by manifests and MLflow.

    ``defaults: {provider: gcp, region: us-central1}`` must not send a job with ``country: DE`` to Iowa, nor
    look up us-central1 at the job's own provider; a default device must not be added to an instance type.
    """
    drop: set[str] = set()
    other_provider = "provider" in own and "provider" in defaults and value(own["provider"]) != value(
        defaults["provider"])
    if other_provider or any(k in own for k in PLACE):
        drop.update(PLACE)
    if "instance_type" in own:  # the instance says the device and its count
        drop.update(("hardware", "count"))
    if "hardware" in own:
        drop.add("instance_type")
    return {k: v for k, v in defaults.items() if k not in drop}
