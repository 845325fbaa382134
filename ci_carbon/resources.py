"""Where the curated data tables and templates live.

In a built wheel they ship inside the package (``ci_carbon/data``, ``ci_carbon/templates``); in a source
checkout or an editable install they are the repository's top-level ``data/`` and ``templates/``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def _find(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"ci-carbon is installed without its {name}/ folder")


def data_dir() -> Path:
    return _find("data")


def templates_dir() -> Path:
    return _find("templates")
