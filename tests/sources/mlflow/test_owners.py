"""Nested runs take their parents' team and project: the rank rule, and chains through a real server."""

from __future__ import annotations

import uuid

import pytest
from mlflow import MlflowClient

from ci_carbon.core.settings import MlflowConfig
from ci_carbon.sources.mlflow.mapping import inherit
from ci_carbon.sources.mlflow.records import Selection
from tests.sources.mlflow.conftest import read_runs

T0 = 1_767_225_600_000
HOUR = 3_600_000
CONFIG = MlflowConfig(team=("team", "mlflow.user"), project=("project",))


@pytest.mark.parametrize(("own", "parent", "merged"), [
    ({"team": (1, "root")}, {"team": (0, "vision")}, {"team": (0, "vision")}),  # a tag beats the child's user
    ({"team": (0, "platform")}, {"team": (0, "vision")}, {"team": (0, "platform")}),  # a tie: the child's own
    ({"team": (0, "platform")}, {"team": (1, "ada")}, {"team": (0, "platform")}),
    ({}, {"team": (1, "ada"), "project": (0, "resnet")}, {"team": (1, "ada"), "project": (0, "resnet")}),
    ({"project": (0, "bert")}, {"team": (0, "nlp")}, {"team": (0, "nlp"), "project": (0, "bert")}),
    ({"team": (1, "root")}, {}, {"team": (1, "root")}),
])
def test_the_better_ranked_name_wins_and_the_child_on_a_tie(own, parent, merged):
    assert inherit(own, parent) == merged


def _run(client: MlflowClient, experiment: str, name: str, start: int, tags: dict[str, str]) -> str:
    run_id = client.create_run(experiment, start_time=start, run_name=name,
                               tags={"gpu": "Tesla T4", **tags}).info.run_id
    client.set_terminated(run_id, end_time=start + HOUR)
    return run_id


@pytest.fixture(scope="module")
def chains(mlflow_server) -> tuple[str, dict[str, str]]:
    """grandparent (team, project) → parent (its own project) → child (nothing but its OS user); and two runs that
    name each other as parent, as a damaged store might."""
    client = MlflowClient(mlflow_server.uri)
    name = f"owners-{uuid.uuid4().hex[:8]}"
    experiment = client.create_experiment(name)
    runs = {"grandparent": _run(client, experiment, "search", T0, {"team": "research", "project": "x"})}
    runs["parent"] = _run(client, experiment, "stage", T0 + 1, {"project": "y", "mlflow.user": "ada",
                                                                "mlflow.parentRunId": runs["grandparent"]})
    runs["child"] = _run(client, experiment, "trial", T0 + 2, {"mlflow.user": "root",
                                                               "mlflow.parentRunId": runs["parent"]})
    runs["loop_a"] = _run(client, experiment, "loop-a", T0 + 3, {"mlflow.user": "eve"})
    runs["loop_b"] = _run(client, experiment, "loop-b", T0 + 4, {"mlflow.user": "mallory",
                                                                 "mlflow.parentRunId": runs["loop_a"]})
    client.set_tag(runs["loop_a"], "mlflow.parentRunId", runs["loop_b"])
    return name, runs


def test_chains_resolve_through_every_level_on_both_paths(mlflow_server, chains):
    """The child is the grandparent's team and the parent's project; the looped pair ends, each its own user.
    The parent and grandparent are skipped (they have children): only the child and the loop are jobs; selecting
    only the child (by id) still finds its ancestors."""
    name, runs = chains
    for uri, kind in ((mlflow_server.backend, "sql"), (mlflow_server.uri, "client")):
        read = read_runs(uri, Selection(experiments=(name,)), CONFIG)
        assert read.reader == kind
        assert {s.id: (s.tags.get("team"), s.tags.get("project")) for s in read.specs} == {
            runs["child"]: ("research", "y")}, uri
        assert {s.id for s in read.skipped} == {runs["grandparent"], runs["parent"], runs["loop_a"],
                                                   runs["loop_b"]}
        alone = read_runs(uri, Selection(run_ids=(runs["child"],)), CONFIG)
        assert [(s.tags["team"], s.tags["project"], s.tags["user"]) for s in alone.specs] == [("research", "y", "root")]
        looped = read_runs(uri, Selection(run_ids=(runs["loop_b"],)), CONFIG)
        assert [(s.tags["team"], s.tags.get("project")) for s in looped.specs] == [("mallory", None)], uri
