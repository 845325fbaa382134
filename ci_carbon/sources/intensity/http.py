"""HTTP for the grid-intensity APIs: one requests Session, retried with urllib3's Retry as the forges' transport
(:mod:`ci_carbon.publish.transport`) is, and every answer sorted into what the refinement does next.

Connection errors, timeouts and 500/502/503/504 are retried (3 tries after the first, back-off 0.5 s: 0, 1, 2 s);
what then still fails is ``unreachable``. A 429 is not retried: the hourly figure is an optional refinement, and a
report must not wait out a rate limit; it becomes ``rate_limited`` (with the Retry-After the API gave). 401 and 403
are a rejected token: the user's configuration to fix (exit 2). Any other 4xx (a zone the API does not know, hours
outside its data) is ``missing``. Only the last three fall back to the yearly tables, with a notice.
"""

from __future__ import annotations

from typing import Any

from ci_carbon import __version__

RETRIES = 3
BACKOFF = 0.5
TIMEOUT = (5, 30)  # connect, read (seconds)


class Unavailable(Exception):
    """No hourly figure: ``reason`` is unreachable | rate_limited | missing | no_token | no_zone."""

    def __init__(self, reason: str, detail: str = ""):
        self.reason, self.detail = reason, detail
        super().__init__(f"{reason}: {detail}")


class Rejected(Exception):
    """The API refused the credentials (401/403): a configuration error."""

    def __init__(self, status: int, detail: str = ""):
        self.status, self.detail = status, detail
        super().__init__(f"{status}: {detail}")


def session() -> Any:
    """A Session retrying connection errors and 5xx on GET (never 429: see the module docstring)."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util import Retry

    retry = Retry(total=RETRIES, connect=RETRIES, read=RETRIES, backoff_factor=BACKOFF,
                  status_forcelist=(500, 502, 503, 504), allowed_methods=frozenset({"GET"}),
                  raise_on_status=False, respect_retry_after_header=False)
    s = requests.Session()
    s.mount("http://", HTTPAdapter(max_retries=retry))
    s.mount("https://", HTTPAdapter(max_retries=retry))
    s.headers["User-Agent"] = f"ci-carbon/{__version__}"
    return s


def get_json(s: Any, url: str, params: dict[str, str] | None = None, headers: dict[str, str] | None = None,
             auth: tuple[str, str] | None = None) -> Any:
    """GET ``url`` and its JSON, or the reason there is none (:class:`Unavailable`, :class:`Rejected`)."""
    import requests

    try:
        reply = s.get(url, params=params, headers=headers, auth=auth, timeout=TIMEOUT)
    except requests.RequestException as err:
        raise Unavailable("unreachable", type(err).__name__) from None
    if reply.status_code in (401, 403):
        raise Rejected(reply.status_code, _message(reply))
    if reply.status_code == 429:
        raise Unavailable("rate_limited", reply.headers.get("Retry-After", ""))
    if reply.status_code >= 500:
        raise Unavailable("unreachable", f"HTTP {reply.status_code}")
    if reply.status_code >= 400:
        raise Unavailable("missing", f"HTTP {reply.status_code} {_message(reply)}".strip())
    try:
        return reply.json()
    except ValueError:
        raise Unavailable("unreachable", "an answer that is not JSON") from None


def _message(reply: Any) -> str:
    """The API's own error message, one line, short (Electricity Maps: ``message``/``error``)."""
    try:
        body = reply.json()
    except ValueError:
        return ""
    text = body.get("message") or body.get("error") or "" if isinstance(body, dict) else ""
    return " ".join(str(text).split())[:160]
