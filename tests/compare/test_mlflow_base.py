"""`report --mlflow-uri … --base REF`: the pull request's runs against the merge-base commit's, on a real server."""

from __future__ import annotations

import uuid

import mlflow
import pytest

from tests.compare import scenario
from tests.compare.conftest import Repo, run

T0 = 1_780_000_000_000  # ms; a fixed start so that durations are exact
HOUR = 3_600_000


def _experiment(server) -> tuple[mlflow.MlflowClient, str, str]:
    client = mlflow.MlflowClient(server.uri)
    name = f"pr-{uuid.uuid4().hex[:8]}"
    return client, name, client.create_experiment(name)


def _log(client: mlflow.MlflowClient, experiment: str, name: str, commit: str, gpu: str, hours: float) -> None:
    tags = {"mlflow.source.git.commit": commit, "gpu": gpu, "cloud": "gcp", "region": "us-central1"}
    created = client.create_run(experiment, start_time=T0, tags=tags, run_name=name)
    client.set_terminated(created.info.run_id, end_time=T0 + int(hours * HOUR))


@pytest.fixture
def pr(repo: Repo) -> scenario.PullRequest:
    return scenario.build(repo)


def test_runs_after_the_merge_base_against_the_runs_of_the_merge_base(mlflow_server, pr: scenario.PullRequest):
    client, name, experiment = _experiment(mlflow_server)
    feature_1 = pr.repo.git.git.rev_parse("feature~1")
    _log(client, experiment, "old", pr.first, "Tesla T4", 9)  # before the merge-base: neither side
    _log(client, experiment, "train", pr.merge_base, "Tesla T4", 2)  # the base
    _log(client, experiment, "eval", pr.merge_base, "Tesla T4", 1)
    _log(client, experiment, "train", feature_1, "Tesla T4", 4)  # the pull request
    _log(client, experiment, "sweep", pr.head, "NVIDIA L4", 1)
    _log(client, experiment, "sweep", pr.head, "NVIDIA L4", 1)
    _log(client, experiment, "train", pr.main_tip, "Tesla T4", 50)  # main after branching: not the PR's
    common = ("--mlflow-uri", mlflow_server.uri, "-e", name, "--repo", str(pr.repo.path), "--format", "json")
    result = run("report", *common, "--base", "main")
    assert result.code == 0, result.err
    data = result.json()
    at_base = run("report", *common, "--git-commit", pr.merge_base).json()
    pull_request = run("report", *common, "--git-range", f"{pr.merge_base}..{pr.head}").json()
    assert data["baseline"] == at_base["totals"] and data["baseline"]["jobs"] == 2
    assert data["totals"] == pull_request["totals"] and data["totals"]["jobs"] == 3
    assert data["delta"]["emissions_kg"] == pytest.approx(
        pull_request["totals"]["emissions_kg"] - at_base["totals"]["emissions_kg"], abs=2e-6)
    comparison = data["comparison"]
    assert (comparison["source"], comparison["merge_base"], comparison["found"], comparison["path"]) == (
        "mlflow", pr.merge_base, True, None)
    changes = {c["name"]: c for c in data["changes"]}
    assert {n: c["change"] for n, c in changes.items()} == {"train": "changed", "eval": "removed", "sweep": "added"}
    assert changes["train"]["fields"] == ["hours"]
    # 4 h against 2 h; each figure is rounded to 6 decimals in the JSON, so the ratio holds to ±1e-6 kg
    assert changes["train"]["head_kg"] == pytest.approx(2 * changes["train"]["base_kg"], abs=2e-6)
    sweep = sum(j["emissions_kg"] for j in pull_request["jobs"] if j["name"] == "sweep")
    assert changes["sweep"]["head_kg"] == pytest.approx(sweep, abs=2e-6)
    md = run("report", *common[:-2], "--base", "main").out
    assert md.splitlines()[2].endswith(f"compared with the 2 MLflow runs of the base, commit `{pr.merge_base[:7]}`, "
                                       "the merge-base with main: 1 added, 1 removed, 1 changed.")


def test_no_runs_at_the_merge_base_is_said(mlflow_server, pr: scenario.PullRequest):
    client, name, experiment = _experiment(mlflow_server)
    _log(client, experiment, "train", pr.head, "Tesla T4", 3)
    common = ("--mlflow-uri", mlflow_server.uri, "-e", name, "--repo", str(pr.repo.path), "--base", "main")
    data = run("report", *common, "--format", "json").json()
    assert data["comparison"]["found"] is False
    assert data["baseline"]["jobs"] == 0 and data["delta"]["percent"] is None
    assert data["changes"][0]["change"] == "added"
    md = run("report", *common).out
    assert md.splitlines()[2].startswith(f"No MLflow run of the base, commit `{pr.merge_base[:7]}`, the merge-base "
                                         "with main, was found: there is nothing to compare with, so every run of "
                                         "this pull request counts as added (**+")


def test_base_and_git_range_together_is_a_usage_error(mlflow_server, pr: scenario.PullRequest):
    result = run("report", "--mlflow-uri", mlflow_server.uri, "--repo", str(pr.repo.path), "--base", "main",
                 "--git-range", "main..HEAD")
    assert result.code == 2
    assert "--base selects the pull request's commits itself" in result.err
