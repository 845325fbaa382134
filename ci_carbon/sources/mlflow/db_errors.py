"""A database's refusal told apart from a database out of reach, whichever driver raised it.

Why: a wrong password or a role without the grant is the user's to fix (exit 2, as a server's 401 or 403 is), while
a server that does not answer is exit 3. Both arrive as the driver's exception, wrapped by SQLAlchemy (and by
MLflow's store around that), and the driver's first line names the cause ("permission denied for table tags");
MLflow's own message is SQLAlchemy's advice about autoflush. SQLSTATE class 28 is invalid authorisation and 42501
insufficient privilege (PostgreSQL, psycopg's ``sqlstate``, psycopg2's ``pgcode``, pg8000's ``C``); MySQL and
MariaDB number them (1044/1045 access denied, 1142/1143 table or column command denied, 1227 privilege needed,
1370 routine denied, 1698 access denied for a user without a password).
"""

from __future__ import annotations

import re

MYSQL_DENIED = frozenset({1044, 1045, 1142, 1143, 1227, 1370, 1698})
_DENIED_TEXT = re.compile(r"password authentication failed|permission denied|access denied|command denied|"
                          r"authentication failed|insufficient privilege", re.I)
HINT = "check the user, password and grants of the --mlflow-uri role"


def driver_error(err: BaseException) -> BaseException | None:
    """The driver's own exception under ``err`` (SQLAlchemy's ``orig``, anywhere in the cause chain), or None."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        orig = getattr(current, "orig", None)
        if isinstance(orig, BaseException) and type(current).__module__.startswith("sqlalchemy"):
            return orig
        current = current.__cause__ or current.__context__
    return None


def _codes(orig: BaseException) -> tuple[str, int | None]:
    """(SQLSTATE, MySQL error number) as far as the driver says them."""
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    number = getattr(orig, "errno", None)
    first = orig.args[0] if orig.args else None
    if isinstance(first, dict):  # pg8000: the server's fields
        state = state or first.get("C")
    elif isinstance(first, int) and not isinstance(first, bool):  # PyMySQL, mysqlclient: (number, message)
        number = number or first
    return str(state or ""), number if isinstance(number, int) else None


def refused(orig: BaseException) -> bool:
    """Whether the database refused these credentials or this role (not: could not be reached)."""
    state, number = _codes(orig)
    if state.startswith("28") or state == "42501" or number in MYSQL_DENIED:
        return True
    return bool(_DENIED_TEXT.search(first_line(orig)))


def first_line(error: object) -> str:
    """The first line of an error's text, or its type's name when it has none."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
