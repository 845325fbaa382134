"""Render a report to a size: a forge refuses a comment over its limit (GitHub: 65,536 characters), and a body cut
at the limit would break a table, a chart or a ``<details>`` element.

The Markdown is rendered again from the JSON report with sections left out by the template itself, least important
first (:data:`DROP_ORDER`), until it fits; then what was left out is put back, most important first, wherever it
still fits; as a last resort the job table keeps fewer rows. The template's last line says what was left out.
Markdown written elsewhere (``comment --body-file``) has no model to render again: it is cut by whole blocks from
the end, never inside one, with a line saying so.
"""

from __future__ import annotations

import re

from ci_carbon.render.formats import TABLE_ROWS, markdown
from ci_carbon.render.payload import Payload

DROP_ORDER = ("method", "more_jobs", "notes", "skipped", "equivalents", "results", "advice_rest", "unchanged", "chart",
              "advice")


def size(text: str) -> int:
    """Length as a forge may count it: UTF-16 code units (an emoji counts twice), never less than characters."""
    return len(text.encode("utf-16-le")) // 2


def fitted(r: Payload, limit: int, forge: str = "github", stated: int | None = None) -> tuple[str, tuple[str, ...]]:
    """The report as Markdown within ``limit``, and the sections left out (none when the whole report fits).

    ``stated`` is the forge's own limit that the last line names (``limit`` is less: the comment's marker line).
    """
    text = markdown(r)
    if size(text) <= limit:
        return text, ()
    omit: list[str] = []
    limit_shown = stated or limit
    for section in DROP_ORDER:
        omit.append(section)
        text = markdown(r, omit, forge=forge, limit=limit_shown)
        if size(text) <= limit:
            break
    rows = TABLE_ROWS
    while size(text) > limit and rows > 0:
        rows //= 2
        omit = [*dict.fromkeys([*omit, "rows"])]
        text = markdown(r, omit, rows, forge, limit_shown)
    for section in reversed([s for s in omit if s != "rows"]):  # most important first
        trial = [s for s in omit if s != section]
        again = markdown(r, trial, rows, forge, limit_shown)
        if size(again) <= limit:
            omit, text = trial, again
    return text, tuple(omit)


_BLOCK_END = re.compile(r"\n\s*\n")  # a blank line: between two Markdown blocks


def cut(text: str, limit: int, note: str) -> tuple[str, bool]:
    """Markdown from elsewhere within ``limit``: whole blocks from the start, then ``note``; (text, whether cut).

    A block ends at a blank line outside a fenced code block or a ``<details>`` element, so neither is ever split.
    """
    if size(text) <= limit:
        return text, False
    budget = limit - size(note) - 2
    kept = ""
    for block in _blocks(text):
        if size(kept + block) > budget:
            break
        kept += block
    return kept.rstrip("\n") + "\n\n" + note + "\n", True


def _blocks(text: str) -> list[str]:
    """The text as whole blocks, each with the blank lines after it."""
    blocks, current, fence, depth = [], "", False, 0
    for line in text.splitlines(keepends=True):
        current += line
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            fence = not fence
        elif not fence:
            depth += stripped.count("<details") - stripped.count("</details>")
        if not stripped and not fence and depth <= 0:
            blocks.append(current)
            current = ""
    if current:
        blocks.append(current)
    return blocks
