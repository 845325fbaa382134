"""Errors that end a command with a documented exit code.

Every user mistake becomes an :class:`InputProblem` (one line: file, line, field, message, suggestion);
the CLI prints them and exits 2. Services that cannot be reached raise :class:`SourceUnreachable` (exit 3).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

EXIT_OK = 0
EXIT_BUDGET = 1
EXIT_INPUT = 2
EXIT_UNREACHABLE = 3


class InputProblem(NamedTuple):
    """One thing wrong with the user's input, located as precisely as we know."""

    file: str
    line: int | None
    field: str | None
    message: str
    suggestion: str | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        what = f"{self.field}: {self.message}" if self.field else self.message
        hint = f" (did you mean {self.suggestion}?)" if self.suggestion else ""
        return f"{where}: {what}{hint}"


class InputError(Exception):
    """Bad input: one or more problems, each printed on its own line."""

    def __init__(self, problems: Iterable[InputProblem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SourceUnreachable(Exception):
    """A source or forge could not be reached after retries."""
