"""The JSON report contract (DESIGN.md, ``ci-carbon/report/v1``) built from the report model.

Keys may be added, never renamed or removed. Floats are rounded to 6 decimals so the bytes are stable and
free of binary noise; the units are the ones the keys name.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ci_carbon.core.model import Estimate
from ci_carbon.core.report import Report
from ci_carbon.core.review import Budget, Comparison
from ci_carbon.core.totals import ESTIMATE_KEYS, Totals
from ci_carbon.render.environment import macro, plain
from ci_carbon.render.filters import Records

SCHEMA = "ci-carbon/report/v1"


def _r(value: float) -> float:
    return round(value, 6) + 0.0  # + 0.0 turns -0.0 into 0.0


_SAID: dict[tuple, str] = {}


def notice_text(notice, escape=plain) -> str:
    """A notice's sentence; thousands of jobs share a few notices, so each is rendered once per run."""
    key = (notice.code, tuple(sorted(notice.params.items())), escape)
    text = _SAID.get(key)
    if text is None:
        text = _SAID[key] = str(macro("notices.j2", "notice")(notice, escape)).strip()
    return text


_LISTED: dict[int, tuple[tuple, list[str]]] = {}


def notices(est: Estimate, escape=plain) -> list[str]:
    """The job's notices as sentences; jobs alike share one notices tuple, so its sentences are listed once."""
    said = est.job.notices
    if escape is not plain:
        return [notice_text(n, escape) for n in said]
    known = _LISTED.get(id(said))
    if known is None or known[0] is not said:  # the tuple is kept, so its id cannot be reused while listed
        known = _LISTED[id(said)] = (said, [notice_text(n) for n in said])
    return list(known[1])


def factor_name(factor, escape=plain) -> str:
    return str(macro("factors.j2", "name")(factor, escape)).strip()


def skipped_text(skip, escape=plain) -> str:
    return " ".join(str(macro("notices.j2", "skipped")(skip, escape)).split())


def advice_text(rec, escape=plain) -> str:
    return " ".join(str(macro("advice.j2", "advice")(rec, escape)).split())


_ROUNDED: dict[float, float] = {}


def _same(value: float) -> float:
    """:func:`_r` for values that repeat across jobs (PUE, intensity, TDP): looked up, not rounded again."""
    known = _ROUNDED.get(value)
    if known is None:
        if len(_ROUNDED) >= 10_000:  # jobs that each say their own value: stay bounded
            _ROUNDED.clear()
        known = _ROUNDED[value] = _r(value)
    return known


def job(est: Estimate) -> dict[str, Any]:
    j, s = est.job, est.job.spec
    return {
        "name": s.name, "source": s.source, "id": s.id, "status": s.status,
        "hours": round(j.hours, 6) + 0.0, "device_hours": round(j.device_hours * j.runs, 6) + 0.0, "runs": j.runs,
        "hardware": j.hardware, "device_id": j.device_id, "count": j.count, "method": j.method,
        "power_w": _same(j.device_power_w) if j.method == "tdp" else _r(j.device_power_w), "pue": _same(j.pue),
        "carbon_intensity_g_per_kwh": _same(j.carbon_intensity),
        "location": j.location, "provider": j.provider, "region": j.region, "country": j.country,
        "energy_kwh": round(est.energy_kwh, 6) + 0.0, "energy_kwh_low": round(est.energy_kwh_low, 6) + 0.0,
        "energy_kwh_high": round(est.energy_kwh_high, 6) + 0.0,
        "emissions_kg": round(est.emissions_kg, 6) + 0.0, "emissions_kg_low": round(est.emissions_kg_low, 6) + 0.0,
        "emissions_kg_high": round(est.emissions_kg_high, 6) + 0.0,
        "emissions_kg_market": round(est.emissions_kg_market, 6) + 0.0,
        "embodied_kg": round(est.embodied_kg, 6) + 0.0, "tags": dict(sorted(s.tags.items())),
        "guessed": list(j.guessed), "warnings": notices(est),
    }


def _totals(totals: Totals) -> dict[str, Any]:
    """The contract's totals: the job count and the sums of the estimate's keys (a summary's also has its hours)."""
    return {"jobs": totals.jobs, **{k: _r(getattr(totals, k)) for k in ESTIMATE_KEYS}}


def _maybe(value: float | None) -> float | None:
    return None if value is None else _r(value)


def comparison(c: Comparison) -> dict[str, Any]:
    """The contract's ``baseline`` and ``delta``, and what else a reviewer's tool needs: the base and each change."""
    b = c.baseline
    return {
        "baseline": _totals(c.totals),
        "delta": {"emissions_kg": _r(c.delta_kg), "percent": _maybe(c.percent)},
        "comparison": {
            "source": b.source, "base_ref": b.point.ref, "merge_base": b.point.sha, "head": b.point.head,
            "deepened": b.point.deepened, "path": b.path or None, "renamed_from": b.renamed_from or None,
            "found": b.found, "counts": {kind: c.count(kind) for kind in ("added", "removed", "changed", "unchanged")},
        },
        "changes": [
            {"name": ch.name, "change": ch.kind, "base_kg": _r(ch.base_kg), "head_kg": _r(ch.head_kg),
             "delta_kg": _r(ch.delta_kg), "percent": _maybe(ch.percent), "fields": list(ch.fields)}
            for ch in c.changes
        ],
    }


def breach_text(breach, escape=plain) -> str:
    return " ".join(str(macro("pr.j2", "breach")(breach, escape)).split())


def budget(b: Budget) -> dict[str, Any]:
    """The contract's ``limit_kg`` and ``status``, then every threshold, breach and approval."""
    return {
        "limit_kg": _maybe(b.limit_kg), "status": b.status, "approved": bool(b.approved_by),
        "approved_by": b.approved_by or None, "approve_label": b.approve_label,
        "thresholds": {k: _maybe(v) for k, v in b.limits.items()}, "unchecked": list(b.unchecked),
        "changed_jobs_only": b.changed_only,
        "breaches": [
            {"threshold": x.threshold, "level": x.level, "scope": x.scope, "job": x.job or None, "unit": x.unit,
             "limit": _r(x.limit), "actual": _r(x.actual), "over_by": _r(x.over_by),
             "file": x.origin.file if x.origin else None, "line": x.origin.line if x.origin else None,
             "text": breach_text(x)}
            for x in b.breaches
        ],
    }


def change_cells(report: Report) -> dict[str, list[Any]] | None:
    """CSV cells per job name: change kind, base kg and difference (the kg only where a name is one row)."""
    c = report.comparison
    if c is None:
        return None
    rows = Counter(e.job.spec.name for e in report.estimates)
    return {ch.name: [ch.kind, *((_r(ch.base_kg), _r(ch.delta_kg)) if rows[ch.name] <= 1 else ("", ""))]
            for ch in c.changes}


def card(report: Report) -> dict[str, Any]:
    """What a model card's co2_eq_emissions block and a paper's disclosure need, aggregated over the jobs."""
    ests = report.estimates
    types = {e.job.spec.tags.get("training_type", "") for e in ests}
    intensities = [e.job.carbon_intensity for e in ests] or [0.0]
    pues = [e.job.pue for e in ests] or [1.0]
    return {
        "hardware": list(dict.fromkeys((e.job.count, e.job.hardware) for e in ests)),  # largest emitter first
        "locations": list(dict.fromkeys(e.job.location for e in ests)),
        "training_type": types.pop() if len(types) == 1 else "",
        "device_hours": sum(e.job.device_hours * e.job.runs for e in ests),
        "intensity": (min(intensities), max(intensities)),
        "pue": (min(pues), max(pues)),
    }


def build(report: Report) -> dict[str, Any]:
    out = {
        "schema": SCHEMA,
        "tool": {"name": "ci-carbon", "version": report.tool_version},
        "jobs": Records(report.estimates, job),
        "totals": _totals(report.totals),
        "recommendations": [
            {"kind": r.kind, "jobs": list(r.jobs), "saving_kg": _r(r.saving_kg), "text": advice_text(r)}
            for r in report.recommendations
        ],
        "factors": [
            {"name": factor_name(f), "kind": f.kind, "subject": f.subject, "value": f.value, "unit": f.unit,
             "source": f.source, "year": f.year}
            for f in report.factors
        ],
        "source": report.source._asdict() if report.source else None,
        "skipped": [{"name": s.name, "id": s.id, "code": s.code, "reason": skipped_text(s)} for s in report.skipped],
        "equivalents": [
            {"id": e.id, "amount": _r(e.amount), "per": e.per, "kg_per_unit": e.kg_per_unit}
            for e in report.equivalents
        ],
    }
    if report.comparison is not None:
        out.update(comparison(report.comparison))
    if report.budget is not None:
        out["budget"] = budget(report.budget)
    return out
