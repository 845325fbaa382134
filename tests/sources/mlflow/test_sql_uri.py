"""The driver rule for SQL store URIs, written out case by case."""

from __future__ import annotations

import sys

import pytest

from ci_carbon.errors import InputError
from ci_carbon.sources.mlflow import sql_uri

HOST = "u:pw@127.0.0.1:5432/mlflow"


def _block(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """As if these modules were not installed: an import of any of them fails, and find_spec finds nothing."""
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)


@pytest.mark.parametrize(("given", "opened"), [
    ("postgresql://" + HOST, "postgresql+psycopg://" + HOST),  # SQLAlchemy's default psycopg2 is not installed
    ("postgresql+psycopg2://" + HOST, "postgresql+psycopg://" + HOST),
    ("postgresql+psycopg://" + HOST, "postgresql+psycopg://" + HOST),
    ("PostgreSQL://" + HOST, "postgresql+psycopg://" + HOST),
    ("mysql://" + HOST, "mysql+pymysql://" + HOST),  # mysqlclient (MySQLdb) is not installed
    ("mysql+pymysql://" + HOST, "mysql+pymysql://" + HOST),
    ("mysql+mysqldb://" + HOST, "mysql+pymysql://" + HOST),
    ("postgresql+somedriver://" + HOST, "postgresql+somedriver://" + HOST),  # unknown: SQLAlchemy's to judge
    ("sqlite:///x.db", "sqlite:///x.db"),
    ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
])
def test_an_installed_driver_reads_every_spelling(given: str, opened: str, monkeypatch: pytest.MonkeyPatch):
    _block(monkeypatch, "psycopg2", "MySQLdb")
    assert sql_uri.with_driver(given) == opened


def test_the_named_driver_is_kept_when_it_is_installed(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sql_uri, "_installed", lambda module: module in ("sqlalchemy", "psycopg2", "psycopg"))
    assert sql_uri.with_driver("postgresql://" + HOST) == "postgresql://" + HOST  # psycopg2, SQLAlchemy's default
    assert sql_uri.with_driver("postgresql+psycopg2://" + HOST) == "postgresql+psycopg2://" + HOST


@pytest.mark.parametrize(("uri", "blocked", "line"), [
    ("postgresql+psycopg2://" + HOST, ("psycopg", "psycopg2", "pg8000"),
     "postgresql+psycopg2://u:***@127.0.0.1:5432/mlflow: --mlflow-uri: reading a PostgreSQL store needs a PostgreSQL "
     "driver: pip install 'ci-carbon[postgres]'"),
    ("mysql://" + HOST, ("pymysql", "MySQLdb", "mysql.connector"),
     "mysql://u:***@127.0.0.1:5432/mlflow: --mlflow-uri: reading a MySQL/MariaDB store needs a MySQL/MariaDB "
     "driver: pip install 'ci-carbon[mysql]'"),
    ("mysql+pymysql://" + HOST, ("sqlalchemy",),
     "mysql+pymysql://u:***@127.0.0.1:5432/mlflow: --mlflow-uri: reading a MySQL/MariaDB store needs SQLAlchemy and "
     "a driver: pip install 'ci-carbon[mysql]'"),
])
def test_nothing_to_read_it_with_is_one_line_naming_the_extra(uri: str, blocked: tuple[str, ...], line: str,
                                                              monkeypatch: pytest.MonkeyPatch):
    _block(monkeypatch, *blocked)
    with pytest.raises(InputError) as raised:
        sql_uri.with_driver(uri)
    assert [str(p) for p in raised.value.problems] == [line]
