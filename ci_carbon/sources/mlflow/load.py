"""Read an MLflow store into JobSpecs: choose a reader, read every run, integrate power, recognise sweeps.

Order of work: one pass over the runs (tags, params, latest metrics), then metric histories only for runs that
logged power and were not already annotated with the current data version, fetched in bulk per set of keys.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from ci_carbon.config import MlflowConfig
from ci_carbon.core import tables
from ci_carbon.core.model import JobSpec
from ci_carbon.sources.mlflow.mapping import Skip, param_key, to_spec
from ci_carbon.sources.mlflow.power import Measured, device_keys, measure
from ci_carbon.sources.mlflow.records import MetricPoint, RunReader, RunRecord, Selection

SQL_SCHEMES = ("sqlite:", "postgresql", "mysql", "mssql")
SWEEP_MIN_SIBLINGS = 8  # sibling runs differing only in params, from which they are one search
PARENT_TAG = "mlflow.parentRunId"
ANNOTATION = "carbon"  # metric prefix and tag prefix written back by `ci-carbon annotate`


class MlflowRead(NamedTuple):
    specs: list[JobSpec]
    skipped: list[Skip]
    reader: str  # "sql" or "client": which path read the store
    runs: int  # runs read, parents and skipped ones included


def open_reader(uri: str, selection: Selection) -> tuple[RunReader, str]:
    """The direct SQL reader where the store allows it and the selection does not need MLflow's filter syntax."""
    if uri.startswith(SQL_SCHEMES):
        from ci_carbon.sources.mlflow.sql_reader import open_sql_reader

        reader = open_sql_reader(uri)
        if reader is not None and reader.supports(selection):
            return reader, "sql"
    from ci_carbon.sources.mlflow.client_reader import ClientReader

    return ClientReader(uri), "client"


def _annotated(record: RunRecord) -> Measured | None:
    """What an earlier `annotate` wrote, if it was computed with the current data tables."""
    if record.tags.get(f"{ANNOTATION}.data_version") != tables.data_version():
        return None
    power = record.metrics.get(f"{ANNOTATION}/measured_power_w")
    devices = record.metrics.get(f"{ANNOTATION}/device_count")
    if power is None or not devices:
        return None
    return Measured(int(devices), record.metrics.get(f"{ANNOTATION}/measured_energy_kwh", 0.0), power,
                    record.metrics.get(f"{ANNOTATION}/gpu_utilization"), 0.0, 0)


def _histories(reader: RunReader, records: Iterable[RunRecord]) -> dict[str, dict[str, list[MetricPoint]]]:
    """Power and utilisation histories of each run that logged them, read in bulk per identical key set."""
    by_keys: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for record in records:
        keys = (*device_keys(record.metrics).values(),
                *device_keys(record.metrics, "utilization_percentage").values())
        if keys:
            by_keys[tuple(sorted(keys))].append(record.run_id)
    out: dict[str, dict[str, list[MetricPoint]]] = defaultdict(dict)
    for keys, run_ids in by_keys.items():
        for (run_id, key), points in reader.histories(run_ids, keys).items():
            out[run_id][key] = points
    return out


def _sweeps(records: list[RunRecord], parents: set[str], keys: dict[str, str]) -> dict[str, str]:
    """run id → sweep key: children of one parent, or ≥8 siblings of an experiment that differ only in params."""
    sweep = {r.run_id: r.tags[PARENT_TAG] for r in records if r.tags.get(PARENT_TAG) in parents}
    siblings: dict[tuple[str, tuple[str, ...]], list[RunRecord]] = defaultdict(list)
    for record in records:
        if record.run_id not in sweep and record.run_id not in parents and record.params:
            siblings[(record.experiment_id, tuple(sorted(record.params)))].append(record)
    for (experiment, names), group in siblings.items():
        if len(group) >= SWEEP_MIN_SIBLINGS and len({keys[r.run_id] for r in group}) > 1:
            for record in group:
                sweep[record.run_id] = f"{experiment}:{','.join(names)}"
    return sweep


def load(uri: str, selection: Selection, config: MlflowConfig, now_ms: int | None = None) -> MlflowRead:
    reader, kind = open_reader(uri, selection)
    records = list(reader.runs(selection))
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    has_children = {r.tags[PARENT_TAG] for r in records if r.tags.get(PARENT_TAG)}
    annotated = {r.run_id: m for r in records if (m := _annotated(r)) is not None}
    histories = _histories(reader, (r for r in records if r.run_id not in annotated))
    keys = {r.run_id: param_key(r) for r in records}
    sweeps = _sweeps(records, has_children, keys)
    specs: list[JobSpec] = []
    skipped: list[Skip] = []
    for record in records:
        history = histories.get(record.run_id, {})
        end = record.end_time if record.end_time is not None else now_ms
        measured = annotated.get(record.run_id) or (
            measure(history, record.start_time, end) if history and record.start_time else None)
        if record.run_id in has_children and measured is None:
            skipped.append(Skip(record.run_name or record.run_id[:8], record.run_id, "parent"))
            continue
        last_point = max((p.timestamp for points in history.values() for p in points), default=None)
        result = to_spec(record, config, measured, now_ms, last_point, sweeps.get(record.run_id, ""), uri,
                         keys[record.run_id])
        (skipped if isinstance(result, Skip) else specs).append(result)
    return MlflowRead(specs, skipped, kind, len(records))
