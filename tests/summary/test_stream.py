"""Streaming gives what reading everything at once gives: the same runs, the same totals, the same advice.

The demo store (parents with children, a duplicated trial, failed runs, measured histories) plus ten sibling trials
with no parent (a sweep only the whole stream can see), read in chunks of 3 so that every group is split.
"""

from __future__ import annotations

import shutil

import mlflow
import pytest

from ci_carbon.assemble import assemble
from ci_carbon.core.settings import Config
from ci_carbon.sources import config_file
from ci_carbon.sources.interface import Request as SourceRequest
from ci_carbon.sources.mlflow import load
from ci_carbon.sources.mlflow.records import Selection
from ci_carbon.sources.mlflow.source import MlflowSource
from ci_carbon.sources.mlflow.sql_reader import open_sql_reader
from ci_carbon.summary.collect import Request, summarise
from ci_carbon.summary.period import parse_quarter
from ci_carbon.summary.spill import Spill
from tests.conftest import ROOT
from tests.summary.conftest import ms

NOW = ms("2026-10-15T00:00")
CONFIG = config_file.load(str(ROOT / "examples" / "ci-carbon.yaml")).mlflow


@pytest.fixture(scope="module")
def store(demo_db, tmp_path_factory) -> str:
    """A copy of the demo store with a sibling sweep added: 10 runs, same parameter names, 9 different values."""
    path = tmp_path_factory.mktemp("stream") / "store.db"
    shutil.copy(demo_db, path)
    uri = f"sqlite:///{path}"
    client = mlflow.MlflowClient(uri)
    experiment = client.create_experiment("siblings/lr-scan")
    for i in range(10):
        run = client.create_run(experiment, start_time=ms(f"2026-08-{10 + i:02d}T09:00"), run_name=f"scan-{i}",
                                tags={"gpu": "Tesla T4", "cloud": "gcp", "region": "us-central1", "team": "research"})
        client.log_param(run.info.run_id, "lr", str(0.001 * min(i, 8)))  # scan-8 and scan-9 repeat one set
        client.log_param(run.info.run_id, "seed", str(i))
        client.set_terminated(run.info.run_id, end_time=ms(f"2026-08-{10 + i:02d}T10:00"))
    return uri


def test_light_survey_equals_reading_every_run(store):
    reader = open_sql_reader(store)
    assert reader is not None
    q3 = parse_quarter("2026-Q3", None)
    for selection in (Selection(), Selection(experiments=("vision/vit-sweep",)),
                      Selection(since=q3.start_ms, until=q3.end_ms), Selection(include_deleted=False)):
        light, kept = load.survey(reader, selection)
        records = list(reader.runs(selection))
        assert kept is None  # direct SQL reads only the parents' tags
        assert light.runs == len(records)
        assert light.parents == {r.tags[load.PARENT_TAG] for r in records if r.tags.get(load.PARENT_TAG)}
    some = [r.run_id for r in reader.runs(Selection())][:5]
    assert load.survey(reader, Selection(run_ids=tuple(some)))[0].runs == 5


def _streamed(store: str, size: int) -> tuple[list, list, dict]:
    specs, skipped, siblings = [], [], {}
    for chunk in load.RunStream(store, Selection(), CONFIG, NOW, size=size):
        assert len(chunk.specs) + len(chunk.skipped) <= size
        specs += chunk.specs
        skipped += chunk.skipped
        siblings.update(chunk.siblings)
    return specs, skipped, siblings


def test_chunk_size_does_not_change_what_a_run_becomes(store):
    whole = _streamed(store, 5000)
    small = _streamed(store, 3)
    assert small == whole
    assert len(whole[0]) + len(whole[1]) == load.survey(open_sql_reader(store), Selection())[0].runs
    assert {key for _, key in whole[2].values()} and all(s.sweep == "" for s in whole[0] if s.id in whole[2])


def _report(store: str, chunk: int, selection: Selection | None = None):
    request = SourceRequest(Config(CONFIG), selection or Selection(), NOW, chunk=chunk)
    return assemble(MlflowSource(store, request), keep=True)


def test_advice_and_totals_are_folds_chunking_changes_nothing(store):
    """The report folded a run at a time, three at a time and all at once: the same totals and recommendations."""
    whole = _report(store, 5000)
    assert {r.kind for r in whole.recommendations} >= {"region", "hardware", "waste", "search", "quantify"}
    for size in (1, 3):
        folded = _report(store, size)
        assert folded.estimates == whole.estimates and folded.skipped == whole.skipped
        assert list(folded.rows) == list(whole.rows)
        for key, value in whole.totals._asdict().items():
            assert getattr(folded.totals, key) == pytest.approx(value, rel=1e-12), key
        assert [(r.kind, r.jobs) for r in folded.recommendations] == [(r.kind, r.jobs) for r in whole.recommendations]
        for mine, theirs in zip(folded.recommendations, whole.recommendations, strict=True):
            assert (mine.saving_kg is None) == (theirs.saving_kg is None)  # a hint has no kg figure either way
            assert (mine.saving_kg or 0.0) == pytest.approx(theirs.saving_kg or 0.0, rel=1e-12)


def test_summary_in_chunks_equals_the_report_over_all_runs(store):
    """Totals and every recommendation (kinds, savings, runs, sentences' numbers) as ``build`` over all at once."""
    period = parse_quarter("2026-Q3", None)
    selection = Selection(since=period.start_ms, until=period.end_ms)
    report = _report(store, 5000, selection)
    request = Request(store, Selection(), Config(CONFIG), (("team",),), (), None, NOW, chunk=3)
    with Spill(keep_runs=True) as spill:
        summary = summarise(request, period, spill)
        assert len(list(summary.runs)) == report.totals.jobs
    assert summary.totals.jobs == report.totals.jobs
    for key, value in report.totals._asdict().items():
        assert getattr(summary.totals, key) == pytest.approx(value, rel=1e-9, abs=1e-12), key
    assert [r.kind for r in summary.recommendations] == [r.kind for r in report.recommendations]
    assert {r.kind for r in report.recommendations} >= {"region", "hardware", "waste", "search", "quantify"}
    for mine, theirs in zip(summary.recommendations, report.recommendations, strict=True):
        assert (mine.saving_kg is None) == (theirs.saving_kg is None)
        assert (mine.saving_kg or 0.0) == pytest.approx(theirs.saving_kg or 0.0, rel=1e-9, abs=1e-12)
        assert len(mine.jobs) == len(theirs.jobs)
        assert set(mine.jobs) <= set(theirs.jobs)
        for key, value in theirs.params.items():
            if isinstance(value, float):
                assert mine.params[key] == pytest.approx(value, rel=1e-9), (mine.kind, key)
            elif key == "missing":
                assert {k: len(v) for k, v in mine.params[key].items()} == {k: len(v) for k, v in value.items()}
            else:
                assert mine.params[key] == value, (mine.kind, key)
    searches = [r for r in summary.recommendations if r.kind == "search"]
    assert sorted(r.params["runs"] for r in searches) == [10, 13]  # the sibling scan and the demo's grid
    duplicates = next(r for r in summary.recommendations if r.params.get("what") == "duplicates")
    assert duplicates.params["count"] == 2 and set(duplicates.jobs) == {"vit-b16-grid-12", "scan-9"}


def test_memory_of_a_chunk_not_of_the_store(store):
    """Nothing per run stays in Python: the tallies hold groups and months, the rows are on disk."""
    request = Request(store, Selection(), Config(CONFIG), (("team",), ("hardware",)), (), None, NOW, chunk=3)
    period = parse_quarter("2026-Q3", None)
    with Spill(keep_runs=False) as spill:
        summary = summarise(request, period, spill)
        assert list(summary.runs) == []  # rows are kept only for the CSV
    assert summary.totals.jobs > 30 and len(summary.top) == 10
    assert all(len(list(r.jobs)) <= 20 for r in summary.recommendations)  # named; all counted


def test_quarter_rule():
    q3 = parse_quarter("2026-Q3", None)
    assert (q3.start.isoformat(), q3.end.isoformat()) == ("2026-07-01T00:00:00+00:00", "2026-10-01T00:00:00+00:00")
    assert q3.start_ms <= ms("2026-09-30T23:59") < q3.end_ms <= ms("2026-10-01T00:00")
    assert parse_quarter("2026q1", None).label == "2026-Q1"
    now = parse_quarter("2026-Q4", None).start  # on 1 October, "last" is the quarter that just ended
    assert parse_quarter("last", now).label == "2026-Q3" and parse_quarter("current", now).label == "2026-Q4"
    assert parse_quarter("last", parse_quarter("2027-Q1", None).start).label == "2026-Q4"
