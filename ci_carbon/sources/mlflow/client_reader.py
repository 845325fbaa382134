"""Read runs through MLflow's own client: any tracking URI (server, Databricks, SQL store with full mlflow).

Through a server, the search goes out as the client's own request (:func:`mlflow.utils.rest_utils.http_request`:
its credentials, retries and headers) and its JSON answer becomes records here; the metric histories come from the
bulk endpoint MLflow's UI uses. A store the client opens itself is searched with ``MlflowClient.search_runs``.

Every page is read (no silent cap), deleted runs are included for accounting, and the client's HTTP retries are
bounded so that an unreachable server ends in one clear message (exit 3) within about a minute, not ten.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson

from ci_carbon.core.names import nearest, normalise, suggestion
from ci_carbon.errors import InputError, InputProblem, SourceUnreachable
from ci_carbon.sources.mlflow import db_errors
from ci_carbon.sources.mlflow.records import MetricPoint, RunRecord, Selection

PAGE = 5_000  # runs per search page (the server caps max_results at 50,000)
HISTORY_WORKERS = 8  # concurrent history requests through a server
SEARCH_ENDPOINT = "/api/2.0/mlflow/runs/search"  # the REST API's search (MLflow's docs: REST API, Search Runs)
BULK_ENDPOINT = "/ajax-api/2.0/mlflow/metrics/get-history-bulk"  # what MLflow's UI charts many runs with
BULK_RUNS, BULK_POINTS = 100, 25_000  # the endpoint's limits: run ids per request, points per answer (cut silently)
RETRY_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                  "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}
_AUTH = {"UNAUTHENTICATED", "PERMISSION_DENIED"}


def _quote(value: str) -> str:
    return "'" + value.replace("'", "\\'") + "'"


def _one_nan(value: float) -> float:
    """Every NaN as the one object math.nan: records then compare equal (dicts compare by identity first)."""
    return math.nan if value != value else value


def _record(run: Any, names: dict[str, str]) -> RunRecord:
    """A run entity of the client's own search; ``names``: experiment id → name."""
    info, data = run.info, run.data
    experiment_id = str(info.experiment_id)
    return RunRecord(
        run_id=info.run_id, experiment_id=experiment_id, experiment_name=names.get(experiment_id, ""),
        run_name=info.run_name or "", status=info.status, lifecycle_stage=info.lifecycle_stage,
        start_time=info.start_time, end_time=info.end_time, user_id=info.user_id or "",
        tags=dict(data.tags), params=dict(data.params),
        metrics={k: _one_nan(v) for k, v in data.metrics.items()},
        last_metric_ms=_last_metric_ms(data),
    )


def _json_record(run: dict[str, Any], names: dict[str, str]) -> RunRecord:
    """A run of the REST API's JSON as :func:`_record` makes it of the entity MLflow would build from the same
    answer: what protobuf leaves out reads as its default (a start time of 0, status RUNNING, ""), an end time of 0
    as none, a value of "NaN" or "Infinity" as that float; int64 fields may come as numbers or as strings."""
    info, data = run.get("info", {}), run.get("data", {})
    metrics = data.get("metrics", ())
    experiment_id = str(info.get("experiment_id", ""))
    return RunRecord(
        run_id=info.get("run_id") or info.get("run_uuid", ""), experiment_id=experiment_id,
        experiment_name=names.get(experiment_id, ""), run_name=info.get("run_name", ""),
        status=info.get("status", "RUNNING"),
        lifecycle_stage=info.get("lifecycle_stage", ""), start_time=int(info.get("start_time", 0)),
        end_time=int(info.get("end_time", 0)) or None, user_id=info.get("user_id", ""),
        tags={t["key"]: t.get("value", "") for t in data.get("tags", ())},
        params={p["key"]: p.get("value", "") for p in data.get("params", ())},
        metrics={m["key"]: _one_nan(float(m.get("value", 0.0))) for m in metrics},
        last_metric_ms=max((int(m.get("timestamp", 0)) for m in metrics), default=None),
    )


def _last_metric_ms(data: Any) -> int | None:
    """The newest timestamp among a run's latest metric values: search_runs returns each key's latest value as a
    Metric with its timestamp, kept only in RunData's list of Metric objects (``data.metrics`` is key → value)."""
    stamps = [m.timestamp for m in getattr(data, "_metric_objs", ()) if m.timestamp is not None]
    return int(max(stamps)) if stamps else None


class ClientReader:
    """A RunReader over ``mlflow.MlflowClient``."""

    def __init__(self, uri: str):
        for name, value in RETRY_DEFAULTS.items():
            os.environ.setdefault(name, value)
        from mlflow import MlflowClient

        self.uri = uri
        self.client = MlflowClient(tracking_uri=uri)
        self._bulk: bool | None = None  # whether the server answers the bulk history endpoint; None: not asked yet

    def call(self, what: str, function, *args, **kwargs):
        """Run one client call; turn MLflow's and the network's failures into our exit codes."""
        from mlflow.exceptions import MlflowException

        try:
            return function(*args, **kwargs)
        except MlflowException as err:
            code = getattr(err, "error_code", "")
            orig = db_errors.driver_error(err)  # an SQL store's driver error under MLflow's (and SQLAlchemy's) words
            if orig is not None:
                if db_errors.refused(orig):
                    raise InputError([InputProblem(self.uri, None, None, f"not authorised to {what}: "
                                                   f"{db_errors.first_line(orig)}; {db_errors.HINT}")]) from None
                raise SourceUnreachable(f"MLflow at {self.uri} failed to {what}: {db_errors.first_line(orig)}"
                                        ) from None
            if code in _AUTH:
                raise InputError([InputProblem(self.uri, None, None, f"not authorised to {what}: {err.message}; "
                                               "check MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD")]
                                 ) from None
            raise SourceUnreachable(f"MLflow at {self.uri} failed to {what}: {_first_line(err.message)}") from None
        except OSError as err:
            raise SourceUnreachable(f"MLflow at {self.uri} could not be reached to {what}: {err}") from None
        except ImportError as err:  # mlflow-skinny opening a SQL store without sqlalchemy/alembic
            raise InputError([InputProblem(self.uri, None, "--mlflow-uri", f"reading this store through the MLflow "
                                           f"client needs {err.name or 'more packages'}: pip install "
                                           "'ci-carbon[sql]'")]) from None

    def experiments(self, selection: Selection) -> dict[str, str]:
        """Experiment id → name for the selection (all experiments, deleted ones too, when none is named).

        Deleted experiments are always looked up, so that naming one with --active-only selects no runs (as the SQL
        reader does) rather than failing as unknown; the runs' view decides what is counted.
        """
        from mlflow.entities import ViewType

        view = ViewType.ALL
        found: dict[str, str] = {}
        token = None
        while True:
            page = self.call("list experiments", self.client.search_experiments, view_type=view,
                              max_results=1000, page_token=token)
            found.update({str(e.experiment_id): e.name for e in page})
            token = page.token
            if not token:
                break
        if not selection.experiments:
            return found
        by_name = {name: eid for eid, name in found.items()}
        chosen: dict[str, str] = {}
        problems = []
        for wanted in selection.experiments:
            eid = wanted if wanted in found else by_name.get(wanted)
            if eid is None:
                options = nearest(wanted, {normalise(n): n for n in by_name})
                hidden = " (or these credentials may not read it)" if _signed_in() else ""
                problems.append(InputProblem(self.uri, None, "--experiment", f"unknown experiment '{wanted}'{hidden}",
                                             suggestion(options)))
            else:
                chosen[eid] = found[eid]
        if problems:
            raise InputError(problems)
        return chosen

    @staticmethod
    def filter_string(selection: Selection) -> str:
        """MLflow search syntax for what the selection asks (git prefixes are matched after the search)."""
        parts = [selection.filter.strip()] if selection.filter.strip() else []  # MLflow's grammar: a flat AND list
        if selection.since is not None:
            parts.append(f"attributes.start_time >= {selection.since}")
        if selection.until is not None:
            parts.append(f"attributes.start_time < {selection.until}")
        if selection.run_ids:
            parts.append(f"attributes.run_id IN ({', '.join(_quote(r) for r in selection.run_ids)})")
        return " AND ".join(parts)

    def runs(self, selection: Selection) -> Iterator[RunRecord]:
        from mlflow.entities import ViewType

        experiments = self.experiments(selection)
        view = ViewType.ALL if selection.include_deleted else ViewType.ACTIVE_ONLY
        query = self.filter_string(selection)
        ids = sorted(experiments)
        creds = self._rest_creds()
        for start in range(0, len(ids), 100):
            chunk = ids[start:start + 100]
            if creds is None:
                pages = self._client_pages(chunk, query, view, experiments)
            else:
                pages = self._rest_pages(creds, chunk, query, view, experiments)
            for page in pages:
                yield from (record for record in page if _matches_commit(record, selection.git_commits))

    def _client_pages(self, experiment_ids: list[str], query: str, view: int,
                      names: dict[str, str]) -> Iterator[list[RunRecord]]:
        """A store the client opens itself (a SQL store the direct reader leaves to it): the client's own search."""
        token = None
        while True:
            page = self.call("search runs", self.client.search_runs, experiment_ids=experiment_ids,
                              filter_string=query, run_view_type=view, max_results=PAGE, page_token=token)
            yield [_record(run, names) for run in page]
            token = page.token
            if not token:
                return

    def _rest_pages(self, creds: Any, experiment_ids: list[str], query: str, view: int,
                    names: dict[str, str]) -> Iterator[list[RunRecord]]:
        """Through a tracking server: the REST API's runs/search, with the request MLflow's client sends (its
        credentials, retries and workspace header), the answer's JSON turned into records directly.

        Why not ``MlflowClient.search_runs``: it turns the answer into protobuf messages, then into entities, and
        that took three quarters of this process's time (15.5 s of CPU for 20,000 runs against 4.5 s, README).
        """
        from mlflow.entities import ViewType
        from mlflow.protos.service_pb2 import SearchRuns
        from mlflow.utils.proto_json_utils import message_to_json
        from mlflow.utils.rest_utils import http_request, verify_rest_response

        proto_view: Any = ViewType.to_proto(view)  # the protobuf enum's number (typed as MLflow's enum)
        token = None
        while True:
            request = SearchRuns(experiment_ids=experiment_ids, filter=query, run_view_type=proto_view,
                                 max_results=PAGE, page_token=token)
            body = orjson.loads(message_to_json(request))
            response = self.call("search runs", http_request, creds, SEARCH_ENDPOINT, "POST", json=body)
            self.call("search runs", verify_rest_response, response, SEARCH_ENDPOINT)
            try:
                answer = orjson.loads(response.content)
            except orjson.JSONDecodeError as err:
                raise SourceUnreachable(f"MLflow at {self.uri} answered a search of runs with something other "
                                        f"than JSON: {err}") from None
            del response  # a page's answer is held once, as records, while the caller works on it
            records = [_json_record(run, names) for run in answer.get("runs", ())]
            token = answer.get("next_page_token")
            del answer
            yield records
            if not token:
                return

    def histories(self, run_ids: Iterable[str], keys: Iterable[str]) -> dict[tuple[str, str], list[MetricPoint]]:
        """Through a tracking server: MLflow's bulk history endpoint, one request per key and 100 runs, several at
        a time; a store without it (Databricks, an older server), or a direct store, one request per run and key."""
        run_list, key_list = sorted(set(run_ids)), sorted(set(keys))
        creds = self._rest_creds()
        if creds is not None and self._bulk is not False:
            try:
                found = self._bulk_histories(creds, run_list, key_list)
                self._bulk = True
                return found
            except _NoBulk:
                self._bulk = False
        return self._each_history(run_list, key_list)

    def _rest_creds(self) -> Any:
        """The tracking server's host and credentials, as the client sends them; None for a non-REST store."""
        from mlflow.store.tracking.rest_store import RestStore

        store = self.client._tracking_client.store
        return store.get_host_creds() if isinstance(store, RestStore) else None

    def _bulk_histories(self, creds: Any, run_ids: list[str],
                        keys: list[str]) -> dict[tuple[str, str], list[MetricPoint]]:
        tasks = [(key, run_ids[i:i + BULK_RUNS]) for key in keys for i in range(0, len(run_ids), BULK_RUNS)]
        found: dict[tuple[str, str], list[MetricPoint]] = defaultdict(list)
        with ThreadPoolExecutor(max_workers=HISTORY_WORKERS) as pool:
            for key, points in pool.map(lambda task: (task[0], self._bulk_one(creds, *task)), tasks):
                for run_id, point in points:
                    found[(run_id, key)].append(point)
        return {pair: sorted(points, key=lambda p: (p.timestamp, p.step)) for pair, points in found.items()}

    def _bulk_one(self, creds: Any, key: str, run_ids: list[str]) -> list[tuple[str, MetricPoint]]:
        """One key's points for up to 100 runs. The server cuts an answer at 25,000 points without saying so: a
        full answer is asked again in halves, and a single run that long is read with the client's own paging."""
        from mlflow.utils.rest_utils import http_request, verify_rest_response

        params = {"run_id": run_ids, "metric_key": key, "max_results": BULK_POINTS}
        response = self.call("read metric histories", http_request, creds, BULK_ENDPOINT, "GET", params=params)
        if response.status_code == 404:
            raise _NoBulk
        self.call("read metric histories", verify_rest_response, response, BULK_ENDPOINT)
        metrics = response.json().get("metrics", [])
        if len(metrics) >= BULK_POINTS:
            if len(run_ids) > 1:
                half = len(run_ids) // 2
                return self._bulk_one(creds, key, run_ids[:half]) + self._bulk_one(creds, key, run_ids[half:])
            return [(run_ids[0], p) for p in self._one_history(run_ids[0], key)]
        return [(m["run_id"], MetricPoint(int(m["timestamp"]), int(m.get("step", 0)), float(m["value"])))
                for m in metrics]

    def _one_history(self, run_id: str, key: str) -> list[MetricPoint]:
        history = self.call("read metric history", self.client.get_metric_history, run_id, key)
        return sorted((MetricPoint(m.timestamp, m.step, m.value) for m in history), key=lambda p: (p.timestamp, p.step))

    def _each_history(self, run_ids: list[str], keys: list[str]) -> dict[tuple[str, str], list[MetricPoint]]:
        wanted = [(r, k) for r in run_ids for k in keys]
        with ThreadPoolExecutor(max_workers=HISTORY_WORKERS) as pool:
            return {pair: points for pair, points in zip(wanted, pool.map(lambda p: self._one_history(*p), wanted),
                                                          strict=True) if points}


class _NoBulk(Exception):
    """The server has no bulk history endpoint (404)."""


def _signed_in() -> bool:
    """Credentials are set: a server with authentication hides what they may not read, as if it did not exist."""
    return any(os.environ.get(name) for name in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME"))


def _matches_commit(record: RunRecord, commits: tuple[str, ...]) -> bool:
    if not commits:
        return True
    sha = record.tags.get("mlflow.source.git.commit", "")
    return any(sha == c or (len(c) >= 7 and sha.startswith(c)) for c in commits)


def _first_line(text: str) -> str:
    """The first line of an error, short; urllib3 names the cause last, so a long URL must not push it out."""
    line = (text or "").strip().splitlines()[0] if text and text.strip() else "unknown error"
    head, _, cause = line.partition("(Caused by ")
    if cause:
        return f"{head.split('?')[0][:160]}(caused by {cause[:130]}"
    return line[:300]
