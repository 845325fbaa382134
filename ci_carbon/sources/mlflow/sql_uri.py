"""An SQL store's URI as users write it → the URI ci-carbon opens, with a driver that is installed.

Why: users copy the tracking URI their `mlflow server` runs with, and it names a driver of that team's choosing:
``postgresql://`` (SQLAlchemy's default driver for it is psycopg2), ``postgresql+psycopg2://`` (MLflow's docs),
``mysql://`` (mysqlclient, a C extension that needs the MySQL headers to build). The URI names the database; the
driver is only how this process talks to it, so any installed driver of the same database reads it. The extras
``ci-carbon[postgres]`` and ``ci-carbon[mysql]`` install psycopg (3) and PyMySQL (pure Python). With no driver of
that database installed, the one line names the extra to install (exit 2), instead of a traceback from a client
that would have tried to create the store.
"""

from __future__ import annotations

import importlib.util
from typing import NamedTuple

from ci_carbon.errors import InputError, InputProblem
from ci_carbon.redact import redact


class Database(NamedTuple):
    name: str  # as a person says it, in messages
    extra: str  # ci-carbon[extra] that installs a driver for it
    default: str  # SQLAlchemy's driver for the bare scheme
    drivers: tuple[tuple[str, str], ...]  # (SQLAlchemy driver name, module), in the order ci-carbon prefers them


DATABASES = {
    "postgresql": Database("PostgreSQL", "postgres", "psycopg2",
                           (("psycopg", "psycopg"), ("psycopg2", "psycopg2"), ("pg8000", "pg8000"))),
    "mysql": Database("MySQL/MariaDB", "mysql", "mysqldb",
                      (("pymysql", "pymysql"), ("mysqldb", "MySQLdb"), ("mysqlconnector", "mysql.connector"))),
}
MODULES = {driver: module for database in DATABASES.values() for driver, module in database.drivers}


def scheme(uri: str) -> tuple[str, str]:
    """(database, driver) of ``uri``'s scheme, lower-cased: ``postgresql+psycopg2://`` → ("postgresql", "psycopg2")."""
    head = uri.split(":", 1)[0].lower()
    database, _, driver = head.partition("+")
    return database, driver


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a module blocked in sys.modules
        return False


def with_driver(uri: str) -> str:
    """``uri`` with a driver that is installed: the one it names (or SQLAlchemy's default) if it is, else the first
    installed one of :data:`DATABASES`. URIs of other databases come back unchanged.

    Raises InputError (exit 2) naming the extra when SQLAlchemy or every driver for the database is missing.
    """
    database_name, driver = scheme(uri)
    database = DATABASES.get(database_name)
    if database is None:
        return uri
    if not _installed("sqlalchemy"):
        raise _missing(uri, database, "SQLAlchemy and a driver")
    named = driver or database.default
    if named not in MODULES or _installed(MODULES[named]):
        return uri  # installed, or a driver we do not know: SQLAlchemy says what is wrong with it
    chosen = next((name for name, module in database.drivers if _installed(module)), None)
    if chosen is None:
        raise _missing(uri, database, f"a {database.name} driver")
    return f"{database_name}+{chosen}:{uri.split(':', 1)[1]}"


def _missing(uri: str, database: Database, what: str) -> InputError:
    return InputError([InputProblem(redact(uri), None, "--mlflow-uri", f"reading a {database.name} store needs "
                                    f"{what}: pip install 'ci-carbon[{database.extra}]'")])
