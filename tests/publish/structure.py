"""Structural checks of a Markdown comment: what a cut through the body would break."""

from __future__ import annotations

import re

_PIPE = re.compile(r"(?<!\\)\|")


def problems(body: str) -> list[str]:
    """Every unclosed code fence or details element and every table row whose cells differ from its header."""
    found: list[str] = []
    fenced, depth, header = False, 0, None
    for number, line in enumerate(body.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        depth += line.count("<details") - line.count("</details>")
        if depth < 0:
            found.append(f"line {number}: </details> without <details>")
            depth = 0
        if not line.startswith("|"):
            header = None
            continue
        cells = len(_PIPE.findall(line))
        if header is None:
            header = cells
        elif cells != header or not line.rstrip().endswith("|"):
            found.append(f"line {number}: table row with {cells} cell borders, header has {header}")
    if fenced:
        found.append("a code fence is not closed")
    if depth:
        found.append(f"{depth} <details> not closed")
    return found
