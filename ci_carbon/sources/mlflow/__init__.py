"""The MLflow source: runs of a tracking server or SQL store → JobSpecs, with measured power where logged.

Readers (``client_reader``, ``sql_reader``) return the same :class:`~.records.RunRecord` s; ``power`` integrates
logged power histories; ``mapping`` turns a run into a JobSpec. Nothing here is imported on the manifest path.
"""

from __future__ import annotations

from ci_carbon.errors import InputError, InputProblem

EXTRA = "pip install 'ci-carbon[mlflow]'"  # the MLflow client is an extra: the manifest path needs none of it


def require_mlflow() -> None:
    """Where the MLflow path starts: without the client installed, one line saying what to install (exit 2).

    Checked before any store is opened, so that every store (a server, sqlite, a database) fails the same way
    rather than deep inside a reader with an ImportError.
    """
    import importlib.util

    if importlib.util.find_spec("mlflow") is None:
        raise InputError([InputProblem("--mlflow-uri", None, None, f"reading MLflow runs needs the MLflow client, "
                                                                   f"an extra: {EXTRA}")])
