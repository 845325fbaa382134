"""The command line: wiring only. Each command reads a source, builds the report, renders, writes.

Exit codes (DESIGN.md): 0 success, 1 a budget failed, 2 bad input or usage, 3 a source could not be reached.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TypeVar

import click

from ci_carbon import __version__
from ci_carbon.errors import EXIT_INPUT, EXIT_UNREACHABLE, InputError, InputProblem, SourceUnreachable

F = TypeVar("F", bound=Callable[..., object])


def _fail_cleanly(command: F) -> F:
    """Turn the documented errors into one line each and their exit code; never a traceback for them."""

    @wraps(command)
    def wrapper(*args: object, **kwargs: object) -> object:
        try:
            return command(*args, **kwargs)
        except InputError as err:
            for problem in err.problems:
                click.echo(f"ci-carbon: {problem}", err=True)
            sys.exit(EXIT_INPUT)
        except SourceUnreachable as err:
            click.echo(f"ci-carbon: {err}", err=True)
            sys.exit(EXIT_UNREACHABLE)

    return wrapper  # type: ignore[return-value]


@contextmanager
def _bulk_allocation() -> Iterator[None]:
    """Pause the cyclic garbage collector while a manifest becomes a report.

    Parsing builds hundreds of thousands of short-lived acyclic objects (YAML nodes, job records); the
    collector's repeated full passes over them took 60 % of a 10,000-job report. Nothing here makes cycles
    worth collecting, and the command ends right after.
    """
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _write(text: str, output: str | None) -> None:
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as err:
        raise InputError([InputProblem(output, None, "--output", f"cannot be written: {err.strerror}")]) from None


def _manifest_jobs(path: str) -> list:
    """The manifest's jobs; on any problem, every problem of every job (schema and lookups), in line order."""
    from ci_carbon.core.resolve import resolve_all
    from ci_carbon.sources import manifest as manifest_source

    specs, problems = manifest_source.read(path)
    if problems:
        try:
            resolve_all(specs)
        except InputError as err:
            problems = problems + err.problems
        raise InputError(sorted(problems, key=lambda p: p.line or 0))
    return specs


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ci-carbon")
def main() -> None:
    """Carbon footprint of machine-learning training: energy, emissions and what to do about them."""


def _mlflow_options(command: F) -> F:
    """The options that select MLflow runs; shared by `report` and `annotate`."""
    options = [
        click.option("--mlflow-uri", metavar="URI", help="Tracking URI (default: $MLFLOW_TRACKING_URI): "
                     "http(s)://…, databricks, sqlite:///mlflow.db, postgresql://…"),
        click.option("--experiment", "-e", "experiments", multiple=True, metavar="NAME|ID",
                     help="Only runs of this experiment (repeatable)."),
        click.option("--filter", "filter_", metavar="QUERY", help="MLflow search syntax, e.g. \"params.lr = '0.1'\"."),
        click.option("--since", metavar="DATE", help="Runs started at or after DATE (UTC; 2026-07-01 or ISO 8601)."),
        click.option("--until", metavar="DATE", help="Runs started before DATE (UTC)."),
        click.option("--run-id", "run_ids", multiple=True, metavar="ID", help="Only this run (repeatable)."),
        click.option("--git-commit", "git_commits", multiple=True, metavar="SHA",
                     help="Runs whose mlflow.source.git.commit is SHA (7+ characters; repeatable)."),
        click.option("--git-range", metavar="A..B", help="Runs of the commits in A..B of the repository --repo."),
        click.option("--repo", default=".", show_default=True, metavar="DIR", help="Git repository for --git-range."),
        click.option("--active-only", is_flag=True,
                     help="Leave out deleted runs (they are counted by default: they used energy)."),
        click.option("--config", metavar="FILE", help="ci-carbon.yaml with your tag names and defaults "
                     "(default: ./ci-carbon.yaml if present)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _mlflow_read(mlflow_uri: str | None, config: str | None, **selection: object):
    """Read the selected runs; returns (uri, MlflowRead)."""
    import os

    from ci_carbon import config as config_file
    from ci_carbon.sources.mlflow import load, select

    uri = mlflow_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        raise InputError([InputProblem("ci-carbon", None, "--mlflow-uri",
                                       "give --manifest FILE, or --mlflow-uri URI (or set MLFLOW_TRACKING_URI)")])
    settings = config_file.load(config)
    return uri, load.load(uri, select.build(**selection), settings.mlflow)


@main.command()
@click.option("--manifest", "manifest", metavar="FILE", help="YAML manifest of training jobs (version 1).")
@_mlflow_options
@click.option("--format", "fmt", type=click.Choice(["markdown", "json", "csv"]), default="markdown",
              show_default=True, help="Output format.")
@click.option("--output", "-o", metavar="FILE", help="Write the report to FILE instead of standard output.")
@_fail_cleanly
def report(manifest: str | None, mlflow_uri: str | None, config: str | None, fmt: str, output: str | None,
           **selection: object) -> None:
    """Estimate energy and emissions of planned jobs (--manifest) or of MLflow runs (--mlflow-uri)."""
    from ci_carbon.render.formats import render
    from ci_carbon.report import Skipped, Source, build

    if manifest and mlflow_uri:
        raise click.UsageError("give --manifest or --mlflow-uri, not both")
    with _bulk_allocation():
        if manifest:
            specs = _manifest_jobs(manifest)
            result = build(specs, Source("manifest", manifest, read=len(specs)))
        else:
            uri, read = _mlflow_read(mlflow_uri, config, **selection)
            skipped = tuple(Skipped(s.name, s.run_id, s.code, s.detail) for s in read.skipped)
            result = build(read.specs, Source("mlflow", uri, read.reader, read.runs), skipped, lenient=True)
        text = render(result, fmt)
    _write(text, output)


@main.command()
@_mlflow_options
@_fail_cleanly
def annotate(mlflow_uri: str | None, config: str | None, **selection: object) -> None:
    """Write each run's estimate back onto the run (carbon/* metrics and tags), so later reads need no history.

    Runs already annotated with the current data tables and ci-carbon version are left as they are; deleted and
    running runs are not written to.
    """
    from ci_carbon.report import build
    from ci_carbon.sources.mlflow.annotate import annotate as write_back

    uri, read = _mlflow_read(mlflow_uri, config, **selection)
    with _bulk_allocation():
        result = build(read.specs, lenient=True)
    done = write_back(uri, result.estimates)
    click.echo(f"annotated {done.written} runs; {done.current} already current; {done.not_writable} deleted or "
               f"running not written; {len(read.skipped) + len(result.skipped)} not estimated")


@main.command("demo-store")
@click.argument("path", metavar="PATH", default="demo-mlflow.db")
@_fail_cleanly
def demo_store(path: str) -> None:
    """Create a realistic example MLflow store at PATH (sqlite) to try `report --mlflow-uri sqlite:///PATH`."""
    import importlib.util

    if importlib.util.find_spec("mlflow.store.tracking.sqlalchemy_store") is None:
        raise InputError([InputProblem(path, None, None, "creating a store needs the full MLflow: "
                                       "pip install 'ci-carbon[server]'")])
    from ci_carbon.sources.mlflow.demo import main as demo_main

    sys.exit(demo_main([path]))


@main.command()
@click.argument("file", metavar="FILE")
@_fail_cleanly
def validate(file: str) -> None:
    """Check a manifest: print every problem with its line, or a one-line summary."""
    from ci_carbon.core.resolve import resolve_all

    with _bulk_allocation():
        jobs = resolve_all(_manifest_jobs(file))
    click.echo(f"{file}: ok, {len(jobs)} {'job' if len(jobs) == 1 else 'jobs'}")


@main.command()
@click.argument("query", required=False)
@click.option("--cpus", is_flag=True, help="List CPUs instead of accelerators.")
def hardware(query: str | None, cpus: bool) -> None:
    """List the devices ci-carbon knows (names to write as `hardware:`), optionally filtered by QUERY."""
    from ci_carbon.render.listings import hardware_listing

    click.echo(hardware_listing(query, cpus), nl=False)


@main.command()
@click.argument("provider", required=False)
@click.option("--instances", is_flag=True, help="List instance types instead of regions.")
def regions(provider: str | None, instances: bool) -> None:
    """List cloud regions (or instance types) with their grid intensity and PUE, optionally for one PROVIDER."""
    from ci_carbon.render.listings import instance_listing, region_listing

    click.echo(instance_listing(provider) if instances else region_listing(provider), nl=False)
