"""The JSON report contract (docs/design.md, ``ci-carbon/report/v1``): the one model every format renders.

:func:`build` turns a :class:`~ci_carbon.core.report.Report` into plain values — the JSON report itself — and the
Markdown, CSV and Hugging Face templates read those values, never the Python model. So a JSON report written by one
job can be rendered again by another (``ci-carbon comment --report report.json``) into exactly what the first would
have shown. Keys may be added, never renamed or removed. Floats are rounded to 6 decimals (stable bytes, no binary
noise); the units are the ones the keys name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

from ci_carbon.advice.names import Sample
from ci_carbon.core.report import Recommendation, Report, SourceInfo
from ci_carbon.core.results import Change, Group, Point, Results
from ci_carbon.core.review import Budget, Comparison
from ci_carbon.core.rows import Row, r6
from ci_carbon.core.totals import ESTIMATE_KEYS, Totals
from ci_carbon.render.environment import macro, plain

SCHEMA = "ci-carbon/report/v1"
Payload = dict[str, Any]

_SAID: dict[tuple[Any, ...], str] = {}


def notice_text(notice: Mapping[str, Any], escape: Any = plain) -> str:
    """A notice's sentence; thousands of jobs share a few notices, so each is rendered once per run."""
    key = (notice["code"], tuple(sorted(notice["params"].items())), escape)
    text = _SAID.get(key)
    if text is None:
        if len(_SAID) >= 10_000:
            _SAID.clear()
        text = _SAID[key] = str(macro("notices.j2", "notice")(notice, escape)).strip()
    return text


def factor_name(factor: Any, escape: Any = plain) -> str:
    return str(macro("factors.j2", "name")(factor, escape)).strip()


def skipped_text(skip: Any, escape: Any = plain) -> str:
    return " ".join(str(macro("notices.j2", "skipped")(skip, escape)).split())


def advice_text(rec: Recommendation | Mapping[str, Any], escape: Any = plain) -> str:
    view = recommendation(rec, text=False) if isinstance(rec, Recommendation) else rec
    return " ".join(str(macro("advice.j2", "advice")(view, escape)).split())


class JobRows(Sequence[Row]):
    """The report's rows with each notice's sentence added (``warnings``): the JSON's jobs, made as they are written."""

    def __init__(self, rows: Sequence[Row]):
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: Any) -> Any:
        found = self._rows[index]
        return [_said(r) for r in found] if isinstance(index, slice) else _said(found)

    def __iter__(self) -> Iterator[Row]:
        return map(_said, self._rows)


_SENTENCES: dict[int, tuple[list[Any], list[str]]] = {}


def _said(row: Row) -> Row:
    notices = row["notices"]
    known = _SENTENCES.get(id(notices))
    if known is None or known[0] is not notices:  # rows in memory share their notices list: said once
        if len(_SENTENCES) >= 10_000:
            _SENTENCES.clear()
        known = _SENTENCES[id(notices)] = (notices, [notice_text(n) for n in notices])
    return {**row, "warnings": list(known[1])}


# --- what recommendations carry ------------------------------------------------------------------------------

_OBJECT_FIELDS = {  # the fields of the data rows a recommendation's sentence names, as JSON objects
    "RegionFigures": ("provider", "region", "name", "continent", "carbon_intensity", "pue"),
    "Device": ("id", "name", "kind", "tdp_w", "fp32_tflops", "fp16_tflops", "memory_gb", "form_factor",
               "system_class", "interconnect", "idle_w"),
    "Provider": ("provider", "name", "pue", "renewable_matching"),
}


def plain_value(value: Any) -> Any:
    """A recommendation's parameter as JSON: data rows as objects of their named fields, numbers rounded, names
    counted where only their number is kept."""
    fields = _OBJECT_FIELDS.get(type(value).__name__)
    if fields is not None:
        return {f: plain_value(getattr(value, f)) for f in fields}
    if isinstance(value, float):
        return r6(value)
    if isinstance(value, Mapping):
        return {k: plain_value(v) for k, v in value.items()}
    if isinstance(value, Sample):  # names a summary only counted (guessed inputs): their number
        return [plain_value(v) for v in value.names] if value.names else len(value)
    if isinstance(value, (list, tuple)):
        return [plain_value(v) for v in value]
    return value


def recommendation(rec: Recommendation, text: bool = True) -> dict[str, Any]:
    view = {"kind": rec.kind, "jobs": list(rec.jobs), "job_count": len(rec.jobs), "saving_kg": _maybe(rec.saving_kg),
            "params": {k: plain_value(v) for k, v in rec.params.items()}}
    if text:
        view["text"] = advice_text(view)
    return view


# --- the rest of the report ----------------------------------------------------------------------------------


def _totals(totals: Totals, not_estimated: int | None = None) -> dict[str, Any]:
    """The contract's totals: the job count and the sums of the estimate's keys (a summary's also has its hours)."""
    out: dict[str, Any] = {"jobs": totals.jobs, **{k: r6(getattr(totals, k)) for k in ESTIMATE_KEYS}}
    if not_estimated is not None:
        out["jobs_not_estimated"] = not_estimated
    return out


def _maybe(value: float | None) -> float | None:
    return None if value is None else r6(value)


def comparison(c: Comparison) -> dict[str, Any]:
    """The contract's ``baseline`` and ``delta``, and what else a reviewer's tool needs: the base and each change."""
    b = c.baseline
    return {
        "baseline": _totals(c.totals, c.not_estimated),
        "delta": {"emissions_kg": r6(c.delta_kg), "percent": _maybe(c.percent)},
        "comparison": {
            "source": b.source, "base_ref": b.point.ref, "merge_base": b.point.sha, "head": b.point.head,
            "deepened": b.point.deepened, "path": b.path or None, "renamed_from": b.renamed_from or None,
            "found": b.found, "counts": {kind: c.count(kind) for kind in ("added", "removed", "changed", "unchanged")},
        },
        "changes": [
            {"name": ch.name, "change": ch.kind, "base_kg": r6(ch.base_kg), "head_kg": r6(ch.head_kg),
             "delta_kg": r6(ch.delta_kg), "percent": _maybe(ch.percent), "fields": list(ch.fields)}
            for ch in c.changes
        ],
    }


def breach_text(breach: Any, escape: Any = plain) -> str:
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
             "limit": r6(x.limit), "actual": r6(x.actual), "over_by": r6(x.over_by),
             "file": x.origin.file if x.origin else None, "line": x.origin.line if x.origin else None,
             "text": breach_text(x)}
            for x in b.breaches
        ],
    }


def change_cells(payload: Payload) -> dict[str, list[Any]] | None:
    """CSV cells per job name: change kind, base kg and difference (the kg only where a name is one row)."""
    if "changes" not in payload:
        return None
    rows = Counter(job["name"] for job in payload["jobs"])
    return {ch["name"]: [ch["change"], *((ch["base_kg"], ch["delta_kg"]) if rows[ch["name"]] <= 1 else ("", ""))]
            for ch in payload["changes"]}


def card(payload: Payload) -> dict[str, Any]:
    """What a model card's co2_eq_emissions block and a paper's disclosure need, aggregated over the jobs."""
    jobs = payload["jobs"]
    types = {job["tags"].get("training_type", "") for job in jobs}
    intensities = [job["carbon_intensity_g_per_kwh"] for job in jobs] or [0.0]
    pues = [job["pue"] for job in jobs] or [1.0]
    return {
        "hardware": list(dict.fromkeys((job["count"], job["hardware"]) for job in jobs)),  # largest emitter first
        "locations": list(dict.fromkeys(job["location"] for job in jobs)),
        "training_type": types.pop() if len(types) == 1 else "",
        "device_hours": sum(job["device_hours"] for job in jobs),
        "intensity": (min(intensities), max(intensities)),
        "pue": (min(pues), max(pues)),
    }


def source_view(info: SourceInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    return {"kind": info.kind, "where": info.where, "reader": info.reader, "read": info.read,
            "notes": [{"code": n.code, "params": dict(n.params)} for n in info.notes]}


def _point(p: Point) -> dict[str, Any]:
    return {"id": p.run_id, "name": p.name, "value": p.value, "emissions_kg": r6(p.kg)}


def _group(g: Group) -> dict[str, Any]:
    on = set(g.frontier)
    gain = g.last_gain
    return {
        "experiment": g.experiment, "sweep": g.sweep or None, "metric": g.metric, "direction": g.direction,
        "frontier": list(g.frontier), "dominated_kg": r6(g.dominated_kg), "emissions_kg": r6(g.total_kg),
        "runs": [{**_point(p), "frontier": p.run_id in on} for p in g.points],
        "missing": [_point(p) for p in g.missing],
        "best": _point(g.best) if g.best else None,
        "last_gain": None if gain is None else {"change": r6(gain.change), "previous": gain.previous,
                                                "emissions_kg": r6(gain.kg), "trials": gain.trials},
        "after_best": {"trials": g.after_best.trials, "emissions_kg": r6(g.after_best.kg)},
    }


def _change(c: Change) -> dict[str, Any]:
    return {"metric": c.metric, "direction": c.direction, "head": _point(c.head), "base": _point(c.base),
            "value_change": r6(c.value_change), "emissions_kg_change": r6(c.kg_change)}


def results(found: Results) -> dict[str, Any]:
    """The contract's ``results`` (docs/design.md): the metric, each run's value, per group its frontier and
    dominated kg, their union and sum; and what the tables and charts show (runs, best, the last gain)."""
    return {
        "metric": found.metric, "direction": found.direction, "values": dict(found.values),
        "groups": [_group(g) for g in found.groups], "frontier": list(found.frontier),
        "dominated_kg": r6(found.dominated_kg),
        "against_base": _change(found.against_base) if found.against_base else None,
    }


def build(report: Report, sentences: bool = True) -> Payload:
    """The JSON report; ``sentences`` adds each job's notices as sentences (``warnings``), which only JSON and CSV
    readers need (the Markdown says them from the notices themselves)."""
    out: Payload = {
        "schema": SCHEMA,
        "tool": {"name": "ci-carbon", "version": report.tool_version},
        "jobs": JobRows(report.rows) if sentences else report.rows,
        "totals": _totals(report.totals, report.not_estimated),
        "recommendations": [recommendation(r) for r in report.recommendations],
        "factors": [
            {"name": factor_name(f), "kind": f.kind, "subject": f.subject, "value": f.value, "unit": f.unit,
             "source": f.source, "year": f.year}
            for f in report.factors
        ],
        "source": source_view(report.source),
        "skipped": [{"name": s.name, "id": s.id, "code": s.code, "detail": s.detail, "reason": skipped_text(s)}
                    for s in report.skipped],
        "equivalents": [
            {"id": e.id, "amount": r6(e.amount), "per": e.per, "kg_per_unit": e.kg_per_unit}
            for e in report.equivalents
        ],
    }
    if report.comparison is not None:
        out.update(comparison(report.comparison))
    if report.budget is not None:
        out["budget"] = budget(report.budget)
    if report.results is not None:
        out["results"] = results(report.results)
    return out
