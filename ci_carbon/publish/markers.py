"""The hidden marker that makes one comment per report key sticky.

The marker is the first line of every comment ci-carbon writes:

    <!-- ci-carbon:comment v1 key=<percent-encoded key> time=<report time, ISO 8601 UTC, seconds> -->

It is exact (one regular expression, first line only), versioned (``v1``: a later format gets its own version and
never matches this one), invisible in the rendered comment, and carries the report time so that a re-run of an old
commit can tell that a newer report is already posted and leave it alone. The key is percent-encoded so that no key
can end the HTML comment or add a second attribute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote, unquote

PREFIX = "<!-- ci-carbon"
_MARKER = re.compile(
    r"<!-- ci-carbon:comment v1 key=(?P<key>[A-Za-z0-9%._~-]+) time=(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) -->"
)
_TIME = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Marker:
    """Which report a comment holds (its key) and when that report was made."""

    key: str
    time: datetime

    def line(self) -> str:
        return f"<!-- ci-carbon:comment v1 key={quote(self.key, safe='')} time={self.time.strftime(_TIME)} -->"


def parse_time(text: str) -> datetime:
    """An ISO 8601 time as UTC, to the second; a time without an offset is taken as UTC.

    Raises ValueError for anything else (the caller turns it into a usage error).
    """
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).replace(microsecond=0)


def parse(body: str) -> Marker | None:
    """The marker of a comment, or None: only an exact marker on the first line counts.

    Anyone who can comment can plant a marker, so one whose time is not a real time (``2026-99-99T00:00:00Z``) is
    no marker at all: ignored like any other text, never an error.
    """
    first = body.split("\n", 1)[0].rstrip("\r")
    match = _MARKER.fullmatch(first)
    if match is None:
        return None
    try:
        when = parse_time(match["time"])
    except ValueError:
        return None
    return Marker(unquote(match["key"]), when)


def neutralise(body: str) -> str:
    """The report text with no marker of its own, so the posted comment has exactly one: ours, on the first line.

    A whole marker line (a body that was an earlier comment, fed back) is dropped; any other occurrence of the
    prefix is HTML-escaped, which GitHub and GitLab show as the literal text and our parser never matches.
    """
    lines = body.splitlines(keepends=True)
    kept = "".join(line for line in lines if _MARKER.fullmatch(line.strip()) is None)
    return kept.replace(PREFIX, "&lt;!-- ci-carbon")


def compose(marker: Marker, body: str) -> str:
    """The comment as posted: the marker line, then the report."""
    return f"{marker.line()}\n{body}"


def same_body(posted: str, body: str) -> bool:
    """Whether a posted comment already reads exactly ``body`` (forges may turn line ends into CRLF and trim)."""

    def norm(text: str) -> str:
        return text.replace("\r\n", "\n").rstrip()

    return norm(posted) == norm(body)
