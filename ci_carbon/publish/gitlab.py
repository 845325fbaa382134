"""Merge-request notes through GitLab's REST API (v4), and where to post them as GitLab CI's variables say.

Identity rule: ``--author USERNAME`` when given, else the ``username`` that ``GET /user`` returns for the token
(personal, project and group access tokens may all call it; a project access token's user is its bot). Only notes
written by that user are edited. Report time: ``CI_PIPELINE_CREATED_AT`` (a retried job keeps its pipeline's time,
so a retry of an old pipeline never overwrites a newer report). Default report key: ``CI_JOB_NAME`` (a parallel
matrix job's name includes its variables, so each leg gets its own note).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlencode

from ci_carbon.errors import InputError, InputProblem
from ci_carbon.publish import markers, words
from ci_carbon.publish.forge import Comment, Head, Target
from ci_carbon.publish.transport import DryRun, Http, items, next_page, pages

TOKEN_VARIABLES = ("GITLAB_TOKEN", "CI_CARBON_GITLAB_TOKEN")


def _token(env: Mapping[str, str], token_env: str | None) -> tuple[str | None, str]:
    names = (token_env,) if token_env else TOKEN_VARIABLES
    for name in names:
        if env.get(name):
            return env[name], name
    return None, names[0]


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise InputError([InputProblem(name, None, None, words.line("gitlab_variable_missing", name))])
    return value


def target(env: Mapping[str, str], pr: int | None, token_env: str | None) -> Target:
    """Where to post, from CI_* variables and the options."""
    api, project = _required(env, "CI_API_V4_URL").rstrip("/"), _required(env, "CI_PROJECT_ID")
    iid = env.get("CI_MERGE_REQUEST_IID", "")
    number = pr or (int(iid) if iid.isdigit() else None)
    if number is None and not env.get("GITLAB_CI"):
        raise InputError([InputProblem("--pr", None, None, words.line("no_pull_request_number", "gitlab"))])
    created = env.get("CI_PIPELINE_CREATED_AT", "")
    try:
        time = markers.parse_time(created) if created else None
    except ValueError:
        time = None
    token, token_name = _token(env, token_env)
    return Target("gitlab", api, project, number, token, token_name, env.get("CI_JOB_NAME") or "default", time,
                  env.get("CI_PIPELINE_SOURCE", ""), env.get("CI_PROJECT_URL", "").rstrip("/"),
                  env.get("CI_PROJECT_PATH", ""), sign="!")


def headers(token: str) -> dict[str, str]:
    return {"PRIVATE-TOKEN": token}


def client(where: Target, http: Http | DryRun, author: str | None, env: Mapping[str, str], limit: int) -> GitLab:
    """The forge client (forges.ForgeModule)."""
    return GitLab(where, http, author, limit)


class GitLab:
    """Notes of one merge request; system notes ("added 1 commit") are never ours and are skipped."""

    name = "gitlab"

    def __init__(self, where: Target, http: Http | DryRun, author: str | None, limit: int = 1_000_000):
        self.target, self.http, self.author = where, http, author
        self.limit = limit  # from the forge's registry entry (forges.py)
        self.where = where.where
        self.notes = f"{where.api}/projects/{quote(where.project, safe='')}/merge_requests/{where.number}/notes"

    def _comment(self, data: Mapping | None) -> Comment:
        """A note from the API's JSON; fields of the wrong type read as missing (as github._comment)."""
        data = data if isinstance(data, Mapping) else {}
        note = data.get("id") if isinstance(data.get("id"), int) and not isinstance(data.get("id"), bool) else None
        found = data.get("author")
        author: Mapping = found if isinstance(found, Mapping) else {}
        name, body = author.get("username"), data.get("body")
        url = f"{self.target.web}/-/merge_requests/{self.target.number}#note_{note}" if self.target.web else ""
        return Comment(note, name if isinstance(name, str) else "", body if isinstance(body, str) else "", url)

    def identity(self) -> str | None:
        if self.author:
            return self.author
        reply = self.http.send("GET", f"{self.target.api}/user")
        return None if reply.data is None else reply.data.get("username")

    def _next(self, reply, page_url: str) -> str | None:
        """The next page: X-Next-Page (offset pagination), else a Link rel="next" (refused on another host)."""
        following = {k.lower(): v for k, v in reply.headers.items()}.get("x-next-page", "")
        if following.strip().isdigit():
            return f"{page_url}&{urlencode({'page': following.strip()})}"
        return next_page(reply, self.target.api)

    def comments(self) -> list[Comment]:
        first = f"{self.notes}?{urlencode({'per_page': 100, 'sort': 'asc', 'order_by': 'created_at'})}"
        return [self._comment(item) for item in pages(self.http, first, lambda reply, _: self._next(reply, first))
                if not item.get("system")]

    def create(self, body: str) -> Comment:
        return self._comment(self.http.send("POST", self.notes, {"body": body}).data)

    def update(self, comment: Comment, body: str) -> Comment:
        reply = self.http.send("PUT", f"{self.notes}/{comment.id}", {"body": body})
        return self._comment(reply.data) if reply.data else comment

    def delete(self, comment: Comment) -> None:
        self.http.send("DELETE", f"{self.notes}/{comment.id}")

    def edit_url(self) -> str:
        return f"{self.notes}/{{note_id}}"

    def heads(self, sha: str) -> list[Head]:
        """GET /projects/:id/repository/commits/:sha/merge_requests: the merge requests with the commit."""
        project = quote(self.target.project, safe="")
        url = f"{self.target.api}/projects/{project}/repository/commits/{sha}/merge_requests"
        found = []
        for item in items(self.http.send("GET", url), url):
            if isinstance(item.get("iid"), int):
                found.append(Head(item["iid"], str(item.get("sha") or ""), str(item.get("source_branch") or ""),
                                  item.get("state") == "opened"))
        return found
