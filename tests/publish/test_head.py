"""`comment --head-sha SHA --head-branch BRANCH`: the fork-safe workflow_run job finds its pull request through the
API (GET /repos/{o}/{r}/commits/{sha}/pulls), never from the fork's artifact, and refuses when anything disagrees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ci_carbon.publish.forge import Head, resolve
from tests.publish.conftest import WORKFLOW_RUN, github_env, gitlab_env, run_comment
from tests.publish.fake_forge import FakeGitHub, FakeGitLab

SHA = "3484a3fb816e0859fd6e1cea078d76385ff50625"  # workflow_run.head_sha of the bundled event
OTHER = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
REPO = "/repos/Codertocat/Hello-World"


def fork_event(tmp_path: Path) -> Path:
    """The workflow_run event of a fork's pull request: GitHub leaves pull_requests empty for those."""
    event = json.loads(WORKFLOW_RUN.read_text(encoding="utf-8"))
    event["workflow_run"].update(pull_requests=[], event="pull_request", head_sha=SHA, head_branch="fix-typo")
    path = tmp_path / "fork.workflow_run.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    return path


def env(fake: FakeGitHub, tmp_path: Path, event: Path | None = None) -> dict[str, str]:
    return github_env(fake, event or fork_event(tmp_path), GITHUB_EVENT_NAME="workflow_run",
                      CI_CARBON_REPORT_TIME="2026-07-01T12:00:00Z")


def body(tmp_path: Path) -> str:
    path = tmp_path / "report.md"
    path.write_text("### 🌱 report\n", encoding="utf-8")
    return str(path)


def test_the_pull_request_comes_from_the_api(github: FakeGitHub, tmp_path: Path):
    github.heads = {2: (SHA, "fix-typo", "open")}
    result = run_comment("--body-file", body(tmp_path), "--head-sha", SHA, "--head-branch", "fix-typo",
                         env=env(github, tmp_path))
    assert result.code == 0, result.err
    assert [r.line for r in github.requests][:2] == [f"GET {REPO}/commits/{SHA}/pulls?per_page=100", "GET /user"]
    assert len(github.comments) == 1 and github.comments[0]["number"] == 2


def test_a_head_that_moved_on_still_finds_its_pull_request(github: FakeGitHub, tmp_path: Path):
    github.heads, github.history = {2: (OTHER, "fix-typo", "open")}, {2: (SHA,)}
    result = run_comment("--body-file", body(tmp_path), "--head-sha", SHA, "--head-branch", "fix-typo",
                         env=env(github, tmp_path))
    assert result.code == 0, result.err
    assert github.comments[0]["number"] == 2


def test_a_branch_that_disagrees_is_refused(github: FakeGitHub, tmp_path: Path):
    github.heads = {2: (SHA, "fix-typo", "open")}
    result = run_comment("--body-file", body(tmp_path), "--head-sha", SHA, "--head-branch", "main",
                         env=env(github, tmp_path))
    assert result.code == 2 and result.out == "" and github.writes() == []
    assert result.err == (f"ci-carbon: --head-sha: the open pull requests with commit {SHA} are not from branch "
                          "'main': the head SHA and branch disagree, so nothing is posted.\n")


def test_a_pr_number_that_disagrees_is_refused(github: FakeGitHub, tmp_path: Path):
    github.pulls.add(5)
    github.heads = {2: (SHA, "fix-typo", "open")}
    result = run_comment("--body-file", body(tmp_path), "--head-sha", SHA, "--pr", "5", env=env(github, tmp_path))
    assert result.code == 2 and github.writes() == []
    assert result.err == (f"ci-carbon: --head-sha: pull request 5 is not the one with commit {SHA} "
                          "(Codertocat/Hello-World): they disagree, so nothing is posted.\n")


def test_the_events_own_number_must_agree_too(github: FakeGitHub, tmp_path: Path):
    event = json.loads(WORKFLOW_RUN.read_text(encoding="utf-8"))  # pull_requests: [#2]
    github.heads = {7: (SHA, "master", "open")}
    path = tmp_path / "same-repo.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    result = run_comment("--body-file", body(tmp_path), "--head-sha", SHA, env=env(github, tmp_path, path))
    assert result.code == 2 and "pull request 2 is not the one with commit" in result.err
    assert github.writes() == []


def test_no_open_pull_request_is_refused(github: FakeGitHub, tmp_path: Path):
    github.heads = {2: (SHA, "fix-typo", "closed")}
    result = run_comment("--body-file", body(tmp_path), "--head-sha", SHA, env=env(github, tmp_path))
    assert result.code == 2 and github.writes() == []
    assert result.err == (f"ci-carbon: --head-sha: no open pull request in Codertocat/Hello-World has commit {SHA}: "
                          "nothing to post to, and a number from the run's artifact is not trusted.\n")


@pytest.mark.parametrize(("args", "line"), [
    (["--head-sha", "not-a-sha"], "ci-carbon: --head-sha: 'not-a-sha' is not a commit SHA (7 to 64 hexadecimal "
                                  "digits).\n"),
    (["--head-sha", "../../user"], "ci-carbon: --head-sha: '../../user' is not a commit SHA (7 to 64 hexadecimal "
                                   "digits).\n"),
    (["--head-branch", "main"], "ci-carbon: --head-branch: needs --head-sha SHA beside it\n"),
])
def test_bad_head_options_are_one_line(github: FakeGitHub, tmp_path: Path, args: list[str], line: str):
    result = run_comment("--body-file", body(tmp_path), *args, env=env(github, tmp_path))
    assert (result.code, result.err) == (2, line) and github.requests == []


def test_gitlab_finds_the_merge_request_of_a_commit(gitlab: FakeGitLab, tmp_path: Path):
    gitlab.heads = {7: (SHA, "feature", "opened")}
    result = run_comment("--body-file", body(tmp_path), "--head-sha", SHA, "--head-branch", "feature",
                         env=gitlab_env(gitlab, CI_MERGE_REQUEST_IID=""))
    assert result.code == 0, result.err
    assert gitlab.requests[0].line == f"GET /api/v4/projects/42/repository/commits/{SHA}/merge_requests"
    assert len(gitlab.comments) == 1 and gitlab.comments[0]["noteable_iid"] == 7


H = Head(2, SHA, "fix-typo")


@pytest.mark.parametrize(("heads", "branch", "given", "expected"), [
    ([H], "fix-typo", None, 2),
    ([H], None, 2, 2),
    ([], None, None, "none"),
    ([Head(2, SHA, "fix-typo", open=False)], None, None, "none"),
    ([H], "main", None, "branch"),
    ([H, Head(3, SHA, "fix-typo")], "fix-typo", None, "several"),
    ([H, Head(3, OTHER, "fix-typo")], "fix-typo", None, 2),  # the exact head wins over one that moved on
    ([H], None, 3, "given"),
])
def test_resolve_rule(heads: list[Head], branch: str | None, given: int | None, expected: int | str):
    assert resolve(heads, SHA, branch, given) == expected


def test_a_dry_run_prints_the_lookup_and_sends_nothing(github: FakeGitHub, tmp_path: Path):
    result = run_comment("--body-file", body(tmp_path), "--head-sha", SHA, "--pr", "2", "--dry-run",
                         env=env(github, tmp_path))
    assert result.code == 0, result.err
    assert github.requests == []
    assert result.out.startswith(f"# Dry run: --head-sha would first look up the pull request with GET {github.url}"
                                 f"{REPO}/commits/{SHA}/pulls?per_page=100, then post to #2 if it agrees.\n# Dry run:")
