"""Read runs straight from an SQL-backed MLflow store's own tables, read-only, when their shape is known.

Why: ``MlflowClient.search_runs`` spends ~90 % of its time building Python entities (5.5 s for 10,000 runs on
sqlite against 0.19 s for the rows themselves). This reader selects the same rows and builds only plain
:class:`RunRecord` s, equal to what the client path yields for the same store (tested against a real server).

It reads only tables and columns whose shape it has checked against MLflow's migration scripts, and only at the
alembic revisions listed below; any other revision or a multi-workspace store makes :func:`open_sql_reader` return a
:class:`Fallback` (the report says so), an MLflow search filter makes :meth:`SqlReader.supports` say no, and the
caller uses the client, if :func:`client_may_read` finds that the client would not change the store. A database
that is not an MLflow store (an empty one included) or a missing driver is the user's to fix (one line, exit 2).
Runs are fetched a page at a time (keyset on ``run_uuid``) with their tags, params and latest metrics, so memory
stays flat however large the store is. Nothing is ever written: sqlite is opened ``mode=ro``, a server database in
a read-only session.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import Any, NamedTuple, Protocol
from urllib.parse import quote

import orjson

from ci_carbon.core.names import nearest, normalise, suggestion
from ci_carbon.errors import InputError, InputProblem, SourceUnreachable
from ci_carbon.redact import redact
from ci_carbon.sources.mlflow import db_errors, sql_uri
from ci_carbon.sources.mlflow.records import ACTIVE, DELETED, MetricPoint, RunRecord, Selection

# Alembic revisions at which every table and column read here exists with today's meaning. Derived from the
# migration scripts of mlflow 3.17.2 (mlflow/store/db_migrations/versions/), walking down_revision from the head
# dc11669786a5 back to 89d4b8295536, which created latest_metrics (the last of the tables read to take its current
# shape; metrics.step dates from 451aebb31d03, metrics.is_nan from 181f10493468, both earlier). Every revision
# after it was read: those touching runs/experiments/tags/params/metrics/latest_metrics only widen value lengths
# (7ac759974ad8, cc1f77228345, 2d6e25af4d3e, f5a4f2784254), change constraints or indexes (cfd24bdc0731 allows
# KILLED, 0a8213491aaa, 39d1c3be5f05, c48cb773bb87, bd07f7e963c5, a5b4c3d2e1f0) or add columns not read here
# (0c779009ac13 runs.deleted_time, 97727af70f4d experiments times, 1b5f0d9ad7c1 experiments.workspace, which is
# read only to refuse multi-workspace stores). A newer MLflow adds revisions: re-read its scripts, then extend.
VERIFIED_REVISIONS: tuple[str, ...] = (
    "89d4b8295536", "2b4d017a5e9b", "cfd24bdc0731", "0a8213491aaa", "728d730b5ebd", "27a6a02d2cf1", "84291f40a231",
    "a8c4a736bde6", "39d1c3be5f05", "c48cb773bb87", "bd07f7e963c5", "0c779009ac13", "cc1f77228345", "97727af70f4d",
    "3500859a5d39", "7f2a7d5fae7d", "2d6e25af4d3e", "acf3f17fdcc7", "867495a8f9d4", "5b0e9adcef9c", "4465047574b1",
    "f5a4f2784254", "0584bdc529eb", "400f98739977", "6953534de441", "bda7b8c39065", "cbc13b556ace", "770bee3ae1dd",
    "a1b2c3d4e5f6", "de4033877273", "1a0cddfcaa16", "534353b11cbc", "71994744cf8e", "3da73c924c2f", "bf29a5ff90ea",
    "1bd49d398cd23", "b7c8d9e0f1a2", "5d2d30f0abce", "c9d4e5f6a7b8", "2c33131f4dae", "d3e4f5a6b7c8", "d0e1f2a3b4c5",
    "c8d9e0f1a2b3",
    # from here on experiments has a workspace column (1b5f0d9ad7c1)
    "1b5f0d9ad7c1", "e1f2a3b4c5d6", "76601a5f987d", "c3d6457b6d8a", "a5b4c3d2e1f0", "ae8bbe7743c9", "7d34483879f0",
    "da6fb0208061", "89d3d66ed43f", "b7e4c1a90f23", "a8b9c0d1e2f3", "c1d2e3f4a5b6", "c3d9e7f1a2b4", "6f8d9c3b2a1e",
    "1971f2d9a75b", "17e22815139b", "b7e2c1a4d9f3", "75868b020152", "dc11669786a5",
)
WORKSPACE_REVISIONS = frozenset(VERIFIED_REVISIONS[VERIFIED_REVISIONS.index("1b5f0d9ad7c1"):])
DEFAULT_WORKSPACE = "default"

PAGE = 5000  # runs per page: bounds memory (a page with its tags, params and metrics is a few MB)
IN_CHUNK = 900  # bound values per IN list: under SQLite's historical 999-variable limit, fine everywhere
GIT_COMMIT_TAG = "mlflow.source.git.commit"
RUN_NAME_TAG = "mlflow.runName"
PARENT_TAG = "mlflow.parentRunId"
MIN_ABBREV = 7  # an abbreviated SHA shorter than git's default abbreviation matches only exactly
NAN = math.nan  # one NaN object: records whose metrics are NaN then compare equal (dicts compare by identity first)

_RUN_COLUMNS = ("r.run_uuid, r.name, r.user_id, r.status, r.start_time, r.end_time, r.lifecycle_stage, "
                "r.experiment_id")


class _Database(Protocol):
    """The calls the reader needs; SQL uses ``?`` placeholders and alias-qualified columns (``t.key``: KEY is
    reserved in MySQL, but never after a dot)."""

    json_object: str  # SQL that aggregates {key}, {value} into one JSON object per group; "" where there is none

    def rows(self, sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]: ...

    def tables(self) -> list[str]: ...

    def close(self) -> None: ...


class _SqliteDatabase:
    """The stdlib driver: no SQLAlchemy import on the common sqlite path, and a true read-only open."""

    def __init__(self, connection: sqlite3.Connection):
        self._connection = connection
        self.json_object = "json_group_object({key}, {value})" if _has_json(connection) else ""

    def rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        return self._connection.execute(sql, params).fetchall()

    def tables(self) -> list[str]:
        return [name for (name,) in self.rows("SELECT m.name FROM sqlite_master m WHERE m.type = 'table'", ())]

    def close(self) -> None:
        self._connection.close()


class _AlchemyDatabase:
    """SQLAlchemy Core for server databases (postgresql, mysql): autocommit, so no long transaction is held, and a
    read-only session, so that not even a mistake here could write to the store. A driver's error while reading
    (a role without SELECT on one table, a server going away) is the command's one line (:func:`_failed`); ``where``
    is the store as messages name it, password masked."""

    def __init__(self, connection: Any, where: str):
        from sqlalchemy import text

        self._connection, self.where = connection, where
        dialect = connection.dialect.name
        for statement in _SESSION.get(dialect, ()):
            connection.execute(text(statement))
        self.json_object = _JSON_OBJECT.get(dialect, "")
        if self.json_object and not self._answers("SELECT " + self.json_object.format(key="'k'", value="'v'")):
            self.json_object = ""  # MariaDB before 10.5, MySQL before 5.7.22: a row per pair

    def _answers(self, sql: str) -> bool:
        import sqlalchemy

        try:
            self._rows(sql, ())
        except sqlalchemy.exc.DBAPIError:
            return False
        return True

    def rows(self, sql: str, params: Sequence[Any]) -> Sequence[Any]:
        import sqlalchemy

        try:
            return self._rows(sql, params)
        except sqlalchemy.exc.DBAPIError as exc:
            raise _failed(self.where, exc.orig, "read", f"the MLflow store {self.where} failed to answer") from exc

    def _rows(self, sql: str, params: Sequence[Any]) -> Sequence[Any]:
        from sqlalchemy import text

        pieces = sql.split("?")
        named = pieces[0] + "".join(f":p{i}{piece}" for i, piece in enumerate(pieces[1:]))
        return self._connection.execute(text(named), {f"p{i}": value for i, value in enumerate(params)}).all()

    def tables(self) -> list[str]:
        import sqlalchemy

        return list(sqlalchemy.inspect(self._connection).get_table_names())

    def close(self) -> None:
        self._connection.close()


_MYSQL_SESSION = ("SET SESSION TRANSACTION READ ONLY",
                  "SET SESSION group_concat_max_len = 4294967295")  # MariaDB's JSON_OBJECTAGG is cut at this length
_SESSION = {"postgresql": ("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",),
            "mysql": _MYSQL_SESSION, "mariadb": _MYSQL_SESSION}
# One JSON object of a run's tags or params per row: server drivers parse a row per pair slowly (PyMySQL, pure
# Python, spent 80 % of a read doing it), and orjson parses the object in C; exact for text (tested per server).
_JSON_OBJECT = {"postgresql": "json_object_agg({key}, {value})::text", "mysql": "JSON_OBJECTAGG({key}, {value})",
                "mariadb": "JSON_OBJECTAGG({key}, {value})"}


def _has_json(connection: sqlite3.Connection) -> bool:
    """Whether this SQLite has JSON1's json_group_object (built in since 3.38, an option before)."""
    try:
        connection.execute("SELECT json_group_object('k', 'v')").fetchall()
    except sqlite3.OperationalError:
        return False
    return True


class _Experiment(NamedTuple):
    name: str
    lifecycle_stage: str


class Fallback(NamedTuple):
    """Why a store that is an MLflow store is left to the MLflow client; ``code`` names the report's note
    (templates/notices.j2, ``source_note``)."""

    code: str  # unknown_schema | workspaces
    revision: str | None  # the store's alembic revision (None: alembic_version holds no single row)
    where: str  # the store, password hidden


def open_sql_reader(uri: str) -> SqlReader | Fallback | None:
    """A direct reader for ``uri``; a :class:`Fallback` when the MLflow client must read it; None for a URI that
    is not an SQL store read here (a server, Databricks, an in-memory sqlite, mssql).

    Every check that can refuse comes before anything else opens the store, because MLflow's own SQL store creates
    or migrates tables when it opens a database (65 tables in an empty one): a sqlite file that does not exist, a
    database without MLflow's tables (an empty one included), or tables without alembic_version are the user's
    mistake (InputError, exit 2), never a reason to hand the store to the client. A missing driver is one line
    naming the extra to install (:mod:`.sql_uri`).
    """
    if uri.startswith("sqlite:"):
        return _open_sqlite(uri)
    if sql_uri.scheme(uri)[0] in sql_uri.DATABASES:
        return _open_alchemy(sql_uri.with_driver(uri), redact(uri))
    return None


def _sqlite_path(uri: str) -> Path | None:
    """The file of ``sqlite:///relative`` or ``sqlite:////absolute`` (query string dropped); None for memory."""
    rest = uri[len("sqlite:"):]
    if not rest.startswith("///"):
        return None
    path = rest[3:].split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


def _open_sqlite(uri: str) -> SqlReader | Fallback | None:
    """Open the file read-only; check the store before handing out a reader."""
    path = _sqlite_path(uri)
    if path is None:
        return None
    if not path.is_file():
        raise InputError([InputProblem(str(path), None, None, f"no MLflow store at {path}")])
    connection = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    database = _SqliteDatabase(connection)
    try:
        revision = _revision(database, str(path))
    except sqlite3.DatabaseError as exc:
        database.close()
        if "locked" in str(exc) or "busy" in str(exc):
            raise SourceUnreachable(f"the MLflow store {path} stayed locked by a writer: {exc}") from exc
        raise InputError([InputProblem(str(path), None, None, f"not an MLflow store: {exc}")]) from exc
    except InputError:
        database.close()
        raise
    return _checked(database, revision, uri)


def _revision(database: _Database, where: str) -> str | None:
    """The store's alembic revision (None: alembic_version holds no single row, as in the middle of a migration).

    A database without tables, or with tables but no alembic_version, is not an MLflow store: InputError.
    """
    tables = database.tables()
    if not tables:
        raise InputError([InputProblem(where, None, None, "no MLflow tables in this database: it is not a tracking "
                                       "store (ci-carbon only reads; `mlflow server --backend-store-uri` makes one)")])
    if "alembic_version" not in tables:
        raise InputError([InputProblem(where, None, None, "not an MLflow store: it has tables but no "
                                       "alembic_version")])
    rows = database.rows("SELECT a.version_num FROM alembic_version a", ())
    return str(rows[0][0]) if len(rows) == 1 else None


def _checked(database: _Database, revision: str | None, where: str) -> SqlReader | Fallback:
    """A reader when the revision is verified and the store has one workspace; otherwise close and say why not."""
    if revision not in VERIFIED_REVISIONS:
        database.close()
        return Fallback("unknown_schema", revision, where)
    if revision in WORKSPACE_REVISIONS and _other_workspaces(database):
        database.close()
        return Fallback("workspaces", revision, where)
    return SqlReader(database, where, revision)


def _other_workspaces(database: _Database) -> bool:
    """Experiment names are unique only per workspace, and the client sees only its own: leave those to it."""
    return bool(database.rows("SELECT e.experiment_id FROM experiments e WHERE e.workspace <> ? LIMIT 1",
                              (DEFAULT_WORKSPACE,)))


def _open_alchemy(uri: str, shown: str) -> SqlReader | Fallback:
    """SQLAlchemy Core with the driver :func:`.sql_uri.with_driver` chose (extras ``postgres``, ``mysql``);
    ``shown``: the URI as the user gave it, password masked, for messages."""
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    try:
        engine = sqlalchemy.create_engine(uri, poolclass=NullPool)
    except (ImportError, sqlalchemy.exc.ArgumentError, sqlalchemy.exc.NoSuchModuleError) as exc:
        raise InputError([InputProblem(shown, None, "--mlflow-uri", f"cannot open this store: {exc}")]) from None
    try:
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    except sqlalchemy.exc.OperationalError as exc:
        raise _failed(shown, exc.orig, "connect to", f"cannot connect to the MLflow store {shown}") from exc
    try:
        database = _AlchemyDatabase(connection, shown)
        revision = _revision(database, shown)
    except sqlalchemy.exc.DBAPIError as exc:
        connection.close()
        raise _failed(shown, exc.orig, "read", f"the MLflow store {shown} failed to answer") from exc
    except (InputError, SourceUnreachable):
        connection.close()
        raise
    return _checked(database, revision, shown)


def _failed(shown: str, orig: BaseException | None, what: str, unreachable: str) -> Exception:
    """A driver's error on opening the store: refused credentials or grants are the user's to fix (exit 2, as a
    server's 401/403), anything else is the store out of reach (exit 3). One line either way, naming the driver's
    own cause."""
    cause = db_errors.first_line(orig)
    if orig is not None and db_errors.refused(orig):
        return InputError([InputProblem(shown, None, None, f"not authorised to {what} the store: {cause}; "
                                        f"{db_errors.HINT}")])
    return SourceUnreachable(f"{unreachable}: {cause}")


def client_may_read(revision: str | None, where: str) -> None:
    """Refuse (InputError) a store the MLflow client would change: it migrates a store whose schema is older than
    its own and refuses one that is newer, so it may open only a store at the installed MLflow's own revision."""
    from mlflow.store.db.utils import _get_latest_schema_revision  # what MLflow's SqlAlchemyStore checks on open

    head = _get_latest_schema_revision()
    if revision != head:
        import mlflow

        raise InputError([InputProblem(where, None, "--mlflow-uri", f"this store is at schema revision "
                                       f"{revision or 'none'}; the MLflow client can open it only as the MLflow that "
                                       f"wrote it (MLflow {mlflow.__version__} would migrate it to {head}, and "
                                       "ci-carbon never changes a store's schema)")])


class SqlReader:
    """A :class:`~.records.RunReader` over the store's tables. Use :func:`open_sql_reader` to get one."""

    def __init__(self, database: _Database, uri: str, revision: str):
        self._database = database
        self.uri = uri  # shown in messages (password hidden)
        self.revision = revision  # the store's alembic revision (one of VERIFIED_REVISIONS)

    def __enter__(self) -> SqlReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._database.close()

    @staticmethod
    def supports(selection: Selection) -> bool:
        """False for an MLflow search filter: its grammar and semantics are MLflow's, so the client applies it."""
        return not selection.filter.strip()

    def runs(self, selection: Selection) -> Iterator[RunRecord]:
        """Every selected run (ordered by run id), a page at a time; unknown experiments raise InputError first."""
        return chain.from_iterable(self.pages(selection))

    def pages(self, selection: Selection) -> Iterator[list[RunRecord]]:
        """:meth:`runs` a page (up to PAGE runs) at a time: what :mod:`.prefetch` hands from process to process."""
        if not self.supports(selection):
            raise ValueError("SqlReader cannot apply an MLflow filter; use the client reader")
        experiments = self._experiments()
        wanted = _wanted_experiments(experiments, selection, self.uri)
        if wanted is not None and not wanted:
            return iter(())
        return self._record_pages(selection, experiments, wanted)

    def _record_pages(self, selection: Selection, experiments: dict[int, _Experiment],
                      wanted: set[int] | None) -> Iterator[list[RunRecord]]:
        """Pages of run rows → records (a generator, so nothing is read before the first page is asked for)."""
        conditions, params = _conditions(selection, experiments, wanted)
        for page in self._pages(selection, conditions, params):
            yield self._page_records(page, experiments)

    def parents_and_count(self, selection: Selection) -> tuple[frozenset[str], int]:
        """The runs that selected runs name as their parent (mlflow.parentRunId), and how many runs are selected.

        Two small queries with the conditions (and the checks) :meth:`runs` uses, so that a stream can skip parent
        runs and show progress before reading the first page.
        """
        if not self.supports(selection):
            raise ValueError("SqlReader cannot apply an MLflow filter; use the client reader")
        experiments = self._experiments()
        wanted = _wanted_experiments(experiments, selection, self.uri)
        if wanted is not None and not wanted:
            return frozenset(), 0
        conditions, params = _conditions(selection, experiments, wanted)
        conditions.append("r.experiment_id IN (SELECT e.experiment_id FROM experiments e)")  # runs() skips orphans
        where = "".join(f" AND {c}" for c in conditions)
        count = "SELECT count(*) FROM runs r WHERE 1 = 1{ids}" + where
        tags = ("SELECT DISTINCT t.value FROM tags t JOIN runs r ON r.run_uuid = t.run_uuid WHERE t.key = ?{ids}"
                + where)
        parents: set[str] = set()
        runs = 0
        id_chunks = _chunks(sorted(set(selection.run_ids)), IN_CHUNK) if selection.run_ids else [()]
        for chunk in id_chunks:
            ids = f" AND r.run_uuid IN ({_marks(chunk)})" if chunk else ""
            runs += int(self._database.rows(count.format(ids=ids), [*chunk, *params])[0][0])
            rows = self._database.rows(tags.format(ids=ids), [PARENT_TAG, *chunk, *params])
            parents.update(str(value) for (value,) in rows if value)
        return frozenset(parents), runs

    def _experiments(self) -> dict[int, _Experiment]:
        """All experiments (a small table): names for records, ids for the selection, stages for include_deleted."""
        rows = self._database.rows("SELECT e.experiment_id, e.name, e.lifecycle_stage FROM experiments e", ())
        return {int(eid): _Experiment(name or "", stage or "") for eid, name, stage in rows}

    def _pages(self, selection: Selection, conditions: list[str], params: list[Any]) -> Iterator[Sequence[Any]]:
        """Run rows in pages: by id chunks when run ids are given, else keyset pages on run_uuid."""
        where = "".join(f" AND {c}" for c in conditions)
        if selection.run_ids:
            for chunk in _chunks(sorted(set(selection.run_ids)), IN_CHUNK):
                sql = f"SELECT {_RUN_COLUMNS} FROM runs r WHERE r.run_uuid IN ({_marks(chunk)}){where}"
                rows = self._database.rows(sql, [*chunk, *params])
                if rows:
                    yield rows
            return
        sql = f"SELECT {_RUN_COLUMNS} FROM runs r WHERE r.run_uuid > ?{where} ORDER BY r.run_uuid LIMIT ?"
        last = ""
        while True:
            rows = self._database.rows(sql, [last, *params, PAGE])
            if rows:
                yield rows
            if len(rows) < PAGE:
                return
            last = rows[-1][0]

    def _page_records(self, page: Sequence[Sequence[Any]], experiments: dict[int, _Experiment]) -> list[RunRecord]:
        """One page of runs with their tags, params and latest metrics (one IN query per table per chunk)."""
        ids = [row[0] for row in page]
        tags = self._children(ids, "tags", "COALESCE(c.value, '')")
        params = self._children(ids, "params", "c.value")
        metrics, last = self._latest_metrics(ids)
        records = []
        for run_id, name, user_id, status, start, end, stage, experiment_id in page:
            experiment = experiments.get(int(experiment_id)) if experiment_id is not None else None
            if experiment is None:
                continue  # an orphan run: no experiment, so the client cannot reach it either
            run_tags = tags[run_id]
            records.append(RunRecord(
                run_id=run_id, experiment_id=str(experiment_id), experiment_name=experiment.name,
                # as MLflow's SqlRun.to_mlflow_entity: an empty name falls back to the mlflow.runName tag
                run_name=name or run_tags.get(RUN_NAME_TAG) or "", status=status or "",
                lifecycle_stage=stage or "", start_time=start, end_time=end, user_id=user_id or "",
                tags=run_tags, params=params[run_id], metrics=metrics[run_id], last_metric_ms=last.get(run_id)))
        return records

    def _children(self, ids: list[str], table: str, value: str) -> dict[str, dict[str, str]]:
        """run id → {key: value} of ``table`` (tags or params; a NULL tag value is selected as '', as REST reads it).

        Where the database can, each run's pairs come as one JSON object built by the database (SQLite's
        ``json_group_object``, PostgreSQL's ``json_object_agg``, MySQL's ``JSON_OBJECTAGG``), which orjson turns
        into the dict: on SQLite a third less time than a row per pair, on MariaDB through PyMySQL a fifth of it.
        """
        found: dict[str, dict[str, str]] = {run_id: {} for run_id in ids}
        where = f"FROM {table} c WHERE c.run_uuid IN ({{}})"
        if self._database.json_object:
            pairs = self._database.json_object.format(key="c.key", value=value)
            sql = f"SELECT c.run_uuid, {pairs} {where} GROUP BY c.run_uuid"
            loads = orjson.loads
            for chunk in _chunks(ids, IN_CHUNK):
                found.update({run_id: loads(pairs) for run_id, pairs in self._database.rows(sql.format(_marks(chunk)),
                                                                                             chunk)})
            return found
        sql = f"SELECT c.run_uuid, c.key, {value} {where}"
        for chunk in _chunks(ids, IN_CHUNK):
            for run_id, key, text in self._database.rows(sql.format(_marks(chunk)), chunk):
                found[run_id][key] = text
        return found

    def _latest_metrics(self, ids: list[str]) -> tuple[dict[str, dict[str, float]], dict[str, int]]:
        """run id → {key: latest value}, and run id → the newest timestamp among them (its last sign of life);
        rows flagged is_nan hold 0 and read as NaN, as MLflow returns them."""
        found: dict[str, dict[str, float]] = {run_id: {} for run_id in ids}
        last: dict[str, int] = {}
        sql = "SELECT m.run_uuid, m.key, m.value, m.is_nan, m.timestamp FROM latest_metrics m WHERE m.run_uuid IN ({})"
        for chunk in _chunks(ids, IN_CHUNK):
            for run_id, key, value, is_nan, timestamp in self._database.rows(sql.format(_marks(chunk)), chunk):
                found[run_id][key] = NAN if is_nan else float(value)
                if timestamp is not None and (run_id not in last or timestamp > last[run_id]):
                    last[run_id] = int(timestamp)
        return found, last

    def histories(self, run_ids: Iterable[str], keys: Iterable[str]) -> dict[tuple[str, str], list[MetricPoint]]:
        """Full histories of ``keys`` for ``run_ids``, points ordered as MLflow's get_metric_history orders them
        (timestamp, step, value); keys a run lacks are absent."""
        run_list, key_list = sorted(set(run_ids)), sorted(set(keys))
        found: dict[tuple[str, str], list[MetricPoint]] = {}
        for run_chunk in _chunks(run_list, IN_CHUNK // 2):
            for key_chunk in _chunks(key_list, IN_CHUNK // 2):
                sql = ("SELECT m.run_uuid, m.key, m.timestamp, m.step, m.value, m.is_nan FROM metrics m "
                       f"WHERE m.run_uuid IN ({_marks(run_chunk)}) AND m.key IN ({_marks(key_chunk)}) "
                       "ORDER BY m.run_uuid, m.key, m.timestamp, m.step, m.value")
                for run_id, key, timestamp, step, value, is_nan in self._database.rows(sql, [*run_chunk, *key_chunk]):
                    point = MetricPoint(int(timestamp), int(step), NAN if is_nan else float(value))
                    found.setdefault((run_id, key), []).append(point)
        return found


def _wanted_experiments(experiments: dict[int, _Experiment], selection: Selection, uri: str) -> set[int] | None:
    """Experiment ids whose runs are read (None: all of them); unknown names or ids → InputError."""
    chosen: set[int] | None = None
    if selection.experiments:
        chosen = _resolve(experiments, selection.experiments, uri)
    if not selection.include_deleted:
        chosen = {eid for eid in (chosen if chosen is not None else experiments)
                  if experiments[eid].lifecycle_stage != DELETED}
    return chosen


def _resolve(experiments: dict[int, _Experiment], wanted: Sequence[str], uri: str) -> set[int]:
    """Names or ids → ids, an id first (as the client reader does); every unknown one is reported at once."""
    by_name = {experiment.name: eid for eid, experiment in experiments.items()}
    chosen: set[int] = set()
    problems = []
    for given in wanted:
        if given.isascii() and given.isdigit() and str(int(given)) == given and int(given) in experiments:
            chosen.add(int(given))
        elif given in by_name:
            chosen.add(by_name[given])
        else:
            names = {normalise(name): name for name in by_name}
            problems.append(InputProblem(uri, None, "--experiment", f"unknown experiment '{given}'",
                                         suggestion(nearest(given, names))))
    if problems:
        raise InputError(problems)
    return chosen


def _conditions(selection: Selection, experiments: dict[int, _Experiment],
                wanted: set[int] | None) -> tuple[list[str], list[Any]]:
    """SQL conditions on runs ``r`` (with their parameters) for everything in the selection but run ids."""
    conditions: list[str] = []
    params: list[Any] = []
    if wanted is not None and len(wanted) < len(experiments):
        others = sorted(set(experiments) - wanted)
        if len(wanted) <= len(others):
            conditions.append(f"r.experiment_id IN ({_marks(wanted)})")
            params.extend(sorted(wanted))
        else:
            conditions.append(f"r.experiment_id NOT IN ({_marks(others)})")
            params.extend(others)
    if not selection.include_deleted:
        conditions.append("r.lifecycle_stage = ?")
        params.append(ACTIVE)
    if selection.since is not None:
        conditions.append("r.start_time >= ?")
        params.append(int(selection.since))
    if selection.until is not None:
        conditions.append("r.start_time < ?")
        params.append(int(selection.until))
    if selection.git_commits:
        condition, values = _commit_condition(selection.git_commits)
        conditions.append(condition)
        params.extend(values)
    return conditions, params


def _commit_condition(commits: Sequence[str]) -> tuple[str, list[Any]]:
    """Runs whose mlflow.source.git.commit tag equals a SHA, or starts with one abbreviated to ≥ 7 characters.

    ``substr`` rather than LIKE: no wildcard escaping, and it exists in SQLite, PostgreSQL and MySQL alike.
    """
    tests: list[str] = []
    values: list[Any] = [GIT_COMMIT_TAG]
    for sha in commits:  # compared as given, like the client reader: normalising case is the caller's choice
        if len(sha) >= MIN_ABBREV:
            tests.append("substr(g.value, 1, ?) = ?")
            values.extend([len(sha), sha])
        else:
            tests.append("g.value = ?")
            values.append(sha)
    sql = f"r.run_uuid IN (SELECT g.run_uuid FROM tags g WHERE g.key = ? AND ({' OR '.join(tests)}))"
    return sql, values


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Consecutive slices of at most ``size`` (bound-parameter limits)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _marks(items: Iterable[Any]) -> str:
    """``?, ?, ?`` for an IN list."""
    return ", ".join("?" for _ in items)
