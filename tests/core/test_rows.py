"""Job rows: made once per estimate, sorted in the report's order, the same whether kept in memory or spilled."""

from __future__ import annotations

from ci_carbon.assemble import report_of
from ci_carbon.core.rows import RowStore, job_row
from ci_carbon.sources import manifest as manifest_source
from tests.conftest import EXAMPLE


def _estimates():
    specs, problems = manifest_source.read(str(EXAMPLE))
    assert problems == []
    return report_of(specs).estimates


def test_a_row_is_the_json_job_without_its_sentences():
    est = _estimates()[0]
    row = job_row(est)
    assert row["name"] == est.job.spec.name and row["emissions_kg"] == round(est.emissions_kg, 6)
    assert row["device_hours"] == round(est.job.device_hours * est.job.runs, 6)
    assert row["notices"] == [{"code": n.code, "params": dict(n.params)} for n in est.job.notices]
    assert "warnings" not in row  # sentences are the render stage's


def test_spilled_rows_equal_rows_in_memory():
    estimates = _estimates()
    reversed_order = list(reversed(estimates))  # the store sorts; what comes first does not matter
    memory, disk = RowStore(), RowStore(spill_after=2)
    for est in reversed_order:
        memory.add([est])
        disk.add([est])
    assert disk.spill is not None and memory.spill is None
    kept, spilled = memory.rows(), disk.rows()
    assert len(kept) == len(spilled) == len(estimates) == 7
    assert list(spilled) == list(kept) == [job_row(e) for e in estimates]  # largest first, as the report orders
    assert spilled[2:5] == kept[2:5] and spilled[-1] == kept[-1] and spilled[0] == kept[0]
    assert spilled.total("emissions_kg", 3) == kept.total("emissions_kg", 3) == sum(
        r["emissions_kg"] for r in kept[3:])
