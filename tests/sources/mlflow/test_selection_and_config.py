"""Selecting runs (git ranges, dates) and an organisation's own names from ci-carbon.yaml, on a real server."""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path

import git
import mlflow
import pytest

from tests.conftest import run_cli

T0 = 1_782_864_000_000  # 2026-07-01T00:00:00Z


@pytest.fixture(scope="module")
def repo_and_runs(mlflow_server, tmp_path_factory):
    """A real git repository with three commits, and one run per commit (plus one from before, in June)."""
    path: Path = tmp_path_factory.mktemp("repo")
    repo = git.Repo.init(path)
    shas = []
    for i in range(3):
        (path / "train.py").write_text(f"lr = {i}\n")
        repo.index.add(["train.py"])
        shas.append(repo.index.commit(f"change {i}", author=git.Actor("a", "a@example.org")).hexsha)
    client = mlflow.MlflowClient(mlflow_server.uri)
    name = f"select-{uuid.uuid4().hex[:8]}"
    exp = client.create_experiment(name)
    for i, sha in enumerate(shas):
        run = client.create_run(exp, start_time=T0 + i * 86_400_000, run_name=f"run-{i}",
                                tags={"mlflow.source.git.commit": sha, "accel_model": "Tesla T4",
                                      "org.site": "FR"})
        client.set_terminated(run.info.run_id, end_time=T0 + i * 86_400_000 + 3_600_000)
    early = client.create_run(exp, start_time=T0 - 10 * 86_400_000, run_name="june",
                              tags={"accel_model": "Tesla T4"})
    client.set_terminated(early.info.run_id, end_time=T0 - 10 * 86_400_000 + 3_600_000)
    return mlflow_server, name, path, shas


def names(result) -> list[str]:
    assert result.code == 0, result.err
    return sorted(j["name"] for j in result.json()["jobs"])


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ci-carbon.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_org_names_from_config_and_defaults(repo_and_runs, tmp_path):
    server, name, _, _ = repo_and_runs
    cfg = config(tmp_path, """\
        version: 1
        mlflow:
          fields:
            hardware: [accel_model]
            country: [org.site]
          defaults: {country: DE}
        """)
    data = run_cli("report", "--mlflow-uri", server.uri, "-e", name, "--config", str(cfg), "--format", "json").json()
    jobs = {j["name"]: j for j in data["jobs"]}
    assert set(jobs) == {"run-0", "run-1", "run-2", "june"}
    assert jobs["run-0"]["location"] == "France" and jobs["june"]["location"] == "Germany"
    assert "default_country" in jobs["june"]["guessed"] and "default_country" not in jobs["run-0"]["guessed"]
    # without the config the same runs say no hardware anyone knows: all listed as not estimated
    bare = run_cli("report", "--mlflow-uri", server.uri, "-e", name, "--format", "json").json()
    assert bare["jobs"] == [] and {s["code"] for s in bare["skipped"]} == {"no_hardware"}


def test_git_range_selects_the_commits_runs(repo_and_runs, tmp_path):
    server, name, path, shas = repo_and_runs
    cfg = config(tmp_path, "version: 1\nmlflow: {fields: {hardware: [accel_model]}}\n")
    common = ("report", "--mlflow-uri", server.uri, "-e", name, "--config", str(cfg), "--format", "json")
    assert names(run_cli(*common, "--git-range", f"{shas[0]}..{shas[2]}", "--repo", str(path))) == ["run-1", "run-2"]
    assert names(run_cli(*common, "--git-commit", shas[1][:8])) == ["run-1"]
    bad = run_cli(*common, "--git-range", "nope..HEAD", "--repo", str(path))
    assert bad.code == 2 and bad.err.startswith(f"ci-carbon: {path}: --git-range: cannot resolve 'nope..HEAD'")


def test_since_and_until_in_utc(repo_and_runs, tmp_path):
    server, name, _, _ = repo_and_runs
    cfg = config(tmp_path, "version: 1\nmlflow: {fields: {hardware: [accel_model]}}\n")
    common = ("report", "--mlflow-uri", server.uri, "-e", name, "--config", str(cfg), "--format", "json")
    assert names(run_cli(*common, "--since", "2026-07-01")) == ["run-0", "run-1", "run-2"]
    assert names(run_cli(*common, "--since", "2026-07-01", "--until", "2026-07-02T00:00:00Z")) == ["run-0"]
    assert names(run_cli(*common, "--until", "2026-07-01")) == ["june"]
    bad = run_cli(*common, "--since", "July")
    assert bad.code == 2 and "'July' is not a date" in bad.err


def test_bad_config_is_one_line_with_its_line(tmp_path):
    cfg = config(tmp_path, """\
        version: 1
        mlflow:
          fields:
            hardwre: [gpu]
        """)
    result = run_cli("report", "--mlflow-uri", "sqlite:///nowhere.db", "--config", str(cfg))
    assert result.code == 2
    assert result.err == (f"ci-carbon: {cfg}:4: mlflow.fields.hardwre: unknown field (did you mean 'hardware'?)\n")


def test_mlflow_filter_is_passed_to_the_search(repo_and_runs, tmp_path):
    server, name, _, shas = repo_and_runs
    cfg = config(tmp_path, "version: 1\nmlflow: {fields: {hardware: [accel_model]}}\n")
    query = f"tags.`mlflow.source.git.commit` = '{shas[2]}'"
    for uri in (server.uri, server.backend):  # the SQL store falls back to the client for MLflow's filter syntax
        result = run_cli("report", "--mlflow-uri", uri, "-e", name, "--config", str(cfg), "--filter", query,
                         "--format", "json")
        assert names(result) == ["run-2"]
        assert result.json()["source"]["reader"] == "client"
