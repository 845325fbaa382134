"""Nothing estimated is not zero (issue 9, item 4), against a real MLflow server.

Selected but none estimated: the report says how many and why, and exits 2 (a PR check must not go green on nothing).
Some not estimated: the headline says "N of M" and the JSON totals carry jobs_not_estimated. Nothing selected at
all: said in words, exit 0. A selection empty by construction is a usage error.
"""

from __future__ import annotations

import uuid

import mlflow
import pytest

from tests.conftest import run_cli

T0 = 1_780_000_000_000
S = 1000


@pytest.fixture(scope="module")
def experiments(mlflow_server):
    """Two experiments: one whose runs none can be estimated (no hardware; an end before the start), one mixed."""
    client = mlflow.MlflowClient(mlflow_server.uri)
    tag = uuid.uuid4().hex[:8]
    none, mixed = f"none-{tag}", f"mixed-{tag}"
    for name in (none, mixed):
        exp = client.create_experiment(name)
        for i in range(3):
            run = client.create_run(exp, start_time=T0, tags={"team": "nlp"}, run_name=f"bare-{i}")
            client.set_terminated(run.info.run_id, end_time=T0 + 600 * S)
        skew = client.create_run(exp, start_time=T0, tags={"gpu": "Tesla T4"}, run_name="skewed")
        client.set_terminated(skew.info.run_id, end_time=T0 - 60 * S)
        if name == mixed:
            for i in range(2):
                ok = client.create_run(exp, start_time=T0, run_name=f"ok-{i}",
                                       tags={"gpu": "Tesla T4", "cloud": "gcp", "region": "us-central1"})
                client.set_terminated(ok.info.run_id, end_time=T0 + 3600 * S)
    return mlflow_server.uri, none, mixed


def test_selected_but_none_estimated_is_exit_2_and_says_why(experiments):
    uri, none, _ = experiments
    result = run_cli("report", "--mlflow-uri", uri, "--experiment", none)
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert result.err == (f"ci-carbon: {uri}: 4 selected but none could be estimated (3 no hardware, 1 no times); "
                          "the report lists why for each\n")
    assert result.out.startswith("### 🌱 Training carbon footprint: not estimated\n\nNone of the 4 selected jobs "
                                 "(MLflow runs) could be estimated; why is listed below for each. Nothing is reported "
                                 "as 0 kg.\n")
    assert "0 kg CO2eq" not in result.out and "<summary>4 inputs not estimated</summary>" in result.out
    data = run_cli("report", "--mlflow-uri", uri, "--experiment", none, "--format", "json")
    assert data.code == 2 and data.json()["totals"]["jobs"] == 0 and data.json()["totals"]["jobs_not_estimated"] == 4


def test_some_not_estimated_is_n_of_m(experiments):
    uri, _, mixed = experiments
    result = run_cli("report", "--mlflow-uri", uri, "--experiment", mixed)
    assert result.code == 0, result.err
    first = result.out.splitlines()[0]
    assert first.endswith(" across 2 of 6 jobs (MLflow runs) · 4 not estimated, listed below")
    data = run_cli("report", "--mlflow-uri", uri, "--experiment", mixed, "--format", "json").json()
    assert (data["totals"]["jobs"], data["totals"]["jobs_not_estimated"], len(data["skipped"])) == (2, 4, 4)


def test_nothing_selected_is_said_in_words_and_exit_0(experiments):
    uri, _, mixed = experiments
    result = run_cli("report", "--mlflow-uri", uri, "--experiment", mixed, "--git-commit", "0" * 40)
    assert result.code == 0, result.err
    assert result.out == ("### 🌱 Training carbon footprint: nothing to estimate\n\nNo MLflow run matched the "
                          "selection: nothing was trained, so there is nothing to estimate.\n")


@pytest.mark.parametrize(("args", "line"), [
    (("--since", "2026-08-01", "--until", "2026-07-01"),
     "ci-carbon: --since: '2026-08-01' is not before --until '2026-07-01': no run can start in that window\n"),
    (("--git-commit", "abc"),
     "ci-carbon: --git-commit: 'abc' is not a commit: give at least 7 hexadecimal characters of its SHA\n"),
    (("--git-commit", "zzzzzzzz"),
     "ci-carbon: --git-commit: 'zzzzzzzz' is not a commit: give at least 7 hexadecimal characters of its SHA\n"),
])
def test_an_empty_selection_by_construction_is_a_usage_error(experiments, args, line):
    uri, _, mixed = experiments
    result = run_cli("report", "--mlflow-uri", uri, "--experiment", mixed, *args)
    assert (result.code, result.out, result.err) == (2, "", line)
