"""The summary's command-line choices, checked: --group-by breakdowns, --compare, the period and the outputs."""

from __future__ import annotations

import os
from datetime import datetime, timezone

from ci_carbon.core.files import format_for
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


def targets(outputs: tuple[str, ...], fmt: str | None) -> list[tuple[str, str | None]]:
    """(format, file) to write: --format (else the file's extension) to one --output or stdout, or each of several
    files by its extension."""
    if len(outputs) <= 1:
        output = outputs[0] if outputs else None
        return [(fmt or _format_of(output), output)]
    targets = []
    for output in outputs:
        found = EXTENSIONS.get(os.path.splitext(output)[1].lower())
        if found is None:
            raise InputError([InputProblem(output, None, "--output", "with several outputs, each file's extension "
                                           "says its format: .md, .html, .csv or .json")])
        targets.append((found, output))
    return targets  # type: ignore[return-value]


def _format_of(output: str | None) -> str:
    """The one output's format from its extension (an unknown one refused), Markdown on standard output."""
    return format_for(output, EXTENSIONS) or "markdown"


def period_of(quarter: str | None, since: str | None, until: str | None, now: datetime):
    from ci_carbon.sources.mlflow.select import parse_time
    from ci_carbon.summary import period

    if quarter and (since or until):
        raise InputError([InputProblem("ci-carbon", None, "--quarter", "give --quarter or --since/--until, not both")])
    if until and not since:
        raise InputError([InputProblem("ci-carbon", None, "--until", "--until needs --since")])
    if since:
        start = datetime.fromtimestamp(parse_time(since, "--since") / 1000, tz=timezone.utc)
        end = datetime.fromtimestamp(parse_time(until, "--until") / 1000, tz=timezone.utc) if until else now
        return period.window(start, end)
    return period.parse_quarter(quarter or "last", now)
