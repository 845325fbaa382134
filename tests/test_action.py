"""action.yml end to end: its composite steps run as a GitHub runner runs them, against a real git repository and a
local server answering like GitHub's REST API (the only stand-in: GitHub cannot be reached from here).

The runner here is deliberately small: it evaluates the few `${{ }}` expressions action.yml uses (inputs, the
action's path and token, earlier steps' outputs), gives every step its own $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY
files as GitHub does, skips `uses:` steps (setup-python: this interpreter stands in), and runs each `run:` with bash.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import git
import pytest
import yaml

from tests.conftest import ROOT
from tests.publish.fake_forge import FakeGitHub, Serving

ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
EVENT = ROOT / "tests" / "publish" / "data" / "pull_request.opened.json"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
BASE_MANIFEST = """\
version: 1
defaults: {provider: gcp, region: us-central1}
jobs:
  - {name: bert-finetune, hardware: A100 SXM4 40GB, count: 8, hours: 10}
"""


def parse_outputs(text: str) -> dict[str, str]:
    """A $GITHUB_OUTPUT file: name=value lines and name<<DELIMITER heredocs."""
    out: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            for value in lines:
                if value == delimiter:
                    break
                body.append(value)
            out[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
    return out


class Runner:
    def __init__(self, workdir: Path, temp: Path, env: dict[str, str], inputs: dict[str, str]):
        self.workdir, self.temp, self.env = workdir, temp, env
        defaults = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
        self.inputs = {**defaults, **inputs}
        self.outputs: dict[str, dict[str, str]] = {}
        self.summary = ""
        self.codes: list[tuple[str, int]] = []

    def value(self, expression: str) -> str:
        condition = re.fullmatch(r"inputs\.([\w-]+) != '([^']*)'", expression)
        if condition:
            return str(self.inputs[condition[1]] != condition[2]).lower()
        if expression.startswith("inputs."):
            return self.evaluate(self.inputs[expression[len("inputs."):]])
        if expression == "github.action_path":
            return str(ROOT)
        if expression == "github.token":
            return self.env.get("GITHUB_TOKEN", "")
        match = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression)
        if match:
            return self.outputs.get(match[1], {}).get(match[2], "")
        raise AssertionError(f"expression the mini-runner does not know: {expression}")

    def evaluate(self, text: str) -> str:
        return EXPRESSION.sub(lambda m: self.value(m[1]), str(text))

    def run(self, skip_install: bool = False) -> int:
        """Run every step; return the exit code of the first failing step (0 when all pass)."""
        for index, step in enumerate(ACTION["runs"]["steps"]):
            step_id = step.get("id", f"step{index}")
            if "uses" in step:
                self.outputs[step_id] = {"python-path": sys.executable}
                continue
            if "if" in step and self.evaluate(step["if"]) != "true":
                continue
            if skip_install and "install" in step["run"]:
                continue
            code = self.step(step_id, step)
            self.codes.append((step["name"], code))
            if code:
                return code
        return 0

    def step(self, step_id: str, step: dict) -> int:
        output, summary = self.temp / f"{step_id}.output", self.temp / f"{step_id}.summary"
        output.write_text("")
        summary.write_text("")
        env = {**self.env, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
               "GITHUB_ACTION_PATH": str(ROOT), "RUNNER_TEMP": str(self.temp)}
        env.update({name: self.evaluate(value) for name, value in step.get("env", {}).items()})
        proc = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=self.workdir, env=env, capture_output=True,
                              text=True, timeout=600)
        self.log = getattr(self, "log", "") + proc.stdout + proc.stderr
        self.outputs[step_id] = parse_outputs(output.read_text())
        self.summary += summary.read_text()
        return proc.returncode

    def action_outputs(self) -> dict[str, str]:
        return {name: self.evaluate(spec["value"]) for name, spec in ACTION["outputs"].items()}


def test_no_expression_is_expanded_inside_a_script():
    for step in ACTION["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], step["name"]
            assert step["shell"] == "bash"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """RUNNER_TEMP with ci-carbon installed by the action's own install step (shared by the tests here)."""
    temp = tmp_path_factory.mktemp("runner")
    runner = Runner(temp, temp, {**os.environ}, {})
    install = next(s for s in ACTION["runs"]["steps"] if "run" in s and "install" in s["run"])
    assert runner.step("install", install) == 0, runner.log
    assert (temp / "ci-carbon-venv" / "bin" / "ci-carbon").exists()
    return temp


@pytest.fixture
def pull_request(tmp_path: Path):
    """An origin repository with master, and a clone on a feature branch that adds a job (the PR)."""
    origin_path = tmp_path / "origin"
    origin = git.Repo.init(origin_path, initial_branch="master")
    (origin_path / "jobs.yaml").write_text(BASE_MANIFEST)
    origin.index.add(["jobs.yaml"])
    origin.index.commit("base manifest", author=git.Actor("a", "a@example.org"))
    work = git.Repo.clone_from(str(origin_path), tmp_path / "work")
    work.git.checkout("-b", "feature")
    manifest = Path(work.working_tree_dir) / "jobs.yaml"
    manifest.write_text(BASE_MANIFEST + "  - {name: t5-pretrain, hardware: Tesla T4, count: 4, hours: 20}\n")
    work.index.add(["jobs.yaml"])
    work.index.commit("add a job", author=git.Actor("a", "a@example.org"))
    return work


def _env(fake: FakeGitHub, token: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "CI_CARBON"))}
    env.update(GITHUB_API_URL=fake.url, GITHUB_REPOSITORY=fake.repository, GITHUB_EVENT_PATH=str(EVENT),
               GITHUB_EVENT_NAME="pull_request", GITHUB_BASE_REF="master", GITHUB_WORKFLOW="carbon",
               GITHUB_JOB="report", GITHUB_TOKEN=token, GITHUB_ACTIONS="true")
    return env


@pytest.fixture
def github():
    fake = FakeGitHub()
    serving = Serving(fake)
    yield fake
    serving.close()


def test_pr_gets_one_comment_with_the_delta_and_a_push_updates_it(installed, pull_request, github):
    workdir = Path(pull_request.working_tree_dir)
    runner = Runner(workdir, installed, _env(github, "actions-token"), {"manifest": "jobs.yaml",
                                                                         "budget-fail-kg": "1000"})
    assert runner.run(skip_install=True) == 0, runner.log
    posts = [r for r in github.writes() if r.method == "POST"]
    assert len(posts) == 1 and len(github.comments) == 1
    body = github.comments[0]["body"]
    assert body.startswith("<!-- ci-carbon:comment v1 ")
    report = json.loads((installed / "ci-carbon" / "report.json").read_text())
    outputs = runner.action_outputs()
    assert float(outputs["total-kg"]) == pytest.approx(report["totals"]["emissions_kg"], rel=1e-6)
    added = next(c for c in report["changes"] if c["name"] == "t5-pretrain")
    assert float(outputs["delta-kg"]) == pytest.approx(added["delta_kg"], abs=1e-6)
    assert outputs["budget-status"] == "pass" and outputs["json-path"].endswith("report.json")
    assert "t5\\-pretrain" in body or "t5-pretrain" in body
    assert "Training carbon footprint" in runner.summary
    # the developer pushes again: the same comment is edited, no second one
    manifest = workdir / "jobs.yaml"
    manifest.write_text(manifest.read_text().replace("hours: 20", "hours: 30"))
    pull_request.index.add(["jobs.yaml"])
    pull_request.index.commit("longer", author=git.Actor("a", "a@example.org"))
    again = Runner(workdir, installed, _env(github, "actions-token"), {"manifest": "jobs.yaml"})
    assert again.run(skip_install=True) == 0, again.log
    assert len(github.comments) == 1
    patches = [r for r in github.writes() if r.method == "PATCH"]
    assert len(patches) == 1 and patches[0].path.endswith(f"/issues/comments/{github.comments[0]['id']}")


def test_budget_fail_still_comments_then_fails_the_check(installed, pull_request, github):
    workdir = Path(pull_request.working_tree_dir)
    runner = Runner(workdir, installed, _env(github, "actions-token"),
                    {"manifest": "jobs.yaml", "budget-fail-kg": "0.5"})
    assert runner.run(skip_install=True) == 1, runner.log
    assert [name for name, code in runner.codes if code] == ["Budget gate"]
    assert len(github.comments) == 1
    assert runner.action_outputs()["budget-status"] == "fail"
    assert "::error" in runner.log


def test_fork_read_only_token_writes_the_summary_and_passes(installed, pull_request, github):
    workdir = Path(pull_request.working_tree_dir)
    runner = Runner(workdir, installed, _env(github, "read-only-token"), {"manifest": "jobs.yaml"})
    assert runner.run(skip_install=True) == 0, runner.log
    assert github.comments == []
    assert "Training carbon footprint" in runner.summary
    assert "read-only" in runner.summary or "fork" in runner.summary
