"""Secrets out of everything ci-carbon prints or writes: one function, applied at the edges.

A tracking URI may carry a password (``postgresql://user:secret@db/mlflow``, ``https://user:token@host``), and
credentials live in the environment (``MLFLOW_TRACKING_PASSWORD``, ``GITHUB_TOKEN`` …). Error lines, notices, the
JSON report's ``source.where``, summaries and logs go through :func:`redact` before anyone can read them, so a
secret that reached a message by any path (an exception's text, a driver's error) is masked there too.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

MASK = "***"
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:/?#@\s]*):(?P<secret>[^@/?#\s]*)@")
_SECRET_NAME = re.compile(r"TOKEN|PASSWORD|PASSWD|SECRET|API_KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIAL", re.I)
_SECRET_QUERY = re.compile(r"(?P<key>[?&](?:password|passwd|token|access_token|api_key|apikey|secret)=)[^&#\s]*",
                           re.I)
MIN_SECRET = 8  # shorter values (a PIN, "true", "expired") would mask ordinary words


@lru_cache(maxsize=8)
def _environment_secrets(items: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    values = {value for name, value in items if _SECRET_NAME.search(name) and len(value) >= MIN_SECRET}
    return tuple(sorted(values, key=len, reverse=True))  # longest first: a secret containing another is masked whole


def secrets() -> tuple[str, ...]:
    """The values of this process's credential variables (names with TOKEN, PASSWORD, SECRET …)."""
    return _environment_secrets(tuple(sorted(os.environ.items())))


def redact(text: str) -> str:
    """``text`` with every password in a URI, secret query parameter and credential variable's value masked."""
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    text = _SECRET_QUERY.sub(lambda m: f"{m['key']}{MASK}", text)
    for value in secrets():
        if value in text:
            text = text.replace(value, MASK)
    return text
