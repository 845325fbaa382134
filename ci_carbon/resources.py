"""Where the curated data tables and templates live (os.path, not pathlib: it is on every command's start-up).

In a built wheel they ship inside the package (``ci_carbon/data``, ``ci_carbon/templates``); in a source
checkout or an editable install they are the repository's top-level ``data/`` and ``templates/``. A wheel also
carries the templates precompiled (``ci_carbon/_compiled_templates``, see render/environment.py).
"""

from __future__ import annotations

import os
from functools import cache

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


@cache
def _find(name: str) -> str:
    for candidate in (os.path.join(_PACKAGE, name), os.path.join(os.path.dirname(_PACKAGE), name)):
        if os.path.isdir(candidate):
            return candidate
    raise FileNotFoundError(f"ci-carbon is installed without its {name}/ folder")


def data_dir() -> str:
    return _find("data")


def templates_dir() -> str:
    return _find("templates")


COMPILED_TEMPLATES = "_compiled_templates"  # in a built wheel only (hatch_build.py): the templates as Python


@cache
def compiled_templates_dir() -> str | None:
    """The wheel's precompiled templates, or None in a source checkout or an editable install."""
    folder = os.path.join(_PACKAGE, COMPILED_TEMPLATES)
    return folder if os.path.isdir(folder) else None
