"""Read an SQL store's runs in a second process, so that reading overlaps converting.

Why: reading 100,000 runs straight from SQL is ~2.8 s (two thirds of it SQLite's own index lookups) and turning
them into jobs another ~2 s, one after the other on one core. With a second core, a child process runs
:class:`~.sql_reader.SqlReader` page by page and hands each page over as one pickled list, which the parent loads
in a fifth of the time it would take to read it; the parent converts page N while the child reads page N+1.

The child is a plain ``python -m`` subprocess (no fork of a process that may hold threads or connections): the
URI and the selection go in on stdin (a password never shows in ``ps``), pages come back on stdout as
length-prefixed pickles, and its one-line error on stderr goes to a file read only if it fails. Pickle is safe
here: both ends are this module. A child that dies mid-read ends the read with SourceUnreachable; a parent that
stops early kills the child.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from typing import IO

from ci_carbon.errors import InputError, InputProblem, SourceUnreachable
from ci_carbon.sources.mlflow.records import RunRecord, Selection

MIN_RUNS = 20_000  # below this the child's start-up (~0.1 s) is not won back
HEADER = 8  # bytes of little-endian length before each page's pickle
EXIT_INPUT, EXIT_UNREACHABLE = 2, 3  # the child's exit codes, as the CLI's


def worth_it(runs: int, uri: str) -> bool:
    """A second process pays off for a large read of a sqlite store on a machine with a second core for it.

    Only sqlite, as measured (benchmarks/bench_prefetch.py, README): there the database works inside the reading
    process, so the child takes an idle core; a PostgreSQL or MariaDB server works in its own process, which already
    takes that core, and the child made the read slower (1.15-1.34× on PostgreSQL, 1.19× on MariaDB).
    ``CI_CARBON_PREFETCH=0`` turns it off, ``=1`` on whatever the store and size (to compare, or to test it).
    """
    said = os.environ.get("CI_CARBON_PREFETCH", "").strip().lower()
    if said in ("0", "false", "no", "1", "true", "yes"):
        return said in ("1", "true", "yes")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return uri.startswith("sqlite:") and runs >= MIN_RUNS and cores >= 2


def records(uri: str, selection: Selection) -> Iterator[RunRecord]:
    """The runs ``SqlReader(uri).runs(selection)`` yields, in the same order, read by a child process."""
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=errors)
        try:
            child.stdin.write(json.dumps({"uri": uri, "selection": selection._asdict()}).encode())  # type: ignore[union-attr]
            child.stdin.close()  # type: ignore[union-attr]
            while (page := _page(child.stdout)) is not None:  # type: ignore[arg-type]
                yield from map(RunRecord._make, page)
            code = child.wait()
        finally:
            if child.poll() is None:  # the consumer stopped early, or failed: the child goes too
                child.kill()
                child.wait()
            child.stdout.close()  # type: ignore[union-attr]
        if code != 0:
            errors.seek(0)
            _fail(code, errors.read().decode(errors="replace"), uri)


def _page(stream: IO[bytes]) -> list[tuple] | None:
    """One page; None at a clean end (the child closed stdout between pages)."""
    head = stream.read(HEADER)
    if not head:
        return None
    size = int.from_bytes(head, "little") if len(head) == HEADER else -1
    blob = stream.read(size) if size >= 0 else b""
    if size < 0 or len(blob) != size:
        return None  # cut short: the child died; its exit code says so
    return pickle.loads(blob)


def _fail(code: int, stderr: str, uri: str) -> None:
    """The child's failure as the parent's own: its one line, with the exit code it chose."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    message = lines[-1] if lines else f"the reading process ended with exit code {code}"
    if code == EXIT_INPUT:
        raise InputError([InputProblem(uri, None, None, message)])
    raise SourceUnreachable(f"reading the MLflow store stopped: {message}")


def _serve(request: dict, out: IO[bytes]) -> None:
    """The child: read every page and write it out, as soon as it is read."""
    from ci_carbon.sources.mlflow.sql_reader import SqlReader, open_sql_reader

    raw = request["selection"]
    selection = Selection(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})  # type: ignore[arg-type]
    reader = open_sql_reader(request["uri"])
    if not isinstance(reader, SqlReader):
        raise SourceUnreachable("the store can no longer be read directly")
    with reader:
        for page in reader.pages(selection):
            blob = pickle.dumps([tuple(r) for r in page], protocol=pickle.HIGHEST_PROTOCOL)
            out.write(len(blob).to_bytes(HEADER, "little"))
            out.write(blob)
            out.flush()


def main() -> None:
    """Entry point of the child process (``python -m ci_carbon.sources.mlflow.prefetch``)."""
    try:
        _serve(json.loads(sys.stdin.buffer.read()), sys.stdout.buffer)
    except InputError as err:
        print("; ".join(p.message for p in err.problems), file=sys.stderr)
        sys.exit(EXIT_INPUT)
    except BrokenPipeError:  # the parent stopped reading: nothing to say
        sys.exit(EXIT_UNREACHABLE)
    except Exception as err:  # a database error: the parent reports it as the store failing
        print(f"{type(err).__name__}: {err}".splitlines()[0], file=sys.stderr)
        sys.exit(EXIT_UNREACHABLE)


if __name__ == "__main__":
    main()
