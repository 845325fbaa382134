"""Name matching shared by every lookup: forgiving about case, spaces and dashes, strict about the rest."""

from __future__ import annotations

import re

_DROP = re.compile(r"[\s\-_]+")


def normalise(name: str) -> str:
    """The key a name is matched by: 'NVIDIA A100-SXM4-80GB' and 'nvidia a100 sxm4 80gb' meet."""
    return _DROP.sub("", name).lower()


def nearest(name: str, candidates: dict[str, str], limit: int = 3) -> list[str]:
    """Display names whose keys are closest to ``name``; difflib is imported only on this error path."""
    import difflib

    keys = difflib.get_close_matches(normalise(name), list(candidates), n=limit * 3, cutoff=0.5)
    seen: list[str] = []
    for key in keys:
        shown = candidates[key]
        if shown not in seen:
            seen.append(shown)
    return seen[:limit]


def suggestion(options: list[str]) -> str | None:
    """The text after 'did you mean' for a list of names, or None."""
    if not options:
        return None
    return " or ".join(f"'{o}'" for o in options)
