"""The one top-level handler every command runs under: each outcome becomes its documented exit code.

0 success; 1 a budget failed (and nothing else); 2 bad input or usage, one line per problem; 3 a source or forge
could not be reached after retries; 4 an internal error — one line naming what failed and asking for a bug report,
the traceback only with ``--debug`` (anywhere on the command line) or ``CI_CARBON_DEBUG=1``. Nothing else escapes:
click's own errors, an interrupt, a library's ``sys.exit`` and a closed standard output are all mapped here. Every
line is redacted (no secret) and made one inert line before it is printed.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import NoReturn

import click

from ci_carbon.errors import (
    EXIT_BUDGET,
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_UNREACHABLE,
    InputError,
    SourceUnreachable,
    one_line,
)
from ci_carbon.redact import redact

DEBUG_FLAG = "--debug"
DEBUG_ENV = "CI_CARBON_DEBUG"
BUG_REPORT = "https://github.com/ci-carbon/ci-carbon/issues"
DOCUMENTED = (EXIT_OK, EXIT_BUDGET, EXIT_INPUT, EXIT_UNREACHABLE, EXIT_INTERNAL)


def say(text: str) -> None:
    """One line on standard error, prefixed, redacted and inert (a newline in user text cannot start a new line)."""
    click.echo(f"ci-carbon: {one_line(redact(text))}", err=True)


def _usage(err: click.UsageError) -> None:
    """click's usage error as click shows it (usage, hint, ``Error: …``), but its message — which quotes what the
    user typed, an option name or a value — redacted and on one inert line."""
    ctx = err.ctx
    if ctx is not None:
        hint = ""
        if ctx.command.get_help_option(ctx) is not None:
            hint = f"Try '{ctx.command_path} {ctx.help_option_names[0]}' for help.\n"
        click.echo(f"{ctx.get_usage()}\n{hint}", err=True, color=ctx.color)
    click.echo(f"Error: {one_line(redact(err.format_message()))}", err=True)


def debug_requested(argv: Sequence[str]) -> bool:
    return DEBUG_FLAG in argv or os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _without_debug(argv: Sequence[str]) -> list[str]:
    """The arguments with ``--debug`` taken out (before a ``--``), so any command accepts it in any position."""
    if "--" in argv:
        cut = list(argv).index("--")
        return [a for a in argv[:cut] if a != DEBUG_FLAG] + list(argv[cut:])
    return [a for a in argv if a != DEBUG_FLAG]


def _internal(err: BaseException, debug: bool) -> int:
    if debug:
        click.echo(redact("".join(traceback.format_exception(err))), err=True, nl=False)
    what = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    hint = "" if debug else f" (run again with {DEBUG_FLAG} for the traceback)"
    say(f"internal error: {what}. This is a bug in ci-carbon; please report it at {BUG_REPORT}{hint}")
    return EXIT_INTERNAL


class BudgetFailed(Exception):
    """The budget gate failed: the one way to exit 1 (commands never call sys.exit with it)."""


def _exit_code(code: object, cause: BaseException | None = None) -> int:
    """A SystemExit's code as a documented exit code. 1 is the budget's alone (BudgetFailed): click exits 1 when
    standard output is a closed pipe (the reader stopped: not an error), and a library exiting with 1 or any other
    undocumented code is an internal error."""
    if code is None:
        return EXIT_OK
    if code == EXIT_BUDGET:
        if isinstance(cause, BrokenPipeError) or _stdout_was_closed():
            return EXIT_OK
        say(f"internal error: exited with code 1 outside the budget gate. This is a bug in ci-carbon; please "
            f"report it at {BUG_REPORT}")
        return EXIT_INTERNAL
    if isinstance(code, int) and code in DOCUMENTED:
        return code
    if not isinstance(code, int):
        say(str(code))
        return EXIT_INPUT
    say(f"internal error: exited with code {code}. This is a bug in ci-carbon; please report it at {BUG_REPORT}")
    return EXIT_INTERNAL


def run(command: click.Command, argv: Sequence[str], prog_name: str | None = None) -> int:
    """Run ``command`` with ``argv``; the documented exit code (never a traceback unless debugging). Everything it
    prints goes through redaction, and the libraries below are quiet unless debugging (:mod:`.edges`)."""
    from ci_carbon.cli.edges import guarded

    debug = debug_requested(argv)
    with guarded(argv, debug):
        return _run(command, argv, prog_name, debug)


def _run(command: click.Command, argv: Sequence[str], prog_name: str | None, debug: bool) -> int:
    try:
        code = command.main(args=_without_debug(argv), prog_name=prog_name, standalone_mode=False)
    except BudgetFailed:
        return EXIT_BUDGET
    except InputError as err:
        for problem in err.problems:
            say(str(problem))
        return EXIT_INPUT
    except SourceUnreachable as err:
        say(str(err))
        return EXIT_UNREACHABLE
    except click.exceptions.Exit as err:
        return _exit_code(err.exit_code)
    except click.UsageError as err:
        _usage(err)
        return EXIT_INPUT
    except click.ClickException as err:  # a file click could not open, a bad parameter of ours
        say(err.format_message())
        return EXIT_INPUT
    except (click.Abort, KeyboardInterrupt):
        say("interrupted; nothing more was written")
        return EXIT_INPUT
    except BrokenPipeError:  # `ci-carbon report | head`: the reader stopped reading, which is not an error
        _quiet_stdout()
        return EXIT_OK
    except SystemExit as err:
        return _exit_code(err.code, err.__context__)
    except Exception as err:
        return _internal(err, debug)
    return _exit_code(code) if isinstance(code, int) else EXIT_OK


def _stdout_was_closed() -> bool:
    """Whether click met a closed standard output: it then wraps the streams so that their flush stays quiet, and
    exits 1 — which here is the budget's code, so the handler must tell the two apart."""
    return type(sys.stdout).__name__ == "_PacifyFlushWrapper"


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail on the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def entry(command: click.Command) -> Callable[[], None]:
    """A console-script entry point for ``command``: runs it and exits with its documented code."""

    def main() -> None:
        sys.exit(run(command, sys.argv[1:]))

    return main


def leave(code: int) -> NoReturn:
    """End the process with ``code`` without tearing the interpreter down object by object.

    Why: the teardown frees every row, estimate and string of a large report one at a time — 0.2-0.3 s of a
    20,000-run report (median 2.44 s → 2.14 s over six runs each), for a process that is ending anyway. What exit
    must still do is done first: the standard streams are flushed and the atexit handlers run (logging's flush,
    temporary files' finalizers). Only the console script and ``python -m ci_carbon`` call this
    (:func:`ci_carbon.cli.console`); :func:`ci_carbon.cli.main` still raises SystemExit, so a caller in-process never
    loses its interpreter. mypy ends the same way, for the same reason.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (the reader stopped): nothing more to say
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)
