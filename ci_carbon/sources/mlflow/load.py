"""Read an MLflow store into JobSpecs a chunk at a time: choose a reader, integrate power, recognise searches.

:class:`RunStream` reads the selected runs without holding them all: a first, light pass finds the parents of
searches (direct SQL reads only their tags; any other reader reads the runs once, into memory, since a second pass
over a server would read everything twice), then the runs come a chunk at a time, each with its metric histories
read in bulk per set of keys — only for runs that logged power and were not already annotated with the current data
version (:mod:`.convert`). A large SQL read is read and half converted in a second process (:mod:`.prefetch`).
Sibling searches need every run of a group before they are known, so a chunk says each run's sibling group and the
advice decides (see :class:`Chunk`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from itertools import islice
from typing import NamedTuple

from ci_carbon.core.model import Chunk, Notice
from ci_carbon.core.settings import MlflowConfig
from ci_carbon.redact import redact
from ci_carbon.sources.mlflow import require_mlflow, sql_uri
from ci_carbon.sources.mlflow.convert import ANNOTATION, PARENT_TAG, Conversion, convert_chunk
from ci_carbon.sources.mlflow.owners import owners
from ci_carbon.sources.mlflow.records import RunReader, RunRecord, Selection

__all__ = ["ANNOTATION", "CHUNK", "PARENT_TAG", "Opened", "RunStream", "Survey", "client_for", "open_reader",
           "survey"]

SQL_SCHEMES = ("sqlite:", "postgresql", "mysql", "mssql")
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
        from ci_carbon.sources.mlflow import prefetch

        if self._records is not None:  # the survey read them already (a client reader)
            records, self._records = self._records, None
            yield from self._chunks(iter(records))
            return
        wanted = self.prefetch if self.prefetch is not None else prefetch.worth_it(self.survey.runs, self.uri)
        if self.kind == "sql" and wanted:  # read and converted by a second process (:mod:`.prefetch`)
            conversion = self.conversion()
            yield from prefetch.chunks(self.uri, self.selection, conversion, self.size,
                                       lambda records: convert_chunk(self.reader, records, conversion))
            return
        yield from self._chunks(iter(self.reader.runs(self.selection)))

    def _chunks(self, runs: Iterator[RunRecord]) -> Iterator[Chunk]:
        conversion = self.conversion()
        while records := list(islice(runs, self.size)):
            yield convert_chunk(self.reader, records, conversion)

    def conversion(self) -> Conversion:
        return Conversion(self.survey.parents, self.config, self.now_ms, self.where, self.inherited, self.by_hour,
                          self.tag_names)


