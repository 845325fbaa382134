"""`ci-carbon comment` on GitLab merge-request notes, against a local server that answers like GitLab's REST API."""

from __future__ import annotations

import json
from pathlib import Path

from tests.publish.conftest import gitlab_env, run_comment
from tests.publish.fake_forge import Answer, FakeGitLab
from tests.publish.structure import problems

NOTES = "/api/v4/projects/42/merge_requests/7/notes"
LIST = f"GET {NOTES}?per_page=100&sort=asc&order_by=created_at"
MARKER = "<!-- ci-carbon:comment v1 key=carbon time=2026-07-01T12:00:00Z -->"  # CI_JOB_NAME, CI_PIPELINE_CREATED_AT


def lines(fake: FakeGitLab) -> list[str]:
    return [r.line for r in fake.requests]


def test_creates_then_updates_the_same_note(gitlab: FakeGitLab, example_body: Path, tmp_path: Path):
    result = run_comment("--body-file", str(example_body), env=gitlab_env(gitlab))
    assert result.code == 0, result.err
    assert lines(gitlab) == ["GET /api/v4/user", LIST, f"POST {NOTES}", LIST]
    post = gitlab.requests[-2]
    assert post.body == {"body": f"{MARKER}\n{example_body.read_text(encoding='utf-8')}"}
    assert post.headers["private-token"] == "glpat-good" and "authorization" not in post.headers
    note = gitlab.comments[0]["id"]
    assert result.out == ("Posted the carbon report as a new note on group/project!7: "
                          f"https://gitlab.example.com/group/project/-/merge_requests/7#note_{note}\n")
    gitlab.requests.clear()
    changed = tmp_path / "changed.md"
    changed.write_text("### changed\n", encoding="utf-8")
    later = gitlab_env(gitlab, CI_PIPELINE_CREATED_AT="2026-07-01T13:00:00Z")
    assert run_comment("--body-file", str(changed), env=later).code == 0
    assert lines(gitlab) == ["GET /api/v4/user", LIST, f"PUT {NOTES}/{note}", LIST]
    assert gitlab.comments[0]["body"] == "<!-- ci-carbon:comment v1 key=carbon time=2026-07-01T13:00:00Z -->\n" \
                                         "### changed\n"
    gitlab.requests.clear()
    assert run_comment("--body-file", str(changed), env=later).code == 0
    assert gitlab.writes() == []  # unchanged: no PUT


def test_finds_our_note_on_page_three_and_skips_system_notes(gitlab: FakeGitLab, example_body: Path):
    for i in range(250):
        gitlab.add("reviewer" if i % 2 else "carbon-bot", f"note {i}", system=i % 2 == 0)
    ours = gitlab.add("carbon-bot", "<!-- ci-carbon:comment v1 key=carbon time=2026-07-01T11:00:00Z -->\nold")
    result = run_comment("--body-file", str(example_body), env=gitlab_env(gitlab))
    assert result.code == 0, result.err
    pages = [r.query.get("page") for r in gitlab.requests if r.path == NOTES and r.method == "GET"]
    assert pages == [None, "2", "3"] * 2  # read, and read again after the edit
    assert [r.line for r in gitlab.writes()] == [f"PUT {NOTES}/{ours['id']}"]


def test_another_users_note_with_our_marker_is_never_edited(gitlab: FakeGitLab, example_body: Path):
    theirs = gitlab.add("mallory", f"{MARKER}\nforged")
    result = run_comment("--body-file", str(example_body), "--behaviour", "delete-and-new", env=gitlab_env(gitlab))
    assert result.code == 0, result.err
    assert [r.line for r in gitlab.writes()] == [f"POST {NOTES}"]
    assert theirs["body"] == f"{MARKER}\nforged"
    assert result.err == ("ci-carbon: 1 comment carries this report's marker but was not written by carbon-bot: left "
                          "untouched.\n")


def test_delete_and_new_and_an_older_pipeline(gitlab: FakeGitLab, example_body: Path):
    ours = gitlab.add("carbon-bot", f"{MARKER}\nold")
    result = run_comment("--body-file", str(example_body), "--behaviour", "delete-and-new", env=gitlab_env(gitlab))
    assert result.code == 0, result.err
    assert [r.line for r in gitlab.writes()] == [f"DELETE {NOTES}/{ours['id']}", f"POST {NOTES}"]
    gitlab.requests.clear()
    older = gitlab_env(gitlab, CI_PIPELINE_CREATED_AT="2026-07-01T09:00:00Z")
    result = run_comment("--body-file", str(example_body), "--behaviour", "new", env=older)
    assert result.code == 0 and gitlab.writes() == []
    assert result.err.startswith("ci-carbon: Not posted: group/project!7 already shows a newer report "
                                 "(made 2026-07-01T12:00:00Z)")


def test_errors_and_notices(gitlab: FakeGitLab, example_body: Path, tmp_path: Path):
    bad = run_comment("--body-file", str(example_body), env=gitlab_env(gitlab, token="glpat-expired"))
    assert bad.code == 2 and bad.err == ("ci-carbon: GITLAB_TOKEN: the token was rejected by GitLab (401: 401 "
                                         "Unauthorized): check that it is set and has not expired.\n")
    missing = run_comment("--body-file", str(example_body), "--pr", "8", env=gitlab_env(gitlab))
    assert missing.code == 2 and "repository or merge request not found, or the token cannot see it" in missing.err
    summary = tmp_path / "notes.md"
    reporter = run_comment("--body-file", str(example_body), "--summary-file", str(summary),
                           env=gitlab_env(gitlab, token="glpat-reporter"))
    assert reporter.code == 0 and gitlab.comments == []
    assert reporter.err.startswith("ci-carbon: No merge-request note posted: the token may not write notes on "
                                   "group/project!7")
    assert summary.read_text(encoding="utf-8").startswith("\n> **ci-carbon:** No merge-request note posted")
    gitlab.requests.clear()
    none = run_comment("--body-file", str(example_body), env=gitlab_env(gitlab, token=None))
    assert none.code == 0 and gitlab.requests == [] and "no token was given" in none.err


def test_token_from_ci_carbon_gitlab_token_and_retries(gitlab: FakeGitLab, example_body: Path):
    gitlab.script["POST"] = [Answer(502), Answer(429, {"message": "Retry later"}, {"Retry-After": "1"})]
    env = gitlab_env(gitlab, token=None, CI_CARBON_GITLAB_TOKEN="glpat-good")
    result = run_comment("--body-file", str(example_body), env=env)
    assert result.code == 0, result.err
    assert [r.line for r in gitlab.writes()] == [f"POST {NOTES}"] * 3 and len(gitlab.comments) == 1


def test_oversized_bodies_fit_a_million_characters(gitlab: FakeGitLab, tmp_path: Path):
    rows = "".join(f"| job-{i} | {'x' * 200} |\n" for i in range(6000))
    body = tmp_path / "huge.md"
    body.write_text(f"### 🌱 headline\n\n| Job | Text |\n|---|---|\n{rows}\n<details><summary>Method and data "
                    f"sources</summary>\n\nfactors\n</details>\n", encoding="utf-8")
    result = run_comment("--body-file", str(body), env=gitlab_env(gitlab))
    assert result.code == 0, result.err
    posted = gitlab.comments[0]["body"]
    assert len(posted) <= 1_000_000 and problems(posted) == []
    assert posted.endswith("\n### 🌱 headline\n\n_Cut to fit GitLab's limit of 1,000,000 characters: the rest of "
                           "the report is left out. The full report is in the job's output and artifacts._\n")


def test_dry_run_sends_nothing(gitlab: FakeGitLab, example_body: Path):
    result = run_comment("--body-file", str(example_body), "--dry-run", "--forge", "gitlab", env=gitlab_env(gitlab))
    assert result.code == 0 and gitlab.requests == []
    out = result.out.splitlines()
    assert out[0] == ("# Dry run: nothing was sent. These are the requests for group/project!7 when it has no note "
                      "of report 'carbon' yet.")
    assert out[1] == (f"# When the listing finds ours, the POST is replaced by PUT {gitlab.url}{NOTES}/{{note_id}} "
                      "with the same body, or by nothing when the body is unchanged.")
    assert out[2:5] == [f"GET {gitlab.url}/api/v4/user", f"GET {gitlab.url}{LIST[4:]}", f"POST {gitlab.url}{NOTES}"]
    assert json.loads(out[5])["body"].startswith(MARKER + "\n### 🌱")


def test_missing_gitlab_variables_are_exit_2(gitlab: FakeGitLab, example_body: Path):
    env = gitlab_env(gitlab)
    del env["CI_PROJECT_ID"]
    result = run_comment("--body-file", str(example_body), env=env)
    assert result.code == 2 and result.err.startswith("ci-carbon: CI_PROJECT_ID: is not set")
    branch = gitlab_env(gitlab)
    del branch["CI_MERGE_REQUEST_IID"]
    result = run_comment("--body-file", str(example_body), env={**branch, "CI_PIPELINE_SOURCE": "push"})
    assert result.code == 0 and "this push is not about a merge request" in result.err
