"""Read an MLflow store into JobSpecs: choose a reader, read every run, integrate power, recognise sweeps.

Order of work: one pass over the runs (tags, params, latest metrics), then metric histories only for runs that
logged power and were not already annotated with the current data version, fetched in bulk per set of keys.
Through direct SQL, :func:`load` streams (below) and a large read happens in a second process (:mod:`.prefetch`).

:class:`RunStream` reads the same runs without holding them all (the quarterly summary of a large store): a first,
light pass finds the sweep parents, then the runs come a chunk at a time, each converted exactly as :func:`load`
converts it, with its histories read per chunk. Sibling sweeps need every run of a group before they are known, so a
chunk says each run's sibling group and the caller decides (see :class:`Chunk`).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Set
from itertools import islice
from typing import NamedTuple

from ci_carbon.config import MlflowConfig
from ci_carbon.core import tables
from ci_carbon.core.model import JobSpec
from ci_carbon.sources.mlflow.mapping import Skip, param_key, to_spec
from ci_carbon.sources.mlflow.power import Measured, history_keys, measure
from ci_carbon.sources.mlflow.records import MetricPoint, RunReader, RunRecord, Selection

SQL_SCHEMES = ("sqlite:", "postgresql", "mysql", "mssql")
SWEEP_MIN_SIBLINGS = 8  # sibling runs differing only in params, from which they are one search
PARENT_TAG = "mlflow.parentRunId"
ANNOTATION = "carbon"  # metric prefix and tag prefix written back by `ci-carbon annotate`
CHUNK = 5000  # runs converted at a time by RunStream: the SQL reader's page, so memory stays that of one page


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


def sibling_sweeps(siblings: dict[str, tuple[str, str]]) -> dict[str, str]:
    """run id → sweep key for runs of a sibling group that is a search: ≥ 8 runs whose params differ."""
    members: dict[str, list[str]] = defaultdict(list)
    values: dict[str, set[str]] = defaultdict(set)
    for run_id, (group, key) in siblings.items():
        members[group].append(run_id)
        values[group].add(key)
    return {run_id: group for group, run_ids in members.items()
            if len(run_ids) >= SWEEP_MIN_SIBLINGS and len(values[group]) > 1 for run_id in run_ids}


def _sweeps(records: list[RunRecord], parents: set[str], keys: dict[str, str]) -> dict[str, str]:
    """run id → sweep key: children of one parent, or ≥8 siblings of an experiment that differ only in params."""
    sweep = {r.run_id: r.tags[PARENT_TAG] for r in records if r.tags.get(PARENT_TAG) in parents}
    sweep.update(sibling_sweeps(_sibling_groups(records, set(sweep), parents, keys)))
    return sweep


def _convert(reader: RunReader, records: list[RunRecord], parents: set[str] | frozenset[str],
             sweeps: dict[str, str], keys: dict[str, str], config: MlflowConfig, now_ms: int,
             uri: str) -> tuple[list[JobSpec], list[Skip]]:
    """Records → specs (or why not): measured power from histories or an earlier annotation, parents skipped."""
    annotated = {r.run_id: m for r in records if (m := _annotated(r)) is not None}
    histories = _histories(reader, (r for r in records if r.run_id not in annotated))
    specs: list[JobSpec] = []
    skipped: list[Skip] = []
    for record in records:
        history = histories.get(record.run_id, {})
        end = record.end_time if record.end_time is not None else now_ms
        measured = annotated.get(record.run_id) or (
            measure(history, record.start_time, end) if history and record.start_time else None)
        if record.run_id in parents and measured is None:
            skipped.append(Skip(record.run_name or record.run_id[:8], record.run_id, "parent"))
            continue
        last_point = max((points[-1].timestamp for points in history.values() if points), default=None)
        result = to_spec(record, config, measured, now_ms, last_point, sweeps.get(record.run_id, ""), uri,
                         keys[record.run_id])
        (skipped if isinstance(result, Skip) else specs).append(result)
    return specs, skipped


def load(uri: str, selection: Selection, config: MlflowConfig, now_ms: int | None = None) -> MlflowRead:
    """Every selected run as a JobSpec (or the reason it is not one).

    Through direct SQL the runs stream a chunk at a time (:class:`RunStream`; memory holds the specs, not every
    run's tags, params and metrics), and sibling sweeps are decided once all are seen. Any other reader reads the
    runs once, into memory: streaming would need a second pass over the server to find the parent runs first.
    """
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    reader, kind = open_reader(uri, selection)
    from ci_carbon.sources.mlflow.sql_reader import SqlReader

    if isinstance(reader, SqlReader):
        return _streamed(RunStream(uri, selection, config, now_ms, reader=(reader, kind)))
    records = list(reader.runs(selection))
    has_children = {r.tags[PARENT_TAG] for r in records if r.tags.get(PARENT_TAG)}
    keys = {r.run_id: param_key(r) for r in records}
    sweeps = _sweeps(records, has_children, keys)
    specs, skipped = _convert(reader, records, has_children, sweeps, keys, config, now_ms, uri)
    return MlflowRead(specs, skipped, kind, len(records))


def _streamed(stream: RunStream) -> MlflowRead:
    """:func:`load` over a stream: chunks converted as they come, then the sibling sweeps set on their specs."""
    specs: list[JobSpec] = []
    skipped: list[Skip] = []
    siblings: dict[str, tuple[str, str]] = {}
    for chunk in stream:
        specs += chunk.specs
        skipped += chunk.skipped
        siblings.update(chunk.siblings)
    sweeps = sibling_sweeps(siblings)
    if sweeps:
        at = JobSpec._fields.index("sweep")  # a slice and a tuple: _replace's keyword machinery is 5× slower
        specs = [JobSpec._make((*s[:at], sweeps[s.id], *s[at + 1:])) if s.id in sweeps else s for s in specs]
    return MlflowRead(specs, skipped, stream.kind, stream.survey.runs)


# ---------------------------------------------------------------------------------------------- streaming


class Survey(NamedTuple):
    """What the first, light pass learns: the runs that are parents of others, and how many runs there are."""

    parents: frozenset[str]
    runs: int


class Chunk(NamedTuple):
    """Up to CHUNK consecutive runs of a stream, converted as :func:`load` converts them.

    One difference: a sibling sweep (≥ SWEEP_MIN_SIBLINGS runs of an experiment with the same parameter names and
    different values) is known only once every run has been seen, so ``spec.sweep`` is set here only for children of
    a parent run, and ``siblings`` gives, for every run that could belong to a sibling sweep, its group (the sweep key
    load() would give it) and its parameter key. The caller counts them over the whole stream.
    """

    records: list[RunRecord]
    specs: list[JobSpec]
    skipped: list[Skip]
    siblings: dict[str, tuple[str, str]]  # run id → (sibling group, param key)


def survey(reader: RunReader, selection: Selection) -> Survey:
    """The parents among the selected runs (some selected run names them in mlflow.parentRunId), and the count.

    Direct SQL reads only the parent tags (two small queries); any other reader reads the runs once more, keeping
    nothing but the tag.
    """
    from ci_carbon.sources.mlflow.sql_reader import SqlReader

    if isinstance(reader, SqlReader):
        return Survey(*reader.parents_and_count(selection))
    parents: set[str] = set()
    runs = 0
    for record in reader.runs(selection):
        runs += 1
        if record.tags.get(PARENT_TAG):
            parents.add(record.tags[PARENT_TAG])
    return Survey(frozenset(parents), runs)


class RunStream:
    """The selected runs, a :class:`Chunk` at a time: memory holds one chunk, however large the store.

    Construction opens the reader and makes the light first pass (``survey``), so a caller can show progress
    against ``survey.runs`` before the first chunk is read.
    """

    def __init__(self, uri: str, selection: Selection, config: MlflowConfig, now_ms: int | None = None,
                 size: int = CHUNK, reader: tuple[RunReader, str] | None = None, prefetch: bool | None = None):
        self.uri, self.selection, self.config, self.size = uri, selection, config, size
        self.prefetch = prefetch  # None: decided by the size of the read (prefetch.worth_it)
        self.now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
        self.reader, self.kind = reader or open_reader(uri, selection)
        self.survey = survey(self.reader, selection)

    def __iter__(self) -> Iterator[Chunk]:
        runs = iter(self._runs())
        while records := list(islice(runs, self.size)):
            yield self._chunk(records)

    def _runs(self) -> Iterator[RunRecord]:
        """The runs; from a second process when the read is large and a core is free (:mod:`.prefetch`)."""
        from ci_carbon.sources.mlflow import prefetch

        if self.kind == "sql" and (self.prefetch or (self.prefetch is None and prefetch.worth_it(self.survey.runs))):
            return prefetch.records(self.uri, self.selection)
        return self.reader.runs(self.selection)

    def _chunk(self, records: list[RunRecord]) -> Chunk:
        parents = self.survey.parents
        keys = {r.run_id: param_key(r) for r in records}
        sweeps = {r.run_id: r.tags[PARENT_TAG] for r in records if r.tags.get(PARENT_TAG)}
        siblings = _sibling_groups(records, frozenset(sweeps), parents, keys)
        specs, skipped = _convert(self.reader, records, parents, sweeps, keys, self.config, self.now_ms, self.uri)
        return Chunk(records, specs, skipped, siblings)
