"""Render a report in one of the formats; each format is a template over the same model."""

from __future__ import annotations

from ci_carbon.render import payload
from ci_carbon.render.environment import environment
from ci_carbon.report import Report

FORMATS = ("markdown", "json", "csv")
TABLE_ROWS = 10  # jobs shown before the rest collapse into <details>
TABLE_MAX = 500  # jobs listed at all in Markdown; every job is in the JSON and CSV
CHART_SLICES = 8  # jobs in the Mermaid pie before the rest are grouped


def render(report: Report, fmt: str) -> str:
    env = environment()
    if fmt == "json":
        return env.get_template("report.json.j2").render(payload=payload.build(report))
    if fmt == "csv":
        return env.get_template("report.csv.j2").render(jobs=[payload.job(e) for e in report.estimates])
    return env.get_template("report.md.j2").render(
        report=report, table_rows=TABLE_ROWS, table_max=TABLE_MAX, chart_slices=CHART_SLICES, notices=payload.notices,
        skipped=payload.skipped_text,
    )
