"""Fixtures for the comment tests: fake forges on 127.0.0.1, the real command in a subprocess, real report bodies."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, Result, run_cli
from tests.publish.fake_forge import FakeGitHub, FakeGitLab, Serving

DATA = Path(__file__).resolve().parent / "data"
OPENED = DATA / "pull_request.opened.json"  # pull_request.updated_at 2019-05-15T15:20:33Z
SYNCHRONIZE = DATA / "pull_request.synchronize.json"  # the same time
LABELED = DATA / "pull_request.labeled.json"  # 2019-05-15T15:20:35Z, two seconds later
WORKFLOW_RUN = DATA / "workflow_run.completed.with-pull-requests.json"
COMMAND = [sys.executable, "-m", "ci_carbon", "comment"]
_CI_PREFIXES = ("GITHUB_", "GITLAB", "CI_", "RUNNER_", "ACTIONS_")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any CI variables (the tests may themselves run in CI), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CI_PREFIXES) and k not in ("CI", "GITLAB_CI")}
    env.update(extra)
    return env


def run_comment(*args: str, env: dict[str, str], stdin: str | None = None) -> Result:
    """`ci-carbon comment` as a CI job runs it: a new process, real exit code, real stdout and stderr."""
    proc = subprocess.run(COMMAND + list(args), capture_output=True, text=True, cwd=ROOT, env=env, input=stdin,
                          timeout=120)
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    serving = Serving(fake)
    yield fake
    serving.close()


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    fake = FakeGitLab()
    serving = Serving(fake)
    yield fake
    serving.close()


def github_env(fake: FakeGitHub, event: Path = OPENED, token: str | None = "pat-token", **extra: str) -> dict[str, str]:
    """The variables GitHub Actions sets for a pull_request job, pointing at the fake."""
    env = clean_env(**{"GITHUB_API_URL": fake.url, "GITHUB_REPOSITORY": fake.repository,
                       "GITHUB_EVENT_PATH": str(event), "GITHUB_EVENT_NAME": "pull_request", "GITHUB_WORKFLOW": "CI",
                       "GITHUB_JOB": "carbon", **extra})
    if token is not None:
        env["GITHUB_TOKEN"] = token
    return env


def gitlab_env(fake: FakeGitLab, token: str | None = "glpat-good", **extra: str) -> dict[str, str]:
    """The variables GitLab CI sets for a merge request pipeline job, pointing at the fake."""
    env = clean_env(**{"GITLAB_CI": "true", "CI_API_V4_URL": f"{fake.url}/api/v4", "CI_PROJECT_ID": "42",
                       "CI_PROJECT_URL": "https://gitlab.example.com/group/project",
                       "CI_PROJECT_PATH": "group/project", "CI_MERGE_REQUEST_IID": "7",
                       "CI_PIPELINE_SOURCE": "merge_request_event", "CI_PIPELINE_CREATED_AT": "2026-07-01T12:00:00Z",
                       "CI_JOB_NAME": "carbon", **extra})
    if token is not None:
        env["GITLAB_TOKEN"] = token
    return env


def many_jobs_manifest(path: Path, jobs: int = 400) -> Path:
    """A manifest of many jobs with long names: its Markdown report is several times GitHub's comment limit."""
    devices = ["A100 SXM4 40GB", "Tesla T4", "H100 SXM5 80GB", "Tesla V100 SXM2 32GB"]
    places = [("gcp", "us-central1"), ("aws", "us-east-1"), ("azure", "eastus"), ("gcp", "europe-west4")]
    entries = [{"name": f"team-{i % 7}/experiment-{i:04d}-" + "very-long-descriptive-name-segment-" * 3 + str(i),
                "hardware": devices[i % 4], "count": 1 + i % 8, "hours": 1 + i % 37, "provider": places[i % 4][0],
                "region": places[i % 4][1], "runs": 1 + i % 12} for i in range(jobs)]
    path.write_text(yaml.safe_dump({"version": 1, "jobs": entries}), encoding="utf-8")
    return path


def report_body(manifest: Path, out: Path) -> Path:
    """The Markdown report of ``manifest`` as `ci-carbon report` renders it, written to ``out`` (the JSON report
    beside it, as ``out`` with the suffix .json)."""
    result = run_cli("report", "--manifest", str(manifest), "--output", str(out), "--json-output",
                     str(out.with_suffix(".json")))
    assert result.code == 0, result.err
    return out


@pytest.fixture(scope="session")
def example_body(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return report_body(ROOT / "examples" / "jobs.yaml", tmp_path_factory.mktemp("example") / "report.md")


@pytest.fixture(scope="session")
def big_body(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("big")
    return report_body(many_jobs_manifest(folder / "jobs.yaml"), folder / "report.md")


@pytest.fixture(scope="session")
def example_report(example_body: Path) -> Path:
    """The JSON report of the bundled example, written beside its Markdown by the same `ci-carbon report`."""
    return example_body.with_suffix(".json")


@pytest.fixture(scope="session")
def big_report(big_body: Path) -> Path:
    return big_body.with_suffix(".json")
