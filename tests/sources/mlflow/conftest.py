"""Real MLflow tracking servers on free 127.0.0.1 ports, started once per test session: on sqlite, and on a real
PostgreSQL and a real MariaDB (tests/sources/mlflow/db_servers.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
import requests

from tests.sources.mlflow.db_servers import DatabaseServer, MariaDB, Postgres


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, uri: str, backend: str, process: subprocess.Popen, log_path: Path | None = None):
        self.uri = uri  # http://127.0.0.1:PORT
        self.backend = backend  # sqlite:///…/mlflow.db: the same store, for the direct SQL path
        self.process = process
        self.log_path = log_path


def start_mlflow_server(root: Path, *extra_args: str, env: dict[str, str] | None = None,
                        backend: str | None = None) -> Server:
    """Start `mlflow server` on a store (default: sqlite under ``root``); wait until /health answers
    (at most 240 s: a loaded 2-core machine takes over 90).

    ``extra_args`` (e.g. ``--app-name basic-auth``) and ``env`` (added to this process's environment) let a test
    start a differently configured server the same way as the session's; ``backend`` puts the store in a database
    server (MLflow creates its tables there on start).
    """
    backend = backend or f"sqlite:///{root / 'mlflow.db'}"
    port = _free_port()
    full_env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **(env or {})}
    log_path = root / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", backend, "--default-artifact-root",
             str(root / "artifacts"), "--host", "127.0.0.1", "--port", str(port), "--workers", "1", *extra_args],
            stdout=log, stderr=subprocess.STDOUT, env=full_env, cwd=root,
        )
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    while True:
        try:
            if requests.get(f"{uri}/health", timeout=2).status_code == 200:
                return Server(uri, backend, process, log_path)
        except (requests.ConnectionError, requests.Timeout):  # a loaded machine: the server is still starting
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"mlflow server did not start: {log_path.read_text()[-2000:]}")
        time.sleep(0.5)


def stop_mlflow_server(server: Server) -> None:
    """Terminate the server (it stops its own uvicorn workers), killing it if it does not stop within 20 s."""
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory) -> Iterator[Server]:
    server = start_mlflow_server(tmp_path_factory.mktemp("mlflow"))
    try:
        yield server
    finally:
        stop_mlflow_server(server)


class DatabaseStore(NamedTuple):
    """A real database server with a real `mlflow server` on it, for the session (one per database kind)."""

    database: DatabaseServer  # PostgreSQL or MariaDB, on 127.0.0.1 in a temporary directory
    mlflow: Server  # `mlflow server --backend-store-uri <database>`: what users log to
    name: str  # the database MLflow's tables are in

    def uri(self, scheme: str | None = None) -> str:
        """The store as ci-carbon's users give it (``scheme`` as they spell it, e.g. ``postgresql+psycopg2``)."""
        return self.database.uri(self.name, scheme)


SERVER_DRIVERS = {"postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql"}  # what the MLflow server itself uses


@pytest.fixture(scope="session", params=["postgresql", "mysql"])
def database_store(request, tmp_path_factory) -> Iterator[DatabaseStore]:
    """PostgreSQL, then MariaDB: each started once, MLflow's tables made by its own server, stopped at the end."""
    database = Postgres() if request.param == "postgresql" else MariaDB()
    try:
        database.create_database("mlflow")
        root = tmp_path_factory.mktemp(f"mlflow-{request.param}")
        server = start_mlflow_server(root, backend=database.uri("mlflow", SERVER_DRIVERS[request.param]))
        try:
            yield DatabaseStore(database, server, "mlflow")
        finally:
            stop_mlflow_server(server)
            _close_mlflow_engines()
    finally:
        database.stop()


def _close_mlflow_engines() -> None:
    """MLflow's SQL store keeps one engine per URI for the process: close their connections before the database
    stops, or their pools complain on stderr at exit about a server that went away."""
    import gc

    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    gc.collect()  # connections of stores nothing refers to any more go back to their pools now, not at exit
    for engine in getattr(SqlAlchemyStore, "_engine_map", {}).values():
        engine.dispose()


class Read(NamedTuple):
    """Every chunk of a RunStream over ``uri``, gathered: what a report of the selection is built from."""

    specs: list
    skipped: list
    reader: str  # sql | client
    notes: tuple  # about the store as a whole
    where: str  # the URI as shown (password masked)


def read_runs(uri: str, selection, config, size: int | None = None) -> Read:
    from ci_carbon.sources.mlflow.load import CHUNK, RunStream

    stream = RunStream(uri, selection, config, size=size or CHUNK)
    specs, skipped = [], []
    for chunk in stream:
        specs += chunk.specs
        skipped += chunk.skipped
    return Read(specs, skipped, stream.kind, stream.notes, stream.where)
