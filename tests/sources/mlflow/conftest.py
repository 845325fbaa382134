"""A real MLflow tracking server (sqlite backend) on a free 127.0.0.1 port, started once per test session."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests


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


def start_mlflow_server(root: Path, *extra_args: str, env: dict[str, str] | None = None) -> Server:
    """Start `mlflow server` on a sqlite store under ``root`` and wait until /health answers (at most 90 s).

    ``extra_args`` (e.g. ``--app-name basic-auth``) and ``env`` (added to this process's environment) let a test
    start a differently configured server the same way as the session's.
    """
    backend = f"sqlite:///{root / 'mlflow.db'}"
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
    deadline = time.monotonic() + 90
    while True:
        try:
            if requests.get(f"{uri}/health", timeout=2).status_code == 200:
                return Server(uri, backend, process, log_path)
        except requests.ConnectionError:
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
