"""Errors that end a command with a documented exit code (docs/design.md: 0 ok, 1 a budget failed and nothing else,
2 bad input or usage, 3 a source or forge unreachable after retries, 4 an internal error).

Every user mistake becomes an :class:`InputProblem` (one line: file, line, field, message, suggestion);
the CLI prints them and exits 2. Services that cannot be reached raise :class:`SourceUnreachable` (exit 3).
Anything else that escapes a command is a bug: the CLI's top-level handler says so in one line and exits 4.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

EXIT_OK = 0
EXIT_BUDGET = 1
EXIT_INPUT = 2
EXIT_UNREACHABLE = 3
EXIT_INTERNAL = 4


# Characters that would make a line say something other than its text: line breaks and other controls, bidi
# overrides and isolates, zero-width characters, Unicode tag characters (invisible "ASCII smuggling"). Shown as
# escapes instead (U+202E becomes "\\u202e", U+E0041 "\\U000e0041").
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
                     "\U000e0000-\U000e007f]")
_BREAKS = re.compile(r"[\t\n\r]+")
_LEGACY_COMMAND = "##["  # the runner's older workflow-command prefix, which it finds anywhere in a line


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def visible(text: str) -> str:
    """``text`` with every invisible or direction-changing character written as an escape ("\\u202e"), and the
    runner's legacy ``##[`` command prefix broken ("#\\u0023["): what a reader sees is what the text holds, and no
    log parser finds a command in it. Line breaks are left to the caller (:func:`one_line`, or a sink's own rule)."""
    shown = _HIDDEN.sub(_escape, text)
    return shown.replace(_LEGACY_COMMAND, "#\\u0023[") if _LEGACY_COMMAND in shown else shown


def one_line(text: str) -> str:
    """``text`` as one inert line: line breaks become spaces, invisible and direction-changing characters escapes.

    Every line ci-carbon writes to standard error passes through here, so a newline, carriage return or other
    control in a YAML key or value can never start a line of its own (a line that begins ``::error::`` would be a
    GitHub workflow command)."""
    return visible(_BREAKS.sub(" ", text))


class InputProblem(NamedTuple):
    """One thing wrong with the user's input, located as precisely as we know. Its text is always one inert line
    (:func:`one_line`): the user's keys and values it quotes cannot start a line of their own."""

    file: str
    line: int | None
    field: str | None
    message: str
    suggestion: str | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        what = f"{self.field}: {self.message}" if self.field else self.message
        hint = f" (did you mean {self.suggestion}?)" if self.suggestion else ""
        return one_line(f"{where}: {what}{hint}")  # a key or value's line break cannot split it


class InputError(Exception):
    """Bad input: one or more problems, each printed on its own line."""

    def __init__(self, problems: Iterable[InputProblem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SourceUnreachable(Exception):
    """A source or forge could not be reached after retries."""
