"""Carbon per result, the arithmetic (ci_carbon/core/results.py): frontier, dominated kg, the last gain, the fold
over estimates, and a pull request's best run against its base's. Every expected number is worked by hand."""

from __future__ import annotations

import pytest

from ci_carbon.assemble import report_of
from ci_carbon.core.model import JobSpec, Origin, Result
from ci_carbon.core.results import Point, against, frontier, group, last_gain, results


def _p(run_id: str, kg: float, value: float | None, started: int | None = None) -> Point:
    return Point(run_id, run_id, kg, value, started)


class TestFrontier:
    def test_a_run_beaten_on_both_is_dominated(self):
        # b costs more than a and scores less: dominated; c costs more but scores more: on the frontier
        points = [_p("a", 1.0, 0.8), _p("b", 2.0, 0.7), _p("c", 3.0, 0.9)]
        assert frontier(points, "max") == ("a", "c")

    def test_equal_kg_keeps_only_the_best_value_and_ties_keep_both(self):
        # a and b cost the same: b (0.9) beats a (0.8); b and c are identical: neither beats the other
        points = [_p("a", 1.0, 0.8), _p("b", 1.0, 0.9), _p("c", 1.0, 0.9)]
        assert frontier(points, "max") == ("b", "c")

    def test_equal_value_at_more_kg_is_dominated(self):
        assert frontier([_p("a", 1.0, 0.5), _p("b", 2.0, 0.5)], "max") == ("a",)

    def test_min_direction_prefers_lower_values(self):
        # loss: a (1 kg, 0.5) and c (3 kg, 0.2) survive; b (2 kg, 0.6) loses to a on both
        assert frontier([_p("a", 1.0, 0.5), _p("b", 2.0, 0.6), _p("c", 3.0, 0.2)], "min") == ("a", "c")


class TestGroup:
    def test_dominated_kg_best_and_missing(self):
        points = [_p("a", 1.0, 0.8), _p("b", 2.0, 0.7), _p("c", 4.0, 0.6), _p("d", 3.0, 0.9), _p("x", 5.0, None)]
        g = group("exp", "", "acc", "max", points)
        assert g.frontier == ("a", "d")
        assert g.dominated_kg == 6.0  # b 2 + c 4
        assert g.total_kg == 15.0  # 1 + 2 + 4 + 3 + 5, the run without the metric included
        assert g.best is not None and g.best.run_id == "d"
        assert [p.run_id for p in g.missing] == ["x"]

    def test_last_gain_is_the_runs_after_the_previous_record_up_to_the_best(self):
        # in start order: a 0.5 (record), b 0.4, c 0.6 (record), d 0.55, e 0.7 (record, best), f 0.65, g 0.3
        runs = [("a", 1.0, 0.5), ("b", 2.0, 0.4), ("c", 1.5, 0.6), ("d", 3.0, 0.55), ("e", 2.5, 0.7),
                ("f", 4.0, 0.65), ("g", 1.0, 0.3)]
        points = [_p(r, kg, v, started=i) for i, (r, kg, v) in enumerate(runs)]
        gain, tail = last_gain(points, "max")
        assert gain is not None
        assert gain.previous == "c" and gain.change == pytest.approx(0.1)  # 0.7 − 0.6
        assert (gain.trials, gain.kg) == (2, 5.5)  # d 3.0 + e 2.5
        assert (tail.trials, tail.kg) == (2, 5.0)  # f 4.0 + g 1.0

    def test_one_record_has_no_last_gain(self):
        gain, tail = last_gain([_p("a", 1.0, 0.9, 0), _p("b", 2.0, 0.8, 1)], "max")
        assert gain is None and (tail.trials, tail.kg) == (1, 2.0)

    def test_min_metric_gains_downwards(self):
        gain, _ = last_gain([_p("a", 1.0, 0.5, 0), _p("b", 2.0, 0.3, 1)], "min")
        assert gain is not None and gain.change == pytest.approx(-0.2) and gain.trials == 1


class TestUnionAndSum:
    def test_groups_add_up(self):
        found = results({
            ("exp", "", "acc", "max"): [_p("a", 1.0, 0.8), _p("b", 2.0, 0.7)],
            ("exp", "s1", "acc", "max"): [_p("c", 1.0, 0.9), _p("d", 3.0, 0.5), _p("e", 2.0, None)],
        })
        assert found.frontier == ("a", "c")
        assert found.dominated_kg == 5.0  # b 2 + d 3
        assert (found.metric, found.direction) == ("acc", "max")
        assert found.values == {"a": 0.8, "b": 0.7, "c": 0.9, "d": 0.5, "e": None}

    def test_mixed_metrics_have_no_single_metric(self):
        found = results({("x", "", "acc", "max"): [_p("a", 1.0, 0.8)], ("y", "", "loss", "min"): [_p("b", 1.0, 0.2)]})
        assert (found.metric, found.direction) == (None, None)


def _spec(name: str, hours: float, value: float | None, sweep: str = "") -> JobSpec:
    return JobSpec(name, Origin("test"), source="mlflow", id=name, status="FINISHED", hardware="Tesla T4",
                   hours=hours, provider="gcp", region="us-central1", experiment="exp", sweep=sweep,
                   result=Result("acc", "max", value))


class TestThroughTheFolds:
    def test_report_carries_results_and_only_asked_runs(self):
        specs = [_spec("a", 1.0, 0.8), _spec("b", 2.0, 0.7), _spec("c", 3.0, None),
                 JobSpec("planned", Origin("test"), hardware="Tesla T4", hours=1, provider="gcp",
                         region="us-central1")]
        report = report_of(specs, strict=False)
        kg = {e.job.spec.name: e.emissions_kg for e in report.estimates}
        assert report.results is not None
        (g,) = report.results.groups
        assert g.frontier == ("a",) and g.dominated_kg == pytest.approx(kg["b"])
        assert [p.run_id for p in g.missing] == ["c"]
        assert "planned" not in report.results.values  # no metric asked of a manifest job

    def test_no_metric_asked_no_results(self):
        report = report_of([JobSpec("j", Origin("t"), hardware="Tesla T4", hours=1, provider="gcp",
                                    region="us-central1")])
        assert report.results is None


def test_best_run_against_the_base():
    head = results({("exp", "", "acc", "max"): [_p("h1", 5.0, 0.9), _p("h2", 2.0, 0.85)]})
    base = results({("exp", "", "acc", "max"): [_p("b1", 3.0, 0.86)]})
    change = against(head, base)
    assert change is not None and change.head.run_id == "h1" and change.base.run_id == "b1"
    assert change.value_change == pytest.approx(0.04) and change.kg_change == pytest.approx(2.0)  # 0.9−0.86, 5−3
    other = results({("exp", "", "loss", "min"): [_p("b1", 3.0, 0.1)]})
    assert against(head, other) is None  # different metrics do not compare
