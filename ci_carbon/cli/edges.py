"""The process's edges while a command runs: what reaches standard output and standard error, and how loudly the
libraries underneath may speak there.

Both streams go through :class:`ci_carbon.redact.RedactingStream`, so every click line, log record, warning,
traceback and library print is redacted in one place, whatever wrote it. MLflow, alembic, SQLAlchemy, urllib3 and
GitPython log for their own developers: a store whose role may not read a table made them print ~140 lines that
hid the one that names the cause. Without ``--debug`` they say nothing below CRITICAL (the command's own line names
what failed) and ``warnings.warn`` is silent; with it their records and warnings are shown, redacted like the rest.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress

from ci_carbon import redact

QUIET = logging.WARNING  # the libraries' level; below CRITICAL nothing is shown at all without --debug
SHOWN = logging.INFO  # with --debug
# with --debug: what each library says (SQLAlchemy's INFO is every statement and mapper it builds: thousands)
LIBRARIES = {"mlflow": SHOWN, "alembic": SHOWN, "sqlalchemy": QUIET, "urllib3": SHOWN, "requests": SHOWN,
             "git": SHOWN, "huey": QUIET, "botocore": QUIET, "py.warnings": QUIET}
HOLD_S = 0.05  # standard output: complete lines written (redacted) at most this late, in batches
MLFLOW_LEVEL = "MLFLOW_LOGGING_LEVEL"  # MLflow sets its loggers' levels from it when imported


@contextmanager
def guarded(argv: Sequence[str], debug: bool) -> Iterator[None]:
    """Redacted streams and quiet libraries for one command; everything as it was afterwards."""
    redact.learn(argv)
    streams = sys.stdout, sys.stderr
    out, err = redact.RedactingStream(sys.stdout, hold=HOLD_S), redact.RedactingStream(sys.stderr)
    sys.stdout, sys.stderr = out, err
    undo = _quiet(debug)
    try:
        yield
    finally:
        undo()
        for stream in (out, err):
            try:
                stream.finish()
            except (OSError, ValueError):  # a reader that went away (`| head`): nothing more can be said to it
                _to_devnull(stream.stream)
        # click may have wrapped a stream it found closed; only ours are put back
        sys.stdout = streams[0] if sys.stdout is out else sys.stdout
        sys.stderr = streams[1] if sys.stderr is err else sys.stderr


def _quiet(debug: bool):
    """Set the libraries' loggers and the warnings filter for the command; return what undoes it."""
    level_before = os.environ.get(MLFLOW_LEVEL)
    os.environ.setdefault(MLFLOW_LEVEL, logging.getLevelName(SHOWN if debug else QUIET))  # read by its import
    levels = {name: logging.getLogger(name).level for name in LIBRARIES}
    for name, shown in LIBRARIES.items():
        logging.getLogger(name).setLevel(shown if debug else QUIET)
    disabled = logging.root.manager.disable
    handler: logging.Handler | None = None
    logging.captureWarnings(True)  # warnings.warn becomes a py.warnings record: shown (redacted) only when debugging
    if debug:
        handler = logging.StreamHandler(sys.stderr)  # the redacting stream installed just before
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logging.root.addHandler(handler)
    else:
        logging.disable(logging.ERROR)  # whatever a library logs (MLflow re-sets its own levels on import)
    caught = warnings.catch_warnings()
    caught.__enter__()
    if not debug:
        warnings.simplefilter("ignore")

    def undo() -> None:
        caught.__exit__(None, None, None)
        if level_before is None:
            os.environ.pop(MLFLOW_LEVEL, None)
        logging.captureWarnings(False)
        logging.disable(disabled)
        if handler is not None:
            logging.root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)

    return undo


def _to_devnull(stream: object) -> None:
    """Point a closed stream's descriptor at /dev/null, so the interpreter's last flush of what it still holds
    does not fail (and print) again."""
    with suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())  # type: ignore[attr-defined]
