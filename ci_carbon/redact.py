"""Secrets out of everything ci-carbon prints or writes: one function, applied at the edges.

A tracking URI may carry a password (``postgresql://user:secret@db/mlflow``, ``https://user:token@host``,
``…?password=…``), and credentials live in the environment (``MLFLOW_TRACKING_PASSWORD``, ``GITHUB_TOKEN`` …).
:func:`redact` masks them by shape (a URI's password, a secret query parameter, an ``Authorization`` value, a
GitHub or GitLab token) and by value (every credential variable's value, and every password a URI on the command
line or in the environment carries, as written and percent-decoded), so a secret that reached a message by any path
(an exception's text, a driver's error, a library's log line) is masked there too. The user and host stay: the
line still says which store or forge it is about (``postgresql://ci:***@db.example/mlflow``).

The edges: the CLI's handler sends standard output and standard error through :class:`RedactingStream` (every
click line, log record, warning and traceback), and every file a command writes goes through :func:`redact`.
"""

from __future__ import annotations

import io
import os
import re
import time
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TextIO
from urllib.parse import unquote

MASK = "***"
# scheme://user:secret@host — the secret runs to the last "@" of the URI, so that a password with an unencoded "@"
# or "/" in it is masked whole (what SQLAlchemy and libpq read as the password, and more, never less); it stops at
# what ends a URI in text (space, quote, a CSV comma, a table's bar), so it never eats the next field. Each pattern
# begins with a literal ("://", a parameter's name), so a search over a large report is fast.
_USERINFO = re.compile(r"://(?P<user>[^:/?#@\s'\"<>,|`]*):(?P<secret>[^\s'\"<>,|`]*)@")
# a query (or form, or DSN) parameter whose name says it is a credential: ?password=, &private_token=, sig= …
# Spelled in lower, upper, capitalised and camel case rather than with re.I, which makes a search ten times slower.
_SECRET_WORDS = ("password", "passwd", "token", "secret", "api_key", "apikey", "apiKey", "access_key", "accesskey",
                 "accessKey", "signature", "credential")
_HEADERS = ("authorization", "private-token", "x-api-key", "X-API-Key", "Private-Token", "X-Api-Key")


def _spellings(words: Iterable[str]) -> str:
    return "|".join(sorted({v for w in words for v in (w, w.upper(), w.capitalize())}, key=len, reverse=True))


_SECRET_PARAMETER = re.compile(rf"(?P<key>(?:{_spellings(_SECRET_WORDS)})[\w.-]*=)[^&#\s'\"<>,;|`)\]}}]*")
_AUTHORIZATION = re.compile(rf"(?P<key>(?:{_spellings(_HEADERS)})[\"']?\s*[:=]\s*[\"']?"
                            rf"(?:(?:{_spellings(('bearer', 'basic', 'token'))})\s+)?)[^\s\"',;]+|"
                            rf"(?P<bearer>(?:{_spellings(('bearer',))})\s+)[\w.~+/=-]{{8,}}")
# tokens whose shape says what they are, wherever they appear (GitHub's ghp_/gho_/ghu_/ghs_/ghr_, fine-grained
# github_pat_, GitLab's glpat-)
_SECRET_BYTES = tuple({w.lower().encode() for w in _SECRET_WORDS})  # what redact_shapes searches for, lowered
_HEADER_BYTES = tuple({w.lower().encode() for w in (*_HEADERS, "bearer")})
_TOKEN_SHAPE = re.compile(r"(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_-]{20,})")
_SECRET_NAME = re.compile(r"TOKEN|PASSWORD|PASSWD|SECRET|API_KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIAL|AUTH|"
                          r"CONNECTION_STRING|_PASS$", re.I)
MIN_SECRET = 8  # shorter values (a PIN, "true", "expired") would mask ordinary words
MIN_URI_SECRET = 6  # a URI's password, masked also where it appears alone (a driver quoting it)
_learned: set[str] = set()


def _uri_secrets(text: str) -> set[str]:
    """The passwords and secret parameters ``text``'s URIs carry, as written and percent-decoded."""
    found = {m["secret"] for m in _USERINFO.finditer(text)}
    found |= {m.group()[len(m["key"]):] for m in _SECRET_PARAMETER.finditer(text)}
    found |= {unquote(value) for value in found}
    return {value for value in found if len(value) >= MIN_URI_SECRET}


@lru_cache(maxsize=8)
def _environment_secrets(raw: tuple[tuple[str | bytes, str | bytes], ...]) -> frozenset[str]:
    items = [(os.fsdecode(name), os.fsdecode(value)) for name, value in raw]
    values = {value for name, value in items if _SECRET_NAME.search(name) and len(value) >= MIN_SECRET}
    for _, value in items:
        if "://" in value or "=" in value:  # MLFLOW_TRACKING_URI, DATABASE_URL, GITHUB_API_URL with credentials
            values |= _uri_secrets(value)
    return frozenset(values)


def learn(texts: Iterable[str | None]) -> None:
    """Remember the secrets these texts carry (command-line arguments), and whole values handed over as credentials
    (a token read from the variable ``--token-env`` names): they are masked wherever they appear later."""
    for text in texts:
        if text:
            _learned.update(_uri_secrets(text))


def remember(value: str | None) -> None:
    """Remember ``value`` itself as a secret (a token), if it is long enough not to mask ordinary words."""
    if value and len(value) >= MIN_SECRET:
        _learned.add(value)


@lru_cache(maxsize=8)
def _longest_first(values: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(values, key=len, reverse=True))  # a secret containing another is masked whole


def secrets() -> tuple[str, ...]:
    """Every value masked wherever it appears: credential variables' values (names with TOKEN, PASSWORD, SECRET …),
    the passwords of URIs in the environment, and what :func:`learn` and :func:`remember` were given."""
    return _longest_first(_environment_secrets(_environment()) | frozenset(_learned))


def _environment() -> tuple[tuple[str | bytes, str | bytes], ...]:
    """The environment as the OS holds it (bytes on POSIX): a cheap key for the cache, decoded only when it changed."""
    data = getattr(os.environ, "_data", None)
    return tuple(data.items()) if isinstance(data, dict) else tuple(os.environ.items())


def redact(text: str) -> str:
    """``text`` with every password in a URI, secret parameter, authorization value, forge token and known secret
    value masked; the user and host of a URI kept."""
    text = redact_shapes(text)
    for value in secrets():
        if value in text:
            text = text.replace(value, MASK)
    return text


def redact_shapes(text: str) -> str:
    """``text`` with what looks like a secret masked (a URI's password, a secret parameter, an authorization value,
    a forge token), without the environment's values: cheap enough for every value a template escapes, before the
    escaping hides the shape (``@`` becomes ``&#64;`` in Markdown). Each pattern runs only where a plain substring
    search finds what it begins with: a 6 MB report without any is searched in a few hundredths of a second."""
    if "://" in text:
        text = _USERINFO.sub(lambda m: f"://{m['user']}:{MASK}@", text)
    # the patterns spell only ASCII words, so lowering the UTF-8 bytes (ASCII letters only) finds every text they
    # can match: 7× faster than str.lower on a report with any non-ASCII character (0.04 s against 0.3 s on 43 MB)
    lowered = text.encode("utf-8", "surrogatepass").lower()
    if "=" in text and any(word in lowered for word in _SECRET_BYTES):
        text = _SECRET_PARAMETER.sub(lambda m: f"{m['key']}{MASK}", text)
    if any(word in lowered for word in _HEADER_BYTES):
        text = _AUTHORIZATION.sub(lambda m: f"{m['key'] or m['bearer']}{MASK}", text)
    if "gh" in text or "glpat-" in text:
        text = _TOKEN_SHAPE.sub(MASK, text)
    return text


_LINE_ENDS = ("\n", "\r")
FLUSH_AT = 1 << 16  # characters held before complete lines are written out without a flush


def redacted(pieces: Iterable[str]) -> Iterator[str]:
    """``pieces`` (a report as it is rendered) redacted in blocks of whole lines: a secret split between two
    pieces is masked, and a report of thousands of pieces costs a few calls of :func:`redact`."""
    held: list[str] = []
    size = 0
    for piece in pieces:
        held.append(piece)
        size += len(piece)
        if size >= FLUSH_AT and "\n" in piece:
            text = "".join(held)
            cut = text.rfind("\n") + 1
            yield redact(text[:cut])
            held, size = [text[cut:]], len(text) - cut
    if held:
        yield redact("".join(held))




class RedactingStream(io.TextIOBase):
    """A text stream that writes what it is given through :func:`redact`, a whole line at a time.

    Whole lines, because a secret written in pieces (``click.echo(piece, nl=False)``) is only recognisable once its
    line is complete: ``flush`` writes out complete lines and keeps the rest, :meth:`finish` writes everything.
    ``hold``: seconds a flush may keep complete lines back to write them with the next ones, for a stream that is
    given a report in thousands of pieces (each click.echo flushes): redacting each piece on its own took longer than
    rendering them.
    """

    def __init__(self, stream: TextIO, hold: float = 0.0):
        super().__init__()
        self.stream = stream
        self.hold = hold
        self._pending: list[str] = []
        self._size = 0
        self._written = time.monotonic()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.stream, "errors", None) or "strict"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # as a text stream must (click tells text from binary streams by this)
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._pending.append(text)
        self._size += len(text)
        if self._size >= FLUSH_AT:
            self._drain(whole=False)
        return len(text)

    def _drain(self, whole: bool) -> None:
        text = "".join(self._pending)
        cut = len(text) if whole else max(text.rfind(end) for end in _LINE_ENDS) + 1
        self._pending = [text[cut:]] if cut < len(text) else []
        self._size = len(text) - cut
        if cut:
            self.stream.write(redact(text[:cut]))
            self._written = time.monotonic()

    def write_redacted(self, text: str) -> None:
        """Write ``text`` that went through :func:`redact` already (a report staged by core/outputs.py) as it is,
        after what is held: searching megabytes of it a second time finds nothing new."""
        self._drain(whole=True)
        self.stream.write(text)
        self._written = time.monotonic()

    def flush(self) -> None:
        if self._pending and (not self.hold or time.monotonic() - self._written >= self.hold):
            self._drain(whole=False)
            self.stream.flush()

    def finish(self) -> None:
        """Write out everything held, the last line unfinished or not."""
        self._drain(whole=True)
        self.stream.flush()
