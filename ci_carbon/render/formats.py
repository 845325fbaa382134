"""Render a report in one of the formats. Each format is a template over the one render model, the JSON report
(:mod:`ci_carbon.render.payload`): built once per report, rendered into every format asked for."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ci_carbon.core.report import Report
from ci_carbon.render import payload as contract
from ci_carbon.render.environment import environment
from ci_carbon.render.payload import Payload

FORMATS = ("markdown", "json", "csv", "hf")
TABLE_ROWS = 10  # jobs shown before the rest collapse into <details>
TABLE_MAX = 500  # jobs listed at all in Markdown; every job is in the JSON and CSV
CHART_SLICES = 8  # jobs in the Mermaid pie before the rest are grouped
ADVICE_ALL = 1_000  # recommendations listed when nothing must be left out
ADVICE_KEPT = 5  # recommendations kept when the rest must be left out to fit a size


def render(report: Report, fmt: str) -> str:
    return "".join(render_pieces(report, fmt))


def render_pieces(report: Report, fmt: str) -> Iterator[str]:
    """The report in pieces as its template makes them: JSON a thousand jobs at a time (100,000 jobs are 100 MB,
    written as they come rather than held), the other formats whole."""
    return pieces(contract.build(report, sentences=fmt == "json"), fmt)


def pieces(r: Payload, fmt: str) -> Iterator[str]:
    """A payload (built here, or read back from a JSON report) in ``fmt``."""
    env = environment()
    if fmt == "json":
        return env.get_template("report.json.j2").generate(payload=r)
    if fmt == "csv":
        return iter((env.get_template("report.csv.j2").render(jobs=r["jobs"], changes=contract.change_cells(r)),))
    if fmt == "hf":
        return iter((env.get_template("hf.md.j2").render(r=r, card=contract.card(r)),))
    return iter((markdown(r),))


def markdown(r: Payload, omit: Sequence[str] = (), table_rows: int = TABLE_ROWS, forge: str = "github",
             limit: int = 0) -> str:
    """The Markdown report; ``omit`` leaves sections out (:mod:`ci_carbon.render.sized` fits a body to a size)."""
    options: dict[str, Any] = {"table_rows": table_rows, "table_max": TABLE_MAX, "chart_slices": CHART_SLICES,
                               "advice_max": ADVICE_KEPT if "advice_rest" in omit else ADVICE_ALL}
    return environment().get_template("report.md.j2").render(r=r, omit=tuple(omit), forge=forge, limit=limit,
                                                           **options)


def render_brief(r: Payload, full_bytes: int, json_path: str | None) -> str:
    """Headline, change and budget only: for a job summary that the full report would overflow."""
    return environment().get_template("report-brief.md.j2").render(r=r, full_bytes=full_bytes, json_path=json_path)


def render_annotations(report: Report, targets: list[tuple], actions: bool) -> str:
    """One line per budget breach: a workflow command in GitHub Actions, else a plain line for the terminal.

    ``targets`` pairs each breach with the file and line it points at (None where unknown).
    """
    return environment().get_template("annotations.j2").render(budget=report.budget, targets=targets,
                                                               actions=actions)
