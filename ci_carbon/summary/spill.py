"""Per-run rows kept on disk while a quarter streams past, so memory stays flat however many runs there are.

Two things need every run at the end, in an order the store does not give: the CSV (one row per run, by start time)
and the duplicates rule (runs of one parameter set, by start time). Both go into a private temporary SQLite
database (deleted when closed; SQLite keeps a few MB in memory and the rest in a temporary file) and come back
sorted, one row at a time. SQLite only stores and sorts here; what the rows mean is computed in Python.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator

from ci_carbon.summary.advice import Candidate
from ci_carbon.summary.model import Run

_RUN_COLUMNS = len(Run._fields)


class Spill:
    def __init__(self, keep_runs: bool):
        self.keep_runs = keep_runs
        self.db = sqlite3.connect("")  # "": a private temporary database, removed on close
        self.db.executescript(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -4096;"
            f"CREATE TABLE runs ({', '.join(f'c{i}' for i in range(_RUN_COLUMNS))});"
            "CREATE TABLE candidates (experiment, param_key, started, id, name, emissions_kg);")

    def add(self, runs: Iterable[Run], candidates: Iterable[Candidate]) -> None:
        if self.keep_runs:
            self.db.executemany(f"INSERT INTO runs VALUES ({', '.join('?' * _RUN_COLUMNS)})",
                                (_stored(run) for run in runs))
        self.db.executemany("INSERT INTO candidates VALUES (?, ?, ?, ?, ?, ?)", candidates)

    def runs(self) -> Iterator[Run]:
        """Every run, by start time (planned jobs last), then id."""
        order = "c0 IS NULL, c0, c1"
        for row in self.db.execute(f"SELECT * FROM runs ORDER BY {order}"):
            yield Run(*row[:-1], tuple(json.loads(row[-1])))

    def candidates(self) -> Iterator[Candidate]:
        """Duplicate candidates grouped by parameter set, each group by start time then id (recommend's order)."""
        for row in self.db.execute("SELECT * FROM candidates ORDER BY experiment, param_key, started, id"):
            yield Candidate(*row)

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
