"""The command line: wiring only. Each command reads a source, builds the report, renders, writes.

Exit codes (DESIGN.md): 0 success, 1 a budget failed, 2 bad input or usage, 3 a source could not be reached.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ClassVar, TypeVar

import click

from ci_carbon import __version__
from ci_carbon.errors import EXIT_BUDGET, EXIT_INPUT, EXIT_UNREACHABLE, InputError, InputProblem, SourceUnreachable

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


REPORT_EXTENSIONS = {".md": "markdown", ".markdown": "markdown", ".json": "json", ".csv": "csv"}


def format_of(output: str | None, extensions: dict[str, str]) -> str:
    """The format a file's extension asks for when --format is not given (``-o report.json`` is JSON), else
    Markdown: writing Markdown into a .json or .csv file is never what was meant."""

    return extensions.get(os.path.splitext(output or "")[1].lower(), "markdown")


def write_pieces(pieces: Iterable[str], output: str | None) -> None:
    """Text to FILE (or stdout for None and '-') as it is made; a file left half-written by a failure is removed,
    so nothing incomplete is taken for a report."""
    if output is None or output == "-":
        for piece in pieces:
            click.echo(piece, nl=False)
        return
    try:
        with open(output, "w", encoding="utf-8") as handle:
            try:
                for piece in pieces:
                    handle.write(piece)
            except BaseException:
                handle.close()
                os.remove(output)
                raise
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


class _Commands(click.Group):
    """Commands that live with their stage are imported only when used: `report --manifest` starts fast."""

    lazy: ClassVar[dict[str, str]] = {"comment": "ci_carbon.publish.command", "summary": "ci_carbon.summary.command"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            import importlib

            return getattr(importlib.import_module(self.lazy[name]), name)
        return super().get_command(ctx, name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
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
        click.option("--repo", default=".", show_default=True, metavar="DIR",
                     help="Git repository for --git-range and --base."),
        click.option("--active-only", is_flag=True,
                     help="Leave out deleted runs (they are counted by default: they used energy)."),
        click.option("--config", metavar="FILE", help="ci-carbon.yaml with your tag names and defaults "
                     "(default: ./ci-carbon.yaml if present)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _mlflow_uri(mlflow_uri: str | None) -> str:

    uri = mlflow_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        raise InputError([InputProblem("ci-carbon", None, "--mlflow-uri",
                                       "give --manifest FILE, or --mlflow-uri URI (or set MLFLOW_TRACKING_URI)")])
    return uri


def _mlflow_read(mlflow_uri: str | None, config: str | None, **selection: object):
    """Read the selected runs; returns (uri, MlflowRead)."""
    from ci_carbon import config as config_file

    uri = _mlflow_uri(mlflow_uri)
    return uri, _read_runs(uri, config_file.load(config).mlflow, selection)


def _read_runs(uri: str, settings, selection: dict):
    from ci_carbon.sources.mlflow import load, select

    return load.load(uri, select.build(**selection), settings)


def _runs_report(uri: str, settings, selection: dict):
    """The report of the runs ``selection`` picks (lenient: a store's odd run is listed, not fatal)."""
    from ci_carbon.report import Skipped, Source, build

    read = _read_runs(uri, settings, selection)
    skipped = tuple(Skipped(s.name, s.run_id, s.code, s.detail) for s in read.skipped)
    return build(read.specs, Source("mlflow", uri, read.reader, read.runs), skipped, lenient=True)


def _mlflow_report(mlflow_uri: str | None, settings, base: str | None, selection: dict):
    """The runs' report; with --base, the runs after the merge-base compared with the runs of the merge-base."""
    uri = _mlflow_uri(mlflow_uri)
    if not base:
        return _runs_report(uri, settings.mlflow, selection)
    from ci_carbon.compare import pipeline

    if selection.get("git_range") or selection.get("git_commits"):
        raise click.UsageError("--base selects the pull request's commits itself; give --base or "
                               "--git-range/--git-commit, not both")
    point, commits = pipeline.pull_request_commits(base, str(selection.get("repo") or "."))
    head = _runs_report(uri, settings.mlflow, {**selection, "git_commits": commits})
    at_base = _runs_report(uri, settings.mlflow, {**selection, "git_commits": (point.sha,)})
    return pipeline.runs_against_base(head, at_base, point)


def _manifest_report(manifest: str, base: str | None, repo: str):
    from ci_carbon.report import Source, build

    specs = _manifest_jobs(manifest)
    result = build(specs, Source("manifest", manifest, read=len(specs)))
    if base:
        from ci_carbon.compare.pipeline import manifest_against_base

        result = manifest_against_base(result, manifest, base, repo)
    return result


def _judge(result, settings, limits: dict, approved: bool, labels: str | None):
    """The budget's verdict, with approval from --approved, --labels and the pull request's event payload."""

    if all(v is None for v in (*limits.values(), *settings.budget.limits().values())):
        return result  # no budget: nothing more to import or read
    from ci_carbon.compare import pipeline

    names = tuple(n for n in (labels or "").split(",") if n.strip())
    names += pipeline.event_labels(os.environ.get("GITHUB_EVENT_PATH"))
    return pipeline.judge(result, settings.budget, limits, approved, names)


def _hand_over(result, json_output: str | None, github_output: str | None, step_summary: bool) -> None:
    """What GitHub Actions reads after the report: the JSON file, step outputs, job summary, annotations."""

    summary = os.environ.get("GITHUB_STEP_SUMMARY") if step_summary else None
    breaches = result.budget is not None and result.budget.breaches
    if not (json_output or github_output or summary or breaches):
        return
    from ci_carbon.compare import actions

    json_path = actions.write_json(result, json_output) if json_output else None
    if github_output:
        actions.write_outputs(github_output, actions.outputs(result, json_path))
    if summary:
        actions.append_summary(summary, result, json_path)
    if breaches:
        click.echo(actions.annotations(result, os.environ.get("GITHUB_ACTIONS") == "true"), err=True, nl=False)


def _compare_options(command: F) -> F:
    """The options of `report` for pull requests: the base to compare with and the budget gate."""
    kg, job_kg = "kg CO2eq of the report's total", "kg CO2eq of any one job (added or changed, with --base)"
    options = [
        click.option("--base", metavar="REF", help="Compare with the merge-base of HEAD and REF (origin/main, a SHA) "
                     "in --repo: the manifest as it was there, or the MLflow runs of that commit."),
        click.option("--budget-warn-kg", type=click.FloatRange(min=0), metavar="KG", help=f"Warn above KG {kg}."),
        click.option("--budget-fail-kg", type=click.FloatRange(min=0), metavar="KG", help=f"Fail (exit 1) above KG "
                     f"{kg}."),
        click.option("--budget-job-warn-kg", type=click.FloatRange(min=0), metavar="KG", help=f"Warn above KG "
                     f"{job_kg}."),
        click.option("--budget-job-fail-kg", type=click.FloatRange(min=0), metavar="KG", help=f"Fail above KG "
                     f"{job_kg}."),
        click.option("--budget-warn-percent", type=float, metavar="PCT", help="Warn when the total rises more than "
                     "PCT % over the base (needs --base)."),
        click.option("--budget-fail-percent", type=float, metavar="PCT", help="Fail when the total rises more than "
                     "PCT % over the base."),
        click.option("--approved", is_flag=True, help="Going over budget is approved: a failure becomes a warning."),
        click.option("--labels", metavar="A,B", help="The pull request's labels (also read from $GITHUB_EVENT_PATH); "
                     "budget.approve_label (default carbon-budget-approved) approves like --approved."),
        click.option("--github-output", metavar="FILE", envvar="GITHUB_OUTPUT", help="Append step outputs "
                     "(total_kg, delta_kg, delta_percent, budget_status, json_path) to FILE "
                     "(default: $GITHUB_OUTPUT)."),
        click.option("--step-summary", is_flag=True, help="Append the Markdown report to $GITHUB_STEP_SUMMARY "
                     "(within GitHub's 1 MiB)."),
        click.option("--json-output", metavar="FILE", help="Also write the JSON report to FILE."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@main.command()
@click.option("--manifest", "manifest", metavar="FILE", help="YAML manifest of training jobs (version 1).")
@_mlflow_options
@_compare_options
@click.option("--format", "fmt", type=click.Choice(["markdown", "json", "csv", "hf"]), default=None,
              help="Output format (hf: a Hugging Face model card's co2_eq_emissions block). Default: the --output "
                   "file's extension (.json, .csv, .md), else markdown.")
@click.option("--output", "-o", metavar="FILE", help="Write the report to FILE instead of standard output.")
@_fail_cleanly
def report(manifest: str | None, mlflow_uri: str | None, config: str | None, fmt: str | None, output: str | None,
           base: str | None, approved: bool, labels: str | None, github_output: str | None, step_summary: bool,
           json_output: str | None, **options: object) -> None:
    """Estimate energy and emissions of planned jobs (--manifest) or of MLflow runs (--mlflow-uri).

    With --base, compare with the pull request's base; with budget thresholds, exit 1 when one fails.
    """
    from ci_carbon import config as config_file
    from ci_carbon.render.formats import render_pieces

    if manifest and mlflow_uri:
        raise click.UsageError("give --manifest or --mlflow-uri, not both")
    limits = {k.removeprefix("budget_"): options.pop(k) for k in list(options) if k.startswith("budget_")}
    fmt = fmt or format_of(output, REPORT_EXTENSIONS)
    settings = config_file.load(config)
    with _bulk_allocation():
        if manifest:
            result = _manifest_report(manifest, base, str(options.get("repo") or "."))
        else:
            result = _mlflow_report(mlflow_uri, settings, base, options)
        result = _judge(result, settings, limits, approved, labels)
        write_pieces(render_pieces(result, fmt), output)
    _hand_over(result, json_output, github_output, step_summary)
    if result.budget is not None and result.budget.status == "fail":
        sys.exit(EXIT_BUDGET)


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
