"""Render a summary as Markdown, a self-contained HTML page, CSV (one row per run) or JSON.

Each format is a template in templates/summary/ over the same :class:`~ci_carbon.summary.model.Summary`, rendered
through the one jinja2 environment; the few number formats the summary adds are registered on it here. Output is
generated in pieces, so a 100,000-row CSV is written as it is read back from disk, never held whole.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from ci_carbon.advice.waste import IDLE_UTILIZATION
from ci_carbon.render.environment import environment, plain
from ci_carbon.render.filters import mass as _mass
from ci_carbon.render.filters import md, sig
from ci_carbon.render.payload import advice_text
from ci_carbon.summary import charts, payload
from ci_carbon.summary.model import Summary

FORMATS = ("markdown", "html", "csv", "json")
GROUP_ROWS = 15  # groups listed per breakdown in Markdown and HTML before the rest are summed in one row
MINUS = "\u2212"


def share_pct(share: float) -> str:
    """A share (0..1) as a percentage a reader takes in: 42 %, 4.2 %, under 0.1 % shown as <0.1 %."""
    percent = share * 100
    if 0 < percent < 0.1:
        return "<0.1 %"
    return f"{sig(percent, 2)} %"


def signed_pct(percent: float | None) -> str:
    """A change in percent with its sign: +12 %, −5.3 %, ±0 %."""
    if percent is None or not math.isfinite(percent):
        return "–"
    if round(percent, 1) == 0:
        return "±0 %"
    return f"{'+' if percent > 0 else MINUS}{sig(abs(percent), 2)} %"


def signed_mass(kg: float | None) -> str:
    if kg is None:
        return "–"
    if kg == 0:
        return "±0 kg"
    return f"{'+' if kg > 0 else MINUS}{_mass(abs(kg))}"


FILTERS = {"share_pct": share_pct, "signed_pct": signed_pct, "signed_mass": signed_mass}


def _environment():
    env = environment()
    env.filters.update(FILTERS)
    return env


def render(summary: Summary, fmt: str) -> Iterator[str]:
    """The summary in ``fmt``, in pieces."""
    env = _environment()
    if fmt == "json":
        yield env.get_template("summary/summary.json.j2").render(payload=payload.build(summary))
    elif fmt == "csv":
        runs = (payload.run(r, summary.tag_names) for r in summary.runs)
        yield from env.get_template("summary/summary.csv.j2").generate(
            runs=runs, tag_columns=[f"tag:{n}" for n in summary.tag_names])
    else:
        name = "summary/summary.html.j2" if fmt == "html" else "summary/summary.md.j2"
        yield from env.get_template(name).generate(
            s=summary, advice=advice_text, md=md, plain=plain, group_rows=GROUP_ROWS, idle_threshold=IDLE_UTILIZATION,
            charts=_charts(summary) if fmt == "html" else None)


def _charts(summary: Summary) -> dict[str, object]:
    return {"groups": [charts.group_bars(b) for b in summary.breakdowns if b.groups],
            "months": charts.month_columns(summary.months), "quality": charts.quality_stack(summary.quality),
            "results": charts.scatters(summary.results), "profiles": charts.profile_charts(summary.profiles)}
