"""The JSON summary contract (docs/design.md, ``ci-carbon/summary/v1``) built from the summary model.

The keys docs/design.md names (schema, period, totals, previous, groups, months, recommendations) keep its shape; the
rest are added (keys may be added, never renamed or removed). Floats are rounded to 6 decimals, as in the report.
schemas/summary-v1.schema.json validates it.
"""

from __future__ import annotations

from typing import Any

from ci_carbon.core.totals import Totals
from ci_carbon.render.payload import advice_text, factor_name, source_view
from ci_carbon.summary.model import PeriodChange, Run, Summary
from ci_carbon.summary.period import iso_ms, month_of

SCHEMA = "ci-carbon/summary/v1"
ATTRIBUTION = "start_time_utc"  # a run belongs to the period in which it started, in UTC; nothing is split


def _r(value: float) -> float:
    return round(value, 6) + 0.0  # + 0.0 turns -0.0 into 0.0


def totals(t: Totals) -> dict[str, Any]:
    return {k: (v if isinstance(v, int) else _r(v)) for k, v in t._asdict().items()}


def comparison(c: PeriodChange | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {"period": c.period.as_dict(), "totals": totals(c.totals),
            "delta": {"emissions_kg": _r(c.delta_kg or 0.0), "percent": None if c.percent is None else _r(c.percent)}}


_RUN_KEYS = tuple("carbon_intensity_g_per_kwh" if f == "carbon_intensity" else f for f in Run._fields[1:-1])


def run(r: Run, tag_names: tuple[str, ...]) -> dict[str, Any]:
    """One run as the top-runs list and the CSV give it (the CSV's columns are these keys; 100,000 rows go through
    here, hence no _asdict)."""
    out: dict[str, Any] = {"started": iso_ms(r.started), "month": month_of(r.started)}
    for key, value in zip(_RUN_KEYS, r[1:-1], strict=True):
        out[key] = round(value, 6) + 0.0 if value.__class__ is float else value
    for name, value in zip(tag_names, r.tags, strict=True):
        out[f"tag:{name}"] = value
    return out


def build(summary: Summary) -> dict[str, Any]:
    s = summary
    return {
        "schema": SCHEMA,
        "tool": {"name": "ci-carbon", "version": s.tool_version},
        "period": s.period.as_dict(),
        "attribution": ATTRIBUTION,
        "totals": totals(s.totals),
        "previous": comparison(s.previous),
        "year_ago": comparison(s.year_ago),
        "compared": list(s.compared),
        "groups": [
            {"by": dict(g.by), "totals": totals(g.totals), "share": _r(g.share),
             **({"previous": totals(g.previous)} if g.previous is not None else {}),
             **({"dominated_kg": _r(g.dominated_kg), "dominated_share": _r(g.dominated_share or 0.0)}
                if g.dominated_kg is not None else {})}
            for b in s.breakdowns for g in b.groups
        ],
        "months": [{"month": m.month, "totals": totals(m.totals),
                    "emissions_kg_by_basis": {k: _r(v) for k, v in m.by_basis.items()}} for m in s.months],
        "undated": totals(s.undated),
        "recommendations": [
            {"kind": r.kind, "jobs": list(r.jobs), "runs": len(r.jobs),
             "saving_kg": None if r.saving_kg is None else _r(r.saving_kg),
             "text": advice_text(r)}
            for r in s.recommendations
        ],
        "top_runs": [run(r, s.tag_names) for r in s.top],
        "statuses": [{"status": g.by[0][1], "totals": totals(g.totals), "share": _r(g.share)} for g in s.statuses],
        "quality": [{"basis": q.basis, "runs": q.runs, "emissions_kg": _r(q.emissions_kg), "share": _r(q.share)}
                    for q in s.quality],
        "guessed": totals(s.guessed),
        "skipped": [{"code": code, "runs": n, "examples": list(s.skipped.examples.get(code, ()))}
                    for code, n in s.skipped.counts.items()],
        "sources": [source_view(src) for src in s.sources],
        "factors": [
            {"name": factor_name(f), "kind": f.kind, "subject": f.subject, "value": f.value, "unit": f.unit,
             "source": f.source, "year": f.year}
            for f in s.factors
        ],
        "equivalents": [{"id": e.id, "amount": _r(e.amount), "per": e.per, "kg_per_unit": e.kg_per_unit}
                        for e in s.equivalents],
    }
