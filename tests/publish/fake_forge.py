"""Local HTTP servers that answer like GitHub's and GitLab's REST APIs for the endpoints `ci-carbon comment` uses.

The only stand-in in these tests: comments live in memory, pagination follows the forges' documented headers
(GitHub: ``Link`` with rel="next"/"last"; GitLab: ``X-Next-Page``, ``X-Total-Pages`` and ``Link``), and the status
codes are the documented ones: 401 for a bad token, 403 for a read-only token (and for a rate limit, with
``x-ratelimit-remaining: 0``), 404 for an unknown pull request, 422 (GitHub) / 400 (GitLab) for a body over the limit.
The servers let any writable token edit any comment, as a maintainer's token could: that ci-carbon never edits
somebody else's comment must come from ci-carbon. ``script`` holds canned answers per method, served first, in
order (429, 502, rate limits). Every request is recorded: method, path, query, the headers that matter, the JSON body.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

HEADERS = ("authorization", "private-token", "accept", "x-github-api-version", "content-type", "user-agent")


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any

    @property
    def line(self) -> str:
        return f"{self.method} {self.path}" + (f"?{urlencode(self.query)}" if self.query else "")


@dataclass
class Answer:
    status: int
    data: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    perform: bool = False  # do what the request asks first, then answer this (a 502 after the comment was made)


class Fake:
    """What both forges share: the request log, the script, the token table, the store of comments."""

    def __init__(self) -> None:
        self.url = ""
        self.requests: list[Recorded] = []
        self.script: dict[str, list[Answer]] = {}  # method -> canned answers, served before the real ones
        self.comments: list[dict] = []
        self.next_id = 1000
        self.lock = threading.Lock()
        self.latency = 0.0  # seconds each answer takes, as a distant API's do (outside the lock: answers overlap)
        self.gate: threading.Barrier | None = None  # the first listings wait here for each other: a sure race

    def delay(self, method: str, path: str) -> None:
        """Wait as a slow API would; the first listings of comments wait until as many have come as the gate has
        parties, so two racing runs both list before either writes."""
        import time

        time.sleep(self.latency)
        gate = self.gate
        if gate is not None and method == "GET" and path.endswith(("/comments", "/notes")):
            with contextlib.suppress(threading.BrokenBarrierError):
                gate.wait()
            with self.lock:
                if self.gate is gate and gate.n_waiting == 0:
                    self.gate = None

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method != "GET"]

    def answer(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any) -> Answer:
        with self.lock:
            self.requests.append(Recorded(method, path, query, {k: v for k, v in headers.items() if k in HEADERS},
                                          body))
            if self.script.get(method):
                canned = self.script[method].pop(0)
                if canned.perform:
                    self.route(method, path, query, headers, body)
                return canned
            return self.route(method, path, query, headers, body)

    def route(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any) -> Answer:
        raise NotImplementedError

    def page(self, items: list[dict], path: str, query: dict[str, str], default: int) -> tuple[list[dict], int, int]:
        per_page = min(int(query.get("per_page", default)), 100)
        page = max(int(query.get("page", 1)), 1)
        last = max(1, -(-len(items) // per_page))
        return items[(page - 1) * per_page: page * per_page], page, last

    def link(self, path: str, query: dict[str, str], page: int, last: int) -> str:
        def url(number: int) -> str:
            return f"{self.url}{path}?{urlencode({**query, 'page': number})}"

        links = []
        if page < last:
            links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
        if page > 1:
            links += [f'<{url(1)}>; rel="first"', f'<{url(page - 1)}>; rel="prev"']
        return ", ".join(links)


class FakeGitHub(Fake):
    """GitHub's issue-comment endpoints for one repository's pull requests."""

    LIMIT = 65_536

    def __init__(self, repository: str = "Codertocat/Hello-World", pulls: tuple[int, ...] = (2,)) -> None:
        super().__init__()
        self.repository, self.pulls = repository, set(pulls)
        # token -> (kind, login): a personal access token may call /user; GitHub Actions' token may not
        # pull request -> (head sha, head branch, state), as GET /repos/{o}/{r}/commits/{sha}/pulls answers
        self.heads: dict[int, tuple[str, str, str]] = {}
        self.history: dict[int, tuple[str, ...]] = {}  # pull request -> earlier head SHAs (before the head moved)
        self.tokens = {"pat-token": ("pat", "octocat"), "actions-token": ("actions", "github-actions[bot]"),
                       "read-only-token": ("read-only", "github-actions[bot]")}

    def add(self, login: str, body: str, number: int = 2) -> dict:
        self.next_id += 1
        comment = {"id": self.next_id, "node_id": f"IC_{self.next_id}", "body": body,
                   "url": f"{self.url}/repos/{self.repository}/issues/comments/{self.next_id}",
                   "html_url": f"https://github.com/{self.repository}/pull/{number}#issuecomment-{self.next_id}",
                   "issue_url": f"{self.url}/repos/{self.repository}/issues/{number}",
                   "user": {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"},
                   "created_at": "2019-05-15T15:21:00Z", "updated_at": "2019-05-15T15:21:00Z",
                   "author_association": "NONE", "number": number}
        self.comments.append(comment)
        return comment

    def pull(self, number: int, sha: str, ref: str, state: str) -> dict:
        """A pull request as GitHub lists it (the fields ci-carbon reads, and a few beside them)."""
        return {"number": number, "state": state, "url": f"{self.url}/repos/{self.repository}/pulls/{number}",
                "head": {"sha": sha, "ref": ref, "label": f"forker:{ref}",
                         "repo": {"full_name": f"forker/{self.repository.split('/')[1]}"}},
                "base": {"ref": "main", "repo": {"full_name": self.repository}}}

    def by_id(self, comment_id: int) -> dict | None:
        return next((c for c in self.comments if c["id"] == comment_id), None)

    def route(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any) -> Answer:
        token = re.sub(r"^(Bearer|token)\s+", "", headers.get("authorization", ""))
        if token not in self.tokens:
            return Answer(401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
        kind, login = self.tokens[token]
        if path == "/user":
            if kind != "pat":
                return Answer(403, {"message": "Resource not accessible by integration"})
            return Answer(200, {"login": login, "type": "User"})
        commit = re.fullmatch(r"/repos/([^/]+/[^/]+)/commits/([0-9a-f]+)/pulls", path)
        if commit and method == "GET" and commit[1] == self.repository:
            return Answer(200, [self.pull(n, *head) for n, head in sorted(self.heads.items()) if commit[2] in
                                (head[0], *self.history.get(n, ()))])
        match = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/(?:(\d+)/comments|comments/(\d+))", path)
        if not match or match[1] != self.repository:
            return Answer(404, {"message": "Not Found"})
        if match[2] is not None:
            return self.on_pull(method, int(match[2]), path, query, kind, login, body)
        return self.on_comment(method, int(match[3]), kind, body)

    def on_pull(self, method: str, number: int, path: str, query: dict[str, str], kind: str, login: str,
                body: Any) -> Answer:
        if number not in self.pulls:
            return Answer(404, {"message": "Not Found"})
        if method == "GET":
            mine = [c for c in self.comments if c["number"] == number]
            items, page, last = self.page(mine, path, query, 30)
            link = self.link(path, query, page, last)
            return Answer(200, items, {"Link": link} if link else {})
        if method != "POST":
            return Answer(404, {"message": "Not Found"})
        refused = self.refuse(kind, body)
        return refused or Answer(201, self.add(login, body["body"], number))

    def on_comment(self, method: str, comment_id: int, kind: str, body: Any) -> Answer:
        comment = self.by_id(comment_id)
        if comment is None:
            return Answer(404, {"message": "Not Found"})
        if method == "GET":
            return Answer(200, comment)
        refused = self.refuse(kind, body if method == "PATCH" else None)
        if refused:
            return refused
        if method == "DELETE":
            self.comments.remove(comment)
            return Answer(204)
        comment["body"] = body["body"]
        comment["updated_at"] = "2019-05-15T15:30:00Z"
        return Answer(200, comment)

    def refuse(self, kind: str, body: Any) -> Answer | None:
        if kind == "read-only":
            return Answer(403, {"message": "Resource not accessible by integration"})
        if body is not None and len(body.get("body", "")) > self.LIMIT:
            return Answer(422, {"message": "Validation Failed", "errors": [{
                "resource": "IssueComment", "code": "custom", "field": "body",
                "message": "body is too long (maximum is 65536 characters)"}]})
        return None


class FakeGitLab(Fake):
    """GitLab's merge-request notes for one project (by id 42 or by its path group/project)."""

    LIMIT = 1_000_000

    def __init__(self, mrs: tuple[int, ...] = (7,)) -> None:
        super().__init__()
        self.mrs = set(mrs)
        self.heads: dict[int, tuple[str, str, str]] = {}  # merge request -> (sha, source branch, state)
        self.tokens = {"glpat-good": ("write", "carbon-bot"), "glpat-reporter": ("read-only", "reporter")}

    def add(self, username: str, body: str, iid: int = 7, system: bool = False) -> dict:
        self.next_id += 1
        note = {"id": self.next_id, "body": body, "author": {"username": username, "id": 1}, "system": system,
                "noteable_type": "MergeRequest", "noteable_iid": iid, "created_at": "2026-07-01T10:00:00Z"}
        self.comments.append(note)
        return note

    def route(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any) -> Answer:
        token = headers.get("private-token", "")
        if token not in self.tokens:
            return Answer(401, {"message": "401 Unauthorized"})
        kind, username = self.tokens[token]
        if path == "/api/v4/user":
            return Answer(200, {"username": username, "id": 1})
        commit = re.fullmatch(r"/api/v4/projects/(42|group%2Fproject)/repository/commits/([0-9a-f]+)/merge_requests",
                              path)
        if commit and method == "GET":
            return Answer(200, [{"iid": iid, "sha": sha, "source_branch": ref, "state": state, "project_id": 42}
                                for iid, (sha, ref, state) in sorted(self.heads.items()) if sha == commit[2]])
        match = re.fullmatch(r"/api/v4/projects/(42|group%2Fproject)/merge_requests/(\d+)/notes(?:/(\d+))?", path)
        if not match or int(match[2]) not in self.mrs:
            return Answer(404, {"message": "404 Not found"})
        if match[3] is None:
            return self.on_notes(method, int(match[2]), path, query, kind, username, body)
        return self.on_note(method, int(match[3]), kind, body)

    def on_notes(self, method: str, iid: int, path: str, query: dict[str, str], kind: str, username: str,
                 body: Any) -> Answer:
        if method == "GET":
            notes = [n for n in self.comments if n["noteable_iid"] == iid]
            items, page, last = self.page(notes, path, query, 20)
            headers = {"X-Page": str(page), "X-Total-Pages": str(last), "X-Per-Page": query.get("per_page", "20"),
                       "X-Total": str(len(notes)), "X-Next-Page": str(page + 1) if page < last else ""}
            link = self.link(path, query, page, last)
            return Answer(200, items, {**headers, "Link": link} if link else headers)
        refused = self.refuse(kind, body)
        return refused or Answer(201, self.add(username, body["body"], iid))

    def on_note(self, method: str, note_id: int, kind: str, body: Any) -> Answer:
        note = next((n for n in self.comments if n["id"] == note_id), None)
        if note is None:
            return Answer(404, {"message": "404 Not found"})
        refused = self.refuse(kind, body if method == "PUT" else None)
        if refused:
            return refused
        if method == "DELETE":
            self.comments.remove(note)
            return Answer(204)
        note["body"] = body["body"]
        return Answer(200, note)

    def refuse(self, kind: str, body: Any) -> Answer | None:
        if kind == "read-only":
            return Answer(403, {"message": "403 Forbidden"})
        if body is not None and len(body.get("body", "")) > self.LIMIT:
            return Answer(400, {"message": {"note": ["is too long (maximum is 1000000 characters)"]}})
        return None


def _handler(fake: Fake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # keep pytest's output clean
            pass

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            headers = {k.lower(): v for k, v in self.headers.items()}
            fake.delay(self.command, parts.path)
            answer = fake.answer(self.command, parts.path, dict(parse_qsl(parts.query)), headers, body)
            payload = b"" if answer.data is None else json.dumps(answer.data).encode()
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            if payload:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    return Handler


class Serving:
    """A fake forge served on 127.0.0.1 at a free port, in a thread, until ``close``."""

    def __init__(self, fake: Fake) -> None:
        self.fake = fake
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
        self.server.daemon_threads = True
        fake.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
