"""The command line: the composition root. Each command chooses a source, runs the stages, renders and writes;
nothing imports this package. Commands load only when used, so `report --manifest` starts fast.

Exit codes (docs/design.md): 0 success, 1 a budget failed, 2 bad input or usage, 3 a source or forge could not be
reached, 4 an internal error (see :mod:`ci_carbon.cli.handler`).
"""

from __future__ import annotations

import importlib
import sys
from typing import ClassVar

import click

from ci_carbon import __version__
from ci_carbon.cli import handler


class _Commands(click.Group):
    """Commands are imported when named (and all of them for --help)."""

    lazy: ClassVar[dict[str, str]] = {
        "report": "ci_carbon.cli.report", "validate": "ci_carbon.cli.validate", "annotate": "ci_carbon.cli.annotate",
        "demo-store": "ci_carbon.cli.annotate", "hardware": "ci_carbon.cli.listings",
        "regions": "ci_carbon.cli.listings", "comment": "ci_carbon.cli.comment", "summary": "ci_carbon.cli.summary",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.lazy)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = self.lazy.get(name)
        if module is None:
            return None
        return getattr(importlib.import_module(module), name.replace("-", "_"))


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ci-carbon")
def group() -> None:
    """Carbon footprint of machine-learning training: energy, emissions and what to do about them.

    Add --debug anywhere (or set CI_CARBON_DEBUG=1) to see the traceback of an internal error.
    """


def main() -> None:
    """`ci-carbon` for a caller in-process: exits by SystemExit with the documented code."""
    sys.exit(handler.run(group, sys.argv[1:]))


def console() -> None:
    """The console script `ci-carbon` and `python -m ci_carbon`: :func:`main`, ending the process without the
    interpreter's teardown (:func:`ci_carbon.cli.handler.leave`)."""
    handler.leave(handler.run(group, sys.argv[1:]))
