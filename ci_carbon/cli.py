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


@main.command()
@click.option("--manifest", "manifest", metavar="FILE", required=True,
              help="YAML manifest of training jobs (version 1).")
@click.option("--format", "fmt", type=click.Choice(["markdown", "json", "csv"]), default="markdown",
              show_default=True, help="Output format.")
@click.option("--output", "-o", metavar="FILE", help="Write the report to FILE instead of standard output.")
@_fail_cleanly
def report(manifest: str, fmt: str, output: str | None) -> None:
    """Estimate energy and emissions of the jobs in a manifest and print the report."""
    from ci_carbon.render.formats import render
    from ci_carbon.report import build

    with _bulk_allocation():
        text = render(build(_manifest_jobs(manifest)), fmt)
    _write(text, output)


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
