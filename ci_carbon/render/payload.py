"""The JSON report contract (DESIGN.md, ``ci-carbon/report/v1``) built from the report model.

Keys may be added, never renamed or removed. Floats are rounded to 6 decimals so the bytes are stable and
free of binary noise; the units are the ones the keys name.
"""

from __future__ import annotations

from typing import Any

from ci_carbon.core.model import Estimate
from ci_carbon.render.environment import macro, plain
from ci_carbon.report import Report

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


def notices(est: Estimate, escape=plain) -> list[str]:
    return [notice_text(n, escape) for n in est.job.notices]


def factor_name(factor, escape=plain) -> str:
    return str(macro("factors.j2", "name")(factor, escape)).strip()


def skipped_text(skip, escape=plain) -> str:
    return " ".join(str(macro("notices.j2", "skipped")(skip, escape)).split())


def advice_text(rec, escape=plain) -> str:
    return " ".join(str(macro("advice.j2", "advice")(rec, escape)).split())


def job(est: Estimate) -> dict[str, Any]:
    j, s = est.job, est.job.spec
    return {
        "name": s.name, "source": s.source, "id": s.id, "status": s.status,
        "hours": _r(j.hours), "device_hours": _r(j.device_hours * j.runs), "runs": j.runs,
        "hardware": j.hardware, "device_id": j.device_id, "count": j.count, "method": j.method,
        "power_w": _r(j.device_power_w), "pue": _r(j.pue), "carbon_intensity_g_per_kwh": _r(j.carbon_intensity),
        "location": j.location, "provider": j.provider, "region": j.region, "country": j.country,
        "energy_kwh": _r(est.energy_kwh), "energy_kwh_low": _r(est.energy_kwh_low),
        "energy_kwh_high": _r(est.energy_kwh_high),
        "emissions_kg": _r(est.emissions_kg), "emissions_kg_low": _r(est.emissions_kg_low),
        "emissions_kg_high": _r(est.emissions_kg_high), "emissions_kg_market": _r(est.emissions_kg_market),
        "embodied_kg": _r(est.embodied_kg), "tags": dict(sorted(s.tags.items())), "guessed": list(j.guessed),
        "warnings": notices(est),
    }


def build(report: Report) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "tool": {"name": "ci-carbon", "version": report.tool_version},
        "jobs": [job(e) for e in report.estimates],
        "totals": {k: (v if k == "jobs" else _r(v)) for k, v in report.totals.items()},
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
