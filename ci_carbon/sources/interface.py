"""What every source is: a kind, a place, and a stream of chunks of job specs (plus what it read but could not
turn into a job). The report and the summary read any source the same way, a chunk at a time, so a source of
100,000 runs and a manifest of three jobs go through the same code.

A source implements :class:`Source`; it is listed once in :data:`ci_carbon.sources.REGISTRY` with the command-line
option that names it. Nothing else changes to add one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple, Protocol

from ci_carbon.core.model import Chunk
from ci_carbon.core.report import SourceInfo
from ci_carbon.core.settings import Config
from ci_carbon.sources.mlflow.records import Selection


class Request(NamedTuple):
    """What a command asks of a source beyond where it is: the settings, which runs, the time it is now."""

    settings: Config = Config()
    selection: Selection = Selection()  # runs by experiment, time, commit … (sources that have runs)
    now_ms: int | None = None  # what "now" is for runs still running; None: the clock
    tag_names: tuple[str, ...] = ()  # extra tags to carry into each job's tags (the summary's tag:NAME groups)
    chunk: int = 5000  # jobs per chunk


class Source(Protocol):
    kind: str  # manifest | mlflow | codecarbon: each job's `source` and the report's source.kind
    where: str  # the file, folder or URI, as a report may show it (no password)
    strict: bool  # True: every problem is the user's to fix (exit 2); False: an odd run is listed as not estimated

    def chunks(self) -> Iterator[Chunk]:
        """The jobs, a chunk at a time, in a stable order; raises InputError or SourceUnreachable."""
        ...

    def info(self) -> SourceInfo:
        """Where the jobs came from and how many inputs were read; complete once :meth:`chunks` is exhausted."""
        ...
