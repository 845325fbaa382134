"""action.yml end to end: its composite steps run as a GitHub runner runs them, against a real git repository and a
local server answering like GitHub's REST API (the only stand-in: GitHub cannot be reached from here).

The runner here is deliberately small: it evaluates the few `${{ }}` expressions action.yml uses (inputs, the
action's path and token, earlier steps' outputs, `==`/`!=` joined by `&&`), gives every step its own $GITHUB_OUTPUT
and $GITHUB_STEP_SUMMARY files as GitHub does, skips `uses:` steps (setup-python: this interpreter stands in; the
cache starts empty), and runs each `run:` with bash. The install step is the real one: the pinned uv from PyPI, the
wheel built from this checkout, its packages from the constraints file, and no MLflow (the manifest path needs none).
Exit codes the manifest path cannot produce here (3, 4) come from a stand-in `ci-carbon` in the runner's venv.
"""

from __future__ import annotations

import json
import os
import re
import shutil
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
        if "&&" in expression:
            return str(all(self.value(part.strip()) == "true" for part in expression.split("&&"))).lower()
        condition = re.fullmatch(r"([\w.-]+) (==|!=) '([^']*)'", expression)
        if condition:
            equal = self.value(condition[1]) == condition[3]
            return str(equal if condition[2] == "==" else not equal).lower()
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
                self.outputs[step_id] = {"python-path": sys.executable, "python-version": sys.version.split()[0]}
                continue
            if "if" in step and self.evaluate(step["if"]) != "true":
                continue
            if skip_install and step["run"].endswith((" install", " plan")):
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


def _steps(*names: str) -> list[tuple[str, dict]]:
    """The action's run steps whose script is `action.sh NAME`, with their ids."""
    steps = [(s.get("id", name), s) for name in names for s in ACTION["runs"]["steps"]
             if s.get("run", "").endswith(f"action.sh\" {name}")]
    assert len(steps) == len(names), names
    return steps


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """RUNNER_TEMP with ci-carbon installed by the action's own plan and install steps (shared by the tests here)."""
    temp = tmp_path_factory.mktemp("runner")
    runner = Runner(temp, temp, {**os.environ}, {})
    for step_id, step in _steps("plan", "install"):
        assert runner.step(step_id, step) == 0, runner.log
    assert runner.outputs["plan"]["key"].startswith("ci-carbon-venv-")
    venv_python = temp / "ci-carbon-venv" / "bin" / "python"
    assert (temp / "ci-carbon-venv" / "bin" / "ci-carbon").exists()
    # the manifest path's venv has no MLflow, no GitPython: everything below runs without them
    probe = subprocess.run([str(venv_python), "-c", "import importlib.util as u; print(u.find_spec('mlflow'), "
                            "u.find_spec('git'), u.find_spec('jinja2') is not None)"], capture_output=True, text=True)
    assert probe.stdout.split() == ["None", "None", "True"], probe.stderr
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
    assert outputs["exit-code"] == "0"
    assert outputs["comment-id"] == str(github.comments[0]["id"])
    assert outputs["comment-url"] == github.comments[0]["html_url"] != ""
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
    assert [name for name, code in runner.codes if code] == ["Gate"]
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


def _fake_venv(temp: Path, code: int, line: str, windows: bool = False) -> Path:
    """A stand-in ci-carbon in RUNNER_TEMP's venv that prints ``line`` and exits ``code`` (bin/, or Scripts/*.exe)."""
    folder = temp / "ci-carbon-venv" / ("Scripts" if windows else "bin")
    folder.mkdir(parents=True)
    exe = folder / ("ci-carbon.exe" if windows else "ci-carbon")
    exe.write_text(f"#!/bin/sh\necho {line!r} >&2\nexit {code}\n")
    exe.chmod(0o755)
    return exe


def test_bad_input_fails_the_check_with_its_cause_never_as_a_budget(installed, pull_request, github):
    workdir = Path(pull_request.working_tree_dir)
    (workdir / "jobs.yaml").write_text("version: 1\njobs:\n  - {name: a, hardware: A100 SXM4 40GB, hours: -3}\n")
    runner = Runner(workdir, installed, _env(github, "actions-token"), {"manifest": "jobs.yaml",
                                                                         "budget-fail-kg": "10"})
    assert runner.run(skip_install=True) == 2, runner.log
    assert [name for name, code in runner.codes if code] == ["Gate"]
    outputs = runner.action_outputs()
    assert outputs["exit-code"] == "2" and outputs["budget-status"] == "" and outputs["comment-id"] == ""
    assert github.comments == []  # no report: nothing to comment with
    error = next(line for line in runner.log.splitlines() if line.startswith("::error"))
    assert error == ("::error title=ci-carbon::bad input or usage (exit 2): ci-carbon: jobs.yaml:3: jobs[0].hours: "
                     "must be above 0 and at most 87600 hours, got -3")
    assert "budget" not in error
    assert "### ci-carbon: the report failed (exit 2, bad input or usage)" in runner.summary
    assert "ci-carbon: jobs.yaml:3: jobs[0].hours: must be above 0" in runner.summary


@pytest.mark.parametrize(("code", "cause"), [(3, "a source or the forge could not be reached"),
                                             (4, "internal error in ci-carbon (please report it with this log)"),
                                             (137, "ci-carbon failed with exit code 137")])
def test_unreachable_and_internal_errors_name_their_cause(tmp_path, code, cause, github):
    temp = tmp_path / "runner"
    _fake_venv(temp, code, "ci-carbon: <mlflow> at http://127.0.0.1:9 went away & did not answer")
    runner = Runner(tmp_path, temp, _env(github, "actions-token"), {"manifest": "jobs.yaml"})
    assert runner.run(skip_install=True) == code, runner.log
    assert [name for name, c in runner.codes if c] == ["Gate"]
    assert runner.action_outputs()["exit-code"] == str(code)
    error = next(line for line in runner.log.splitlines() if line.startswith("::error"))
    assert error == (f"::error title=ci-carbon::{cause} (exit {code}): ci-carbon: <mlflow> at http://127.0.0.1:9 "
                     "went away & did not answer")
    # the job summary says it too, with ci-carbon's own line made inert
    assert f"### ci-carbon: the report failed (exit {code}, {cause})" in runner.summary
    assert "ci-carbon: &lt;mlflow&gt; at http://127.0.0.1:9 went away &amp; did not answer" in runner.summary


def test_windows_venv_programs_are_in_scripts(tmp_path, github):
    temp = tmp_path / "runner"
    _fake_venv(temp, 4, "ci-carbon: internal error", windows=True)
    runner = Runner(tmp_path, temp, {**_env(github, "actions-token"), "RUNNER_OS": "Windows"},
                    {"manifest": "jobs.yaml"})
    assert runner.run(skip_install=True) == 4, runner.log
    assert runner.action_outputs()["exit-code"] == "4"


def test_a_failed_comment_keeps_the_summary_and_fails_with_its_cause(installed, pull_request, github):
    workdir = Path(pull_request.working_tree_dir)
    runner = Runner(workdir, installed, _env(github, "revoked-token"), {"manifest": "jobs.yaml"})
    assert runner.run(skip_install=True) == 2, runner.log
    assert [name for name, code in runner.codes if code] == ["Gate"]
    assert runner.action_outputs()["exit-code"] == "0"  # the report itself was fine
    assert "Training carbon footprint" in runner.summary
    assert "### ci-carbon: the comment failed (exit 2, bad input or usage)" in runner.summary
    error = next(line for line in runner.log.splitlines() if line.startswith("::error"))
    assert error.startswith("::error title=ci-carbon::the comment was not posted, bad input or usage (exit 2): ")
    assert "budget" not in error


def test_the_cached_environment_is_reused(installed, github):
    """A venv restored under the key it was built for is used as it is (a work tree with local changes gets a new
    key on every plan, so the key the fixture's install was made with is given again here)."""
    runner = Runner(installed, installed, {**os.environ}, {})
    runner.outputs["plan"] = {"key": (installed / "ci-carbon-venv" / ".ci-carbon-key").read_text()}
    (install_id, install), = _steps("install")
    assert runner.step(install_id, install) == 0, runner.log
    assert "ci-carbon: the cached environment is used (ci-carbon, version " in runner.log


@pytest.mark.parametrize(("inputs", "error"), [({"extras": "sql;curl evil"}, "extras: 'sql;curlevil' is not"),
                                               ({"version": "1.0 || true"}, "version: '1.0 || true' is not")])
def test_install_refuses_odd_extras_and_versions(tmp_path, inputs, error):
    runner = Runner(tmp_path, tmp_path, {**os.environ}, inputs)
    (install_id, install), = _steps("install")
    assert runner.step(install_id, install) == 2
    assert f"::error title=ci-carbon::{error}" in runner.log
    assert not (tmp_path / "ci-carbon-venv").exists()


def test_a_release_archive_installs_its_own_version(tmp_path):
    """An action checked out from a release archive (no .git) keys its venv on the tag that git wrote in."""
    action = tmp_path / "action"
    (action / "scripts").mkdir(parents=True)
    (action / ".git_archival.txt").write_text("node: 0123abcd\nnode-date: 2026-12-01T00:00:00Z\n"
                                              "describe-name: v1.2.3\n")
    env = {**os.environ, "CI_CARBON_ACTION_PATH": str(action), "GITHUB_OUTPUT": str(tmp_path / "out"),
           "RUNNER_TEMP": str(tmp_path), "INPUT_MLFLOW_URI": "http://mlflow:5000", "INPUT_EXTRAS": "sql"}
    subprocess.run(["bash", str(ROOT / "scripts" / "action.sh"), "plan"], env=env, check=True)
    key = (tmp_path / "out").read_text().strip()
    assert re.fullmatch(r"key=ci-carbon-venv-2-\w+-\w+-v1\.2\.3-sql\+mlflow-[0-9a-f]{16}", key), key
    (action / ".git_archival.txt").write_text("node: 0123abcd\ndescribe-name: v1.2.3-4-g0123abcd\n")
    (tmp_path / "out").write_text("")
    subprocess.run(["bash", str(ROOT / "scripts" / "action.sh"), "plan"], env=env, check=True)
    assert "-0123abcd-sql+mlflow-" in (tmp_path / "out").read_text()  # not a release: keyed on the commit


def test_a_release_not_on_the_index_is_built_from_the_action(tmp_path):
    """A release archive (v9.8.7 filled in by git) whose wheel the index does not have: the action says so and
    builds its own code, which then carries the archive's version."""
    action = tmp_path / "action"
    action.mkdir()
    for name in ("ci_carbon", "data", "templates", "scripts"):
        shutil.copytree(ROOT / name, action / name, ignore=shutil.ignore_patterns("__pycache__", "_version.py"))
    for name in ("pyproject.toml", "hatch_build.py", "README.md"):
        shutil.copy(ROOT / name, action / name)
    (action / ".git_archival.txt").write_text("node: 0123456789abcdef0123456789abcdef01234567\n"
                                              "node-date: 2026-12-01T10:00:00+00:00\ndescribe-name: v9.8.7\n")
    temp = tmp_path / "runner"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "CI_CARBON", "INPUT_"))}
    env.update(CI_CARBON_ACTION_PATH=str(action), CI_CARBON_PYTHON=sys.executable, RUNNER_TEMP=str(temp))
    proc = subprocess.run(["bash", str(action / "scripts" / "action.sh"), "install"], env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "::notice title=ci-carbon::ci-carbon 9.8.7 is not on the package index; building it" in proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "ci-carbon, version 9.8.7"
