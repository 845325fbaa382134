"""Pull-request comments through GitHub's REST API, and where to post them as the Actions environment says.

Identity rule (who "we" are, so that only our comments are edited): ``--author LOGIN`` when given; else the login
``GET /user`` returns for the token (a personal access token); else, when that call is refused with 403 inside
GitHub Actions (the workflow's GITHUB_TOKEN is an installation token, which may not call /user), the login every
comment made with it carries: ``github-actions[bot]``. Outside Actions a token that may not call /user (a GitHub
App's) needs ``--author`` (e.g. ``my-app[bot]``): guessing could edit somebody else's comment.

Report time: ``pull_request.updated_at`` of the event (a re-run of an old workflow run reuses its old event
payload, so it carries the old time; a push, a label or a re-opened PR moves it forward), or for the fork-safe
follow-up workflow ``workflow_run.created_at`` (when the original run was triggered; re-runs keep it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime

from ci_carbon.core import files
from ci_carbon.errors import InputError, InputProblem
from ci_carbon.publish import markers, words
from ci_carbon.publish.forge import Comment, Head, Target
from ci_carbon.publish.transport import DryRun, ForgeError, Http, Reply, next_page, pages

ACTIONS_LOGIN = "github-actions[bot]"
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


def _event(env: Mapping[str, str]) -> dict:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        data = json.loads(files.read_bytes(path, "JSON file"))
    except (files.Unreadable, ValueError) as err:
        raise InputError([InputProblem(path, None, "GITHUB_EVENT_PATH", words.line("bad_event", str(err)))]) from None
    return data if isinstance(data, dict) else {}


def pull_request_number(event: Mapping) -> int | None:
    """The pull request an event is about: pull_request(_target), a same-repository workflow_run, an issue comment."""
    pull = event.get("pull_request")
    if isinstance(pull, dict) and isinstance(pull.get("number"), int):
        return pull["number"]
    run = event.get("workflow_run")
    pulls = run.get("pull_requests") if isinstance(run, dict) else None
    if isinstance(pulls, list) and pulls and isinstance(pulls[0], dict) and isinstance(pulls[0].get("number"), int):
        return pulls[0]["number"]
    issue = event.get("issue")
    if isinstance(issue, dict) and issue.get("pull_request") and isinstance(issue.get("number"), int):
        return issue["number"]
    return None


def event_time(event: Mapping) -> datetime | None:
    """The report time an event implies (see the module's docstring), or None."""
    for holder, field in (("pull_request", "updated_at"), ("workflow_run", "created_at")):
        value = event.get(holder)
        value = value.get(field) if isinstance(value, dict) else None
        if isinstance(value, str):
            try:
                return markers.parse_time(value)
            except ValueError:
                continue
    return None


def target(env: Mapping[str, str], pr: int | None, token_env: str | None) -> Target:
    """Where to post, from GITHUB_* variables, the event payload and the options."""
    repository = env.get("GITHUB_REPOSITORY", "")
    if not _REPOSITORY.fullmatch(repository):
        raise InputError([InputProblem("GITHUB_REPOSITORY", None, None, words.line("no_repository", repository))])
    event = _event(env)
    number = pr or pull_request_number(event)
    if number is None and not env.get("GITHUB_EVENT_PATH"):
        raise InputError([InputProblem("--pr", None, None, words.line("no_pull_request_number", "github"))])
    workflow, job = env.get("GITHUB_WORKFLOW", ""), env.get("GITHUB_JOB", "")
    token_name = token_env or "GITHUB_TOKEN"
    return Target("github", (env.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/"), repository, number,
                  env.get(token_name) or None, token_name, "/".join(p for p in (workflow, job) if p) or "default",
                  event_time(event), env.get("GITHUB_EVENT_NAME", ""))


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28"}


def client(where: Target, http: Http | DryRun, author: str | None, env: Mapping[str, str], limit: int) -> GitHub:
    """The forge client (forges.ForgeModule): Actions' GITHUB_TOKEN writes as github-actions[bot]."""
    return GitHub(where, http, author, env.get("GITHUB_ACTIONS") == "true", limit)


def _comment(data: Mapping | None) -> Comment:
    """A comment from the API's JSON; fields of the wrong type read as missing (a comment without an integer id
    is never ours to edit: see forge.partition)."""
    data = data if isinstance(data, Mapping) else {}
    found = data.get("user")
    user: Mapping = found if isinstance(found, Mapping) else {}
    cid, login, body, url = data.get("id"), user.get("login"), data.get("body"), data.get("html_url")
    return Comment(cid if isinstance(cid, int) and not isinstance(cid, bool) else None,
                   login if isinstance(login, str) else "", body if isinstance(body, str) else "",
                   url if isinstance(url, str) else "")


def _head(data: Mapping) -> Head:
    found = data.get("head")
    head: Mapping = found if isinstance(found, Mapping) else {}
    number = data.get("number")
    return Head(number if isinstance(number, int) else 0, str(head.get("sha") or ""), str(head.get("ref") or ""),
                data.get("state") == "open")


class GitHub:
    """Issue comments of one pull request (a pull request's conversation comments are issue comments)."""

    name = "github"

    def __init__(self, where: Target, http: Http | DryRun, author: str | None, in_actions: bool,
                 limit: int = 65_536):
        self.target, self.http, self.author, self.in_actions = where, http, author, in_actions
        self.limit = limit  # from the forge's registry entry (forges.py)
        self.where = where.where
        self.repo = f"{where.api}/repos/{where.project}"

    def identity(self) -> str | None:
        if self.author:
            return self.author
        try:
            reply = self.http.send("GET", f"{self.target.api}/user")
        except ForgeError as err:
            if err.reason != "read_only":
                raise
            if self.in_actions:
                return ACTIONS_LOGIN
            raise ForgeError("identity", err.status, err.detail, err.url) from None
        return None if reply.data is None else reply.data.get("login")

    def comments(self) -> list[Comment]:
        url = f"{self.repo}/issues/{self.target.number}/comments?per_page=100"
        return [_comment(item) for item in pages(self.http, url, self._next)]

    def create(self, body: str) -> Comment:
        return _comment(self.http.send("POST", f"{self.repo}/issues/{self.target.number}/comments",
                                       {"body": body}).data)

    def update(self, comment: Comment, body: str) -> Comment:
        reply = self.http.send("PATCH", f"{self.repo}/issues/comments/{comment.id}", {"body": body})
        return _comment(reply.data) if reply.data else comment

    def delete(self, comment: Comment) -> None:
        self.http.send("DELETE", f"{self.repo}/issues/comments/{comment.id}")

    def edit_url(self) -> str:
        """The URL a dry run names for editing or deleting our comment (its id is known only after listing)."""
        return f"{self.repo}/issues/comments/{{comment_id}}"

    def heads(self, sha: str) -> list[Head]:
        """GET /repos/{owner}/{repo}/commits/{sha}/pulls: the open pull requests with the commit (or the merged one
        that brought it in), through all pages."""
        found = [_head(item) for item in pages(self.http, f"{self.repo}/commits/{sha}/pulls?per_page=100", self._next)]
        return [h for h in found if h.number > 0]

    def _next(self, reply: Reply, page_url: str) -> str | None:
        return next_page(reply, self.target.api)
