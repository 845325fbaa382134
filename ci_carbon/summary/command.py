"""`ci-carbon summary`: the quarterly organisation footprint (issue 5). Wiring only: parse the options, read the
period a chunk at a time with progress on stderr, render, write.

The lead adds it to the CLI with ``main.add_command(summary)``; until then ``python -m ci_carbon.summary`` runs it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

import click

from ci_carbon.cli import _fail_cleanly, _mlflow_options, format_of, write_pieces
from ci_carbon.errors import InputError, InputProblem
from ci_carbon.summary.model import FIELDS, TAG_PREFIX

DEFAULT_GROUPS = "team,project,hardware,region"
COMPARE = ("previous", "year", "none")


def parse_groups(values: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """--group-by values → breakdowns: comma-separated entries, `+` joins fields into one (team+hardware)."""
    dims: list[tuple[str, ...]] = []
    problems = []
    for text in values:
        for entry in filter(None, (e.strip() for e in text.split(","))):
            fields = tuple(f.strip() for f in entry.split("+"))
            for field in fields:
                known = field in FIELDS or (field.startswith(TAG_PREFIX) and len(field) > len(TAG_PREFIX))
                if not known:
                    problems.append(InputProblem("ci-carbon", None, "--group-by", f"unknown field '{field}' (use "
                                                 f"{', '.join(FIELDS)} or tag:NAME; join fields with +)"))
            if fields not in dims:
                dims.append(fields)
    if problems:
        raise InputError(problems)
    return tuple(dims)


def parse_compare(values: tuple[str, ...]) -> tuple[str, ...]:
    chosen = [v.strip() for text in values for v in text.split(",") if v.strip()]
    unknown = [v for v in chosen if v not in COMPARE]
    if unknown:
        raise InputError([InputProblem("ci-carbon", None, "--compare", f"unknown '{unknown[0]}' (previous, year or "
                                       "none)")])
    if not chosen:
        return ("previous", "year")
    return () if "none" in chosen else tuple(dict.fromkeys(chosen))


EXTENSIONS = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html", ".csv": "csv",
              ".json": "json"}


def _targets(outputs: tuple[str, ...], fmt: str | None) -> list[tuple[str, str | None]]:
    """(format, file) to write: --format (else the file's extension) to one --output or stdout, or each of several
    files by its extension."""
    if len(outputs) <= 1:
        output = outputs[0] if outputs else None
        return [(fmt or format_of(output, EXTENSIONS), output)]
    targets = []
    for output in outputs:
        found = EXTENSIONS.get(os.path.splitext(output)[1].lower())
        if found is None:
            raise InputError([InputProblem(output, None, "--output", "with several outputs, each file's extension "
                                           "says its format: .md, .html, .csv or .json")])
        targets.append((found, output))
    return targets


def _period(quarter: str | None, since: str | None, until: str | None, now: datetime):
    from ci_carbon.sources.mlflow.select import parse_time
    from ci_carbon.summary import period

    if quarter and (since or until):
        raise click.UsageError("give --quarter or --since/--until, not both")
    if until and not since:
        raise click.UsageError("--until needs --since")
    if since:
        start = datetime.fromtimestamp(parse_time(since, "--since") / 1000, tz=timezone.utc)
        end = datetime.fromtimestamp(parse_time(until, "--until") / 1000, tz=timezone.utc) if until else now
        return period.window(start, end)
    return period.parse_quarter(quarter or "last", now)


@contextmanager
def _progress(label: str, total: int) -> Iterator:
    """A progress bar on stderr while runs are read, only where stderr is a terminal and there is much to read."""
    if total < 1000 or not sys.stderr.isatty():
        yield lambda n: None
        return
    with click.progressbar(length=total, label=f"reading {label}", file=sys.stderr, show_pos=True) as bar:
        yield bar.update


@click.command("summary")
@click.option("--quarter", "-q", metavar="YYYY-QN", help="Quarter to summarise, in UTC: 2026-Q3, last (the default: "
              "the latest complete quarter) or current. Runs belong to the quarter in which they started.")
@_mlflow_options
@click.option("--manifest", metavar="FILE", help="Planned jobs (a YAML manifest) to count in the period as well.")
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
@_fail_cleanly
def summary(quarter: str | None, mlflow_uri: str | None, config: str | None, manifest: str | None,
            group_by: tuple[str, ...], compare: tuple[str, ...], fmt: str | None, outputs: tuple[str, ...],
            since: str | None, until: str | None, **selection: object) -> None:
    """The organisation's training footprint for a quarter: totals with ranges, by team, project, region and
    hardware, month by month, against the quarter before and a year before, the largest runs, waste, data quality and
    what to do, summed over the quarter."""
    from ci_carbon import config as config_file
    from ci_carbon.sources.mlflow import select
    from ci_carbon.summary.collect import Request, summarise
    from ci_carbon.summary.render import render
    from ci_carbon.summary.spill import Spill

    now = datetime.now(timezone.utc).replace(microsecond=0)
    targets = _targets(outputs, fmt)
    period = _period(quarter, since, until, now)
    uri = mlflow_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri and not manifest:
        raise InputError([InputProblem("ci-carbon", None, "--mlflow-uri", "give --mlflow-uri URI (or set "
                                       "MLFLOW_TRACKING_URI), --manifest FILE, or both")])
    planned = None
    if manifest:
        from ci_carbon.cli import _manifest_jobs

        planned = (manifest, _manifest_jobs(manifest))
    request = Request(uri, select.build(**selection), config_file.load(config).mlflow,
                      parse_groups(group_by or (DEFAULT_GROUPS,)), parse_compare(compare), planned,
                      int(time.time() * 1000))
    with Spill(keep_runs=any(f == "csv" for f, _ in targets)) as spill:
        result = summarise(request, period, spill, _progress)
        for target_format, output in targets:
            write_pieces(render(result, target_format), output)
