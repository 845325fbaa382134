"""Options shared by several commands: the source, which runs to read, and the pull-request review (base, budgets)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from ci_carbon.core import fields
from ci_carbon.core.fields import THRESHOLDS, FieldRule
from ci_carbon.core.settings import ALL_EXPERIMENTS, Config, MetricChoice, parse_metric
from ci_carbon.errors import InputError, InputProblem

F = TypeVar("F", bound=Callable[..., object])


class Checked(click.ParamType):
    """A number option judged by the core's rule (:mod:`ci_carbon.core.fields`), as the same number in a file is:
    click's FloatRange lets 'nan' through (NaN compares false with every bound), so a NaN budget never failed."""

    name = "number"

    def __init__(self, rule: FieldRule):
        self.rule = rule

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> object:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number, why = fields.check(self.rule, value)
        else:
            number, why = fields.parse_number(self.rule, str(value))
        if why is not None:
            self.fail(f"{why}.", param, ctx)
        return number


KG, PERCENT = Checked(THRESHOLDS["kg"]), Checked(THRESHOLDS["percent"])


class MetricOption(click.ParamType):
    """``NAME[:max|:min]`` → :class:`~ci_carbon.core.settings.MetricChoice`; anything else one line, exit 2."""

    name = "metric"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> object:
        if isinstance(value, MetricChoice):
            return value
        choice, why = parse_metric(str(value))
        if why is not None:  # one line, like a bad value in ci-carbon.yaml (click's own error adds its usage)
            raise InputError([InputProblem("ci-carbon", None, "--metric", why)])
        return choice


def metric_option(command: F) -> F:
    """--metric: carbon per result on MLflow runs (it wins over ci-carbon.yaml's mlflow.metric)."""
    return click.option("--metric", type=MetricOption(), metavar="NAME[:max|:min]",
                        help="Judge MLflow runs by this metric's latest value (max: higher is better, the default; "
                             "min: lower): the Pareto frontier of emissions against it, the kg of dominated runs. "
                             "Wins over ci-carbon.yaml's mlflow.metric.")(command)


def with_metric(settings: Config, metric: MetricChoice | None) -> Config:
    """The settings with --metric for every experiment, when it was given."""
    if metric is None:
        return settings
    return settings._replace(mlflow=settings.mlflow._replace(metrics={ALL_EXPERIMENTS: metric}))


def _apply(command: F, options: list[Callable[[F], F]]) -> F:
    for option in reversed(options):
        command = option(command)
    return command


def source_options(command: F) -> F:
    """One option per source of the registry (--manifest, --mlflow-uri …): the command reads the one given."""
    from ci_carbon.sources import REGISTRY, parameter

    return _apply(command, [click.option(e.option, parameter(e), metavar=e.metavar, help=e.help) for e in REGISTRY])


def mlflow_options(command: F) -> F:
    """--mlflow-uri and the options that select its runs (`annotate`, `summary`)."""
    from ci_carbon.sources import entry

    mlflow = entry("mlflow")
    return click.option(mlflow.option, metavar=mlflow.metavar, help=mlflow.help)(selection_options(command))


def selection_options(command: F) -> F:
    """The options that select runs of a store: experiments, a filter, a time window, runs, commits."""
    options = [
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
    return _apply(command, options)  # type: ignore[arg-type]


def compare_options(command: F) -> F:
    """The options of `report` for pull requests: the base to compare with and the budget gate."""
    kg, job_kg = "kg CO2eq of the report's total", "kg CO2eq of any one job (added or changed, with --base)"
    options = [
        click.option("--base", metavar="REF", help="Compare with the merge-base of HEAD and REF (origin/main, a SHA) "
                     "in --repo: the manifest as it was there, or the MLflow runs of that commit."),
        click.option("--budget-warn-kg", type=KG, metavar="KG", help=f"Warn above KG {kg}."),
        click.option("--budget-fail-kg", type=KG, metavar="KG", help=f"Fail (exit 1) above KG "
                     f"{kg}."),
        click.option("--budget-job-warn-kg", type=KG, metavar="KG", help=f"Warn above KG "
                     f"{job_kg}."),
        click.option("--budget-job-fail-kg", type=KG, metavar="KG", help=f"Fail above KG "
                     f"{job_kg}."),
        click.option("--budget-warn-percent", type=PERCENT, metavar="PCT", help="Warn when the total rises more than "
                     "PCT % over the base (needs --base)."),
        click.option("--budget-fail-percent", type=PERCENT, metavar="PCT", help="Fail when the total rises more than "
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
    return _apply(command, options)  # type: ignore[arg-type]
