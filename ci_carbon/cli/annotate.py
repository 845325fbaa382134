"""`ci-carbon annotate` (estimates written back onto MLflow runs) and `ci-carbon demo-store` (an example store)."""

from __future__ import annotations

import click

from ci_carbon.cli.options import mlflow_options
from ci_carbon.cli.report import bulk_allocation, source_request
from ci_carbon.cli.report import mlflow_uri as mlflow_uri_of
from ci_carbon.errors import InputError, InputProblem


@click.command()
@mlflow_options
def annotate(mlflow_uri: str | None, config: str | None, **selection: object) -> None:
    """Write each run's estimate back onto the run (carbon/* metrics and tags), so later reads need no history.

    Runs already annotated with the current data tables and ci-carbon version are left as they are; deleted and
    running runs are not written to.
    """
    from itertools import chain

    from ci_carbon.assemble import Folds
    from ci_carbon.sources import config_file, entry, open_source
    from ci_carbon.sources.mlflow.annotate import annotate as write_back

    uri = mlflow_uri_of(mlflow_uri)
    source = open_source(entry("mlflow"), uri, source_request(config_file.load(config), selection))
    folds = Folds(keep=False)  # each chunk is written back as it is estimated: memory holds one chunk
    with bulk_allocation():
        done = write_back(uri, chain.from_iterable(folds.add(chunk, strict=False) for chunk in source.chunks()))
    click.echo(f"annotated {done.written} runs; {done.current} already current; {done.not_writable} deleted or "
               f"running not written; {len(folds.skipped)} not estimated")


@click.command("demo-store")
@click.argument("path", metavar="PATH", default="demo-mlflow.db")
def demo_store(path: str) -> None:
    """Create a realistic example MLflow store at PATH (sqlite) to try `report --mlflow-uri sqlite:///PATH`."""
    import importlib.util

    if importlib.util.find_spec("mlflow.store.tracking.sqlalchemy_store") is None:
        raise InputError([InputProblem(path, None, None, "creating a store needs the full MLflow: "
                                       "pip install 'ci-carbon[server]'")])
    from ci_carbon.sources.mlflow.demo import main as demo_main

    code = demo_main([path])
    if code:
        raise SystemExit(code)
