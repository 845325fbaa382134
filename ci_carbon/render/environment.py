"""The one jinja2 environment every format renders through."""

from __future__ import annotations

from functools import cache

import jinja2

from ci_carbon.render.filters import FILTERS
from ci_carbon.resources import templates_dir


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=False,  # Markdown, JSON and CSV: escaping is explicit, per context (filters md, mermaid)
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    env.globals.update(md=FILTERS["md"], plain=plain)  # escapers passed to macros that serve several formats
    return env


def macro(template: str, name: str):
    """A macro of a template, callable from Python (for sentences that JSON carries as text)."""
    return getattr(environment().get_template(template).module, name)


def plain(text: object) -> str:
    """The escaping function for plain-text contexts (JSON, CSV): nothing to escape, one line."""
    return " ".join(str(text).split())
