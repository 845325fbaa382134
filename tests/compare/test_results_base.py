"""`report --mlflow-uri … --base REF --metric …`: the pull request's best run against the merge-base's best run,
in one line of the comment, on a real server and a real repository (tests/compare/scenario.py)."""

from __future__ import annotations

import uuid

import mlflow
import pytest

from ci_carbon.render.filters import dmass, mass
from tests.compare import scenario
from tests.compare.conftest import Repo, run

T0 = 1_780_000_000_000  # ms; a fixed start so that durations are exact
HOUR = 3_600_000


def _log(client: mlflow.MlflowClient, experiment: str, name: str, commit: str, hours: float, accuracy: float) -> None:
    tags = {"mlflow.source.git.commit": commit, "gpu": "Tesla T4", "cloud": "gcp", "region": "us-central1"}
    created = client.create_run(experiment, start_time=T0, tags=tags, run_name=name)
    client.log_metric(created.info.run_id, "val_accuracy", accuracy)
    client.set_terminated(created.info.run_id, end_time=T0 + int(hours * HOUR))


@pytest.fixture
def pr(repo: Repo) -> scenario.PullRequest:
    return scenario.build(repo)


def test_best_run_of_the_pull_request_against_the_best_run_of_the_base(mlflow_server, pr: scenario.PullRequest):
    client = mlflow.MlflowClient(mlflow_server.uri)
    name = f"best-{uuid.uuid4().hex[:8]}"
    experiment = client.create_experiment(name)
    _log(client, experiment, "base-a", pr.merge_base, 2, 0.81)  # the base's best: 0.85 at 3 h
    _log(client, experiment, "base-b", pr.merge_base, 3, 0.85)
    _log(client, experiment, "pr-a", pr.head, 5, 0.89)  # the pull request's best: 0.89 at 5 h
    _log(client, experiment, "pr-b", pr.head, 1, 0.80)
    common = ("--mlflow-uri", mlflow_server.uri, "-e", name, "--repo", str(pr.repo.path), "--metric", "val_accuracy",
              "--base", "main")
    data = run("report", *common, "--format", "json").json()
    change = data["results"]["against_base"]
    kg = {j["name"]: j["emissions_kg"] for j in data["jobs"]}
    assert (change["head"]["name"], change["base"]["name"]) == ("pr-a", "base-b")
    assert change["value_change"] == pytest.approx(0.04, abs=1e-6)  # 0.89 − 0.85
    # the same T4 in the same region: 5 h against 3 h, so the best run's kg grows by 2/3 of the base's
    assert change["emissions_kg_change"] == pytest.approx(kg["pr-a"] * 2 / 5, rel=1e-5)
    md = run("report", *common).out.splitlines()
    line = next(x for x in md if x.startswith("**Best run:"))
    assert line == (f"**Best run: +0.04 val\\_accuracy for {dmass(kg['pr-a'] * 2 / 5)} CO2eq** (pr-a: 0.89, "
                    f"{mass(kg['pr-a'])}; the base's best, base-b: 0.85, {mass(kg['pr-a'] * 3 / 5)}).")
