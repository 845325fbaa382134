"""Per-run rows kept on disk while a quarter streams past, so memory stays flat however many runs there are.

The CSV needs every run at the end, in an order the store does not give (one row per run, by start time). The rows go
into a private temporary SQLite database (deleted when closed; SQLite keeps a few MB in memory and the rest in a
temporary file) and come back sorted, one row at a time. SQLite only stores and sorts here; what the rows mean is
computed in Python.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator

from ci_carbon.summary.model import Run

_RUN_COLUMNS = len(Run._fields)


class Spill:
    def __init__(self, keep_runs: bool):
        self.keep_runs = keep_runs
        self.db = sqlite3.connect("")  # "": a private temporary database, removed on close
        self.db.executescript(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -4096;"
            f"CREATE TABLE runs ({', '.join(f'c{i}' for i in range(_RUN_COLUMNS))});")

    def add(self, runs: Iterable[Run]) -> None:
        if self.keep_runs:
            self.db.executemany(f"INSERT INTO runs VALUES ({', '.join('?' * _RUN_COLUMNS)})",
                                (_stored(run) for run in runs))

    def runs(self) -> Iterator[Run]:
        """Every run, by start time (planned jobs last), then id."""
        order = "c0 IS NULL, c0, c1"
        for row in self.db.execute(f"SELECT * FROM runs ORDER BY {order}"):
            yield Run(*row[:-1], tuple(json.loads(row[-1])))  # type: ignore[call-arg]

    def __iter__(self) -> Iterator[Run]:
        return self.runs()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _stored(run: Run) -> tuple:
    return (*run[:-1], json.dumps(run.tags))
