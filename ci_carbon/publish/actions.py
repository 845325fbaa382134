"""GitHub Actions: step outputs, the job summary and budget annotations, through the files the runner reads.

Outputs use the heredoc form with a random delimiter (what @actions/core writes), so no value can end an
output early or forge another one. The job summary stays within GitHub's 1 MiB per step by dropping whole
sections, never cutting a table. Annotations point at the manifest line of the job over budget.
"""

from __future__ import annotations

import os
import uuid

from ci_carbon.core.outputs import Outputs
from ci_carbon.core.report import Report
from ci_carbon.render.formats import pieces, render_annotations, render_brief
from ci_carbon.render.payload import Payload

SUMMARY_LIMIT = 1024 * 1024  # bytes GitHub accepts in one step's summary
OUTPUTS = ("total_kg", "delta_kg", "delta_percent", "budget_status", "json_path")


def _plain(value: float | None) -> str:
    """A number as an output value: up to 6 decimals (the JSON's rounding), no exponent; '' for none."""
    if value is None:
        return ""
    text = f"{round(value, 6):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def outputs(report: Report, json_path: str | None) -> dict[str, str]:
    comparison, budget = report.comparison, report.budget
    return {
        "total_kg": _plain(report.totals.emissions_kg),
        "delta_kg": _plain(comparison.delta_kg) if comparison else "",
        "delta_percent": _plain(comparison.percent) if comparison else "",
        "budget_status": budget.status if budget else "none",
        "json_path": json_path or "",
    }


def write_outputs(out: Outputs, path: str, values: dict[str, str]) -> None:
    """Append ``name<<delimiter`` … ``delimiter`` blocks to $GITHUB_OUTPUT, a fresh random delimiter each, in one
    append when the command commits."""
    blocks = []
    for name, value in values.items():
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
        blocks.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    out.append(path, "".join(blocks), "--github-output")


def write_json(out: Outputs, r: Payload, path: str) -> str:
    """The JSON report at ``path`` (beside any other format), staged with the command's other outputs; its absolute
    path, for the json_path output."""
    out.write(path, pieces(r, "json"), "--json-output")
    return os.path.abspath(path)


def summary_text(r: Payload, full: str, used: int, json_path: str | None) -> str | None:
    """The Markdown for the job summary: the full report (rendered once, for every use) if it fits beside ``used``
    bytes, else the brief one."""
    size = len(full.encode("utf-8"))
    if used + size + 1 <= SUMMARY_LIMIT:
        return full
    brief = render_brief(r, size, json_path)
    return brief if used + len(brief.encode("utf-8")) + 1 <= SUMMARY_LIMIT else None


def append_summary(out: Outputs, path: str, r: Payload, full: str, json_path: str | None) -> None:
    used = os.path.getsize(path) if os.path.isfile(path) else 0
    text = summary_text(r, full, used, json_path)
    if text is not None:
        out.append(path, ("\n" if used else "") + text, "--step-summary")


def _repository_path(file: str) -> str:
    """A path as GitHub wants it in an annotation: relative to the workspace (the repository root)."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace and os.path.isabs(file):
        rel = os.path.relpath(file, workspace)
        if not rel.startswith(".."):
            return rel.replace(os.sep, "/")
    return file.replace(os.sep, "/")


def targets(report: Report) -> list[tuple]:
    """Each breach with the file and line it points at: a job's own line, or the manifest for the total."""
    manifest = report.source.where if report.source and report.source.kind == "manifest" else None
    out = []
    for breach in report.budget.breaches if report.budget else ():
        origin = breach.origin if breach.origin and breach.origin.file == manifest else None
        file = _repository_path(origin.file if origin else manifest) if manifest else None
        out.append((breach, file, origin.line if origin else None))
    return out


def annotations(report: Report, in_actions: bool) -> str:  # type: ignore[no-redef]
    return render_annotations(report, targets(report), in_actions)
