"""Where a command's text goes: a file chosen by --output (its extension choosing the format), or standard output."""

from __future__ import annotations

import os
from collections.abc import Iterable

import click

from ci_carbon.errors import InputError, InputProblem

REPORT_EXTENSIONS = {".md": "markdown", ".markdown": "markdown", ".json": "json", ".csv": "csv"}


def format_of(output: str | None, extensions: dict[str, str]) -> str:
    """The format a file's extension asks for when --format is not given (``-o report.json`` is JSON), else
    Markdown: writing Markdown into a .json or .csv file is never what was meant."""

    return extensions.get(os.path.splitext(output or "")[1].lower(), "markdown")


def write_pieces(pieces: Iterable[str], output: str | None) -> None:
    """Text to FILE (or stdout for None and '-') as it is made; a file left half-written by a failure is removed,
    so nothing incomplete is taken for a report."""
    if output is None or output == "-":
        for piece in pieces:
            click.echo(piece, nl=False)
        return
    try:
        with open(output, "w", encoding="utf-8") as handle:
            try:
                for piece in pieces:
                    handle.write(piece)
            except BaseException:
                handle.close()
                os.remove(output)
                raise
    except OSError as err:
        raise InputError([InputProblem(output, None, "--output", f"cannot be written: {err.strerror}")]) from None
