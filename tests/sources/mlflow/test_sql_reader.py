"""The direct SQL reader returns exactly what MLflow's client returns for the same store (a real server)."""

from __future__ import annotations

import math
import os
import sqlite3
import sys
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, ViewType

from ci_carbon.errors import InputError
from ci_carbon.sources.mlflow import sql_reader
from ci_carbon.sources.mlflow.records import MetricPoint, RunRecord, Selection
from ci_carbon.sources.mlflow.sql_reader import SqlReader, open_sql_reader

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, in ms
SHA_A = "3f2c9d1e4b5a6978c0d1e2f3a4b5c6d7e8f90123"
SHA_B = "3f2c9d1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"  # shares 7 characters with SHA_A, not 8
POWER = "system/gpu_0_power_usage_watts"


class Store:
    """What one module's fixture logged: experiment names and ids, run ids by role."""

    def __init__(self, server, client: MlflowClient, prefix: str):
        self.server = server
        self.client = client
        self.prefix = prefix
        self.experiments: dict[str, str] = {}  # short name → id
        self.runs: dict[str, str] = {}  # role → run id

    def name(self, short: str) -> str:
        return f"{self.prefix}-{short}"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.name(short) for short in self.experiments)


def _log(client: MlflowClient, experiment_id: str, *, start: int, name: str | None = None,
         tags: Mapping[str, str] | None = None, params: Mapping[str, str] | None = None,
         metrics: Iterable[tuple[str, float, int, int]] = (), status: str | None = "FINISHED",
         end: int | None = None) -> str:
    """One real run through the REST API: create, log a batch (timestamp, step given), end with ``status``."""
    run = client.create_run(experiment_id, start_time=start, tags=dict(tags or {}), run_name=name)
    run_id = run.info.run_id
    client.log_batch(run_id, metrics=[Metric(k, v, ts, step) for k, v, ts, step in metrics],
                     params=[Param(k, v) for k, v in (params or {}).items()])
    if status is not None:
        client.set_terminated(run_id, status=status, end_time=end if end is not None else start + 3_600_000)
    return run_id


def _power_series(start: int, watts: Iterable[float]) -> list[tuple[str, float, int, int]]:
    return [(POWER, w, start + 10_000 * (i + 1), i) for i, w in enumerate(watts)]


@pytest.fixture(scope="module")
def store(mlflow_server) -> Store:
    """Three experiments (one deleted later) with finished, failed, killed, running and deleted runs."""
    client = MlflowClient(mlflow_server.uri)
    logged = Store(mlflow_server, client, f"sqlr-{uuid.uuid4().hex[:8]}")
    for short in ("vision", "nlp", "old"):
        logged.experiments[short] = client.create_experiment(logged.name(short), tags={"team": short})
    vision, nlp, old = (logged.experiments[s] for s in ("vision", "nlp", "old"))
    common = {"mlflow.user": "ada", "mlflow.source.git.commit": SHA_A, "gpu": "A100-SXM4-80GB", "region": "us-east-1"}
    logged.runs["finished"] = _log(
        client, vision, start=T0, name="resnet-a", tags={**common, "team": "vision", "empty": "",
                                                     "note": 'a "quote", back\\slash,\nnewline, ünïcödé 🚀 \t'},
        params={"lr": "0.001", "batch_size": "64", "seed": "1"},
        metrics=[("loss", 2.5, T0 + 1000, 0), ("loss", 1.25, T0 + 2000, 1), ("loss", float("nan"), T0 + 3000, 2),
                 ("acc", float("inf"), T0 + 3000, 2), ("acc", 0.5, T0 + 2000, 1),
                 ("same_time", 1.0, T0 + 5000, 3), ("same_time", 0.5, T0 + 5000, 3),
                 *_power_series(T0, [250.0, 260.5, float("nan"), 240.0, 255.0])])
    logged.runs["failed"] = _log(
        client, vision, start=T0 + 1000, name="resnet-b", tags={**common, "gpu": "Tesla T4"}, params={"lr": "0.1"},
        metrics=[("loss", float("nan"), T0 + 2000, 0), *_power_series(T0 + 1000, [70.0, 69.5])], status="FAILED")
    logged.runs["killed"] = _log(client, vision, start=T0 + 2000, name="resnet-c", tags=common, status="KILLED")
    logged.runs["running"] = _log(client, nlp, start=T0 + 3000, name="bert-live",
                                  tags={"mlflow.source.git.commit": SHA_B}, metrics=[("loss", 3.0, T0 + 4000, 0)],
                                  status=None)
    logged.runs["unnamed"] = _log(client, nlp, start=T0 + 4000, params={"seed": "7"}, tags={"team": "nlp"})
    logged.runs["deleted"] = _log(client, nlp, start=T0 + 5000, name="bert-deleted",
                                  metrics=[("loss", 0.1, T0 + 6000, 5)])
    client.delete_run(logged.runs["deleted"])
    logged.runs["in_old"] = _log(client, old, start=T0 - 86_400_000, name="legacy", metrics=[("loss", 9.0, T0, 0)],
                                 tags={"mlflow.source.git.commit": SHA_A[:12] + "0" * 28})
    client.delete_experiment(old)
    return logged


def _to_record(run, experiment_names: Mapping[str, str]) -> RunRecord:
    """What a client reader must yield for one mlflow Run (the contract of records.py)."""
    info, data = run.info, run.data
    return RunRecord(run_id=info.run_id, experiment_id=info.experiment_id,
                     experiment_name=experiment_names[info.experiment_id], run_name=info.run_name,
                     status=info.status, lifecycle_stage=info.lifecycle_stage, start_time=info.start_time,
                     end_time=info.end_time, user_id=info.user_id, tags=dict(data.tags), params=dict(data.params),
                     metrics=dict(data.metrics),
                     last_metric_ms=max((m.timestamp for m in data._metric_objs), default=None))


def _client_records(client: MlflowClient, experiment_ids: Iterable[str]) -> list[RunRecord]:
    """Every run of the experiments through MlflowClient.search_runs, all pages, deleted ones included."""
    names = {e.experiment_id: e.name for e in client.search_experiments(view_type=ViewType.ALL)}
    records, token = [], None
    while True:
        page = client.search_runs(list(experiment_ids), run_view_type=ViewType.ALL, max_results=3, page_token=token)
        records.extend(_to_record(run, names) for run in page)
        token = page.token
        if not token:
            return records


def _nan_free(value: object) -> object:
    """NaN never equals NaN: compare it as a marker."""
    return "NaN" if isinstance(value, float) and math.isnan(value) else value


def _comparable(records: Iterable[RunRecord]) -> dict[str, RunRecord]:
    return {r.run_id: r._replace(metrics={k: _nan_free(v) for k, v in r.metrics.items()}) for r in records}


def _points(points: Iterable[MetricPoint]) -> list[tuple[int, int, object]]:
    return [(p.timestamp, p.step, _nan_free(p.value)) for p in points]


def _read(store: Store, **selection) -> dict[str, RunRecord]:
    reader = open_sql_reader(store.server.backend)
    assert reader is not None
    with reader:
        return {r.run_id: r for r in reader.runs(Selection(**selection))}


def _roles(store: Store, records: Mapping[str, RunRecord]) -> set[str]:
    by_id = {run_id: role for role, run_id in store.runs.items()}
    return {by_id[run_id] for run_id in records}


def test_records_equal_the_clients(store: Store):
    expected = _client_records(store.client, store.experiments.values())
    assert len(expected) == len(store.runs)
    reader = open_sql_reader(store.server.backend)
    assert isinstance(reader, SqlReader)
    with reader:
        got = list(reader.runs(Selection(experiments=store.names)))
    assert _comparable(got) == _comparable(expected)
    by_id = {r.run_id: r for r in got}
    finished = by_id[store.runs["finished"]]
    assert math.isnan(finished.metrics["loss"]) and finished.metrics[POWER] == 255.0
    assert finished.tags["empty"] == "" and finished.tags["mlflow.runName"] == "resnet-a"
    assert finished.tags["note"] == 'a "quote", back\\slash,\nnewline, ünïcödé 🚀 \t'  # JSON-aggregated exactly
    assert by_id[store.runs["running"]].end_time is None
    assert by_id[store.runs["unnamed"]].run_name  # MLflow generated one
    assert {r.status for r in got} >= {"FINISHED", "FAILED", "KILLED", "RUNNING"}


def test_the_client_readers_own_search_equals_the_clients_entities(store: Store):
    """Through a server, ClientReader turns the REST answer's JSON into records itself; they are what MLflow's own
    search_runs entities give: NaN and infinite metrics, empty and non-ASCII values, a running run without an end."""
    from ci_carbon.sources.mlflow.client_reader import ClientReader

    expected = _client_records(store.client, store.experiments.values())
    got = list(ClientReader(store.server.uri).runs(Selection(experiments=store.names)))
    assert _comparable(got) == _comparable(expected)
    by_id = {r.run_id: r for r in got}
    finished = by_id[store.runs["finished"]]
    # MLflow's SQL store keeps +inf as the largest double
    assert math.isnan(finished.metrics["loss"]) and finished.metrics["acc"] == sys.float_info.max
    assert finished.tags["empty"] == "" and finished.tags["note"].endswith("ünïcödé 🚀 \t")
    assert finished.last_metric_ms == T0 + 50_000 and finished.start_time == T0  # the power series' last point
    assert by_id[store.runs["running"]].end_time is None and by_id[store.runs["running"]].status == "RUNNING"
    assert by_id[store.runs["deleted"]].lifecycle_stage == "deleted"


def _selections(store: Store) -> list[Selection]:
    names, live = store.names, (store.name("vision"), store.name("nlp"))
    return [Selection(experiments=names), Selection(experiments=live, include_deleted=False),
            Selection(experiments=names, since=T0 + 1000, until=T0 + 4000),
            Selection(experiments=names, git_commits=(SHA_A[:7],)), Selection(experiments=names, git_commits=(SHA_B,)),
            Selection(experiments=(store.experiments["nlp"],), run_ids=(store.runs["running"], store.runs["deleted"]))]


def test_records_and_histories_equal_the_client_readers(store: Store):
    """Both readers of ci-carbon agree on the same store, for every kind of selection."""
    from ci_carbon.sources.mlflow.client_reader import ClientReader

    client = ClientReader(store.server.uri)
    for selection in _selections(store):
        expected = _comparable(client.runs(selection))
        assert expected, selection
        assert _comparable(_read(store, **selection._asdict()).values()) == expected, selection
    run_ids, keys = list(store.runs.values()), ["loss", POWER, "never-logged"]
    reader = open_sql_reader(store.server.backend)
    assert reader is not None
    with reader:
        got = reader.histories(run_ids, keys)
    expected_points = client.histories(run_ids, keys)
    assert {k: _points(v) for k, v in got.items()} == {k: _points(v) for k, v in expected_points.items()}


def test_histories_equal_get_metric_history(store: Store):
    reader = open_sql_reader(store.server.backend)
    assert reader is not None
    run_ids = list(store.runs.values())
    keys = ["loss", "acc", "same_time", POWER, "never-logged"]
    with reader:
        got = reader.histories(run_ids, keys)
        assert reader.histories([], keys) == {} and reader.histories(run_ids, []) == {}
    expected = {}
    for run_id in run_ids:
        for key in keys:
            history = store.client.get_metric_history(run_id, key)
            if history:
                expected[(run_id, key)] = [(m.timestamp, m.step, _nan_free(m.value)) for m in history]
    assert {k: _points(v) for k, v in got.items()} == expected
    assert (store.runs["finished"], "never-logged") not in got
    assert len(got[(store.runs["finished"], POWER)]) == 5


def test_through_sqlalchemy_core_too(store: Store):
    """The postgresql/mysql path (SQLAlchemy Core), exercised on the same sqlite store."""
    reader = sql_reader._open_alchemy(store.server.backend, store.server.backend)
    assert reader is not None
    with reader:
        got = list(reader.runs(Selection(experiments=store.names)))
        history = reader.histories([store.runs["finished"]], [POWER])
    assert _comparable(got) == _comparable(_read(store, experiments=store.names).values())
    assert len(history[(store.runs["finished"], POWER)]) == 5


def test_experiments_by_id_and_run_ids(store: Store):
    vision = store.experiments["vision"]
    assert _roles(store, _read(store, experiments=(vision,))) == {"finished", "failed", "killed"}
    picked = _read(store, run_ids=(store.runs["killed"], store.runs["deleted"], "0" * 32))
    assert _roles(store, picked) == {"killed", "deleted"}


def test_unknown_experiment_is_an_input_error_with_suggestions(store: Store):
    reader = open_sql_reader(store.server.backend)
    assert reader is not None
    with reader, pytest.raises(InputError) as raised:
        reader.runs(Selection(experiments=(store.name("visoin"), store.name("nlp"))))
    [problem] = raised.value.problems
    assert problem.message == f"unknown experiment '{store.name('visoin')}'"
    assert problem.suggestion is not None and f"'{store.name('vision')}'" in problem.suggestion


def test_since_inclusive_until_exclusive(store: Store):
    got = _read(store, experiments=store.names, since=T0 + 1000, until=T0 + 4000)
    assert _roles(store, got) == {"failed", "killed", "running"}
    assert _roles(store, _read(store, experiments=store.names, until=T0)) == {"in_old"}


def test_git_commit_full_and_abbreviated(store: Store):
    names = store.names
    assert _roles(store, _read(store, experiments=names, git_commits=(SHA_A,))) == {"finished", "failed", "killed"}
    assert _roles(store, _read(store, experiments=names, git_commits=(SHA_A[:8],))) == {
        "finished", "failed", "killed", "in_old"}
    assert _roles(store, _read(store, experiments=names, git_commits=(SHA_A[:7],))) == {
        "finished", "failed", "killed", "running", "in_old"}
    assert _read(store, experiments=names, git_commits=(SHA_A[:6],)) == {}  # too short to be a prefix
    assert _roles(store, _read(store, experiments=names, git_commits=(SHA_A[:12], SHA_B))) == {
        "finished", "failed", "killed", "running", "in_old"}


def test_include_deleted_false_leaves_deleted_runs_and_experiments_out(store: Store):
    got = _read(store, experiments=store.names, include_deleted=False)
    assert _roles(store, got) == {"finished", "failed", "killed", "running", "unnamed"}
    assert _read(store, experiments=(store.name("old"),), include_deleted=False) == {}
    everything = _read(store, include_deleted=False)  # no experiment named: all of the shared server's
    assert store.runs["deleted"] not in everything and store.runs["in_old"] not in everything
    assert store.runs["finished"] in everything


def test_a_filter_goes_to_the_client(store: Store):
    assert not SqlReader.supports(Selection(filter="metrics.loss < 1"))
    assert SqlReader.supports(Selection(experiments=("x",)))


def _copy(backend: str, tmp_path: Path) -> Path:
    """A consistent copy of the live store (sqlite's backup API), to alter without touching the server's."""
    source = sqlite3.connect(backend.removeprefix("sqlite:///"))
    target_path = tmp_path / "copy.db"
    target = sqlite3.connect(target_path)
    with target:
        source.backup(target)
    source.close()
    target.close()
    return target_path


def _alter(path: Path, sql: str) -> None:
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(sql)
    connection.close()


def test_unknown_alembic_revision_falls_back(store: Store, tmp_path: Path):
    path = _copy(store.server.backend, tmp_path)
    reader = open_sql_reader(f"sqlite:///{path}")
    assert isinstance(reader, SqlReader) and reader.revision == sql_reader.VERIFIED_REVISIONS[-1]
    reader.close()
    _alter(path, "UPDATE alembic_version SET version_num = 'ffffffffffff'")
    assert open_sql_reader(f"sqlite:///{path}") == sql_reader.Fallback("unknown_schema", "ffffffffffff",
                                                                       f"sqlite:///{path}")


def test_a_second_workspace_falls_back(store: Store, tmp_path: Path):
    path = _copy(store.server.backend, tmp_path)
    _alter(path, f"UPDATE experiments SET workspace = 'team-b' WHERE name = '{store.name('nlp')}'")
    assert open_sql_reader(f"sqlite:///{path}") == sql_reader.Fallback(
        "workspaces", sql_reader.VERIFIED_REVISIONS[-1], f"sqlite:///{path}")


def test_missing_file_is_an_input_error(tmp_path: Path):
    missing = tmp_path / "nope.db"
    with pytest.raises(InputError) as raised:
        open_sql_reader(f"sqlite:///{missing}")
    [problem] = raised.value.problems
    assert problem.file == str(missing) and problem.message == f"no MLflow store at {missing}"


def test_not_a_store_and_an_empty_database_are_input_errors(tmp_path: Path):
    text = tmp_path / "notes.db"
    text.write_text("not sqlite at all, just some text that is long enough to have a header" * 10)
    with pytest.raises(InputError):
        open_sql_reader(f"sqlite:///{text}")
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(InputError, match="no MLflow tables in this database"):  # the client would make 65 tables
        open_sql_reader(f"sqlite:///{empty}")
    assert empty.stat().st_size == 0
    other = tmp_path / "other.db"
    _alter(other, "CREATE TABLE notes (body TEXT)")
    with pytest.raises(InputError, match="not an MLflow store"):
        open_sql_reader(f"sqlite:///{other}")


def test_other_uris_are_not_ours():
    assert open_sql_reader("http://127.0.0.1:5000") is None
    assert open_sql_reader("databricks") is None
    assert open_sql_reader("sqlite://") is None


# --- prefetch: the same records, read by a second process ------------------------------------------------------


def test_prefetched_records_equal_the_readers_own(store: Store):
    """Every kind of selection, through the child process: the same records in the same order."""
    from ci_carbon.sources.mlflow import prefetch

    for selection in _selections(store):
        direct = list(_read(store, **selection._asdict()).values())
        got = list(prefetch.records(store.server.backend, selection))
        assert [r.run_id for r in got] == [r.run_id for r in direct], selection
        assert _comparable(got) == _comparable(direct), selection


def test_prefetch_stopped_early_leaves_no_child_behind(store: Store):
    import psutil

    from ci_carbon.sources.mlflow import prefetch

    me = psutil.Process()
    before = {p.pid for p in me.children()}
    runs = prefetch.records(store.server.backend, Selection(experiments=store.names))
    first = next(runs)
    assert first.run_id in set(store.runs.values())
    assert {p.pid for p in me.children()} - before  # the child is reading
    runs.close()
    assert not {p.pid for p in me.children()} - before  # killed and reaped


def test_prefetch_child_failure_is_the_parents_error(tmp_path: Path):
    """The child's one line comes back with its meaning: a missing store is the user's mistake (exit 2)."""
    from ci_carbon.sources.mlflow import prefetch

    missing = tmp_path / "gone.db"
    with pytest.raises(InputError) as err:
        list(prefetch.records(f"sqlite:///{missing}", Selection()))
    assert [p.message for p in err.value.problems] == [f"no MLflow store at {missing}"]


def test_prefetch_switch(monkeypatch: pytest.MonkeyPatch):
    from ci_carbon.sources.mlflow import prefetch

    sqlite, postgres, mysql = "sqlite:///x.db", "postgresql://u@db/mlflow", "mysql+pymysql://u@db/mlflow"
    monkeypatch.setenv("CI_CARBON_PREFETCH", "0")
    assert not prefetch.worth_it(10**6, sqlite)
    monkeypatch.setenv("CI_CARBON_PREFETCH", "1")
    assert prefetch.worth_it(1, sqlite) and prefetch.worth_it(1, postgres)
    monkeypatch.delenv("CI_CARBON_PREFETCH")
    assert not prefetch.worth_it(prefetch.MIN_RUNS - 1, sqlite)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert prefetch.worth_it(prefetch.MIN_RUNS, sqlite)
    assert not prefetch.worth_it(10**6, postgres) and not prefetch.worth_it(10**6, mysql)  # measured slower there
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert not prefetch.worth_it(10**6, sqlite)  # no second core for the child


def test_prefetch_frames_cut_short_end_the_read_and_the_exit_code_decides():
    """A child that dies mid-page leaves a short frame: reading stops there, and its exit code (not a clean end)
    says what happened: 3 is the store failing (exit 3 for the CLI), 2 the user's mistake."""
    import io
    import pickle

    from ci_carbon.errors import SourceUnreachable
    from ci_carbon.sources.mlflow import prefetch

    blob = pickle.dumps([("a",)])
    whole = len(blob).to_bytes(prefetch.HEADER, "little") + blob
    assert prefetch._page(io.BytesIO(whole)) == [("a",)]
    assert prefetch._page(io.BytesIO(whole[:-1])) is None
    assert prefetch._page(io.BytesIO(whole[:3])) is None
    assert prefetch._page(io.BytesIO(b"")) is None
    with pytest.raises(SourceUnreachable, match="reading the MLflow store stopped: DatabaseError: disk I/O error"):
        prefetch._fail(3, "DatabaseError: disk I/O error\n", "sqlite:///x.db")
    with pytest.raises(SourceUnreachable, match="ended with exit code -9"):
        prefetch._fail(-9, "", "sqlite:///x.db")
    with pytest.raises(InputError):
        prefetch._fail(2, "unknown experiment 'x'", "sqlite:///x.db")
