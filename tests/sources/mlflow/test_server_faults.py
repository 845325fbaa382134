"""Faults of a real MLflow server as `ci-carbon report --mlflow-uri http://…` meets them.

Authentication is MLflow's own basic-auth app on a second real server. Failures of the network (5xx, a server
that dies mid-read, a request never answered) come from a small HTTP proxy in front of the session's real server:
it only stands in for the network, the answers it forwards are the server's. Each fault must end in its exit code
(2 for credentials, 3 for an unreachable source) with one line and no traceback, and no report that looks complete.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import mlflow
import pytest
from mlflow.entities import Metric

from tests.conftest import Result, run_cli
from tests.sources.mlflow.conftest import Server, start_mlflow_server, stop_mlflow_server

T0 = 1_780_000_000_000  # a fixed start time (ms)
S = 1000
HINT = "check MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD"
CREDENTIALS = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN")
EXPERIMENTS = "/api/2.0/mlflow/experiments/search"
SEARCH = "/api/2.0/mlflow/runs/search"
HISTORY = "/api/2.0/mlflow/metrics/get-history"
BULK = "/ajax-api/2.0/mlflow/metrics/get-history-bulk"
POWER = "system/gpu_0_power_usage_watts"
TAGS = {"gpu": "Tesla T4", "cloud": "gcp", "region": "us-central1"}


@contextmanager
def environment(env: dict[str, str | None]) -> Iterator[None]:
    """``env`` set (None: unset) in this process for the block only; the CLI's subprocess inherits it."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            if value is None:
                patch.delenv(name, raising=False)
            else:
                patch.setenv(name, value)
        yield


def cli(*args: str, env: dict[str, str | None]) -> Result:
    """The real CLI in a subprocess, with ``env`` for that call only."""
    with environment(env):
        return run_cli(*args)


def one_line(result: Result, code: int) -> str:
    """The single error line of a failed command, after checking the exit code, the shape and that nothing else
    (no report, no traceback) was printed."""
    assert result.code == code, (result.code, result.err)
    assert "Traceback" not in result.err and result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    return lines[0]


def retries(max_retries: int, timeout_s: int = 5) -> dict[str, str | None]:
    """MLflow's HTTP retry settings for a fast test (ClientReader only sets its defaults where these are unset)."""
    return {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(max_retries), "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0",
            "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": str(timeout_s)}


# ---------------------------------------------------------------------------------------------------------------
# 401 / 403 from MLflow's own basic-auth app


@dataclass
class AuthServer:
    server: Server
    admin: dict[str, str | None]  # environment for each user's credentials
    reader: dict[str, str | None]
    secret: str  # experiment the reader has no permission on (default_permission = NO_PERMISSIONS)
    shared: str  # experiment the reader may READ
    secret_run: str
    shared_run: str


def _auth_ini(root: Path, password: str) -> Path:
    """A basic_auth.ini of our own: its own user database, no access unless granted."""
    ini = root / "basic_auth.ini"
    ini.write_text(
        "[mlflow]\n"
        "default_permission = NO_PERMISSIONS\n"
        f"database_uri = sqlite:///{root / 'basic_auth.db'}\n"
        "admin_username = admin\n"
        f"admin_password = {password}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n",
        encoding="utf-8",
    )
    return ini


def _grant_read(uri: str, username: str, experiment_id: str) -> None:
    """READ on one experiment, through MLflow's auth client (newer: grant_user_permission; 2.x: per experiment)."""
    from mlflow.server.auth.client import AuthServiceClient

    auth = AuthServiceClient(uri)
    if hasattr(auth, "grant_user_permission"):
        auth.grant_user_permission(username, "experiment", experiment_id, "READ")
    else:
        auth.create_experiment_permission(experiment_id, username, "READ")


def _finished_run(client: mlflow.MlflowClient, experiment_id: str) -> str:
    run = client.create_run(experiment_id, start_time=T0, tags=TAGS, run_name="trained")
    client.set_terminated(run.info.run_id, end_time=T0 + 3600 * S)
    return run.info.run_id


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory) -> Iterator[AuthServer]:
    """A second real server with basic auth; separate from the session server, started once for this module."""
    if importlib.util.find_spec("flask_wtf") is None:  # fail loudly: a skip would hide the missing extra
        pytest.fail("MLflow's basic-auth app needs Flask-WTF: pip install 'ci-carbon[server]' (mlflow[auth])")
    root = tmp_path_factory.mktemp("mlflow-auth")
    password = "admin-" + uuid.uuid4().hex
    env = {"MLFLOW_AUTH_CONFIG_PATH": str(_auth_ini(root, password)),
           "MLFLOW_FLASK_SERVER_SECRET_KEY": uuid.uuid4().hex}
    server = start_mlflow_server(root, "--app-name", "basic-auth", env=env)
    try:
        admin = {"MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": password,
                 "MLFLOW_TRACKING_TOKEN": None}
        reader = {**admin, "MLFLOW_TRACKING_USERNAME": "reader",
                  "MLFLOW_TRACKING_PASSWORD": "reader-" + uuid.uuid4().hex}
        with environment(admin):
            from mlflow.server.auth.client import AuthServiceClient

            AuthServiceClient(server.uri).create_user("reader", reader["MLFLOW_TRACKING_PASSWORD"])
            client = mlflow.MlflowClient(server.uri)
            secret = client.create_experiment("secret")
            shared = client.create_experiment("shared")
            _grant_read(server.uri, "reader", shared)
            runs = _finished_run(client, secret), _finished_run(client, shared)
        yield AuthServer(server, admin, reader, "secret", "shared", *runs)
    finally:
        stop_mlflow_server(server)


@pytest.mark.parametrize("who", ["no credentials", "wrong password"])
def test_unauthenticated_is_bad_input_with_the_credentials_hint(auth_server: AuthServer, who: str):
    """A 401 is the user's to fix (exit 2, which variables to set), not an unreachable server (exit 3)."""
    env = ({name: None for name in CREDENTIALS} if who == "no credentials"
           else {**auth_server.admin, "MLFLOW_TRACKING_PASSWORD": "not-the-password"})
    uri = auth_server.server.uri
    line = one_line(cli("report", "--mlflow-uri", uri, "--format", "json", env=env), 2)
    assert line.startswith(f"ci-carbon: {uri}: not authorised to list experiments: ")
    assert "401" in line and line.endswith(HINT)


def test_experiment_without_permission_is_unknown_not_an_empty_report(auth_server: AuthServer):
    """MLflow hides experiments a user may not read; naming one must fail (exit 2), not report zero runs."""
    uri = auth_server.server.uri
    result = cli("report", "--mlflow-uri", uri, "-e", auth_server.secret, "--format", "json", env=auth_server.reader)
    line = one_line(result, 2)
    assert line.startswith(f"ci-carbon: {uri}: --experiment: unknown experiment '{auth_server.secret}' "
                           "(or these credentials may not read it)")


def test_read_permission_reads_but_writing_back_is_denied(auth_server: AuthServer):
    """READ is enough for a report; `annotate` then meets a 403 PERMISSION_DENIED: exit 2, nothing written."""
    uri = auth_server.server.uri
    read = cli("report", "--mlflow-uri", uri, "-e", auth_server.shared, "--format", "json", env=auth_server.reader)
    assert read.code == 0, read.err
    assert [j["id"] for j in read.json()["jobs"]] == [auth_server.shared_run]
    line = one_line(cli("annotate", "--mlflow-uri", uri, "-e", auth_server.shared, env=auth_server.reader), 2)
    assert line.startswith(f"ci-carbon: {uri}: not authorised to write run: ")
    assert "403" in line and line.endswith(HINT)
    with environment(auth_server.admin):
        run = mlflow.MlflowClient(uri).get_run(auth_server.shared_run)
    assert not [k for k in run.data.metrics if k.startswith("carbon/")]


def test_admin_credentials_read_every_experiment(auth_server: AuthServer):
    """The right credentials through the same variables give the complete report."""
    result = cli("report", "--mlflow-uri", auth_server.server.uri, "--format", "json", env=auth_server.admin)
    assert result.code == 0, result.err
    ids = {j["id"] for j in result.json()["jobs"]}
    assert ids == {auth_server.secret_run, auth_server.shared_run}


# ---------------------------------------------------------------------------------------------------------------
# The network between ci-carbon and a real server: a proxy that forwards, fails, drops or never answers

Rule = Callable[[int], str]  # the n-th request (from 1) to a path → "forward", "503", "close" or "hang"
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "proxy-connection"}


class FaultProxy:
    """A forwarding HTTP proxy on 127.0.0.1 whose answers per API path follow the test's rules.

    ``page_cap`` lowers the page size asked of runs/search, so that the real server pages a handful of runs
    (ClientReader asks 5,000 a page; logging 5,001 runs would take a minute).
    """

    def __init__(self, upstream: str):
        target = urlsplit(upstream)
        self.upstream = (target.hostname or "127.0.0.1", target.port or 80)
        self.rules: dict[str, Rule] = {}
        self.hits: Counter[str] = Counter()
        self.page_cap: int | None = None
        self.released = threading.Event()  # ends the requests that "hang"
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _ProxyHandler)
        self._httpd.daemon_threads = True
        self._httpd.proxy = self  # type: ignore[attr-defined]
        self.uri = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def action(self, path: str) -> str:
        with self._lock:
            self.hits[path] += 1
            n = self.hits[path]
        rule = self.rules.get(path)
        return rule(n) if rule else "forward"

    def close(self) -> None:
        self.released.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass

    def _handle(self) -> None:
        proxy: FaultProxy = self.server.proxy  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = urlsplit(self.path).path
        action = proxy.action(path)
        if action == "hang":
            proxy.released.wait(120)
        if action in ("hang", "close"):  # the connection ends without a response
            self.close_connection = True
            return
        if action.isdigit():
            self._reply(int(action), [("Content-Type", "text/plain")], b"upstream unavailable")
            return
        if path == SEARCH and proxy.page_cap and body:
            asked = json.loads(body)
            asked["max_results"] = min(int(asked.get("max_results") or proxy.page_cap), proxy.page_cap)
            body = json.dumps(asked).encode()
        self._forward(proxy, body)

    def _forward(self, proxy: FaultProxy, body: bytes) -> None:
        upstream = http.client.HTTPConnection(*proxy.upstream, timeout=60)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            upstream.request(self.command, self.path, body=body or None, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP]
            self._reply(answer.status, kept, data)
        finally:
            upstream.close()

    def _reply(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def proxy(mlflow_server: Server) -> Iterator[FaultProxy]:
    faults = FaultProxy(mlflow_server.uri)
    try:
        yield faults
    finally:
        faults.close()


@dataclass
class Experiment:
    name: str
    run_ids: set[str]


@pytest.fixture(scope="module")
def measured(mlflow_server: Server) -> Experiment:
    """Five finished runs that logged GPU power, so a report searches runs and then reads metric histories."""
    client = mlflow.MlflowClient(mlflow_server.uri)
    name = f"faults-{uuid.uuid4().hex[:8]}"
    experiment = client.create_experiment(name)
    ids = set()
    for i in range(5):
        run = client.create_run(experiment, start_time=T0, tags=TAGS, run_name=f"measured-{i}")
        power = [Metric("system/gpu_0_power_usage_watts", 60.0, T0 + 10 * S * (k + 1), k) for k in range(30)]
        client.log_batch(run.info.run_id, metrics=power)
        client.set_terminated(run.info.run_id, end_time=T0 + 300 * S)
        ids.add(run.info.run_id)
    return Experiment(name, ids)


def test_transient_5xx_is_retried_and_the_report_is_complete(proxy: FaultProxy, measured: Experiment):
    """Two 503s on runs/search are within the retry budget: the report has every run, after exactly 3 tries."""
    proxy.rules[SEARCH] = lambda n: "503" if n <= 2 else "forward"
    result = cli("report", "--mlflow-uri", proxy.uri, "-e", measured.name, "--format", "json", env=retries(3))
    assert result.code == 0, result.err
    jobs = result.json()["jobs"]
    assert {j["id"] for j in jobs} == measured.run_ids
    assert all(j["method"] == "measured" for j in jobs)
    assert proxy.hits[SEARCH] == 3


def test_persistent_5xx_is_unreachable_within_bounded_time(proxy: FaultProxy, measured: Experiment):
    """A server that keeps answering 503 ends the command after the retry budget: exit 3, one line, no report."""
    proxy.rules[SEARCH] = lambda n: "503"
    started = time.monotonic()
    result = cli("report", "--mlflow-uri", proxy.uri, "-e", measured.name, env=retries(2))
    elapsed = time.monotonic() - started
    line = one_line(result, 3)
    assert line.startswith(f"ci-carbon: MLflow at {proxy.uri} failed to search runs: ")
    assert "503" in line
    assert proxy.hits[SEARCH] == 3  # the first try and two retries
    assert elapsed < 30


def test_server_dying_after_the_first_page_leaves_no_report(proxy: FaultProxy, measured: Experiment, tmp_path: Path):
    """The first page of runs arrives, then every connection is dropped: exit 3 and no --output file."""
    proxy.page_cap = 2  # 5 runs → 3 pages
    proxy.rules[SEARCH] = lambda n: "forward" if n == 1 else "close"
    output = tmp_path / "report.json"
    result = cli("report", "--mlflow-uri", proxy.uri, "-e", measured.name, "--format", "json",
                 "--output", str(output), env=retries(1))
    line = one_line(result, 3)
    assert line.startswith(f"ci-carbon: MLflow at {proxy.uri} failed to search runs: ")
    assert proxy.hits[SEARCH] == 3  # page 1, then page 2 tried twice
    assert not output.exists()


def test_server_dying_during_history_reads_leaves_no_report(proxy: FaultProxy, measured: Experiment,
                                                            tmp_path: Path):
    """All runs are listed, then the power histories' connections are dropped: exit 3, not a report without them."""
    proxy.rules[BULK] = lambda n: "close"
    output = tmp_path / "report.md"
    result = cli("report", "--mlflow-uri", proxy.uri, "-e", measured.name, "--output", str(output),
                 env=retries(1))
    line = one_line(result, 3)
    assert line.startswith(f"ci-carbon: MLflow at {proxy.uri} failed to read metric histories: ")
    assert proxy.hits[SEARCH] == 1 and proxy.hits[BULK] == 2 and proxy.hits[HISTORY] == 0
    assert not output.exists()


def test_request_never_answered_times_out(proxy: FaultProxy, tmp_path: Path):
    """A server that accepts and never answers is given MLFLOW_HTTP_REQUEST_TIMEOUT per try, then exit 3."""
    proxy.rules[EXPERIMENTS] = lambda n: "hang"
    output = tmp_path / "report.md"
    started = time.monotonic()
    result = cli("report", "--mlflow-uri", proxy.uri, "--output", str(output), env=retries(1, timeout_s=2))
    elapsed = time.monotonic() - started
    line = one_line(result, 3)
    assert line.startswith(f"ci-carbon: MLflow at {proxy.uri} failed to list experiments: ")
    assert "timeout" in line.lower() or "timed out" in line.lower()
    assert proxy.hits[EXPERIMENTS] == 2  # the first try and one retry, 2 s each
    assert 4 <= elapsed < 30
    assert not output.exists()


# ---------------------------------------------------------------------------------------------------------------
# metric histories in bulk, within the endpoint's limits


def _energies(result: Result) -> dict[str, float]:
    assert result.code == 0, result.err
    return {j["id"]: j["energy_kwh"] for j in result.json()["jobs"]}


def test_histories_come_in_bulk_and_without_it_one_run_at_a_time(proxy: FaultProxy, measured: Experiment):
    """Five runs' power in one bulk request; a server without the endpoint (404) gets one request per run, and
    the report is the same."""
    bulk = _energies(cli("report", "--mlflow-uri", proxy.uri, "-e", measured.name, "--format", "json", env={}))
    assert set(bulk) == measured.run_ids
    assert (proxy.hits[BULK], proxy.hits[HISTORY]) == (1, 0)
    proxy.rules[BULK] = lambda n: "404"
    proxy.hits.clear()
    single = _energies(cli("report", "--mlflow-uri", proxy.uri, "-e", measured.name, "--format", "json", env={}))
    assert single == bulk
    assert (proxy.hits[BULK], proxy.hits[HISTORY]) == (1, 5)


def test_bulk_answers_cut_at_25000_points_are_read_again_in_parts(proxy: FaultProxy, mlflow_server: Server):
    """The endpoint cuts its answer at 25,000 points without a word: a full answer is asked again in halves, and
    a single run that long is read with the client's paging. Every point arrives."""
    from ci_carbon.sources.mlflow.client_reader import ClientReader

    client = mlflow.MlflowClient(mlflow_server.uri)
    experiment = client.create_experiment(f"long-{uuid.uuid4().hex[:8]}")
    long_run, short_run = (client.create_run(experiment, start_time=T0).info.run_id for _ in range(2))
    points = [Metric(POWER, 100.0 + k % 7, T0 + 10 * S * (k + 1), k) for k in range(25_010)]
    for start in range(0, len(points), 1000):  # log_batch takes 1,000 metrics a call
        client.log_batch(long_run, metrics=points[start:start + 1000])
    client.log_batch(short_run, metrics=points[:20])
    got = ClientReader(proxy.uri).histories([long_run, short_run], [POWER])
    assert len(got[(long_run, POWER)]) == 25_010 and len(got[(short_run, POWER)]) == 20
    assert [p.step for p in got[(long_run, POWER)]] == list(range(25_010))
    assert proxy.hits[BULK] == 3  # both runs (cut), then each alone: the long one cut again
    assert proxy.hits[HISTORY] >= 1  # the long run through get-history's own paging
