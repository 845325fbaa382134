"""`ci-carbon comment` against a local server that answers like GitHub's REST API, through the real command line."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from tests.publish.conftest import (
    LABELED,
    OPENED,
    SYNCHRONIZE,
    WORKFLOW_RUN,
    github_env,
    run_comment,
)
from tests.publish.fake_forge import Answer, FakeGitHub
from tests.publish.structure import problems

REPO = "/repos/Codertocat/Hello-World"
LIST = f"GET {REPO}/issues/2/comments?per_page=100"
CREATE = f"POST {REPO}/issues/2/comments"
MARKER = "<!-- ci-carbon:comment v1 key=CI%2Fcarbon time=2019-05-15T15:20:33Z -->"  # OPENED, GITHUB_WORKFLOW/JOB


def lines(fake: FakeGitHub) -> list[str]:
    return [r.line for r in fake.requests]


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def other_body(tmp_path: Path) -> Path:
    path = tmp_path / "other.md"
    path.write_text("### 🌱 Training carbon footprint: **1 kg CO2eq**\n\n| Job |\n|---|\n| a |\n", encoding="utf-8")
    return path


def test_creates_the_comment_with_exactly_these_requests(github: FakeGitHub, example_body: Path):
    result = run_comment("--body-file", str(example_body), env=github_env(github))
    assert result.code == 0, result.err
    assert lines(github) == ["GET /user", LIST, CREATE, LIST]  # the second listing settles a race (test_race.py)
    post = github.requests[-2]
    assert post.body == {"body": f"{MARKER}\n{text(example_body)}"}
    assert post.headers["authorization"] == "Bearer pat-token"
    assert post.headers["accept"] == "application/vnd.github+json"
    assert post.headers["x-github-api-version"] == "2022-11-28"
    assert post.headers["content-type"] == "application/json"
    assert post.headers["user-agent"].startswith("ci-carbon/")
    url = github.comments[0]["html_url"]
    assert result.out == f"Posted the carbon report as a new comment on Codertocat/Hello-World#2: {url}\n"
    assert result.err == ""


def test_a_second_push_edits_the_same_comment(github: FakeGitHub, example_body: Path, tmp_path: Path):
    assert run_comment("--body-file", str(example_body), env=github_env(github)).code == 0
    first = github.comments[0]["id"]
    github.requests.clear()
    result = run_comment("--body-file", str(other_body(tmp_path)), env=github_env(github, SYNCHRONIZE))
    assert result.code == 0, result.err
    assert lines(github) == ["GET /user", LIST, f"PATCH {REPO}/issues/comments/{first}", LIST]  # then a look again
    assert github.requests[-2].body == {"body": f"{MARKER}\n{text(other_body(tmp_path))}"}
    assert [c["id"] for c in github.comments] == [first]
    assert result.out.startswith("Updated the carbon report comment on Codertocat/Hello-World#2: https://github.com/")


def test_an_unchanged_body_sends_no_patch(github: FakeGitHub, example_body: Path):
    assert run_comment("--body-file", str(example_body), env=github_env(github)).code == 0
    github.requests.clear()
    result = run_comment("--body-file", str(example_body), env=github_env(github))
    assert result.code == 0, result.err
    assert lines(github) == ["GET /user", LIST]
    assert "is already up to date" in result.out


def test_new_always_creates(github: FakeGitHub, example_body: Path):
    for _ in range(2):
        assert run_comment("--body-file", str(example_body), "--behaviour", "new", env=github_env(github)).code == 0
    assert [r.line for r in github.writes()] == [CREATE, CREATE]
    assert len(github.comments) == 2


def test_delete_and_new_deletes_only_ours_then_creates(github: FakeGitHub, example_body: Path, tmp_path: Path):
    ours = github.add("octocat", f"{MARKER}\nold report")
    other_key = github.add("octocat", "<!-- ci-carbon:comment v1 key=other time=2019-05-15T15:20:33Z -->\nx")
    theirs = github.add("mallory", f"{MARKER}\nforged")
    result = run_comment("--body-file", str(example_body), "--behaviour", "delete-and-new", env=github_env(github))
    assert result.code == 0, result.err
    assert [r.line for r in github.writes()] == [f"DELETE {REPO}/issues/comments/{ours['id']}", CREATE]
    assert [c["id"] for c in github.comments][:2] == [other_key["id"], theirs["id"]]
    assert theirs["body"] == f"{MARKER}\nforged"
    assert result.out.startswith("Deleted 1 earlier report comment. Posted the carbon report as a new comment")


def test_a_forged_marker_by_someone_else_is_never_edited(github: FakeGitHub, example_body: Path):
    forged = "<!-- ci-carbon:comment v1 key=CI%2Fcarbon time=2099-01-01T00:00:00Z -->\n@everyone look"
    theirs = github.add("mallory", forged)
    result = run_comment("--body-file", str(example_body), env=github_env(github))
    assert result.code == 0, result.err
    assert [r.line for r in github.writes()] == [CREATE]  # a newer forged time does not hold ours back either
    assert theirs["body"] == forged
    assert result.err == ("::warning title=ci-carbon::1 comment carries this report's marker but was not written "
                          "by octocat: left untouched.\n")


def test_an_older_report_never_overwrites_a_newer_one(github: FakeGitHub, example_body: Path, tmp_path: Path):
    assert run_comment("--body-file", str(example_body), env=github_env(github, LABELED)).code == 0  # 15:20:35
    newer = github.comments[0]["body"]
    github.requests.clear()
    result = run_comment("--body-file", str(other_body(tmp_path)), env=github_env(github, OPENED))  # 15:20:33
    assert result.code == 0, result.err
    assert github.writes() == [] and github.comments[0]["body"] == newer
    assert result.out == ""
    assert result.err.startswith("::notice title=ci-carbon::Not posted: Codertocat/Hello-World#2 already shows a "
                                 "newer report (made 2019-05-15T15:20:35Z) than this one: https://github.com/")
    later = run_comment("--body-file", str(other_body(tmp_path)), "--report-time", "2019-05-15T16:00:00+00:00",
                        env=github_env(github, OPENED))
    assert later.code == 0 and github.comments[0]["body"].startswith(
        "<!-- ci-carbon:comment v1 key=CI%2Fcarbon time=2019-05-15T16:00:00Z -->\n### 🌱 Training carbon footprint")


def test_finds_our_comment_on_page_three(github: FakeGitHub, example_body: Path):
    for i in range(250):
        github.add(f"user{i % 9}", f"comment {i} <!-- ci-carbon:comment v1 key=CI%2Fcarbon -->")
    ours = github.add("octocat", "<!-- ci-carbon:comment v1 key=CI%2Fcarbon time=2019-05-15T15:00:00Z -->\nold")
    result = run_comment("--body-file", str(example_body), env=github_env(github))
    assert result.code == 0, result.err
    gets = [r for r in github.requests if r.method == "GET" and r.path.endswith("/comments")]
    assert [r.query for r in gets] == [{"per_page": "100"}, {"per_page": "100", "page": "2"},
                                       {"per_page": "100", "page": "3"}] * 2  # read, and read again after the edit
    assert [r.line for r in github.writes()] == [f"PATCH {REPO}/issues/comments/{ours['id']}"]
    assert ours["body"] == f"{MARKER}\n{text(example_body)}"


def test_github_actions_token_writes_as_github_actions_bot(github: FakeGitHub, example_body: Path):
    ours = github.add("github-actions[bot]", f"{MARKER}\nold")
    octocats = github.add("octocat", f"{MARKER}\nby a person")
    env = github_env(github, token="actions-token", GITHUB_ACTIONS="true")
    result = run_comment("--body-file", str(example_body), env=env)
    assert result.code == 0, result.err
    assert lines(github) == ["GET /user", LIST, f"PATCH {REPO}/issues/comments/{ours['id']}", LIST]
    assert octocats["body"] == f"{MARKER}\nby a person"


def test_an_app_token_outside_actions_needs_author(github: FakeGitHub, example_body: Path):
    result = run_comment("--body-file", str(example_body), env=github_env(github, token="actions-token"))
    assert result.code == 2 and result.out == ""
    assert result.err.count("\n") == 1 and result.err.startswith("ci-carbon: --author: cannot tell which account")
    github.requests.clear()
    given = run_comment("--body-file", str(example_body), "--author", "github-actions[bot]",
                        env=github_env(github, token="actions-token"))
    assert given.code == 0, given.err
    assert lines(github) == [LIST, CREATE, LIST]


def test_429_and_502_are_retried_then_succeed(github: FakeGitHub, example_body: Path):
    github.script["POST"] = [Answer(429, {"message": "slow down"}, {"Retry-After": "1"}), Answer(502)]
    github.script["GET"] = [Answer(503)]
    start = time.monotonic()
    result = run_comment("--body-file", str(example_body), env=github_env(github))
    assert result.code == 0, result.err
    assert time.monotonic() - start >= 1.0  # Retry-After was honoured
    # the 429 is retried at once; after the 502 the comments are listed before the create is tried again
    assert lines(github) == ["GET /user", "GET /user", LIST, CREATE, CREATE, LIST, CREATE, LIST]
    assert len(github.comments) == 1


def test_a_primary_rate_limit_403_waits_for_the_reset(github: FakeGitHub, example_body: Path):
    reset = str(int(time.time()) + 1)
    github.script["POST"] = [Answer(403, {"message": "API rate limit exceeded"},
                                    {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset})]
    result = run_comment("--body-file", str(example_body), env=github_env(github))
    assert result.code == 0, result.err
    assert [r.line for r in github.writes()] == [CREATE, CREATE] and len(github.comments) == 1


def test_a_rate_limit_far_away_fails_at_once_with_exit_3(github: FakeGitHub, example_body: Path):
    github.script["GET"] = [Answer(403, {"message": "API rate limit exceeded"},
                                   {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 3600)})]
    start = time.monotonic()
    result = run_comment("--body-file", str(example_body), env=github_env(github))
    assert result.code == 3 and time.monotonic() - start < 20
    assert result.err.count("\n") == 1 and "GitHub's API rate limit is used up until" in result.err


def test_a_bad_token_is_exit_2_in_one_line(github: FakeGitHub, example_body: Path):
    result = run_comment("--body-file", str(example_body), env=github_env(github, token="expired"))
    assert result.code == 2 and result.out == ""
    assert result.err == ("ci-carbon: GITHUB_TOKEN: the token was rejected by GitHub (401: Bad credentials): check "
                          "that it is set and has not expired.\n")


def test_an_unknown_pull_request_is_exit_2_in_one_line(github: FakeGitHub, example_body: Path):
    result = run_comment("--body-file", str(example_body), "--pr", "99", env=github_env(github))
    assert result.code == 2
    assert result.err == ("ci-carbon: Codertocat/Hello-World#99: repository or pull request not found, or the token "
                          "cannot see it (404: Not Found).\n")


def test_a_forks_read_only_token_passes_with_a_notice(github: FakeGitHub, example_body: Path, tmp_path: Path):
    summary = tmp_path / "summary.md"
    summary.write_text("## report\n", encoding="utf-8")
    env = github_env(github, token="read-only-token", GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary))
    result = run_comment("--body-file", str(example_body), env=env)
    assert result.code == 0, result.err
    assert lines(github) == ["GET /user", LIST, CREATE] and github.comments == []
    notice = ("No pull-request comment posted: the token is read-only (a pull request from a fork), so the report is "
              "only in the job summary. The workflow_run follow-up workflow can post it from the uploaded report "
              "artifact.")
    assert result.err == f"::notice title=ci-carbon::{notice}\n"
    assert summary.read_text(encoding="utf-8") == f"## report\n\n> **ci-carbon:** {notice}\n"


def test_no_token_passes_with_a_notice_and_sends_nothing(github: FakeGitHub, example_body: Path, tmp_path: Path):
    summary = tmp_path / "summary.md"
    result = run_comment("--body-file", str(example_body), "--summary-file", str(summary),
                         env=github_env(github, token=None))
    assert result.code == 0 and github.requests == []
    assert result.err.startswith("::notice title=ci-carbon::No pull-request comment posted: no token was given")
    assert "no token was given (set GITHUB_TOKEN" in summary.read_text(encoding="utf-8")


def test_an_unreachable_api_is_exit_3_after_retries(example_body: Path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fake = FakeGitHub()
    fake.url = f"http://127.0.0.1:{port}"
    result = run_comment("--body-file", str(example_body), env=github_env(fake))
    assert result.code == 3
    assert result.err.count("\n") == 1
    assert result.err.startswith(f"ci-carbon: GitHub could not be reached at http://127.0.0.1:{port} after retries")


def test_an_oversized_report_is_rendered_to_the_limit(github: FakeGitHub, big_report: Path, big_body: Path):
    result = run_comment("--report", str(big_report), env=github_env(github))
    assert result.code == 0, result.err
    posted = github.comments[0]["body"]
    assert len(posted) <= 65_536 and len(text(big_body)) > 65_536
    assert problems(posted) == []
    assert posted.startswith(MARKER + "\n### 🌱 Training carbon footprint")
    assert "_Shortened to fit GitHub's limit of 65,536 characters: left out the table of 390 more jobs" in posted
    assert "::notice title=ci-carbon::The report is longer than GitHub's limit" in result.err


def test_oversized_markdown_from_elsewhere_is_cut_by_whole_blocks(github: FakeGitHub, big_body: Path):
    result = run_comment("--body-file", str(big_body), env=github_env(github))
    assert result.code == 0, result.err
    posted = github.comments[0]["body"]
    assert len(posted) <= 65_536 < len(text(big_body))
    assert problems(posted) == []  # no table, chart or <details> element cut in half
    body = posted.removeprefix(MARKER + "\n")
    kept, note = body.rstrip("\n").rsplit("\n\n", 1)
    assert text(big_body).startswith(kept)  # whole blocks from the start, nothing rewritten
    assert note == ("_Cut to fit GitHub's limit of 65,536 characters: the rest of the report is left out. The full "
                    "report is in the job summary and the JSON report artifact._")


def test_dry_run_prints_the_requests_and_sends_none(github: FakeGitHub, example_body: Path):
    result = run_comment("--body-file", str(example_body), "--dry-run", env=github_env(github))
    assert result.code == 0, result.err
    assert github.requests == []
    out = result.out.splitlines()
    assert out[2:5] == [f"GET {github.url}/user", f"GET {github.url}{REPO}/issues/2/comments?per_page=100",
                        f"POST {github.url}{REPO}/issues/2/comments"]
    assert json.loads(out[5]) == {"body": f"{MARKER}\n{text(example_body)}"}
    assert "pat-token" not in result.out


def test_the_fork_safe_follow_up_workflow_finds_the_pull_request(example_body: Path):
    from tests.publish.fake_forge import Serving

    fake = FakeGitHub("octo-org/octo-repo")
    serving = Serving(fake)
    try:
        env = github_env(fake, WORKFLOW_RUN, GITHUB_EVENT_NAME="workflow_run", GITHUB_WORKFLOW="carbon-comment",
                         GITHUB_JOB="post")
        result = run_comment("--body-file", str(example_body), env=env)
    finally:
        serving.close()
    assert result.code == 0, result.err
    assert fake.writes()[0].line == "POST /repos/octo-org/octo-repo/issues/2/comments"
    assert fake.comments[0]["body"].startswith(
        "<!-- ci-carbon:comment v1 key=carbon-comment%2Fpost time=2020-10-05T16:33:24Z -->\n")


def test_an_event_without_a_pull_request_passes_with_a_notice(github: FakeGitHub, example_body: Path,
                                                              tmp_path: Path):
    push = tmp_path / "push.json"
    push.write_text(json.dumps({"ref": "refs/heads/main", "after": "ec26c3e5"}), encoding="utf-8")
    result = run_comment("--body-file", str(example_body), env=github_env(github, push, GITHUB_EVENT_NAME="push"))
    assert result.code == 0 and github.requests == []
    assert result.err == ("::notice title=ci-carbon::No pull-request comment posted: this push is not about a pull "
                          "request. Pass --pr N to post to one.\n")


def test_body_from_stdin_and_matrix_keys(github: FakeGitHub, example_body: Path):
    for leg in ("aws", "gcp"):
        result = run_comment("--body-file", "-", "--key", f"carbon ({leg})", env=github_env(github),
                             stdin=text(example_body))
        assert result.code == 0, result.err
    assert [c["body"].split("\n", 1)[0] for c in github.comments] == [
        "<!-- ci-carbon:comment v1 key=carbon%20%28aws%29 time=2019-05-15T15:20:33Z -->",
        "<!-- ci-carbon:comment v1 key=carbon%20%28gcp%29 time=2019-05-15T15:20:33Z -->"]


def test_a_refused_request_is_exit_2_with_githubs_message(github: FakeGitHub, example_body: Path):
    github.script["POST"] = [Answer(422, {"message": "Validation Failed", "errors": [
        {"resource": "IssueComment", "code": "custom", "field": "body", "message": "body is too long"}]})]
    result = run_comment("--body-file", str(example_body), env=github_env(github))
    assert result.code == 2 and result.err.count("\n") == 1
    assert result.err.startswith("ci-carbon: Codertocat/Hello-World#2: GitHub refused the request (422: Validation "
                                 "Failed: [{\"resource\": \"IssueComment\"")


def test_the_fake_refuses_what_github_refuses(github: FakeGitHub):
    import requests

    headers = {"Authorization": "Bearer pat-token"}
    url = f"{github.url}{REPO}/issues/2/comments"
    assert requests.post(url, json={"body": "x" * 65_537}, headers=headers, timeout=10).status_code == 422
    assert requests.post(url, json={"body": "x" * 65_536}, headers=headers, timeout=10).status_code == 201
    readonly = {"Authorization": "Bearer read-only-token"}
    assert requests.post(url, json={"body": "x"}, headers=readonly, timeout=10).status_code == 403
    assert requests.get(f"{github.url}/user", headers=readonly, timeout=10).status_code == 403


def test_bad_inputs_are_exit_2(github: FakeGitHub, tmp_path: Path, example_body: Path):
    empty = tmp_path / "empty.md"
    empty.write_text("\n", encoding="utf-8")
    cases = {
        ("--body-file", str(empty)): "--body-file: is empty",
        ("--body-file", str(tmp_path / "missing.md")): "--body-file: no such file",
        ("--body-file", str(example_body), "--report-time", "soon"): "--report-time: 'soon' is not an ISO 8601 time",
    }
    for args, expected in cases.items():
        result = run_comment(*args, env=github_env(github))
        assert result.code == 2 and expected in result.err and result.err.count("\n") == 1, result.err
    no_repo = github_env(github)
    del no_repo["GITHUB_REPOSITORY"]
    result = run_comment("--body-file", str(example_body), env=no_repo)
    assert result.code == 2 and result.err.startswith("ci-carbon: GITHUB_REPOSITORY: is not set")
    assert github.requests == []


def test_the_token_may_come_from_another_variable(github: FakeGitHub, example_body: Path):
    env = github_env(github, token=None, CARBON_BOT_TOKEN="pat-token")
    result = run_comment("--body-file", str(example_body), "--token-env", "CARBON_BOT_TOKEN", env=env)
    assert result.code == 0, result.err
    assert github.requests[-1].headers["authorization"] == "Bearer pat-token"
    none = run_comment("--body-file", str(example_body), "--token-env", "NOPE", env=env)
    assert none.code == 0 and "no token was given (set NOPE," in none.err
