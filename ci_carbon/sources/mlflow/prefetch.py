"""Read and convert an SQL store's runs in a second process, so that reading overlaps folding.

Why: reading 100,000 runs straight from SQL is ~2.8 s (two thirds of it SQLite's own index lookups), turning them
into jobs another ~2 s and folding the jobs into a report (estimate, advice, rows) ~3 s, one after the other on one
core. With a second core, a child process runs :class:`~.sql_reader.SqlReader` page by page, turns each page into a
:class:`~ci_carbon.core.model.Chunk` of jobs (:func:`.convert.convert_chunk`, the function the parent would run) and
hands it over as one pickle; the parent folds chunk N while the child reads and converts chunk N+1.

The child is a plain ``python -m`` subprocess (no fork of a process that may hold threads or connections): the
request (URI, selection, what conversion needs) goes in on stdin (a password never shows in ``ps``), chunks come
back on stdout as length-prefixed pickles, and its one-line error on stderr goes to a file read only if it fails.
Pickle is safe here: both ends are this module. A child that dies mid-read ends the read with SourceUnreachable
(exit 3), or with an internal error (exit 4) if the child's own code failed; a parent that stops early kills the
child.
"""

from __future__ import annotations

import copyreg
import os
import pickle
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from itertools import islice
from types import MappingProxyType
from typing import IO, TYPE_CHECKING, Any

from ci_carbon.core.model import EMPTY, Chunk
from ci_carbon.errors import InputError, InputProblem, SourceUnreachable
from ci_carbon.sources.mlflow.records import RunRecord, Selection

if TYPE_CHECKING:
    from ci_carbon.sources.mlflow.convert import Conversion

MIN_RUNS = 20_000  # below this the child's start-up (~0.1 s) is not won back
HEADER = 8  # bytes of little-endian length before each page's pickle
EXIT_INPUT, EXIT_UNREACHABLE, EXIT_INTERNAL = 2, 3, 4  # the child's exit codes, as the CLI's


def _proxy(items: dict) -> MappingProxyType:
    return MappingProxyType(items) if items else EMPTY  # type: ignore[return-value]


# the model's read-only mappings (tags, notice params, settings) cross as dicts and come back read-only
copyreg.pickle(MappingProxyType, lambda m: (_proxy, (dict(m),)))


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
    for page in _frames(uri, {"uri": uri, "selection": selection}):
        yield from map(RunRecord._make, page)


def chunks(uri: str, selection: Selection, conversion: Conversion, size: int,
           convert: Callable[[list[RunRecord]], Chunk]) -> Iterator[Chunk]:
    """The chunks :func:`.convert.convert_chunk` makes of ``SqlReader(uri).runs(selection)``, ``size`` runs each, in
    the same order, read by a child process that also converts every other chunk; the rest it sends as records,
    which ``convert`` (this process's reader) turns into chunks. Halves, because converting all of them made the
    child the slower of the two: the parent waited for it a third of the time (20,000 runs, README's numbers).

    Measured and not kept (a 20,000-run JSON report, whole process, 8 pairs against this scheme, median wall
    ratio): splitting the read at a run id, this process reading and converting the first 10 %, 20 %, 25 %, 40 % or
    50 % of the runs while the child reads the rest, 1.13, 1.13, 0.98, 0.99 and 1.10; a thread draining the pipe so
    that the child never waits on it, 1.00, and with the 25 % or 40 % split 0.95 and 1.05. None is outside the
    machine's noise."""
    for kind, frame in _frames(uri, {"uri": uri, "selection": selection, "conversion": conversion, "size": size}):
        yield frame if kind == "chunk" else convert(list(map(RunRecord._make, frame)))


def _frames(uri: str, request: dict[str, Any]) -> Iterator[Any]:
    """What the child sends for ``request``, frame by frame; its failure as this process's own."""
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=errors)
        try:
            child.stdin.write(pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL))  # type: ignore[union-attr]
            child.stdin.close()  # type: ignore[union-attr]
            while (frame := _page(child.stdout)) is not None:  # type: ignore[arg-type]
                yield frame
            code = child.wait()
        finally:
            if child.poll() is None:  # the consumer stopped early, or failed: the child goes too
                child.kill()
                child.wait()
            child.stdout.close()  # type: ignore[union-attr]
        if code != 0:
            errors.seek(0)
            _fail(code, errors.read().decode(errors="replace"), uri)


def _page(stream: IO[bytes]) -> Any:
    """One frame (a page of record tuples, or a chunk); None at a clean end (the child closed stdout between
    frames)."""
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
    if code == EXIT_INTERNAL:
        raise RuntimeError(f"the reading process failed: {message}")
    raise SourceUnreachable(f"reading the MLflow store stopped: {message}")


def _serve(request: dict, out: IO[bytes]) -> None:
    """The child: read every page and write it out (converted, if asked), as soon as it is ready."""
    from ci_carbon.sources.mlflow.sql_reader import SqlReader, open_sql_reader

    reader = open_sql_reader(request["uri"])
    if not isinstance(reader, SqlReader):
        raise SourceUnreachable("the store can no longer be read directly")
    with reader:
        pages = reader.pages(request["selection"])
        if request.get("conversion") is None:
            frames: Iterator[Any] = ([tuple(r) for r in page] for page in pages)
        else:
            frames = _converted(reader, pages, request["conversion"], request["size"])
        for frame in frames:
            blob = pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)
            out.write(len(blob).to_bytes(HEADER, "little"))
            out.write(blob)
            out.flush()


def _converted(reader: Any, pages: Iterator[list[RunRecord]], conversion: Conversion,
               size: int) -> Iterator[tuple[str, Any]]:
    """Chunks of ``size`` runs: the odd ones converted here, the even ones (the first among them, which the parent
    can convert while this process reads on) sent as record tuples."""
    from ci_carbon.sources.mlflow.convert import convert_chunk

    runs = (record for page in pages for record in page)
    turn = 0
    while records := list(islice(runs, size)):
        if turn % 2:
            yield "chunk", convert_chunk(reader, records, conversion)
        else:
            yield "records", [tuple(r) for r in records]
        turn += 1


def main() -> None:
    """Entry point of the child process (``python -m ci_carbon.sources.mlflow.prefetch``)."""
    try:
        _serve(pickle.loads(sys.stdin.buffer.read()), sys.stdout.buffer)
    except InputError as err:
        print("; ".join(p.message for p in err.problems), file=sys.stderr)
        sys.exit(EXIT_INPUT)
    except BrokenPipeError:  # the parent stopped reading: nothing to say
        sys.exit(EXIT_UNREACHABLE)
    except Exception as err:  # the store failing is exit 3; ci-carbon's own code failing an internal error (4)
        print(f"{type(err).__name__}: {err}".splitlines()[0], file=sys.stderr)
        sys.exit(EXIT_UNREACHABLE if _store_error(err) else EXIT_INTERNAL)


def _store_error(err: BaseException) -> bool:
    """A database's or the file system's error (the store failed), rather than a fault in ci-carbon's code."""
    module = type(err).__module__.split(".")[0]
    return isinstance(err, SourceUnreachable | sqlite3.Error | OSError) or module in DRIVERS


DRIVERS = frozenset({"sqlalchemy", "psycopg", "psycopg2", "pg8000", "pymysql", "MySQLdb", "mysql", "pymssql"})


if __name__ == "__main__":
    main()
