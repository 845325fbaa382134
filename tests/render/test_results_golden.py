"""Carbon per result as a reader sees it: a small sweep's Markdown report against the reviewed golden file
tests/golden/results.md, rendered from the JSON report (the one render model) after a round trip through JSON."""

from __future__ import annotations

import json

import pytest

from ci_carbon.assemble import report_of
from ci_carbon.core.model import JobSpec, Origin, Result
from ci_carbon.render import formats, payload
from tests.conftest import ROOT, matches_golden

T0 = 1_780_000_000_000
HOUR = 3_600_000
# (hours, val_accuracy) in start order; trial 4 logged no metric. Records: t0 0.70, t1 0.80, t3 0.86 (the best);
# t5–t9 came after it. Frontier (T4 in one region: kg ∝ hours): t0 (1 h, 0.70), t1 (2 h, 0.80), t3 (3 h, 0.86).
TRIALS = [(1, 0.70), (2, 0.80), (4, 0.75), (3, 0.86), (2, None), (4, 0.85), (4, 0.84), (5, 0.83), (4, 0.82),
          (4, 0.81)]


def _spec(i: int, hours: float, value: float | None) -> JobSpec:
    return JobSpec(f"t{i}", Origin("mlflow.db", None, f"run r{i}"), source="mlflow", id=f"r{i:02d}",
                   status="FINISHED", hardware="Tesla T4", hours=hours, provider="gcp", region="us-central1",
                   experiment="vision/resnet", sweep="p0123456789", started=T0 + i * HOUR,
                   result=Result("val_accuracy", "max", value))


def test_results_report_matches_golden():
    report = report_of([_spec(i, h, v) for i, (h, v) in enumerate(TRIALS)], strict=False)
    built = payload.build(report)
    again = json.loads(json.dumps(built, default=list))
    group = again["results"]["groups"][0]
    assert group["frontier"] == ["r00", "r01", "r03"]
    # a Tesla T4 at TDP (70 W) × PUE 1.10 × 394 g/kWh (gcp us-central1) = 30.3 g per hour: dominated t2, t5–t9 are
    # 4 + 4 + 4 + 5 + 4 + 4 = 25 h; the last gain is t2 + t3 = 7 h; after the best, t5–t9 = 21 h
    per_hour = next(j["emissions_kg"] for j in again["jobs"] if j["name"] == "t0")
    assert group["dominated_kg"] == pytest.approx(25 * per_hour, rel=1e-5)
    assert group["last_gain"]["emissions_kg"] == pytest.approx(7 * per_hour, rel=1e-5)
    assert group["after_best"] == {"trials": 5, "emissions_kg": pytest.approx(21 * per_hour, rel=1e-5)}
    text = formats.markdown(again)
    assert text == formats.markdown(built)
    matches_golden(ROOT / "tests" / "golden" / "results.md", text)
