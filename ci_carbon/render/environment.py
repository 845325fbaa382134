"""The one jinja2 environment every format renders through."""

from __future__ import annotations

import os
from functools import cache

import jinja2

from ci_carbon.render.filters import FILTERS
from ci_carbon.resources import templates_dir


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs: compiling them costs more than rendering a 100-job report.

    Entries are keyed by each template's source checksum, so an edited or upgraded template never reuses a
    stale entry. No cache (compile every time) where no cache folder can be made.
    """
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    base = os.path.join(root, "ci-carbon", "jinja")
    try:
        os.makedirs(base, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(base) if os.access(base, os.W_OK) else None


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        bytecode_cache=_bytecode_cache(),
        auto_reload=False,  # one process renders one report: no need to stat templates on every lookup
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
