"""The sticky comment stays one comment: racing runs, a 502 after the create, planted markers, foreign next pages.

Real `ci-carbon comment` processes against the local GitHub/GitLab stand-ins (tests/publish/fake_forge.py), with
latency on every answer and, for the races, a gate that holds the first two listings until both have come: both
runs are sure to see no comment of ours and to create one each, as two pushes a second apart do.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

from tests.conftest import ROOT
from tests.publish.conftest import COMMAND, github_env, gitlab_env, run_comment
from tests.publish.fake_forge import Answer, FakeGitHub, FakeGitLab, Serving

REPO = "/repos/Codertocat/Hello-World"
LIST = f"GET {REPO}/issues/2/comments?per_page=100"
CREATE = f"POST {REPO}/issues/2/comments"
T1, T2 = "2026-07-01T12:00:00Z", "2026-07-01T12:00:07Z"


def marker(when: str, key: str = "CI%2Fcarbon") -> str:
    return f"<!-- ci-carbon:comment v1 key={key} time={when} -->"


def body(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.md"
    path.write_text(f"### 🌱 Training carbon footprint: report {name}\n", encoding="utf-8")
    return path


def race(env_a: dict[str, str], env_b: dict[str, str], args_a: list[str], args_b: list[str]) -> list[tuple]:
    """Two `ci-carbon comment` processes started together; their (exit code, stdout, stderr)."""
    procs = [subprocess.Popen(COMMAND + args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for args, env in ((args_a, env_a), (args_b, env_b))]
    outputs = [p.communicate(timeout=120) for p in procs]
    return [(p.returncode, *out) for p, out in zip(procs, outputs, strict=True)]


def racing(fake: FakeGitHub | FakeGitLab) -> None:
    fake.latency = 0.15
    fake.gate = threading.Barrier(2, timeout=30)


def test_two_racing_runs_leave_one_comment_the_newer_report(github: FakeGitHub, tmp_path: Path):
    racing(github)
    older, newer = body(tmp_path, "older"), body(tmp_path, "newer")
    results = race(github_env(github, CI_CARBON_REPORT_TIME=T1), github_env(github, CI_CARBON_REPORT_TIME=T2),
                   ["--body-file", str(older)], ["--body-file", str(newer)])
    assert [r[0] for r in results] == [0, 0], results
    assert [r.line for r in github.requests].count(CREATE) == 2  # the race happened: both created
    assert [c["body"] for c in github.comments] == [f"{marker(T2)}\n{newer.read_text(encoding='utf-8')}"]


def test_racing_runs_of_one_report_time_keep_the_last_written(github: FakeGitHub, tmp_path: Path):
    racing(github)
    a, b = body(tmp_path, "a"), body(tmp_path, "b")
    env = github_env(github, CI_CARBON_REPORT_TIME=T1)
    results = race(env, env, ["--body-file", str(a)], ["--body-file", str(b)])
    assert [r[0] for r in results] == [0, 0], results
    created = [r for r in github.requests if r.line == CREATE]
    assert len(created) == 2 and len(github.comments) == 1
    assert github.comments[0]["id"] == 1002  # the higher id of the two: both runs chose it


def test_a_planted_comment_does_not_stop_racing_runs_from_settling(github: FakeGitHub, tmp_path: Path):
    github.add("mallory", f"{marker(T2)}\nplanted")
    racing(github)
    a, b = body(tmp_path, "a"), body(tmp_path, "b")
    results = race(github_env(github, CI_CARBON_REPORT_TIME=T1), github_env(github, CI_CARBON_REPORT_TIME=T1),
                   ["--body-file", str(a)], ["--body-file", str(b)])
    assert [r[0] for r in results] == [0, 0], results
    assert [(c["user"]["login"], c["id"]) for c in github.comments] == [("mallory", 1001), ("octocat", 1003)]


def test_gitlab_racing_runs_leave_one_note(gitlab: FakeGitLab, tmp_path: Path):
    racing(gitlab)
    older, newer = body(tmp_path, "older"), body(tmp_path, "newer")
    results = race(gitlab_env(gitlab, CI_PIPELINE_CREATED_AT=T2), gitlab_env(gitlab, CI_PIPELINE_CREATED_AT=T1),
                   ["--body-file", str(newer)], ["--body-file", str(older)])
    assert [r[0] for r in results] == [0, 0], results
    assert [n["body"] for n in gitlab.comments] == [f"{marker(T2, 'carbon')}\n{newer.read_text(encoding='utf-8')}"]


def test_a_502_after_the_create_leaves_one_comment(github: FakeGitHub, tmp_path: Path):
    github.script["POST"] = [Answer(502, {"message": "Bad Gateway"}, perform=True)]
    result = run_comment("--body-file", str(body(tmp_path, "a")), env=github_env(github))
    assert result.code == 0, result.err
    assert [r.line for r in github.requests] == ["GET /user", LIST, CREATE, LIST, LIST]  # looked; did not create
    assert len(github.comments) == 1
    assert result.out == ("Posted the carbon report as a new comment on Codertocat/Hello-World#2: "
                          f"{github.comments[0]['html_url']}\n")


def test_a_502_before_the_create_creates_after_looking(github: FakeGitHub, tmp_path: Path):
    github.script["POST"] = [Answer(502, {"message": "Bad Gateway"})]
    result = run_comment("--body-file", str(body(tmp_path, "a")), env=github_env(github))
    assert result.code == 0, result.err
    assert [r.line for r in github.requests] == ["GET /user", LIST, CREATE, LIST, CREATE, LIST]
    assert len(github.comments) == 1


def test_a_502_after_every_create_is_exit_3_with_one_comment(github: FakeGitHub, tmp_path: Path):
    github.script["POST"] = [Answer(502, {"message": "Bad Gateway"})] * 4
    result = run_comment("--body-file", str(body(tmp_path, "a")), env=github_env(github))
    assert result.code == 3 and result.err.count("\n") == 1 and "after retries (502" in result.err
    assert [r.line for r in github.requests].count(CREATE) == 4 and github.comments == []


def test_a_malformed_marker_is_ignored_not_a_crash(github: FakeGitHub, tmp_path: Path):
    planted = github.add("octocat", f"{marker('2026-99-99T00:00:00Z')}\nplanted")  # even by our own account
    result = run_comment("--body-file", str(body(tmp_path, "a")), env=github_env(github))
    assert result.code == 0, result.err
    assert [c["id"] for c in github.comments] == [planted["id"], planted["id"] + 1]
    assert github.comments[0]["body"].endswith("planted") and result.err == ""


def test_our_duplicates_left_by_an_earlier_race_go_at_the_next_create(github: FakeGitHub, tmp_path: Path):
    for _ in range(2):
        github.add("octocat", f"{marker(T1)}\nold")
    result = run_comment("--body-file", str(body(tmp_path, "a")), "--behaviour", "delete-and-new",
                         env=github_env(github, CI_CARBON_REPORT_TIME=T2))
    assert result.code == 0, result.err
    assert len(github.comments) == 1 and github.comments[0]["body"].startswith(marker(T2))


def test_a_next_page_on_another_host_is_refused_without_the_token(github: FakeGitHub, tmp_path: Path):
    other = FakeGitHub()
    serving = Serving(other)
    try:
        github.script["GET"] = [Answer(200, [], {"Link": f'<{other.url}{REPO}/issues/2/comments?page=2>; rel="next"'})]
        result = run_comment("--body-file", str(body(tmp_path, "a")), "--author", "octocat", env=github_env(github))
    finally:
        serving.close()
    assert other.requests == [] and github.writes() == []
    assert result.code == 2 and result.out == ""
    host = other.url.removeprefix("http://")
    assert result.err == (f"ci-carbon: Codertocat/Hello-World#2: GitHub's next page of comments is on another host "
                          f"({host}): not followed, and the token was not sent there. Check GITHUB_API_URL and any "
                          "proxy in between.\n")


def test_gitlab_next_page_on_another_host_is_refused(gitlab: FakeGitLab, tmp_path: Path):
    gitlab.script["GET"] = [Answer(200, [], {"Link": '<https://user:pw@evil.example/notes?page=2>; rel="next"'})]
    result = run_comment("--body-file", str(body(tmp_path, "a")), "--author", "carbon-bot", env=gitlab_env(gitlab))
    assert result.code == 2 and gitlab.writes() == []
    assert "(evil.example): not followed" in result.err and "pw" not in result.err


def test_two_racing_edits_of_our_comment_leave_the_newer_report(github: FakeGitHub, tmp_path: Path):
    ours = github.add("octocat", f"{marker('2026-07-01T11:00:00Z')}\nfirst push")
    racing(github)
    older, newer = body(tmp_path, "older"), body(tmp_path, "newer")
    results = race(github_env(github, CI_CARBON_REPORT_TIME=T2), github_env(github, CI_CARBON_REPORT_TIME=T1),
                   ["--body-file", str(newer)], ["--body-file", str(older)])
    assert [r[0] for r in results] == [0, 0], results
    patches = [r for r in github.requests if r.method == "PATCH"]
    assert len(patches) >= 2  # the race happened: both edited
    assert [c["id"] for c in github.comments] == [ours["id"]]
    assert github.comments[0]["body"] == f"{marker(T2)}\n{newer.read_text(encoding='utf-8')}"


def test_gitlab_502_after_the_create_leaves_one_note(gitlab: FakeGitLab, tmp_path: Path):
    gitlab.script["POST"] = [Answer(502, {"message": "502 Bad Gateway"}, perform=True)]
    result = run_comment("--body-file", str(body(tmp_path, "a")), env=gitlab_env(gitlab))
    assert result.code == 0, result.err
    assert [r.method for r in gitlab.requests] == ["GET", "GET", "POST", "GET", "GET"]  # user, list, create, look
    assert len(gitlab.comments) == 1 and result.out.startswith("Posted the carbon report as a new note")


def test_a_listing_that_is_not_a_list_is_one_line_exit_2(github: FakeGitHub, tmp_path: Path):
    github.script["GET"] = [Answer(200, {"message": "maintenance"})]
    result = run_comment("--body-file", str(body(tmp_path, "a")), "--author", "octocat", env=github_env(github))
    assert result.code == 2 and result.err.count("\n") == 1 and github.writes() == []
    assert "the answer is not a JSON list" in result.err


def test_odd_comments_in_a_listing_are_skipped_not_a_crash(github: FakeGitHub, tmp_path: Path):
    odd = [ "text", None, {"id": "1001", "user": None, "body": f"{marker(T2)}\nid is text"},
           {"id": True, "user": {"login": "octocat"}, "body": f"{marker(T2)}\nid is a bool"},
           {"id": 7, "user": {"login": ["octocat"]}, "body": 5}]
    github.script["GET"] = [Answer(200, odd)]
    result = run_comment("--body-file", str(body(tmp_path, "a")), "--author", "octocat",
                         env=github_env(github, CI_CARBON_REPORT_TIME=T1))
    assert result.code == 0, result.err
    assert len(github.comments) == 1 and github.comments[0]["body"].startswith(marker(T1))
