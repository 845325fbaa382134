"""Read the period (and the periods it is compared with) a chunk at a time and collect the summary.

MLflow runs come through :class:`~ci_carbon.sources.mlflow.load.RunStream`: a light first pass finds the sweep
parents, then chunks of runs are estimated and advised on with the report's own ``build`` and added to the tallies.
A compared period (the quarter before, a year before) needs only its sums, so its runs are just estimated.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

from ci_carbon.config import MlflowConfig
from ci_carbon.core.estimate import estimate
from ci_carbon.core.model import Estimate, JobSpec
from ci_carbon.core.resolve import resolve
from ci_carbon.errors import InputError
from ci_carbon.report import Skipped, Source, build
from ci_carbon.sources.mlflow.load import CHUNK, Chunk, RunStream
from ci_carbon.sources.mlflow.records import RunRecord, Selection
from ci_carbon.summary.aggregate import Collector, Dims, Tallies, finish
from ci_carbon.summary.model import EMPTY_TAGS, TAG_PREFIX, SourceInfo, Summary
from ci_carbon.summary.period import Period, previous, year_before
from ci_carbon.summary.spill import Spill

Advance = Callable[[int], None]
Progress = Callable[[str, int], AbstractContextManager[Advance]]


class Request(NamedTuple):
    """What to summarise: where the runs are, which of them, how to group them and what to compare with."""

    uri: str | None
    selection: Selection  # its since/until are replaced by each period's
    mlflow: MlflowConfig
    dims: Dims
    compare: tuple[str, ...] = ("previous", "year")
    manifest: tuple[str, Sequence[JobSpec]] | None = None  # (path, specs): planned jobs, counted in the period
    now_ms: int | None = None
    chunk: int = CHUNK

    @property
    def tag_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f[len(TAG_PREFIX):] for dim in self.dims for f in dim if f.startswith(TAG_PREFIX)))


@contextmanager
def quiet(label: str, total: int) -> Iterator[Advance]:
    """No progress shown (tests, pipes)."""
    yield lambda n: None


def summarise(request: Request, period: Period, spill: Spill, progress: Progress = quiet) -> Summary:
    """The summary of ``period``; the spill holds the per-run rows until the summary is rendered."""
    collector = Collector(request.dims, request.tag_names, spill)
    if request.uri:
        stream = _stream(request, period)
        for chunk in _chunks(stream, period, progress):
            report = build(chunk.specs, skipped=tuple(Skipped(s.name, s.run_id, s.code, s.detail)
                                                      for s in chunk.skipped), lenient=True)
            collector.add(report, _tags(chunk.records, request.tag_names), chunk.siblings)
        collector.source(SourceInfo("mlflow", shown(request.uri), stream.kind, stream.survey.runs))
    if request.manifest:
        path, specs = request.manifest
        collector.add(build(list(specs), Source("manifest", path, read=len(specs))))
        collector.source(SourceInfo("manifest", path, read=len(specs)))
    others = {which: _other(request, other, progress) for which, other in
              (("previous", previous(period)), ("year", year_before(period))) if which in request.compare}
    return finish(period, collector, others.get("previous"), others.get("year"), request.compare)


def _stream(request: Request, period: Period) -> RunStream:
    """The period's runs (opening the store and making the light first pass)."""
    selection = request.selection._replace(since=period.start_ms, until=period.end_ms)
    return RunStream(request.uri or "", selection, request.mlflow, request.now_ms, request.chunk)


def _chunks(stream: RunStream, period: Period, progress: Progress) -> Iterator[Chunk]:
    with progress(period.label, stream.survey.runs) as advance, _collect_per_chunk():
        for chunk in stream:
            yield chunk
            advance(len(chunk.records))
            gc.collect(0)


def shown(uri: str) -> str:
    """The URI as a summary may show it (summaries are posted to issues): a password in it is masked."""
    parts = urlsplit(uri)
    if not parts.password:
        return uri
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


@contextmanager
def _collect_per_chunk() -> Iterator[None]:
    """The cyclic collector once per chunk instead of every 700 allocations.

    A chunk allocates a few hundred thousand short-lived objects (records, specs, estimates) that reference counting
    frees; the collector's automatic passes over them cost ~10 %. Collecting the youngest generation after each
    chunk still frees any cycle a chunk made, so memory stays flat.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _other(request: Request, period: Period, progress: Progress) -> tuple[Period, Tallies] | None:
    """A compared period's sums (MLflow runs only: a manifest plans the summarised period)."""
    if not request.uri:
        return None
    tallies = Tallies(request.dims)
    for chunk in _chunks(_stream(request, period), period, progress):
        tags = _tags(chunk.records, request.tag_names)
        for est in _estimates(chunk.specs):
            tallies.add(est, tags.get(est.job.spec.id, EMPTY_TAGS))
    return period, tallies


def _estimates(specs: Sequence[JobSpec]) -> Iterator[Estimate]:
    """Estimates of what resolves (as build's lenient mode), without the advice a compared period does not show."""
    for spec in specs:
        try:
            yield estimate(resolve(spec))
        except InputError:
            continue


def _tags(records: Sequence[RunRecord], names: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """run id → the tag:NAME values a run says (a tag, else a param of that name), for the asked names only."""
    if not names:
        return {}
    out = {}
    for record in records:
        found = {n: str(v) for n in names if (v := record.tags.get(n) or record.params.get(n))}
        if found:
            out[record.run_id] = found
    return out
