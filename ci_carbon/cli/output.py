"""Where a command's text goes, and what it must not overwrite.

The format of ``--output FILE`` is its extension's when ``--format`` is not given, and an extension that names no
format is refused (``-o report.txt`` would have been Markdown, silently). The paths a command reads and writes are
checked against each other before any work (:func:`refuse_overlaps`); writing itself is staged and committed by
:class:`ci_carbon.core.outputs.Outputs`, so nothing half-written is ever left.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from ci_carbon.core import files
from ci_carbon.core.files import Named

REPORT_EXTENSIONS = {".md": "markdown", ".markdown": "markdown", ".json": "json", ".csv": "csv"}
SQLITE = "sqlite:///"


def format_of(output: str | None, extensions: Mapping[str, str]) -> str:
    """The format a file's extension asks for when --format is not given (``-o report.json`` is JSON), Markdown on
    standard output; an unknown extension is refused (exit 2) with the known ones."""
    return files.format_for(output, extensions) or "markdown"


def inputs(sources: Mapping[str, str | None], config: str | None) -> list[Named]:
    """The files a command reads by path: its source (a manifest, an emissions.csv, a sqlite store), the config
    (./ci-carbon.yaml when none is named) and the event GitHub hands over."""
    from ci_carbon.sources.config_file import DEFAULT_FILE

    found = [Named(str(v), f"--{k.replace('_', '-')}") for k, v in sources.items() if v and k != "mlflow_uri"]
    uri = sources.get("mlflow_uri") or os.environ.get("MLFLOW_TRACKING_URI") or ""
    if uri.startswith(SQLITE):
        found.append(Named(uri[len(SQLITE):].split("?")[0], "--mlflow-uri"))
    if config or os.path.isfile(DEFAULT_FILE):
        found.append(Named(config or DEFAULT_FILE, "--config"))
    if os.environ.get("GITHUB_EVENT_PATH"):
        found.append(Named(os.environ["GITHUB_EVENT_PATH"], "GITHUB_EVENT_PATH"))
    return found


def refuse_overlaps(ins: list[Named], outputs: Iterable[tuple[str, str | None]]) -> None:
    """Exit 2, before any work, when an output is an input or another output (``--json-output`` = ``--output``):
    ``outputs`` are (option, path) pairs, a path None when the option is not given."""
    files.refuse_overlaps(ins, [Named(path, option) for option, path in outputs if path])
