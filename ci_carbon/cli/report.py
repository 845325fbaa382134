"""`ci-carbon report`: estimate planned jobs or past runs, compare with the pull request's base, judge the budget,
render, write, and hand the result to GitHub Actions."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager

import click

from ci_carbon.cli.handler import BudgetFailed
from ci_carbon.cli.options import compare_options, metric_option, selection_options, source_options, with_metric
from ci_carbon.cli.output import REPORT_EXTENSIONS, format_of, inputs, refuse_overlaps
from ci_carbon.core import files
from ci_carbon.core.outputs import Outputs
from ci_carbon.core.report import Report
from ci_carbon.core.settings import Config, MetricChoice
from ci_carbon.errors import InputError, InputProblem
from ci_carbon.render.payload import Payload
from ci_carbon.sources.interface import Request


@contextmanager
def bulk_allocation() -> Iterator[None]:
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


def mlflow_uri(option: str | None) -> str:
    uri = option or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        raise InputError([InputProblem("ci-carbon", None, "--mlflow-uri",
                                       "give --mlflow-uri URI (or set MLFLOW_TRACKING_URI)")])
    return uri


def source_request(settings: Config, selection: dict) -> Request:
    """What the chosen source is asked for: the settings and, for a store of runs, which runs."""
    from ci_carbon.sources.mlflow import select

    return Request(settings, select.build(**selection))


def _report(sources: dict, settings: Config, base: str | None, selection: dict) -> Report:
    """The chosen source's report; with --base, compared with the pull request's base (compare.pipeline)."""
    from functools import partial

    from ci_carbon.assemble import assemble as plain
    from ci_carbon.sources import choose, open_source
    from ci_carbon.sources.intensity import refiner

    assemble = partial(plain, refine=refiner(settings.intensity))  # the grid at each run's own hours, if configured

    chosen, value = choose(sources)
    repo = str(selection.get("repo") or ".")
    if not base:  # a manifest's jobs are few: their estimates are kept (budget annotations point at their lines)
        return assemble(open_source(chosen, value, source_request(settings, selection)), keep=chosen.kind == "manifest")
    from ci_carbon.compare import pipeline

    if chosen.kind == "manifest":
        head = assemble(open_source(chosen, value, Request(settings)), keep=True)
        return pipeline.manifest_against_base(head, value, base, repo)
    if selection.get("git_range") or selection.get("git_commits"):
        raise click.UsageError("--base selects the pull request's commits itself; give --base or "
                               "--git-range/--git-commit, not both")
    point, commits = pipeline.pull_request_commits(base, repo)
    head = assemble(open_source(chosen, value, source_request(settings, {**selection, "git_commits": commits})),
                    keep=True)
    at_base = assemble(open_source(chosen, value, source_request(settings, {**selection, "git_commits": (point.sha,)})),
                       keep=True)
    return pipeline.runs_against_base(head, at_base, point)


def only_mlflow(sources: dict) -> None:
    """--metric judges MLflow runs by what they logged; a manifest's planned jobs (or CodeCarbon rows) have no
    metric, so asking for one there is a usage error (exit 2), not a silently empty result."""
    from ci_carbon.sources import choose

    chosen, _ = choose(sources)
    if chosen.kind != "mlflow":
        raise InputError([InputProblem("ci-carbon", None, "--metric", f"{chosen.option} jobs log no metric; "
                                       "--metric applies to MLflow runs (--mlflow-uri)")])


def _judge(result: Report, settings: Config, limits: dict, approved: bool, labels: str | None) -> Report:
    """The budget's verdict, with approval from --approved, --labels and the pull request's event payload."""

    if all(v is None for v in (*limits.values(), *settings.budget.limits().values())):
        return result  # no budget: nothing more to import or read
    from ci_carbon.compare import pipeline

    names = tuple(n for n in (labels or "").split(",") if n.strip())
    names += pipeline.event_labels(os.environ.get("GITHUB_EVENT_PATH"))
    return pipeline.judge(result, settings.budget, limits, approved, names)


def _hand_over(out: Outputs, result: Report, r: Payload, markdown: str | None, json_output: str | None,
               github_output: str | None, summary: str | None) -> None:
    """What GitHub Actions reads after the report, staged with it: the JSON file, step outputs, job summary."""

    if not (json_output or github_output or summary):
        return
    from ci_carbon.publish import actions
    from ci_carbon.render.formats import markdown as render_markdown

    json_path = actions.write_json(out, r, json_output) if json_output else None
    if github_output:
        actions.write_outputs(out, github_output, actions.outputs(result, json_path))
    if summary:
        actions.append_summary(out, summary, r, markdown if markdown is not None else render_markdown(r), json_path)


def _annotate(result: Report) -> None:
    """Budget annotations on stderr, once every output is written."""
    if result.budget is not None and result.budget.breaches:
        from ci_carbon.publish import actions

        click.echo(actions.annotations(result, os.environ.get("GITHUB_ACTIONS") == "true"), err=True, nl=False)  # type: ignore[operator]


def _refuse(sources: dict, config: str | None, base: str | None, writes: list[tuple[str, str | None]]) -> None:
    """Before any work: no output over an input or over another output; no --base for a manifest on stdin."""
    refuse_overlaps(inputs(sources, config), writes)
    if base and sources.get("manifest") == files.STDIN:
        raise InputError([InputProblem(files.STDIN_NAME, None, "--base", "compares with the manifest's file as it "
                                       "was at the base; give --manifest FILE, not standard input")])


def _nothing_estimated(result: Report) -> InputError | None:
    """Runs or jobs were selected but none could be estimated: a check must not go green on nothing (exit 2)."""
    if result.totals.jobs or not result.not_estimated:
        return None
    reasons: dict[str, int] = {}
    for skip in result.skipped:
        reasons[skip.code] = reasons.get(skip.code, 0) + 1
    why = ", ".join(f"{n} {code.replace('_', ' ')}" for code, n in sorted(reasons.items()))
    where = result.source.where if result.source else "ci-carbon"
    return InputError([InputProblem(where, None, None, f"{result.not_estimated} selected but none could be "
                                    f"estimated ({why}); the report lists why for each")])


@click.command()
@source_options
@selection_options
@compare_options
@metric_option
@click.option("--format", "fmt", type=click.Choice(["markdown", "json", "csv", "hf"]), default=None,
              help="Output format (hf: a Hugging Face model card's co2_eq_emissions block). Default: the --output "
                   "file's extension (.json, .csv, .md), else markdown.")
@click.option("--output", "-o", metavar="FILE", help="Write the report to FILE instead of standard output (- is "
              "standard output). Written whole or not at all; never over an input.")
@click.option("--intensity-source", type=click.Choice(["electricitymaps", "watttime"]), default=None,
              help="Also weight each run by the grid's intensity at its own hours (ELECTRICITYMAPS_TOKEN, or "
                   "WATTTIME_USERNAME and WATTTIME_PASSWORD); default: intensity.source in ci-carbon.yaml, else off.")
def report(config: str | None, fmt: str | None, output: str | None, base: str | None, approved: bool,
           labels: str | None, github_output: str | None, step_summary: bool, json_output: str | None,
           intensity_source: str | None, metric: MetricChoice | None, **options: object) -> None:
    """Estimate energy and emissions of planned jobs (--manifest, - for standard input) or of past runs
    (--mlflow-uri).

    With --base, compare with the pull request's base; with budget thresholds, exit 1 when one fails.
    """
    from ci_carbon.render import formats
    from ci_carbon.render import payload as contract
    from ci_carbon.sources import REGISTRY, config_file, parameter

    limits = {k.removeprefix("budget_"): options.pop(k) for k in list(options) if k.startswith("budget_")}
    sources = {parameter(e): options.pop(parameter(e)) for e in REGISTRY}
    fmt = fmt or format_of(output, REPORT_EXTENSIONS)
    summary = os.environ.get("GITHUB_STEP_SUMMARY") if step_summary else None
    _refuse(sources, config, base, [("--output", output or files.STDIN), ("--json-output", json_output),
                                    ("--github-output", github_output), ("--step-summary", summary)])
    settings = with_metric(config_file.load(config), metric)
    if metric is not None:
        only_mlflow(sources)
    if intensity_source:
        settings = settings._replace(intensity=settings.intensity._replace(source=intensity_source))
    with bulk_allocation(), Outputs() as out:  # every output written together at the end, or none
        result = _judge(_report(sources, settings, base, options), settings, limits, approved, labels)
        r = contract.build(result, sentences=fmt == "json" or bool(json_output))
        markdown = formats.markdown(r) if fmt == "markdown" else None  # rendered once: output and job summary
        out.write(output, iter((markdown,)) if markdown is not None else formats.pieces(r, fmt))
        _hand_over(out, result, r, markdown, json_output, github_output, summary)
    _annotate(result)
    failed = _nothing_estimated(result)
    if failed is not None:
        raise failed
    if result.budget is not None and result.budget.status == "fail":
        raise BudgetFailed()
