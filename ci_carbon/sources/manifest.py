"""The YAML manifest source (DESIGN.md "YAML manifest, version 1"): a file of planned jobs → JobSpecs.

Validation is exhaustive rather than fail-fast: ``ci-carbon validate`` prints every problem with its line,
so a user fixes a manifest in one pass.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from ci_carbon.core.model import JobSpec, Origin
from ci_carbon.core.names import nearest, suggestion
from ci_carbon.errors import InputError, InputProblem
from ci_carbon.sources import yaml_tree
from ci_carbon.sources.yaml_tree import Located


class FieldRule(NamedTuple):
    """The type and range of one manifest field; ``low_open`` means the low bound itself is not allowed."""

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
}
TOP_LEVEL = ("version", "defaults", "jobs")
PLACE = ("region", "country", "state", "carbon_intensity")  # a job that names one takes none from defaults
SUPPORTED_VERSION = 1


class Problems:
    def __init__(self, path: str):
        self.path = path
        self.items: list[InputProblem] = []

    def add(self, line: int | None, field: str | None, message: str, options: list[str] | None = None) -> None:
        self.items.append(InputProblem(self.path, line, field, message, suggestion(options or [])))


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    if isinstance(value, str):
        return f"text '{value}'"
    return repr(value)


def _check(rule: FieldRule, item: Located, where: str, out: Problems) -> Any:
    """The field's value if it fits its rule, else None with a problem recorded."""
    value = item.value
    if rule.kind == "str":
        if isinstance(value, str) and value.strip():
            return value.strip()
        out.add(item.line, where, f"must be non-empty text, got {_type_name(value)}")
        return None
    if rule.kind == "tags":
        if not isinstance(value, dict):
            out.add(item.line, where, f"must be a mapping of names to text, got {_type_name(value)}")
            return None
        tags: dict[str, str] = {}
        for key, tag in value.items():
            if isinstance(tag.value, (dict, list)) or tag.value is None:
                out.add(tag.line, f"{where}.{key}", f"must be text, got {_type_name(tag.value)}")
            else:
                tags[key] = str(tag.value).lower() if isinstance(tag.value, bool) else str(tag.value)
        return tags
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not numeric or (rule.kind == "int" and not float(value).is_integer()):
        wanted = "a whole number" if rule.kind == "int" else "a number"
        out.add(item.line, where, f"must be {wanted} of {rule.unit}, got {_type_name(value)}")
        return None
    if not math.isfinite(value):
        out.add(item.line, where, f"must be a finite number of {rule.unit}, got {value}")
        return None
    too_low = rule.low is not None and (value < rule.low or (rule.low_open and value == rule.low))
    if too_low or (rule.high is not None and value > rule.high):
        low = f"above {rule.low:g}" if rule.low_open else f"at least {rule.low:g}"
        out.add(item.line, where, f"must be {low} and at most {rule.high:g} {rule.unit}, got {value:g}")
        return None
    return int(value) if rule.kind == "int" else float(value)


def check_fields(raw: dict[str, Located], where: str, out: Problems, allow_name: bool) -> dict[str, Located]:
    """Known fields, each checked; unknown ones reported with the nearest known name."""
    good: dict[str, Located] = {}
    for key, item in raw.items():
        rule = FIELDS.get(key)
        if rule is None or (key == "name" and not allow_name):
            options = nearest(key, {k: k for k in FIELDS if allow_name or k != "name"})
            message = "a job's name cannot be a default" if key == "name" else f"unknown field '{key}'"
            out.add(item.line, f"{where}.{key}", message, options)
            continue
        value = _check(rule, item, f"{where}.{key}", out)
        if value is not None:
            good[key] = Located(value, item.line)
    return good




def applicable_defaults(own: dict, defaults: dict, value=lambda v: v) -> dict:
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


def _job(path: str, index: int, item: Located, defaults: dict[str, Located], out: Problems) -> JobSpec | None:
    where = f"jobs[{index}]"
    if not isinstance(item.value, dict):
        out.add(item.line, where, f"each job must be a mapping of fields, got {_type_name(item.value)}")
        return None
    before = len(out.items)
    own = check_fields(item.value, where, out, allow_name=True)
    if len(out.items) > before:
        return None
    merged = {**applicable_defaults(own, defaults, value=lambda item: item.value), **own}
    if "tags" in defaults and "tags" in own:
        merged["tags"] = Located({**defaults["tags"].value, **own["tags"].value}, own["tags"].line)
    if "name" not in merged:
        out.add(item.line, f"{where}.name", "every job needs a name")
        return None
    if "hours" in merged and "device_hours" in merged:
        out.add(merged["device_hours"].line, f"{where}.device_hours", "give hours or device_hours, not both")
        return None
    if "hours" not in merged and "device_hours" not in merged:
        out.add(item.line, f"{where}.hours", "every job needs hours (per run) or device_hours")
        return None
    if "hardware" not in merged and "instance_type" not in merged:
        out.add(item.line, f"{where}.hardware", "every job needs hardware (with count) or instance_type")
        return None
    values = {k: v.value for k, v in merged.items()}
    lines = {k: v.line for k, v in merged.items()}
    origin = Origin(path, item.line, where, lines)
    return JobSpec(origin=origin, source="manifest", id=values["name"], **values)


def _top(path: str, root: Located | None, out: Problems) -> tuple[dict[str, Located], list[Located]] | None:
    if root is None:
        out.add(None, None, "is empty; a manifest needs 'version: 1' and a list of jobs")
        return None
    if not isinstance(root.value, dict):
        out.add(root.line, None, f"must be a mapping with 'version' and 'jobs', got {_type_name(root.value)}")
        return None
    doc: dict[str, Located] = root.value
    meant: set[str] = set()  # fields a misspelt key was probably meant as: not reported missing as well
    for key, item in doc.items():
        if key not in TOP_LEVEL:
            options = nearest(key, {k: k for k in TOP_LEVEL})
            meant.update(options)
            out.add(item.line, key, "unknown top-level field", options)
    version = doc.get("version")
    if version is None and "version" not in meant:
        out.add(root.line, "version", f"missing; write 'version: {SUPPORTED_VERSION}'")
    elif version is not None and (version.value != SUPPORTED_VERSION or isinstance(version.value, bool)):
        out.add(version.line, "version", f"unsupported version {version.value!r}; this ci-carbon reads "
                                         f"version {SUPPORTED_VERSION}")
    defaults: dict[str, Located] = {}
    if "defaults" in doc:
        raw = doc["defaults"]
        if isinstance(raw.value, dict):
            defaults = check_fields(raw.value, "defaults", out, allow_name=False)
        else:
            out.add(raw.line, "defaults", f"must be a mapping of job fields, got {_type_name(raw.value)}")
    jobs = doc.get("jobs")
    if jobs is None:
        if "jobs" not in meant:
            out.add(root.line, "jobs", "missing; a manifest needs a list of jobs")
        return None
    if not isinstance(jobs.value, list) or not jobs.value:
        got = "an empty list" if jobs.value == [] else _type_name(jobs.value)
        out.add(jobs.line, "jobs", f"must be a non-empty list of jobs, got {got}")
        return None
    return defaults, jobs.value


def read(path: str) -> tuple[list[JobSpec], list[InputProblem]]:
    """The well-formed jobs of the manifest at ``path`` and every problem found in the others.

    Unreadable files (missing, not UTF-8, invalid YAML) still raise InputError: there is nothing to go on.
    """
    out = Problems(path)
    top = _top(path, yaml_tree.load(path), out)
    specs: list[JobSpec] = []
    if top is not None:
        defaults, items = top
        first_line: dict[str, int] = {}
        for index, item in enumerate(items):
            spec = _job(path, index, item, defaults, out)
            if spec is None:
                continue
            if spec.name in first_line:
                out.add(spec.origin.line_of("name"), f"jobs[{index}].name",
                        f"duplicate job name '{spec.name}' (first on line {first_line[spec.name]}); names must be "
                        "unique")
                continue
            first_line[spec.name] = spec.origin.line_of("name") or 0
            specs.append(spec)
    return specs, out.items


def load(path: str) -> list[JobSpec]:
    """Every job of the manifest at ``path``, or InputError listing every problem."""
    specs, problems = read(path)
    if problems:
        raise InputError(problems)
    return specs
