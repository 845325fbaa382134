"""Compare two reports job by job: what a pull request adds, removes and changes, and what that does in kg.

Jobs are matched by name. A manifest's names are unique; MLflow runs may share a name (seeds of one
experiment), so jobs of one name are compared as a group. A job is "changed" when any field the user wrote
differs (hours, count, region, tags …) or its emissions differ, "unchanged" otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from ci_carbon.core.fields import FIELDS
from ci_carbon.core.model import Estimate
from ci_carbon.core.report import Report
from ci_carbon.core.review import Baseline, Comparison, JobChange

# what a job says about itself; a change in any of these is a change of the job (its origin, a line, is not)
COMPARED = (*(f for f in FIELDS if f != "name"), "status", "measured_power_w", "reported_energy_kwh")
SAME_KG = 1e-9  # below this two emissions are the same number (sums in another order)


def _value(value: object) -> object:
    return tuple(sorted(value.items())) if isinstance(value, Mapping) else value


def _differing(base: list[Estimate], head: list[Estimate]) -> tuple[str, ...]:
    """Fields whose values differ between the two groups (compared as sorted lists of values)."""
    def values(group: list[Estimate], field: str) -> list[str]:
        return sorted(repr(_value(getattr(e.job.spec, field))) for e in group)

    return tuple(f for f in COMPARED if values(base, f) != values(head, f))


def _change(name: str, base: list[Estimate], head: list[Estimate]) -> JobChange:
    base_kg = sum(e.emissions_kg for e in base)
    head_kg = sum(e.emissions_kg for e in head)
    if not base:
        return JobChange(name, "added", 0.0, head_kg)
    if not head:
        return JobChange(name, "removed", base_kg, 0.0)
    fields = _differing(base, head)
    changed = fields or len(base) != len(head) or abs(head_kg - base_kg) > SAME_KG
    return JobChange(name, "changed" if changed else "unchanged", base_kg, head_kg, fields)


def _by_name(estimates: Iterable[Estimate]) -> dict[str, list[Estimate]]:
    groups: dict[str, list[Estimate]] = defaultdict(list)
    for est in estimates:
        groups[est.job.spec.name].append(est)
    return groups


def _order(change: JobChange) -> tuple:
    if change.kind == "unchanged":
        return (1, -change.head_kg, change.name)
    return (0, -abs(change.delta_kg), change.name)


def compare(base: Report, head: Report, baseline: Baseline) -> Comparison:
    """The base's report against the head's: per-job changes and the change of the total."""
    base_groups, head_groups = _by_name(base.estimates), _by_name(head.estimates)
    changes = [_change(name, base_groups.get(name, []), head_groups.get(name, []))
               for name in {*base_groups, *head_groups}]
    base_kg = base.totals.emissions_kg
    delta = head.totals.emissions_kg - base_kg
    percent = delta / base_kg * 100 if base_kg > 0 else None
    return Comparison(baseline, base.totals, tuple(sorted(changes, key=_order)), delta, percent, base.not_estimated)
