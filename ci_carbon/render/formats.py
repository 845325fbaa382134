"""Render a report in one of the formats; each format is a template over the same model."""

from __future__ import annotations

from collections.abc import Iterator

from ci_carbon.core.report import Report
from ci_carbon.render import payload
from ci_carbon.render.environment import environment

FORMATS = ("markdown", "json", "csv", "hf")
TABLE_ROWS = 10  # jobs shown before the rest collapse into <details>
TABLE_MAX = 500  # jobs listed at all in Markdown; every job is in the JSON and CSV
CHART_SLICES = 8  # jobs in the Mermaid pie before the rest are grouped


def render(report: Report, fmt: str) -> str:
    return "".join(render_pieces(report, fmt))


def render_pieces(report: Report, fmt: str) -> Iterator[str]:
    """The report in pieces as its template makes them: JSON a thousand jobs at a time (100,000 jobs are 100 MB,
    written as they come rather than held), the other formats whole."""
    if fmt == "json":
        return environment().get_template("report.json.j2").generate(payload=payload.build(report))
    return iter((_render_whole(report, fmt),))


def _render_whole(report: Report, fmt: str) -> str:
    env = environment()
    if fmt == "csv":
        return env.get_template("report.csv.j2").render(jobs=[payload.job(e) for e in report.estimates],
                                                        changes=payload.change_cells(report))
    if fmt == "hf":
        return env.get_template("hf.md.j2").render(report=report, card=payload.card(report))
    return env.get_template("report.md.j2").render(
        report=report, table_rows=TABLE_ROWS, table_max=TABLE_MAX, chart_slices=CHART_SLICES, notices=payload.notices,
        skipped=payload.skipped_text,
    )


def render_brief(report: Report, full_bytes: int, json_path: str | None) -> str:
    """Headline, change and budget only: for a job summary that the full report would overflow."""
    return environment().get_template("report-brief.md.j2").render(report=report, full_bytes=full_bytes,
                                                                   json_path=json_path)


def render_annotations(report: Report, targets: list[tuple], actions: bool) -> str:
    """One line per budget breach: a workflow command in GitHub Actions, else a plain line for the terminal.

    ``targets`` pairs each breach with the file and line it points at (None where unknown).
    """
    return environment().get_template("annotations.j2").render(budget=report.budget, targets=targets,
                                                               actions=actions)
