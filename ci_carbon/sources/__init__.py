"""The sources: each turns one kind of input into a stream of chunks of jobs (see :mod:`.interface`).

:data:`REGISTRY` is the one list of them. Each entry names the command-line option that selects it, so commands take
their source options from here; a new source is one module implementing ``Source`` plus one entry.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

from ci_carbon.errors import InputError, InputProblem

if TYPE_CHECKING:
    from ci_carbon.sources.interface import Request, Source


class Entry(NamedTuple):
    kind: str
    option: str  # the command-line option that names the source
    metavar: str
    help: str
    factory: str  # "module:Class", imported only when chosen: the manifest path never imports MLflow
    environment: str = ""  # a variable that names the source when no option does


REGISTRY: tuple[Entry, ...] = (
    Entry("manifest", "--manifest", "FILE", "YAML manifest of training jobs (version 1); - reads it from "
          "standard input.",
          "ci_carbon.sources.manifest:ManifestSource"),
    Entry("mlflow", "--mlflow-uri", "URI", "MLflow tracking URI (default: $MLFLOW_TRACKING_URI): http(s)://…, "
          "databricks, sqlite:///mlflow.db, postgresql://…", "ci_carbon.sources.mlflow.source:MlflowSource",
          "MLFLOW_TRACKING_URI"),
    Entry("codecarbon", "--codecarbon", "PATH", "CodeCarbon emissions.csv: a file, a directory of them or a glob "
          "(energy as CodeCarbon measured it).", "ci_carbon.sources.codecarbon:CodecarbonSource"),
)


def parameter(entry: Entry) -> str:
    """The keyword a command receives the option's value as (``--mlflow-uri`` → ``mlflow_uri``)."""
    return entry.option.lstrip("-").replace("-", "_")


def choose(values: Mapping[str, str | None], environ: Mapping[str, str] = os.environ) -> tuple[Entry, str]:
    """The one source the options name (else the one an environment variable names), and its value."""
    given = [(e, values[parameter(e)]) for e in REGISTRY if values.get(parameter(e))]
    if len(given) > 1:
        names = " and ".join(e.option for e, _ in given)
        raise InputError([InputProblem("ci-carbon", None, given[1][0].option, f"give one source, not {names}")])
    if not given:
        given = [(e, environ[e.environment]) for e in REGISTRY if e.environment and environ.get(e.environment)]
    if not given:
        options = ", ".join(f"{e.option} {e.metavar}" for e in REGISTRY)
        raise InputError([InputProblem("ci-carbon", None, REGISTRY[0].option, f"give a source: {options}")])
    entry, value = given[0]
    return entry, str(value)


def open_source(entry: Entry, value: str, request: Request) -> Source:
    module, _, name = entry.factory.partition(":")
    return getattr(importlib.import_module(module), name)(value, request)


def entry(kind: str) -> Entry:
    return next(e for e in REGISTRY if e.kind == kind)
