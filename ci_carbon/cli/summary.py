"""`ci-carbon summary`: the quarterly organisation footprint. Parse the options, read the period a chunk at a time
with progress on stderr, render every asked format from one read, write."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

import click

from ci_carbon.cli.options import metric_option, mlflow_options, with_metric
from ci_carbon.cli.output import inputs, refuse_overlaps
from ci_carbon.core.model import Estimate
from ci_carbon.core.outputs import Outputs
from ci_carbon.core.settings import Config, MetricChoice
from ci_carbon.errors import InputError, InputProblem
from ci_carbon.summary.choices import DEFAULT_GROUPS
from ci_carbon.summary.model import FIELDS


@contextmanager
def _progress(label: str, total: int) -> Iterator:
    """A progress bar on stderr while runs are read, only where stderr is a terminal and there is much to read."""
    if total < 1000 or not sys.stderr.isatty():
        yield lambda n: None
        return
    with click.progressbar(length=total, label=f"reading {label}", file=sys.stderr, show_pos=True) as bar:
        yield bar.update


def _planned_only(settings: Config) -> Callable[[Estimate], Estimate] | None:
    """The configured intensity source for planned jobs only (their profile and best start, drawn in the HTML).

    A quarter's past runs are not refined here: the summary shows no hourly figure, and thousands of runs would each
    ask the API for their own hours. Without a token the Refiner asks nothing (a notice on the job, as in report).
    """
    from ci_carbon.sources.intensity import refiner

    refine = refiner(settings.intensity)
    if refine is None:
        return None
    return lambda est: refine(est) if est.job.spec.status == "planned" else est


@click.command("summary")
@click.option("--quarter", "-q", metavar="YYYY-QN", help="Quarter to summarise, in UTC: 2026-Q3, last (the default: "
              "the latest complete quarter) or current. Runs belong to the quarter in which they started.")
@mlflow_options
@click.option("--manifest", metavar="FILE", help="Planned jobs (a YAML manifest) to count in the period as well; - "
              "reads it from standard input.")
@metric_option
@click.option("--group-by", "-g", "group_by", multiple=True, metavar="FIELDS",
              help=f"Breakdowns, comma-separated or repeated: {', '.join(FIELDS)}, tag:NAME; join fields with + "
                   f"for one table (team+hardware). Default: {DEFAULT_GROUPS}.")
@click.option("--compare", "compare", multiple=True, metavar="WHAT",
              help="previous (the period before), year (the same period a year before) or none. Default: both, "
                   "where they have runs.")
@click.option("--format", "fmt", type=click.Choice(["markdown", "html", "csv", "json"]), default=None,
              help="Markdown for an issue or wiki page, a self-contained HTML page with charts, CSV with one row per "
                   "run, or JSON (ci-carbon/summary/v1). Default: the --output file's extension, else markdown.")
@click.option("--output", "-o", "outputs", multiple=True, metavar="FILE",
              help="Write to FILE instead of standard output. Repeat it to write several formats from one read of "
                   "the store, each chosen by its extension (.md, .html, .csv, .json).")
@click.option("--intensity-source", type=click.Choice(["electricitymaps", "watttime"]), default=None,
              help="For --manifest jobs with start_window_hours: the zone's hour-of-day profile over the last 30 days "
                   "and the best start (ELECTRICITYMAPS_TOKEN, or WATTTIME_USERNAME and WATTTIME_PASSWORD), drawn "
                   "in the HTML; default: intensity.source in ci-carbon.yaml, else off.")
def summary(quarter: str | None, mlflow_uri: str | None, config: str | None, manifest: str | None,
            group_by: tuple[str, ...], compare: tuple[str, ...], fmt: str | None, outputs: tuple[str, ...],
            since: str | None, until: str | None, metric: MetricChoice | None, intensity_source: str | None,
            **selection: object) -> None:
    """The organisation's training footprint for a quarter: totals with ranges, by team, project, region and
    hardware, month by month, against the quarter before and a year before, the largest runs, waste, data quality and
    what to do, summed over the quarter."""
    from ci_carbon.sources import config_file
    from ci_carbon.sources.mlflow import select
    from ci_carbon.summary.choices import parse_compare, parse_groups, period_of, targets
    from ci_carbon.summary.collect import Request, summarise
    from ci_carbon.summary.render import render
    from ci_carbon.summary.spill import Spill

    now = datetime.now(timezone.utc).replace(microsecond=0)
    chosen = targets(outputs, fmt)
    refuse_overlaps(inputs({"manifest": manifest, "mlflow_uri": mlflow_uri}, config),
                    [("--output", path) for path in outputs])
    period = period_of(quarter, since, until, now)
    uri = mlflow_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri and not manifest:
        raise InputError([InputProblem("ci-carbon", None, "--mlflow-uri", "give --mlflow-uri URI (or set "
                                       "MLFLOW_TRACKING_URI), --manifest FILE, or both")])
    if metric is not None and not uri:
        raise InputError([InputProblem("ci-carbon", None, "--metric", "--manifest jobs log no metric; --metric "
                                       "applies to MLflow runs (--mlflow-uri)")])
    settings = with_metric(config_file.load(config), metric)
    if intensity_source:
        settings = settings._replace(intensity=settings.intensity._replace(source=intensity_source))
    request = Request(uri, select.build(**selection), settings,  # type: ignore[arg-type]
                      parse_groups(group_by or (DEFAULT_GROUPS,)), parse_compare(compare), manifest,
                      int(time.time() * 1000), refine=_planned_only(settings))
    with Spill(keep_runs=any(f == "csv" for f, _ in chosen)) as spill:
        result = summarise(request, period, spill, _progress)
        with Outputs() as out:  # every file written together at the end, or none
            for target_format, output in chosen:
                out.write(output, render(result, target_format))
