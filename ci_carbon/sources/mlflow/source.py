"""MLflow runs as a source: a tracking server, Databricks or a SQL store, streamed a chunk of runs at a time.

Lenient: a run that cannot be estimated (no times, no hardware, an impossible value) is listed as not estimated with
its reason, never dropped and never fatal to the report of the others.
"""

from __future__ import annotations

from collections.abc import Iterator

from ci_carbon.core.model import Chunk
from ci_carbon.core.report import SourceInfo
from ci_carbon.redact import redact
from ci_carbon.sources.interface import Request


class MlflowSource:
    kind = "mlflow"
    strict = False

    def __init__(self, uri: str, request: Request):
        from ci_carbon.sources.mlflow.load import RunStream

        self.uri, self.where = uri, redact(uri)
        self.stream = RunStream(uri, request.selection, request.settings.mlflow, request.now_ms, request.chunk,
                                tag_names=request.tag_names)
        self.stream.by_hour = request.settings.intensity.source is not None  # the hourly grid's weights

    def expected(self) -> int:
        """How many runs the stream will read (known after the light first pass): for a progress bar."""
        return self.stream.survey.runs

    def chunks(self) -> Iterator[Chunk]:
        return iter(self.stream)

    def info(self) -> SourceInfo:
        return SourceInfo(self.kind, self.where, self.stream.kind, self.stream.survey.runs, tuple(self.stream.notes))
