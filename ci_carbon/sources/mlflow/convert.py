"""Runs → jobs, a chunk at a time: measured power from histories (or an earlier annotation), parents skipped,
owners inherited, sibling groups named. One function for both processes: :class:`.load.RunStream` calls it here,
and the prefetch child (:mod:`.prefetch`) calls it on the pages it reads, so a chunk is the same whichever made it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Set
from typing import NamedTuple

from ci_carbon.core import tables
from ci_carbon.core.model import Chunk, JobSpec, Skipped
from ci_carbon.core.settings import MlflowConfig
from ci_carbon.sources.mlflow.codecarbon_artifact import names_codecarbon, with_artifact
from ci_carbon.sources.mlflow.hourly_power import energy_by_hour
from ci_carbon.sources.mlflow.mapping import Owner, counted_end, param_key, to_spec
from ci_carbon.sources.mlflow.power import Measured, history_keys, measure, measure_host
from ci_carbon.sources.mlflow.records import MetricPoint, RunReader, RunRecord

PARENT_TAG = "mlflow.parentRunId"
ANNOTATION = "carbon"  # metric prefix and tag prefix written back by `ci-carbon annotate`


class Conversion(NamedTuple):
    """What turning runs into jobs needs beyond the runs themselves: the same in this process and in the prefetch
    child, which converts every other chunk it reads (so that the two processes share the work)."""

    parents: frozenset[str]
    config: MlflowConfig
    now_ms: int
    where: str  # the store as jobs' origins show it (redacted)
    inherited: dict[str, Owner]
    by_hour: bool
    tag_names: tuple[str, ...]


def convert_chunk(reader: RunReader, records: list[RunRecord], conversion: Conversion) -> Chunk:
    """A chunk of runs as jobs (or why not), with each run's sibling group; ``reader`` reads power histories."""
    parents = conversion.parents
    keys = {r.run_id: param_key(r) for r in records}
    sweeps = {r.run_id: r.tags[PARENT_TAG] for r in records if r.tags.get(PARENT_TAG)}
    siblings = _sibling_groups(records, frozenset(sweeps), parents, keys)
    specs, skipped = _convert(reader, records, parents, sweeps, keys, conversion.config, conversion.now_ms,
                              conversion.where, conversion.inherited, conversion.by_hour)
    if conversion.tag_names:
        specs = _with_tags(specs, records, conversion.tag_names)
    return Chunk(specs, skipped, siblings=siblings)


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
        keys = history_keys(tuple(record.metrics))
        if keys:
            by_keys[keys].append(record.run_id)
    out: dict[str, dict[str, list[MetricPoint]]] = defaultdict(dict)
    for keys, run_ids in by_keys.items():
        for (run_id, key), points in reader.histories(run_ids, keys).items():
            out[run_id][key] = points
    return out


def _sibling_groups(records: Iterable[RunRecord], children: Set[str], parents: Set[str],
                    keys: dict[str, str]) -> dict[str, tuple[str, str]]:
    """run id → (sibling group, param key) for each run that could be a trial of a search nobody named: not a
    child of a parent run, not a parent, with params. The group is the sweep key the run gets if it qualifies."""
    return {r.run_id: (f"{r.experiment_id}:{','.join(sorted(r.params))}", keys[r.run_id]) for r in records
            if r.run_id not in children and r.run_id not in parents and r.params}


def _convert(reader: RunReader, records: list[RunRecord], parents: set[str] | frozenset[str],
             sweeps: dict[str, str], keys: dict[str, str], config: MlflowConfig, now_ms: int,
             uri: str, inherited: dict[str, Owner], by_hour: bool = False) -> tuple[list[JobSpec], list[Skipped]]:
    """Records → specs (or why not): measured power from histories or an earlier annotation, parents skipped,
    children owned by their parent's team and project where they name none (``inherited``: by parent run id);
    ``by_hour``: also each run's measured energy per UTC hour (only an hourly intensity source reads it)."""
    annotated = {r.run_id: m for r in records if (m := _annotated(r)) is not None}
    histories = _histories(reader, (r for r in records if r.run_id not in annotated))
    specs: list[JobSpec] = []
    skipped: list[Skipped] = []
    for record in records:
        history = histories.get(record.run_id, {})
        last_point = max((points[-1].timestamp for points in history.values() if points), default=None)
        end = counted_end(record, now_ms, last_point)[0] or now_ms  # the power is integrated as the hours count
        measured = annotated.get(record.run_id) or (
            measure(history, record.start_time, end) if history and record.start_time else None)
        if record.run_id in parents and measured is None:
            skipped.append(Skipped(record.run_name or record.run_id[:8], record.run_id, "parent"))
            continue
        parent = record.tags.get(PARENT_TAG)
        host = measure_host(history, record.start_time, end) if history and record.start_time else None
        result = to_spec(record, config, measured, now_ms, last_point, sweeps.get(record.run_id, ""), uri,
                         keys[record.run_id], inherited.get(parent) if parent else None, host)
        if (isinstance(result, JobSpec) and measured is None and result.reported_energy_kwh is None
                and names_codecarbon(record)):
            result = with_artifact(uri, record, result)
        if by_hour and isinstance(result, JobSpec) and history and record.start_time:  # the hourly grid weights
            result = result._replace(energy_by_hour=energy_by_hour(history, record.start_time, end))
        (skipped if isinstance(result, Skipped) else specs).append(result)  # type: ignore[arg-type]
    return specs, skipped


def _with_tags(specs: list[JobSpec], records: list[RunRecord], names: tuple[str, ...]) -> list[JobSpec]:
    """Specs carrying the asked tag names a run says (a tag, else a param of that name) among their tags."""
    said = {}
    for record in records:
        found = {n: str(v) for n in names if (v := record.tags.get(n) or record.params.get(n))}
        if found:
            said[record.run_id] = found
    return [s._replace(tags={**s.tags, **said[s.id]}) if s.id in said else s for s in specs]
