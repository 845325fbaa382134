"""Real PostgreSQL 15 and MariaDB 10.11 tracking stores, used as users use them.

Each database server runs a real `mlflow server`; runs are logged through it with the mlflow client (system metrics
from MLflow's own monitor, GPU power histories under the names it logs them with, a nested sweep, a failed run).
Then ci-carbon reads the database directly (SQL), through the MLflow client on the database (``--filter``), and
through the server (HTTP): the same jobs and totals every way, under every URI spelling users write, and an empty
database is refused without a table being created in it.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param

from ci_carbon.core.model import Notice
from ci_carbon.core.settings import MlflowConfig
from ci_carbon.errors import InputError
from ci_carbon.render.environment import macro, plain
from ci_carbon.sources.mlflow import sql_reader
from ci_carbon.sources.mlflow.records import Selection
from tests.conftest import run_cli
from tests.sources.mlflow.conftest import DatabaseStore, read_runs
from tests.sources.mlflow.db_servers import PASSWORD

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, in ms
HOUR = 3_600_000
POWER = "system/gpu_0_power_usage_watts"  # as MLflow's system metrics monitor names it
UTIL = "system/gpu_0_utilization_percentage"
NOTE = 'a "quote", back\\slash,\nnewline, ünïcödé 🚀 \t </script>'  # read back exactly from each server's JSON
CONFIG = MlflowConfig(team=("team", "mlflow.user"), project=("project",),
                      defaults=(("provider", "gcp"), ("region", "us-central1")))
CONFIG_YAML = """\
version: 1
mlflow:
  team: [team, mlflow.user]
  project: [project]
  defaults: {provider: gcp, region: us-central1}
"""
SPELLINGS = {"postgresql": ("postgresql", "postgresql+psycopg2", "postgresql+psycopg"),
             "mysql": ("mysql", "mysql+pymysql")}
DRIVERS = {"postgresql": ("psycopg", "psycopg2", "pg8000"), "mysql": ("pymysql", "MySQLdb", "mysql.connector")}


class Logged(NamedTuple):
    store: DatabaseStore
    experiment: str  # name
    runs: dict[str, str]  # role → run id
    config: Path  # ci-carbon.yaml naming the team as the README's example does: [team, mlflow.user]


def _run(client: MlflowClient, experiment_id: str, name: str, start: int, hours: float, tags: dict[str, str],
         watts: float | None = None, status: str = "FINISHED", params: dict[str, str] | None = None) -> str:
    """One run with explicit times; ``watts``: a GPU power history (every 10 min) and utilisation, as logged."""
    run_id = client.create_run(experiment_id, start_time=start, run_name=name, tags=tags).info.run_id
    end = start + int(hours * HOUR)
    metrics = []
    if watts is not None:
        for i, stamp in enumerate(range(start, end + 1, 600_000)):
            metrics += [Metric(POWER, watts, stamp, i), Metric(UTIL, 80.0, stamp, i)]
    client.log_batch(run_id, metrics=metrics, params=[Param(k, v) for k, v in (params or {}).items()])
    client.set_terminated(run_id, status=status, end_time=end)
    return run_id


def _system_metrics_run(uri: str, experiment: str) -> str:
    """A run as a training script makes it: the fluent API, MLflow's own system-metrics monitor sampling."""
    from mlflow.tracking._tracking_service import utils as tracking

    before = tracking._tracking_uri  # None unless set: restoring get_tracking_uri() would set its default for all
    environ_before = os.environ.get("MLFLOW_TRACKING_URI")  # set_tracking_uri writes it; None does not remove it
    mlflow.set_tracking_uri(uri)
    mlflow.set_system_metrics_sampling_interval(0.5)
    mlflow.set_system_metrics_samples_before_logging(1)
    try:
        mlflow.set_experiment(experiment)
        with mlflow.start_run(run_name="cpu-probe", log_system_metrics=True,
                              tags={"gpu": "NVIDIA L4", "team": "platform", "mlflow.user": "ada"}) as run:
            mlflow.log_param("epochs", "1")
            time.sleep(1.6)
        return run.info.run_id
    finally:
        mlflow.set_system_metrics_sampling_interval(None)
        mlflow.set_system_metrics_samples_before_logging(None)
        mlflow.set_tracking_uri(before)
        if environ_before is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = environ_before


@pytest.fixture(scope="module")
def logged(database_store: DatabaseStore, tmp_path_factory) -> Logged:
    client = MlflowClient(database_store.mlflow.uri)
    name = f"db-{uuid.uuid4().hex[:8]}"
    experiment = client.create_experiment(name)
    runs = {"probe": _system_metrics_run(database_store.mlflow.uri, name)}
    root = {"mlflow.user": "root", "gpu": "A100-SXM4-80GB"}  # sweep trials run as the training box's OS user
    runs["parent"] = _run(client, experiment, "resnet-sweep", T0, 3.5,
                          {"mlflow.user": "ada", "team": "vision", "project": "resnet", "gpu": "A100-SXM4-80GB"})
    for i in range(3):
        runs[f"trial{i}"] = _run(client, experiment, f"trial-{i}", T0 + HOUR * i + 60_000, 1.0,
                                 {**root, "mlflow.parentRunId": runs["parent"]}, watts=300.0 + 10 * i,
                                 params={"lr": f"0.{i + 1}"})
    runs["own_team"] = _run(client, experiment, "trial-own", T0 + 3 * HOUR, 0.5,
                            {**root, "team": "platform", "mlflow.parentRunId": runs["parent"]}, watts=250.0)
    runs["failed"] = _run(client, experiment, "bert-oom", T0 + 4 * HOUR, 0.25,
                          {"mlflow.user": "bob", "team": "nlp", "gpu": "Tesla T4", "note": NOTE, "empty": ""},
                          watts=65.0, status="FAILED", params={"prompt": NOTE, "batch_size": "8"})
    config = tmp_path_factory.mktemp("config") / "ci-carbon.yaml"
    config.write_text(CONFIG_YAML)
    return Logged(database_store, name, runs, config)


def _report(logged: Logged, uri: str, *extra: str) -> dict:
    result = run_cli("report", "--mlflow-uri", uri, "-e", logged.experiment, "--config", str(logged.config),
                     "--format", "json", *extra)
    assert result.code == 0, result.err
    assert PASSWORD not in result.out + result.err
    return result.json()


def _masked(uri: str) -> str:
    """The URI as ci-carbon may show it: the password masked."""
    return uri.replace(f":{quote(PASSWORD, safe='')}@", ":***@")


def _unplaced(specs) -> list:
    """Specs in run-id order, without their origin (it names the URI as given, which differs by spelling)."""
    return sorted((s._replace(origin=None) for s in specs), key=lambda s: s.id)


def _jobs(report: dict) -> list[dict]:
    return sorted(report["jobs"], key=lambda job: job["id"])


def test_direct_sql_and_the_client_give_the_same_report(logged: Logged):
    """Direct SQL, the MLflow client on the same database (a --filter needs it) and the server: the same report."""
    everything = "attributes.start_time > 0"
    direct = _report(logged, logged.store.uri())
    on_database = _report(logged, logged.store.uri(), "--filter", everything)
    served = _report(logged, logged.store.mlflow.uri)
    assert [r["source"]["reader"] for r in (direct, on_database, served)] == ["sql", "client", "client"]
    assert _jobs(direct) == _jobs(on_database) == _jobs(served)
    assert direct["totals"] == on_database["totals"] == served["totals"]
    assert direct["skipped"] == served["skipped"] == [
        {"name": "resnet-sweep", "id": logged.runs["parent"], "code": "parent", "detail": "",
         "reason": "Parent of a hyper-parameter search: counted through its child runs."}]
    assert direct["source"]["where"] == _masked(logged.store.uri())
    by_id = {job["id"]: job for job in direct["jobs"]}
    trial = by_id[logged.runs["trial1"]]
    assert (trial["method"], trial["power_w"], trial["hours"], trial["count"]) == ("measured", 310.0, 1.0, 1)
    assert by_id[logged.runs["failed"]]["status"] == "FAILED"
    reader = sql_reader.open_sql_reader(logged.store.uri())
    assert isinstance(reader, sql_reader.SqlReader) and reader._database.json_object  # one JSON object per run
    with reader:
        [failed] = reader.runs(Selection(run_ids=(logged.runs["failed"],)))
    assert (failed.tags["note"], failed.tags["empty"], failed.params["prompt"]) == (NOTE, "", NOTE)
    assert failed.tags == MlflowClient(logged.store.mlflow.uri).get_run(failed.run_id).data.tags
    assert direct["totals"]["jobs"] == 6


def test_sweep_trials_keep_their_parents_team_and_project(logged: Logged):
    """Trials without team/project tags are the parent's (not their OS user 'root'); one that says its own team
    keeps it; every path agrees, and so does a selection that leaves the parent out, or streams it in chunks of
    one run."""
    runs = logged.runs
    expected = {runs[f"trial{i}"]: ("vision", "resnet", "root") for i in range(3)}
    expected[runs["own_team"]] = ("platform", "resnet", "root")
    expected[runs["failed"]] = ("nlp", None, "bob")
    expected[runs["probe"]] = ("platform", None, "ada")

    def owners(specs) -> dict[str, tuple]:
        return {s.id: (s.tags.get("team"), s.tags.get("project"), s.tags.get("user")) for s in specs}

    children_only = Selection(experiments=(logged.experiment,), since=T0 + 1)  # the parent started at T0
    for uri, kind in ((logged.store.uri(), "sql"), (logged.store.mlflow.uri, "client")):
        read = read_runs(uri, Selection(experiments=(logged.experiment,)), CONFIG)
        assert read.reader == kind and owners(read.specs) == expected, uri
        later = read_runs(uri, children_only, CONFIG)
        assert runs["parent"] not in {s.id for s in later.specs} | {s.id for s in later.skipped}
        assert owners(later.specs) == expected, uri  # the probe ran today, after T0 too
        one_by_one = read_runs(uri, Selection(experiments=(logged.experiment,)), CONFIG, size=1)
        assert owners(one_by_one.specs) == expected, uri


def test_every_uri_spelling_reads_the_store(logged: Logged):
    """postgresql://, postgresql+psycopg2:// (psycopg2 is not installed: psycopg reads it), mysql:// (no
    mysqlclient: PyMySQL reads it) and the others: the same jobs through direct SQL."""
    selection = Selection(experiments=(logged.experiment,))
    reads = {scheme: read_runs(logged.store.uri(scheme), selection, CONFIG)
             for scheme in SPELLINGS[logged.store.database.kind]}
    first = next(iter(reads.values()))
    assert len(first.specs) == 6
    for scheme, read in reads.items():
        assert read.reader == "sql", scheme
        assert _unplaced(read.specs) == _unplaced(first.specs), scheme
        assert read.where == _masked(logged.store.uri(scheme))


def test_no_driver_installed_is_one_line_naming_the_extra(logged: Logged):
    """A Python without any driver for the database (blocked here before anything imports one): exit 2, one line."""
    kind = logged.store.database.kind
    blocked = "; ".join(f"sys.modules[{module!r}] = None" for module in DRIVERS[kind])
    code = f"import sys; {blocked}; from ci_carbon.cli import main; main()"
    result = run_cli("report", "--mlflow-uri", logged.store.uri(), executable=[sys.executable, "-c", code])
    extra, name = ("postgres", "PostgreSQL") if kind == "postgresql" else ("mysql", "MySQL/MariaDB")
    assert result.code == 2 and result.out == ""
    assert result.err.splitlines() == [
        f"ci-carbon: {_masked(logged.store.uri())}: --mlflow-uri: reading a {name} store needs a {name} driver: "
        f"pip install 'ci-carbon[{extra}]'"]


def test_an_empty_database_is_refused_and_left_empty(logged: Logged):
    """No MLflow tables: one line, exit 2, whichever reader would have read it (MLflow's own store would have
    created 65 tables); annotate, which writes, is refused before it writes anything."""
    database = logged.store.database
    name = f"empty_{uuid.uuid4().hex[:6]}"
    database.create_database(name)
    uri = database.uri(name)
    for extra in ((), ("--filter", "attributes.start_time > 0")):
        result = run_cli("report", "--mlflow-uri", uri, *extra)
        assert result.code == 2 and result.out == "", result.err
        [line] = result.err.splitlines()
        assert line == (f"ci-carbon: {_masked(uri)}: no MLflow tables in this database: it is not a tracking store "
                        "(ci-carbon only reads; `mlflow server --backend-store-uri` makes one)")
        assert database.tables(name) == []
    with pytest.raises(InputError):
        read_runs(uri, Selection(filter="metrics.loss > 0"), CONFIG)
    assert run_cli("annotate", "--mlflow-uri", uri).code == 2
    assert database.tables(name) == []


def test_a_schema_the_direct_reader_does_not_know_is_read_by_the_client_with_a_note(
        logged: Logged, monkeypatch: pytest.MonkeyPatch):
    """As if MLflow had moved on past the revisions ci-carbon checked: the client reads it (the installed MLflow
    matches the store), the same jobs, and the report's source says why it was slower."""
    selection = Selection(experiments=(logged.experiment,))
    direct = read_runs(logged.store.uri(), selection, CONFIG)
    head = sql_reader.VERIFIED_REVISIONS[-1]
    monkeypatch.setattr(sql_reader, "VERIFIED_REVISIONS", sql_reader.VERIFIED_REVISIONS[:-1])
    fallen_back = read_runs(logged.store.uri(), selection, CONFIG)
    assert (direct.reader, direct.notes) == ("sql", ())
    assert fallen_back.reader == "client"
    assert fallen_back.notes == (Notice("unknown_schema", {"revision": head}),)
    assert _unplaced(fallen_back.specs) == _unplaced(direct.specs)
    said = str(macro("notices.j2", "source_note")(fallen_back.notes[0], plain)).strip()
    assert said == (f"Read through the MLflow client, more slowly: the store's schema revision {head} is not one "
                    "that ci-carbon's direct SQL reader has checked (MLflow's up to 3.17).")


def test_the_server_database_is_opened_read_only(logged: Logged):
    """The direct reader's session cannot write, even by mistake."""
    reader = sql_reader.open_sql_reader(logged.store.uri())
    assert isinstance(reader, sql_reader.SqlReader)
    with reader, pytest.raises(Exception, match=r"(?i)read.only"):
        reader._database.rows("UPDATE experiments SET name = 'changed' WHERE name = ?", (logged.experiment,))
    assert MlflowClient(logged.store.mlflow.uri).get_experiment_by_name(logged.experiment) is not None


def test_annotate_writes_through_the_client_with_an_installed_driver(logged: Logged):
    """`annotate` on the database itself (postgresql:// with psycopg 3, mysql:// with PyMySQL): the runs carry it."""
    result = run_cli("annotate", "--mlflow-uri", logged.store.uri(), "-e", logged.experiment,
                     "--config", str(logged.config))
    assert result.code == 0, result.err
    assert result.out.startswith("annotated 6 runs; 0 already current;")
    tags = MlflowClient(logged.store.mlflow.uri).get_run(logged.runs["trial1"]).data.tags
    assert tags["carbon.method"] == "measured"


def test_annotate_never_migrates_an_older_store(mlflow_server, tmp_path: Path):
    """A store at an older schema (known to the direct reader, so it is read) is refused before MLflow's client
    would migrate it to write: exit 2, one line, the file byte for byte as it was."""
    import sqlite3

    copy = tmp_path / "old.db"
    source, target = sqlite3.connect(mlflow_server.backend.removeprefix("sqlite:///")), sqlite3.connect(copy)
    with target:
        source.backup(target)
    older = sql_reader.VERIFIED_REVISIONS[-2]
    with target:
        target.execute("UPDATE alembic_version SET version_num = ?", (older,))
    source.close()
    target.close()
    before = copy.read_bytes()
    result = run_cli("annotate", "--mlflow-uri", f"sqlite:///{copy}")
    assert result.code == 2 and result.out == ""
    assert result.err.splitlines() == [
        f"ci-carbon: sqlite:///{copy}: --mlflow-uri: this store is at schema revision {older}; the MLflow client can "
        f"open it only as the MLflow that wrote it (MLflow {mlflow.__version__} would migrate it to "
        f"{sql_reader.VERIFIED_REVISIONS[-1]}, and ci-carbon never changes a store's schema)"]
    assert copy.read_bytes() == before
