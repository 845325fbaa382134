"""Read an MLflow store into JobSpecs a chunk at a time: choose a reader, integrate power, recognise searches.

:class:`RunStream` reads the selected runs without holding them all: a first, light pass finds the parents of
searches (direct SQL reads only their tags; any other reader reads the runs once, into memory, since a second pass
over a server would read everything twice), then the runs come a chunk at a time, each with its metric histories
read in bulk per set of keys — only for runs that logged power and were not already annotated with the current data
version. A large SQL read happens in a second process (:mod:`.prefetch`). Sibling searches need every run of a group
before they are known, so a chunk says each run's sibling group and the advice decides (see :class:`Chunk`).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Set
from itertools import islice
from typing import NamedTuple

from ci_carbon.core import tables
from ci_carbon.core.model import Chunk, JobSpec, Notice, Skipped
from ci_carbon.core.settings import MlflowConfig
from ci_carbon.redact import redact
from ci_carbon.sources.mlflow import require_mlflow, sql_uri
from ci_carbon.sources.mlflow.codecarbon_artifact import names_codecarbon, with_artifact
from ci_carbon.sources.mlflow.hourly_power import energy_by_hour
from ci_carbon.sources.mlflow.mapping import Owner, counted_end, param_key, to_spec
from ci_carbon.sources.mlflow.owners import owners
from ci_carbon.sources.mlflow.power import Measured, history_keys, measure, measure_host
from ci_carbon.sources.mlflow.records import MetricPoint, RunReader, RunRecord, Selection

SQL_SCHEMES = ("sqlite:", "postgresql", "mysql", "mssql")
PARENT_TAG = "mlflow.parentRunId"
ANNOTATION = "carbon"  # metric prefix and tag prefix written back by `ci-carbon annotate`
CHUNK = 5000  # runs converted at a time by RunStream: the SQL reader's page, so memory stays that of one page


class Opened(NamedTuple):
    reader: RunReader
    kind: str  # sql | client
    notes: tuple[Notice, ...]  # why the client reads an SQL store, when it does for a reason the user did not give


def open_reader(uri: str, selection: Selection) -> Opened:
    """The direct SQL reader where the store allows it and the selection does not need MLflow's filter syntax;
    else the client, once :func:`~.sql_reader.client_may_read` found that it would not change an SQL store."""
    require_mlflow()
    notes: tuple[Notice, ...] = ()
    if uri.startswith(SQL_SCHEMES):
        from ci_carbon.sources.mlflow.sql_reader import Fallback, SqlReader, client_may_read, open_sql_reader

        opened = open_sql_reader(uri)
        if isinstance(opened, SqlReader):
            if opened.supports(selection):
                return Opened(opened, "sql", ())
            opened.close()
        if opened is not None:
            client_may_read(opened.revision, opened.where if isinstance(opened, Fallback) else opened.uri)
        if isinstance(opened, Fallback):
            notes = (Notice(opened.code, {"revision": opened.revision or "none"}),)
        uri = sql_uri.with_driver(uri)
    from ci_carbon.sources.mlflow.client_reader import ClientReader

    return Opened(ClientReader(uri), "client", notes)


def client_for(uri: str):
    """The MLflow client's reader on ``uri`` for writing (``annotate``): on an SQL store, with an installed driver
    and only when the client would not migrate it (:func:`~.sql_reader.client_may_read`), as for reading."""
    require_mlflow()
    from ci_carbon.sources.mlflow.client_reader import ClientReader

    if uri.startswith(SQL_SCHEMES):
        from ci_carbon.sources.mlflow.sql_reader import Fallback, SqlReader, client_may_read, open_sql_reader

        opened = open_sql_reader(uri)
        if isinstance(opened, SqlReader):
            opened.close()
        if opened is not None:
            client_may_read(opened.revision, opened.where if isinstance(opened, Fallback) else opened.uri)
        uri = sql_uri.with_driver(uri)
    return ClientReader(uri)


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


# ---------------------------------------------------------------------------------------------- streaming


class Survey(NamedTuple):
    """What the first, light pass learns: the runs that are parents of others, and how many runs there are."""

    parents: frozenset[str]
    runs: int


def survey(reader: RunReader, selection: Selection) -> tuple[Survey, list[RunRecord] | None]:
    """The parents among the selected runs (some selected run names them in mlflow.parentRunId), and the count.

    Direct SQL reads only the parent tags (two small queries); any other reader reads the runs, which are kept and
    returned so that they are not read a second time.
    """
    from ci_carbon.sources.mlflow.sql_reader import SqlReader

    if isinstance(reader, SqlReader):
        return Survey(*reader.parents_and_count(selection)), None
    records = list(reader.runs(selection))
    parents = frozenset(r.tags[PARENT_TAG] for r in records if r.tags.get(PARENT_TAG))
    return Survey(parents, len(records)), records


class RunStream:
    """The selected runs, a :class:`~ci_carbon.core.model.Chunk` at a time: memory holds one chunk of a SQL store.

    Construction opens the reader and makes the light first pass (``survey``), so a caller can show progress
    against ``survey.runs`` before the first chunk is read.
    """

    def __init__(self, uri: str, selection: Selection, config: MlflowConfig, now_ms: int | None = None,
                 size: int = CHUNK, opened: Opened | None = None, prefetch: bool | None = None,
                 tag_names: tuple[str, ...] = ()):
        self.uri, self.selection, self.config, self.size = uri, selection, config, size
        self.where = redact(uri)  # as jobs' origins and messages show it
        self.prefetch = prefetch  # None: decided by the store and the size of the read (prefetch.worth_it)
        self.now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
        self.tag_names = tag_names
        self.by_hour = False  # energy per UTC hour for each run (an hourly intensity source is configured)
        # notes: about the store as a whole (templates/notices.j2, source_note), for the report's source
        self.reader, self.kind, self.notes = opened or open_reader(uri, selection)
        self.survey, self._records = survey(self.reader, selection)
        known = {r.run_id: r for r in self._records} if self._records is not None else None
        # the parents' owners, read by id: a parent may be in another chunk, or outside the selection
        self.inherited = owners(self.reader, self.survey.parents, config, known)

    def __iter__(self) -> Iterator[Chunk]:
        runs = iter(self._runs())
        while records := list(islice(runs, self.size)):
            yield self._chunk(records)

    def _runs(self) -> Iterable[RunRecord]:
        """The runs; from a second process where that was measured to help (:func:`.prefetch.worth_it`)."""
        from ci_carbon.sources.mlflow import prefetch

        if self._records is not None:
            records, self._records = self._records, None
            return records
        wanted = self.prefetch if self.prefetch is not None else prefetch.worth_it(self.survey.runs, self.uri)
        if self.kind == "sql" and wanted:
            return prefetch.records(self.uri, self.selection)
        return self.reader.runs(self.selection)

    def _chunk(self, records: list[RunRecord]) -> Chunk:
        parents = self.survey.parents
        keys = {r.run_id: param_key(r) for r in records}
        sweeps = {r.run_id: r.tags[PARENT_TAG] for r in records if r.tags.get(PARENT_TAG)}
        siblings = _sibling_groups(records, frozenset(sweeps), parents, keys)
        specs, skipped = _convert(self.reader, records, parents, sweeps, keys, self.config, self.now_ms, self.where,
                                  self.inherited, self.by_hour)
        if self.tag_names:
            specs = _with_tags(specs, records, self.tag_names)
        return Chunk(specs, skipped, siblings=siblings)


def _with_tags(specs: list[JobSpec], records: list[RunRecord], names: tuple[str, ...]) -> list[JobSpec]:
    """Specs carrying the asked tag names a run says (a tag, else a param of that name) among their tags."""
    said = {}
    for record in records:
        found = {n: str(v) for n in names if (v := record.tags.get(n) or record.params.get(n))}
        if found:
            said[record.run_id] = found
    return [s._replace(tags={**s.tags, **said[s.id]}) if s.id in said else s for s in specs]
