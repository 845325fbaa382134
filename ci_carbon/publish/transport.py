"""HTTP for the forges: one requests Session with bounded retries, and a dry-run stand-in that sends nothing.

Retries are where CI runs fail most often for no fault of theirs: 500/502/503/504 and 429 are retried with
exponential back-off (honouring ``Retry-After``) on every method but POST: a 502 can come after the forge created
the comment, so a failed create is retried by the upsert only after listing the comments again (forge.py); a 429
on a POST wrote nothing and is retried here. A
primary rate limit (403 or 429 with ``x-ratelimit-remaining: 0``) or a secondary one (403 with ``Retry-After``) is
waited out until ``x-ratelimit-reset``, but never longer than ``MAX_WAIT`` seconds: a CI job should fail clearly
rather than hang for an hour. Every status that remains an error becomes a :class:`ForgeError` with a reason the
command turns into one line and an exit code.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ci_carbon import __version__

MAX_WAIT = 60.0  # seconds a rate limit may hold a run
RETRIES = 3  # after the first try: 4 attempts in all
BACKOFF = 0.5  # seconds; urllib3 waits 0, 1, 2 s between the tries
RATE_LIMIT_TRIES = 3
TIMEOUT = (10, 60)  # connect, read (seconds)
USER_AGENT = f"ci-carbon/{__version__}"
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE"})  # retried here; a POST is retried by the upsert


class ForgeError(Exception):
    """A request that failed for good: ``reason`` is rejected, not_found, read_only, refused, off_origin (a next
    page on another host), unreachable or rate_limited; ``detail`` is the forge's own message (one line) or the
    network error."""

    def __init__(self, reason: str, status: int | None = None, detail: str = "", url: str = ""):
        self.reason, self.status, self.detail, self.url = reason, status, detail, url
        super().__init__(f"{reason} {status or ''} {url}: {detail}")


@dataclass(frozen=True)
class Reply:
    """What the forge answered: the JSON (None in a dry run), the headers, and the next page's URL if any."""

    status: int
    data: Any
    headers: dict[str, str] = field(default_factory=dict)
    next_url: str | None = None


@dataclass(frozen=True)
class Sent:
    """A request as the dry run prints it."""

    method: str
    url: str
    body: dict | None


class DryRun:
    """Records the requests instead of sending them; answers each with no data."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []

    def send(self, method: str, url: str, body: dict | None = None) -> Reply:
        self.sent.append(Sent(method, url, body))
        return Reply(0, None)


def _retry():
    """urllib3's Retry with Retry-After bounded by MAX_WAIT (urllib3 alone would sleep up to six hours)."""
    from urllib3.util import Retry

    class BoundedRetry(Retry):
        def get_retry_after(self, response):
            seconds = super().get_retry_after(response)
            return None if seconds is None else min(seconds, MAX_WAIT)

        def is_retry(self, method, status_code, has_retry_after=False):
            if method.upper() == "POST":  # a 429 wrote nothing; a 5xx may come after the comment was created
                return status_code == 429 and self.total is not None and self.total > 0
            return super().is_retry(method, status_code, has_retry_after)

    return BoundedRetry(total=RETRIES, backoff_factor=BACKOFF, status_forcelist=(429, 500, 502, 503, 504),
                        allowed_methods=IDEMPOTENT, respect_retry_after_header=True, raise_on_status=False)


def _detail(response) -> str:
    """The forge's message for an error, on one line: GitHub and GitLab both answer {"message": ...}."""
    try:
        data = response.json()
    except ValueError:
        return " ".join(response.text.split())[:300]
    message = data.get("message", data) if isinstance(data, dict) else data
    errors = data.get("errors") if isinstance(data, dict) else None
    if errors:
        message = f"{message}: {json.dumps(errors, ensure_ascii=False)}"
    text = message if isinstance(message, str) else json.dumps(message, ensure_ascii=False)
    return " ".join(text.split())[:300]


def _seconds(value: str, now: float) -> float | None:
    """A Retry-After value (seconds or an HTTP date) as seconds from now."""
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return email.utils.parsedate_to_datetime(value).timestamp() - now
    except (TypeError, ValueError):
        return None


def rate_limit_wait(status: int, headers: dict[str, str], now: float) -> float | None:
    """Seconds to wait before retrying a rate-limited request, or None when the answer is not a rate limit."""
    lower = {k.lower(): v for k, v in headers.items()}
    if status == 403 and "retry-after" in lower:  # GitHub's secondary rate limit
        return _seconds(lower["retry-after"], now)
    if status in (403, 429) and lower.get("x-ratelimit-remaining") == "0":
        reset = lower.get("x-ratelimit-reset", "")
        return max(0.0, float(reset) - now + 1) if reset.isdigit() else None
    return None


_REASONS = {401: "rejected", 403: "read_only", 404: "not_found"}


class Http:
    """Sends JSON requests with the forge's headers; raises ForgeError for every answer that stays an error."""

    def __init__(self, headers: dict[str, str], *, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time):
        import requests
        from requests.adapters import HTTPAdapter

        self.session = requests.Session()
        self.session.headers.update({"User-Agent": USER_AGENT, **headers})
        adapter = HTTPAdapter(max_retries=_retry())
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.sleep, self.clock = sleep, clock

    def _once(self, method: str, url: str, body: dict | None):
        import requests

        try:
            return self.session.request(method, url, json=body, timeout=TIMEOUT, allow_redirects=False)
        except requests.RequestException as err:
            raise ForgeError("unreachable", None, " ".join(str(err).split())[:300], url) from None

    def send(self, method: str, url: str, body: dict | None = None) -> Reply:
        for _ in range(RATE_LIMIT_TRIES):
            response = self._once(method, url, body)
            wait = rate_limit_wait(response.status_code, dict(response.headers), self.clock())
            if wait is None:
                break
            if wait > MAX_WAIT:
                reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.clock() + wait))
                raise ForgeError("rate_limited", response.status_code, reset, url)
            self.sleep(wait)
        else:
            raise ForgeError("rate_limited", response.status_code, "", url)
        return self._reply(response, url)

    def _reply(self, response, url: str) -> Reply:
        status = response.status_code
        if 300 <= status < 400:  # never followed: a token header must not travel to another host
            raise ForgeError("refused", status, response.headers.get("location", ""), url)
        if status >= 400:
            reason = _REASONS.get(status, "unreachable" if status >= 500 or status == 429 else "refused")
            raise ForgeError(reason, status, _detail(response), url)
        try:
            data = response.json() if response.content else None
        except ValueError:  # a proxy's HTML page, say: not the API
            raise ForgeError("refused", status, " ".join(response.text.split())[:300], url) from None
        return Reply(status, data, dict(response.headers), response.links.get("next", {}).get("url"))


MAX_PAGES = 1000  # a listing longer than this is a loop in the API's answers, not a pull request's comments


def pages(http: Http | DryRun, url: str, follow: Callable[[Reply, str], str | None]) -> Iterator[dict]:
    """The objects of a paged listing, page after page; ``follow`` names the next page from an answer (GitHub's
    Link header, GitLab's X-Next-Page), so each forge's own paging rule stays in its module."""
    page: str | None = url
    for _ in range(MAX_PAGES):
        if page is None:
            return
        reply = http.send("GET", page)
        yield from items(reply, page)
        page = follow(reply, page)


def items(reply: Reply, url: str) -> list[dict]:
    """The objects of a listing answer: a JSON array (None in a dry run); its non-objects skipped. Anything else
    (an object, a string: a proxy's or a broken API's answer) is refused in one line rather than read as comments."""
    if reply.data is None:
        return []
    if not isinstance(reply.data, list):
        raise ForgeError("refused", reply.status, "the answer is not a JSON list", url)
    return [item for item in reply.data if isinstance(item, dict)]


def next_page(reply: Reply, base: str) -> str | None:
    """The next page's URL from ``Link: rel="next"``, only on the API's own origin: a next page anywhere else is
    refused (ForgeError "off_origin", exit 2) before any request goes there, so the token never travels."""
    if not reply.next_url:
        return None
    if not same_origin(reply.next_url, base):
        host = urlsplit(reply.next_url).netloc.rpartition("@")[2]  # never a user:password@ part
        raise ForgeError("off_origin", None, host or "no host", reply.next_url)
    return reply.next_url


def same_origin(url: str, base: str) -> bool:
    """Whether ``url`` is on the API's own scheme, host and port: the token is never sent anywhere else."""
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)
