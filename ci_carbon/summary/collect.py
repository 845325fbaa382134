"""Read the period (and the periods it is compared with) a chunk at a time and collect the summary.

The period's sources (MLflow runs, planned jobs of a manifest) are folded with the report's own folds
(:class:`~ci_carbon.assemble.Folds`: estimates, advice, factors, skipped inputs), keeping the largest few names per
recommendation; what is particular to a quarter (groups, months, data quality, the top runs, the CSV rows) is added
by the :class:`~ci_carbon.summary.aggregate.Collector`. A compared period needs only its sums, so its runs are just
estimated.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import NamedTuple

from ci_carbon.advice.names import LargestNames
from ci_carbon.assemble import Folds, resolve_chunk
from ci_carbon.core.estimate import estimate
from ci_carbon.core.model import Chunk, Estimate
from ci_carbon.core.settings import Config
from ci_carbon.sources.interface import Request as SourceRequest
from ci_carbon.sources.interface import Source
from ci_carbon.sources.mlflow.records import Selection
from ci_carbon.summary.aggregate import Collector, Dims, Tallies, finish
from ci_carbon.summary.model import TAG_PREFIX, Summary
from ci_carbon.summary.period import Period, previous, year_before
from ci_carbon.summary.spill import Spill

Advance = Callable[[int], None]
Progress = Callable[[str, int], AbstractContextManager[Advance]]
NAMED = 20  # run names kept per recommendation (its sentence names three; JSON lists these)
CHUNK = 5000


class Request(NamedTuple):
    """What to summarise: where the runs are, which of them, how to group them and what to compare with."""

    uri: str | None
    selection: Selection  # its since/until are replaced by each period's
    settings: Config
    dims: Dims
    compare: tuple[str, ...] = ("previous", "year")
    manifest: str | None = None  # planned jobs, counted in the period
    now_ms: int | None = None
    chunk: int = CHUNK
    refine: Callable[[Estimate], Estimate] | None = None  # planned jobs' hour-of-day profiles (cli/summary.py)

    @property
    def tag_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f[len(TAG_PREFIX):] for dim in self.dims for f in dim if f.startswith(TAG_PREFIX)))


@contextmanager
def quiet(label: str, total: int) -> Iterator[Advance]:
    """No progress shown (tests, pipes)."""
    yield lambda n: None


def _names() -> LargestNames:
    return LargestNames(NAMED)


def summarise(request: Request, period: Period, spill: Spill, progress: Progress = quiet) -> Summary:
    """The summary of ``period``; the spill holds the per-run rows until the summary is rendered."""
    folds = Folds(names=_names, keep=False, refine=request.refine)
    collector = Collector(request.dims, request.tag_names, spill)
    for source in _sources(request, period):
        for chunk in _chunks(source, period, progress):
            collector.add(folds.add(chunk, source.strict))
        collector.source(source.info())
    others = {which: _other(request, other, progress) for which, other in
              (("previous", previous(period)), ("year", year_before(period))) if which in request.compare}
    return finish(period, collector, folds, others.get("previous"), others.get("year"), request.compare)


def _mlflow(request: Request, period: Period) -> Source:
    """The period's runs (opening the store and making the light first pass)."""
    from ci_carbon.sources import entry, open_source

    selection = request.selection._replace(since=period.start_ms, until=period.end_ms)
    return open_source(entry("mlflow"), request.uri or "", SourceRequest(
        request.settings, selection, request.now_ms, request.tag_names, request.chunk))


def _sources(request: Request, period: Period) -> Iterator[Source]:
    """The planned jobs first (a mistake in the manifest is reported before a long read of the store), then the runs."""
    if request.manifest:
        from ci_carbon.sources.manifest import ManifestSource

        yield ManifestSource(request.manifest)
    if request.uri:
        yield _mlflow(request, period)


def _chunks(source: Source, period: Period, progress: Progress) -> Iterator[Chunk]:
    expected = getattr(source, "expected", None)
    with progress(period.label, expected() if expected else 0) as advance, _collect_per_chunk():
        for chunk in source.chunks():
            yield chunk
            advance(len(chunk.specs) + len(chunk.skipped))
            gc.collect(0)


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
    for chunk in _chunks(_mlflow(request, period), period, progress):
        jobs, _ = resolve_chunk(chunk, strict=False)
        for job in jobs:
            tallies.add(estimate(job))
    return period, tallies


__all__: Sequence[str] = ("Request", "quiet", "summarise")
