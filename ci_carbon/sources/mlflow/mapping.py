"""One MLflow run → one JobSpec: the names users actually use for hardware, counts and places.

Names are tried in order: ``ci_carbon.*`` (explicit), then the organisation's own from ci-carbon.yaml, then the
common ones; tags before params. What no run says comes from the configuration's defaults and is reported as
assumed, never silently.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timezone
from hashlib import blake2b
from typing import NamedTuple

from ci_carbon.core import fields as rules
from ci_carbon.core import smi
from ci_carbon.core.fields import FIELDS, applicable_defaults
from ci_carbon.core.model import JobSpec, Notice, Origin, Result, Skipped
from ci_carbon.core.settings import ACCELERATOR_DEFAULTS, MlflowConfig
from ci_carbon.sources.mlflow.power import Host, Measured, shows_gpu
from ci_carbon.sources.mlflow.records import DELETED, RunRecord

COMMON_NAMES: dict[str, tuple[str, ...]] = {
    "hardware": ("gpu", "gpu_type", "gpu_name", "gpu_model", "accelerator", "accelerator_type", "hardware",
                 "device_type"),
    "count": ("num_gpus", "gpu_count", "n_gpus", "ngpus", "num_devices", "num_accelerators"),
    "instance_type": ("instance_type", "machine_type", "node_type"),
    "provider": ("cloud", "provider", "cloud_provider"),
    "region": ("region", "cloud_region"),
    "country": ("country",),
    "cpu": ("cpu", "cpu_model"),
    "cpu_count": ("cpu_count", "num_cpus", "n_cpus"),
    "memory_gb": ("memory_gb",),
}
LOOKED_UP = (*COMMON_NAMES, "state", "pue", "carbon_intensity", "power_w", "utilization")
TEAM_NAMES = ("team",)
PROJECT_NAMES = ("project",)
# Energy logged by hand (CodeCarbon's names and common variants) → multiplier to kWh.
ENERGY_METRICS = {"energy_consumed": 1.0, "energy_kwh": 1.0, "energy_consumed_kwh": 1.0, "energy_wh": 1e-3,
                  "energy_j": 1 / 3.6e6, "energy_joules": 1 / 3.6e6}
# CodeCarbon has no MLflow logger of its own: users log its EmissionsData fields by their names, bare or under a
# "codecarbon/" prefix. energy_consumed with emissions beside it is CodeCarbon's: its own figure goes with the job.
CODECARBON_PREFIXES = ("codecarbon/", "")
ENERGY_METRICS.update({f"codecarbon/{k}": v for k, v in tuple(ENERGY_METRICS.items())})
PLAUSIBLE_W_PER_DEVICE = (1.0, 3000.0)  # a reported energy implying an average outside this is a unit mistake
NOT_PARAMS = ("seed", "random_seed", "run_name")  # differ between trials without making them different trials
FIELD_SETS_KEPT = 10_000  # distinct things runs say, remembered (a store where every run differs stays bounded)
STALE_AFTER_MS = 3_600_000  # a running run that logged nothing for an hour is counted to its last sign of life


def _names(field: str, config: MlflowConfig) -> tuple[str, ...]:
    return (f"ci_carbon.{field}", *config.fields.get(field, ()), *COMMON_NAMES.get(field, ()))


class _Naming(NamedTuple):
    """What one configuration's names mean, built once: the name index, and each distinct set of found values
    already typed and defaulted (a store's runs say a few hundred distinct things, not 100,000)."""

    config: MlflowConfig
    index: dict[str, tuple[tuple[str, int], ...]]  # type: ignore[assignment]  # a field named like tuple.index
    # each: (typed fields, refused values, assumed fields)
    fields: dict[tuple[tuple, tuple], tuple[dict[str, object], tuple[str, ...], tuple[str, ...]]]


_NAMINGS: dict[int, _Naming] = {}


def _naming(config: MlflowConfig) -> _Naming:
    """Tag/param name → (field, rank) pairs; rank orders a field's names (lower wins). Built once per config."""
    known = _NAMINGS.get(id(config))
    if known is not None and known.config is config:
        return known
    pairs: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for field in LOOKED_UP:
        for rank, name in enumerate(_names(field, config)):
            pairs[name].append((field, rank))
    naming = _NAMINGS[id(config)] = _Naming(config, {name: tuple(found) for name, found in pairs.items()}, {})
    return naming


def _said(record: RunRecord, index: dict[str, tuple[tuple[str, int], ...]]) -> tuple[tuple, tuple]:
    """The run's (name, value) pairs whose names mean a field, tags then params: the key of what the run says.

    Only the run's names that are known ones are visited (a set intersection), not every known name on every run.
    """
    tags, params = record.tags, record.params
    return (tuple([(name, tags[name]) for name in tags.keys() & index.keys()]),
            tuple([(name, params[name]) for name in params.keys() & index.keys()]))


def _found(said: tuple[tuple, tuple],
           index: dict[str, tuple[tuple[str, int], ...]]) -> tuple[tuple[str, str, str], ...]:
    """(field, name, value) for each field the run says, by its best-ranked name; tags before params."""
    best: dict[str, tuple[tuple[int, int], str, str]] = {}
    for where, pairs in enumerate(said):
        for name, value in pairs:
            if value in (None, ""):
                continue
            for field, rank in index[name]:
                if field not in best or (rank, where) < best[field][0]:
                    best[field] = ((rank, where), name, str(value).strip())
    return tuple(sorted((field, name, value) for field, (_, name, value) in best.items()))


def _fields(found: tuple[tuple[str, str, str], ...],
            config: MlflowConfig) -> tuple[dict[str, object], tuple[str, ...], tuple[str, ...]]:
    """The typed fields a run says, why any value it says is refused, and the defaults it takes.

    Each value is judged by the manifest's own rule (:func:`ci_carbon.core.fields.parse`): a ``cpu_count`` of
    '1e308' or a PUE of 0.001 is as impossible in a run's params as in a manifest, and makes the run not estimated
    (with the reason), never a figure.
    """
    typed: dict[str, object] = {}
    refused: list[str] = []
    for field, found_name, text in found:
        value, why = rules.parse(field, text)
        if why is None:
            typed[field] = value
        else:
            refused.append(f"{found_name} '{text}' {why}")
    defaults = applicable_defaults(typed, dict(config.defaults))
    assumed = tuple(f for f in defaults if f not in typed and f in LOOKED_UP)
    typed.update({f: defaults[f] for f in assumed})
    return typed, tuple(refused), assumed


def _lookup(record: RunRecord, names: tuple[str, ...]) -> tuple[str, str] | None:
    for name in names:
        for where in (record.tags, record.params):
            value = where.get(name)
            if value not in (None, ""):
                return name, str(value).strip()
    return None


_NOT_PARAMS = frozenset(NOT_PARAMS)


def param_key(record: RunRecord) -> str:
    """Runs with the same parameters (seed aside) in one experiment share this key.

    Never written, but compared across processes (the prefetch child converts half the chunks), so not Python's
    own salted ``hash``: a BLAKE2 digest of the sorted (name, value) pairs, the same in every process and run.
    """
    params = record.params
    if not params:
        return ""
    left_out = params.keys() & _NOT_PARAMS
    if any(k.startswith("ci_carbon.") for k in params):
        left_out |= {k for k in params if k.startswith("ci_carbon.")}
    items = sorted(params.items() - {(k, params[k]) for k in left_out} if left_out else params.items())
    if not items:
        return ""
    return blake2b(repr((record.experiment_id, items)).encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def last_sign_of_life(record: RunRecord, last_point_ms: int | None = None) -> int | None:
    """The newest timestamp a run left: among its latest metric values of any key (loss, step time, not only
    power), and the last point of its power histories; None when it logged nothing."""
    stamps = [t for t in (record.last_metric_ms, last_point_ms) if t is not None]
    return max(stamps) if stamps else None


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def counted_end(record: RunRecord, now_ms: int, last_point_ms: int | None = None) -> tuple[int | None, list[Notice]]:
    """Up to when a run is counted, and the notice that says why when it is not its end time.

    A run still marked RUNNING is counted up to now only while it shows signs of life (a metric logged within
    STALE_AFTER_MS); after that, up to its last sign of life, so that a process that died without ending its run
    does not grow a finished quarter's figures every day. One that never logged anything and started more than
    STALE_AFTER_MS ago has no known duration (None, with the notice that says why). A finished run without an end
    time is counted up to its last sign of life.
    """
    last = last_sign_of_life(record, last_point_ms)
    if record.status in ("RUNNING", "SCHEDULED"):
        if last is not None and now_ms - last > STALE_AFTER_MS:
            return last, [Notice("stale_running", {"since": _utc(last)})]
        if last is None and record.start_time is not None and now_ms - record.start_time > STALE_AFTER_MS:
            return None, [Notice("silent_running", {"since": _utc(record.start_time)})]
        return now_ms, [Notice("running_to_now")]
    if record.end_time is None:
        return last, [Notice("no_end_time")] if last is not None else []
    return record.end_time, []


def _hours(record: RunRecord, now_ms: int, last_point_ms: int | None) -> tuple[float | None, list[Notice]]:
    if record.start_time is None:
        return None, []
    end, notices = counted_end(record, now_ms, last_point_ms)
    if end is None or end <= record.start_time:
        return None, notices
    return (end - record.start_time) / 3.6e6, notices


def reported_energy(record: RunRecord, devices: int, hours: float) -> tuple[float | None, list[Notice]]:
    """kWh from hand-logged energy metrics, with its unit checked against a plausible power."""
    if not record.metrics.keys() & ENERGY_METRICS.keys():
        return None, []
    for name, to_kwh in ENERGY_METRICS.items():
        value = record.metrics.get(name)
        if value is None or not math.isfinite(value) or value <= 0:
            continue
        kwh = value * to_kwh
        watts = kwh * 1000.0 / (hours * max(devices, 1))
        low, high = PLAUSIBLE_W_PER_DEVICE
        if not low <= watts <= high:
            return None, [Notice("implausible_energy", {"metric": name, "value": value, "watts": round(watts, 1)})]
        return kwh, [_codecarbon(record, name, kwh) or Notice("reported_energy", {"metric": name})]
    return None, []


def _codecarbon(record: RunRecord, name: str, kwh: float) -> Notice | None:
    """CodeCarbon's own figure where the run logged its energy_consumed and emissions (kg) under one prefix."""
    prefix = name[:-len("energy_consumed")] if name.endswith("energy_consumed") else None
    emissions = record.metrics.get(f"{prefix}emissions") if prefix in CODECARBON_PREFIXES else None
    if emissions is None or not math.isfinite(emissions) or emissions < 0:
        return None
    parts = {p: record.metrics[f"{prefix}{p}"] for p in ("cpu_energy", "gpu_energy", "ram_energy")
             if f"{prefix}{p}" in record.metrics}
    return Notice("codecarbon", {"emissions_kg": emissions, "energy_kwh": kwh, "pue": 1.0, "pue_applied": False,
                                 "intensity_g_per_kwh": emissions * 1000.0 / kwh, "metric": name, **parts})


def to_spec(record: RunRecord, config: MlflowConfig, measured: Measured | None, now_ms: int,
            last_point_ms: int | None, sweep: str, uri: str, params: str | None = None,
            inherited: Owner | None = None, host: Host | None = None) -> JobSpec | Skipped:
    """The JobSpec for one run, or the reason it cannot be estimated; ``inherited``: the owner of its parent run,
    ``host``: its measured CPU utilisation and memory (a run with those and no accelerator is a CPU-only job)."""
    name = record.run_name or record.run_id[:8]
    hours, notices = _hours(record, now_ms, last_point_ms)
    if hours is None:
        silent = [n for n in notices if n.code == "silent_running"]
        if silent:
            return Skipped(name, record.run_id, "silent_running", str(silent[0].params["since"]))
        return Skipped(name, record.run_id, "no_times")
    naming = _naming(config)
    key = _said(record, naming.index)
    said = naming.fields.get(key)
    if said is None:
        if len(naming.fields) >= FIELD_SETS_KEPT:
            naming.fields.clear()
        said = naming.fields[key] = _fields(_found(key, naming.index), config)
    typed, refused, assumed = said
    if refused:
        return Skipped(name, record.run_id, "bad_value", "; ".join(refused))
    fields = dict(typed)
    dropped = False
    if config.defaults_apply_to != "all" and not _shows_accelerator(record, measured, fields, assumed):
        fields, kept = _without_accelerator_defaults(fields, assumed)
        dropped, assumed = kept != assumed, kept
    cpu_only: dict[str, object] = {}
    if "hardware" not in fields and "instance_type" not in fields:
        if host is None or host.cpu_utilization is None or measured is not None:
            return Skipped(name, record.run_id, "no_accelerator" if dropped else "no_hardware")
        cpu_only = _cpu_only_fields(host, fields)
    if measured is not None:
        _, why = rules.check(FIELDS["power_w"], measured.mean_power_w)
        if why is not None:
            left_out = (f" (after leaving out {measured.dropped} impossible readings, outside 0–"
                        f"{FIELDS['power_w'].high:g} W)") if measured.dropped else ""
            return Skipped(name, record.run_id, "bad_value", f"logged power per device {why}{left_out}")
        rows = smi.modules(fields.get("hardware"), measured.devices)  # type: ignore[arg-type]
        if rows.per_module > 1:  # rocm-smi lists each GCD of an MI250/MI250X module: n GCDs are n / 2 modules
            notices.append(Notice("smi_modules", {"listed": measured.devices, "modules": rows.count,
                                                  "per_module": rows.per_module}))
            measured = measured._replace(devices=rows.count,
                                         mean_power_w=measured.mean_power_w * measured.devices / rows.count)
        if "count" in fields and fields["count"] != measured.devices:
            notices.append(Notice("count_from_metrics", {"said": fields["count"], "logged": measured.devices}))
        fields["count"] = measured.devices
        if measured.gap_seconds:
            notices.append(Notice("power_gap", {"minutes": round(measured.gap_seconds / 60, 1)}))
        if measured.dropped:
            notices.append(Notice("power_points_dropped", {"count": measured.dropped}))
    energy, energy_notices = (None, [])  # type: ignore[var-annotated]
    if measured is None:
        energy, energy_notices = reported_energy(record, int(fields.get("count") or 1), hours)  # type: ignore[call-overload]
    if record.lifecycle_stage == DELETED:
        notices.append(Notice("deleted_run"))
    tags = _tags(record, config, inherited)
    origin = Origin(uri, None, f"run {record.run_id}")
    return JobSpec(
        name=name, origin=origin, source="mlflow", id=record.run_id, status=record.status, hours=hours,
        measured_power_w=measured.mean_power_w if measured else None, reported_energy_kwh=energy,
        gpu_utilization=measured.utilization if measured else None, experiment=record.experiment_name,
        sweep=sweep, param_key=param_key(record) if params is None else params, started=record.start_time,
        assumed=assumed, cpu_utilization=host.cpu_utilization if host else None,
        notices=tuple(notices + energy_notices), tags=tags, result=result_of(record, config),
        **fields, **cpu_only,  # type: ignore[arg-type]
    )


def result_of(record: RunRecord, config: MlflowConfig) -> Result | None:
    """The run's latest value of the metric its experiment is judged by (carbon per result); None when no metric
    is asked of it. A NaN or infinite value is no result: the run is listed as not having logged the metric."""
    choice = config.metric_for(record.experiment_name)
    if choice is None:
        return None
    value = record.metrics.get(choice.name)
    return Result(choice.name, choice.direction, value if value is not None and math.isfinite(value) else None)


def _shows_accelerator(record: RunRecord, measured: Measured | None, fields: Mapping[str, object],
                       assumed: tuple[str, ...]) -> bool:
    """GPU system metrics, or a hardware, count or instance type the run says itself (not from defaults)."""
    if measured is not None or shows_gpu(record.metrics):
        return True
    return any(f in fields and f not in assumed for f in ("hardware", "count", "instance_type"))


def _without_accelerator_defaults(fields: dict[str, object],
                                  assumed: tuple[str, ...]) -> tuple[dict[str, object], tuple[str, ...]]:
    """A run that shows no accelerator takes none from ci-carbon.yaml (``defaults_apply_to: all`` says otherwise):
    a CPU-only run must not silently become the defaults' A100."""
    dropped = {f for f in assumed if f in ACCELERATOR_DEFAULTS}
    return {k: v for k, v in fields.items() if k not in dropped}, tuple(f for f in assumed if f not in dropped)


def _cpu_only_fields(host: Host, fields: Mapping[str, object]) -> dict[str, object]:
    """The measured memory of a CPU-only run, unless the run or the config says its memory_gb."""
    if "memory_gb" in fields or host.memory_gb is None:
        return {}
    return {"memory_gb": host.memory_gb}


OWNER_FIELDS = ("team", "project")
Owner = Mapping[str, tuple[int, str]]  # team/project → (rank of the name it was found under, value)


def owner(record: RunRecord, config: MlflowConfig) -> Owner:
    """The team and project a run says itself, each with the rank of the name that said it (0 is the first of the
    config's names): a child run compares ranks with what its parent says (:func:`inherit`)."""
    found: dict[str, tuple[int, str]] = {}
    for field, names in (("team", (*config.team, *TEAM_NAMES)), ("project", (*config.project, *PROJECT_NAMES))):
        for rank, name in enumerate(names):
            hit = _lookup(record, (name,))
            if hit:
                found[field] = (rank, hit[1])
                break
    return found


def inherit(own: Owner, parent: Owner) -> Owner:
    """A nested run's owner: per field, the better-ranked name wins, and the run's own value on a tie.

    So with ``team: [team, mlflow.user]`` a sweep trial that has no ``team`` tag takes its parent's ``team`` rather
    than its own ``mlflow.user``, and a trial that sets ``team`` itself keeps it.
    """
    merged = dict(parent)
    merged.update({field: value for field, value in own.items()
                   if field not in parent or value[0] <= parent[field][0]})
    return merged


def _tags(record: RunRecord, config: MlflowConfig, inherited: Owner | None = None) -> Mapping[str, str]:
    tags = {"experiment": record.experiment_name}
    found = owner(record, config)
    if inherited:
        found = inherit(found, inherited)
    user = record.tags.get("mlflow.user") or record.user_id
    for field in OWNER_FIELDS:
        if field in found:
            tags[field] = found[field][1]
    if user:
        tags["user"] = user
    return tags
