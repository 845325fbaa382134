"""The budget gate: warn and fail thresholds on a pull request's footprint, and the approval that overrides one.

Three kinds of threshold, each with a warning and a failure level: the total of the report (kg CO2eq), any
one job (kg CO2eq), and the increase of the total over the base (%). When the report is compared with a base,
per-job thresholds look only at the jobs the pull request adds or changes: the others were accepted before it.
An approval (the --approved flag, or the approval label on the pull request) turns a failure into a warning,
so a deliberate increase can merge while the check still says what it cost.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from ci_carbon.core.model import Origin
from ci_carbon.core.report import Report
from ci_carbon.core.review import Breach, Budget
from ci_carbon.core.settings import BUDGET_KG, BUDGET_PERCENT, BudgetConfig

THRESHOLDS = (*BUDGET_KG, *BUDGET_PERCENT)


def merge(cli: Mapping[str, float | None], config: BudgetConfig) -> dict[str, float | None]:
    """Thresholds by name: the command line's where given, else the configuration file's."""
    from_file = config.limits()
    return {k: cli[k] if cli.get(k) is not None else from_file[k] for k in THRESHOLDS}


def approval(flag: bool, labels: Iterable[str], approve_label: str) -> str:
    """Who approved going over budget: 'flag', 'label', or '' (nobody)."""
    if flag:
        return "flag"
    wanted = approve_label.strip().lower()
    return "label" if any(label.strip().lower() == wanted for label in labels) else ""


def _check(limits: Mapping[str, float | None], names: tuple[str, str], actual: float, scope: str, unit: str,
           job: str = "", origin: Origin | None = None) -> Breach | None:
    """The failure breach if its limit is exceeded, else the warning breach, else None."""
    for name, level in zip(names, ("fail", "warn"), strict=True):
        limit = limits.get(name)
        if limit is not None and actual > limit:
            return Breach(name, level, scope, limit, actual, unit, job, origin)
    return None


def _limit_kg(limits: Mapping[str, float | None], base_kg: float | None) -> float | None:
    for level in ("fail", "warn"):
        candidates = [limits[f"{level}_kg"]] if limits[f"{level}_kg"] is not None else []
        percent = limits[f"{level}_percent"]
        if percent is not None and base_kg:
            candidates.append(base_kg * (1 + percent / 100))
        if candidates:
            return min(candidates)  # type: ignore[type-var]
    return None


def _jobs(report: Report) -> Iterator[tuple[str, float, Origin | None]]:
    """(name, kg, where it is written) of each job: from the estimates where the report kept them (a manifest, a
    review), else from its rows (a report of a whole store keeps rows only; their kg is rounded to the milligram)."""
    if report.estimates:
        for est in report.estimates:
            yield est.job.spec.name, est.emissions_kg, est.job.spec.origin
        return
    for row in report.rows:
        yield row["name"], row["emissions_kg"], None


def _job_breaches(report: Report, limits: Mapping[str, float | None]) -> list[Breach]:
    if limits.get("job_fail_kg") is None and limits.get("job_warn_kg") is None:
        return []
    comparison = report.comparison
    touched = {c.name for c in comparison.changes if c.kind in ("added", "changed")} if comparison else None
    out = []
    for name, kg, origin in _jobs(report):
        if touched is None or name in touched:
            breach = _check(limits, ("job_fail_kg", "job_warn_kg"), kg, "job", "kg", name, origin)
            if breach:
                out.append(breach)
    return out


def evaluate(report: Report, limits: Mapping[str, float | None], approve_label: str,
             approved_by: str = "") -> Budget | None:
    """The budget's verdict on a (compared) report; None when no threshold is set."""
    if all(limits.get(k) is None for k in THRESHOLDS):
        return None
    comparison = report.comparison
    breaches = [_check(limits, ("fail_kg", "warn_kg"), report.totals.emissions_kg, "total", "kg")]
    unchecked: tuple[str, ...] = ()
    relative = tuple(k for k in ("fail_percent", "warn_percent") if limits.get(k) is not None)
    if comparison is not None and comparison.percent is not None:
        breaches.append(_check(limits, ("fail_percent", "warn_percent"), comparison.percent, "increase", "%"))
    else:
        unchecked = relative
    found = [b for b in breaches if b is not None] + _job_breaches(report, limits)
    status = "fail" if any(b.level == "fail" for b in found) else "warn" if found else "pass"
    approved = approved_by if status == "fail" else ""
    base_kg = comparison.totals.emissions_kg if comparison is not None else None
    return Budget("warn" if approved else status, _limit_kg(limits, base_kg), dict(limits), tuple(found),
                  approve_label, approved, unchecked, comparison is not None)
