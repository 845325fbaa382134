"""Sentences for the comment command, rendered from templates/comment/ (the wording lives there, not here)."""

from __future__ import annotations

from ci_carbon.render.environment import macro


def line(name: str, *args: object, **kwargs: object) -> str:
    """A macro of templates/comment/messages.j2 as one line (messages on stderr, errors, notices)."""
    return " ".join(str(macro("comment/messages.j2", name)(*args, **kwargs)).split())


def block(template: str, name: str, *args: object, **kwargs: object) -> str:
    """A macro of a templates/comment/ template as Markdown, line breaks kept, without surrounding blank lines."""
    return str(macro(f"comment/{template}", name)(*args, **kwargs)).strip("\n")
