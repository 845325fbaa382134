"""What a reader returns: runs and metric histories as plain records, whichever way they were read.

The client reader and the direct SQL reader must return equal records for the same store (tested), so the
rest of the MLflow source never knows which one ran.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple, Protocol

ACTIVE, DELETED = "active", "deleted"


class RunRecord(NamedTuple):
    run_id: str
    experiment_id: str
    experiment_name: str
    run_name: str
    status: str  # FINISHED | FAILED | KILLED | RUNNING | SCHEDULED
    lifecycle_stage: str  # active | deleted
    start_time: int | None  # ms since the epoch, UTC
    end_time: int | None
    user_id: str
    tags: Mapping[str, str]
    params: Mapping[str, str]
    metrics: Mapping[str, float]  # the latest value of each metric key (MLflow's latest_metrics)
    # the newest timestamp (ms) among those latest values, of any key: the run's last sign of life, up to which a
    # run still marked RUNNING long after it went silent is counted (mapping._hours); None: it logged no metric
    last_metric_ms: int | None = None


class MetricPoint(NamedTuple):
    timestamp: int  # ms since the epoch
    step: int
    value: float


class Selection(NamedTuple):
    """Which runs to read. Empty fields select everything; deleted runs are included unless asked not to."""

    experiments: tuple[str, ...] = ()  # names or ids
    filter: str = ""  # MLflow search syntax
    since: int | None = None  # start_time >= since (ms)
    until: int | None = None  # start_time < until (ms)
    run_ids: tuple[str, ...] = ()
    git_commits: tuple[str, ...] = ()  # full or abbreviated SHAs matched against mlflow.source.git.commit
    include_deleted: bool = True


class RunReader(Protocol):
    """A way to read an MLflow store: all pages, no silent cap; unreachable stores raise SourceUnreachable."""

    def runs(self, selection: Selection) -> Iterator[RunRecord]: ...

    def histories(self, run_ids: Iterable[str], keys: Iterable[str]) -> dict[tuple[str, str], list[MetricPoint]]:
        """Full metric histories of ``keys`` for ``run_ids`` (keys a run lacks are absent), points in time order."""
        ...
