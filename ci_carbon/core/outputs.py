"""Outputs at the boundary: a command's outputs are staged in an :class:`Outputs` and committed together at its end.

Why: a report is trusted as complete. A regular file is written to a temporary file beside it, flushed to disk and
renamed over the target (a reader sees the old file or the new one, never half; a replaced file keeps its
permissions; a symlink keeps pointing at it); standard output (``-``) is held until the end and written in one go;
files that GitHub hands over for appending (``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``) get one append each. If
anything fails before or during the commit, nothing new is left behind: temporary files are removed and appends
already made are truncated back, so a report is never half-written because a later step (an unwritable job summary)
failed. The one thing that cannot be taken back, standard output, is written last.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from typing import IO, NamedTuple

from ci_carbon.core.files import STDIN, unwritable
from ci_carbon.redact import RedactingStream, redact, redacted

STDOUT_IN_MEMORY = 64 * 1024 * 1024  # standard output is held in memory up to this, then in a temporary file


class _Staged(NamedTuple):
    temp: str | None  # the temporary file beside the target; None for a target that is not a regular file
    final: str
    option: str
    handle: IO[str] | _Spool


class Outputs:
    """The outputs of one command, staged, then committed together (``with Outputs() as out: ...``): see the module
    docstring. Leaving the block with an exception discards everything staged; leaving it normally commits."""

    def __init__(self) -> None:
        self._files: list[_Staged] = []
        self._appends: dict[str, tuple[str, list[str]]] = {}  # path → (option, texts in order)
        self._stdout: _Spool | None = None

    def __enter__(self) -> Outputs:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()

    def stream(self, path: str | None, option: str = "--output") -> IO[str] | _Spool:
        """A text handle for ``path`` (standard output for None and ``-``), written when the command commits."""
        if path is None or path == STDIN:
            if self._stdout is None:
                self._stdout = _Spool()
            return self._stdout
        try:
            mode: int | None = os.stat(path).st_mode
        except FileNotFoundError:
            mode = None
        except OSError as err:
            raise unwritable(path, option, err) from None
        if mode is not None and stat.S_ISDIR(mode):
            raise unwritable(path, option, "Is a directory")
        if mode is not None and not os.access(path, os.W_OK):
            raise unwritable(path, option, "Permission denied")
        if mode is not None and not stat.S_ISREG(mode):  # /dev/null, a FIFO: nothing to rename over, written at the end
            staged = _Staged(None, path, option, _Spool())
        else:
            final = os.path.realpath(path)  # a symlinked report is updated where it points, the link kept
            temp, final, handle = _temporary(final, path, option)
            if mode is not None:  # a replaced report keeps its permissions
                with suppress(OSError):
                    os.chmod(temp, stat.S_IMODE(mode))
            staged = _Staged(temp, final, option, handle)
        self._files.append(staged)
        return staged.handle

    def write(self, path: str | None, pieces: Iterable[str], option: str = "--output") -> None:
        """Each piece as it is made (a 100,000-job JSON report is never held whole in memory)."""
        handle = self.stream(path, option)
        try:
            for piece in redacted(pieces):  # no secret in any file written (standard output: cli/edges.py too)
                handle.write(piece)
        except OSError as err:
            raise unwritable(path or STDIN, option, err) from None

    def append(self, path: str, text: str, option: str) -> None:
        """``text`` for the end of ``path`` (a file GitHub hands over for appending): one write at the commit."""
        self._appends.setdefault(path, (option, []))[1].append(redact(text))  # the runner shows both to everyone

    def discard(self) -> None:
        """Forget everything staged; remove the temporary files."""
        for staged in self._files:
            staged.handle.close()
            if staged.temp:
                _remove(staged.temp)
        self._files, self._appends = [], {}
        if self._stdout is not None:
            self._stdout.close()
            self._stdout = None

    def commit(self) -> None:
        """Appends first (undone by truncation if a later one fails), then the renames, then standard output
        (which cannot be taken back). Any failure: nothing new left behind, one line, exit 2."""
        try:
            for staged in self._files:
                _finish(staged)
            appended = _append_all(self._appends)
            try:
                for staged in self._files:
                    _place(staged)
            except BaseException:
                _undo(appended)
                raise
        except BaseException:
            self.discard()
            raise
        _close(appended)
        self._files, self._appends = [], {}
        self._flush_stdout()

    def _flush_stdout(self) -> None:
        spool, self._stdout = self._stdout, None
        if spool is None:
            return
        try:
            write = _stdout_writer()
            for chunk in spool.chunks():
                write(chunk)
        finally:
            spool.close()


def _stdout_writer() -> Callable[[str], object]:
    """Where held standard output goes. Every piece of it went through :func:`redacted` in :meth:`Outputs.write`,
    so the redacting stream the CLI puts on standard output (cli/edges.py) is told so and does not search it again:
    the second search of a 43 MB JSON report made ``report > file`` a sixth slower than ``report -o file``."""
    stream = sys.stdout
    if isinstance(stream, RedactingStream):
        return stream.write_redacted
    import click

    return lambda text: click.echo(text, nl=False)


class _Spool:
    """Text held for a stream written at the commit: the pieces as they came, in memory, moved to a temporary file
    past :data:`STDOUT_IN_MEMORY` (tempfile is imported only then: the manifest path starts fast).

    Pieces, not one string: joining a 43 MB JSON report into one (and encoding that whole) held it three times over,
    a third of the report's peak memory."""

    def __init__(self) -> None:
        self._memory: list[str] | None = []
        self._file: IO[str] | None = None
        self._size = 0

    def write(self, text: str) -> int:
        if self._memory is None:
            assert self._file is not None
            return self._file.write(text)
        self._memory.append(text)
        self._size += len(text)
        if self._size > STDOUT_IN_MEMORY:
            import tempfile

            self._file = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")  # noqa: SIM115 (closed by close)
            self._file.writelines(self._memory)
            self._memory = None
        return len(text)

    def chunks(self) -> Iterator[str]:
        """The text in the pieces it was written in, or, from the file, in pieces of the in-memory size."""
        if self._memory is not None:
            yield from self._memory
            return
        assert self._file is not None
        self._file.seek(0)
        while chunk := self._file.read(STDOUT_IN_MEMORY):
            yield chunk

    def close(self) -> None:
        self._memory = None
        if self._file is not None:
            self._file.close()


def _temporary(final: str, shown: str, option: str) -> tuple[str, str, IO[str]]:
    """A new temporary file beside ``final`` (same directory: the rename stays on one file system); its
    permissions as a new file's would be (the umask applies), not a private temporary file's."""
    folder, name = os.path.split(final)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        temp = os.path.join(folder, f".{name}.{os.urandom(4).hex()}.tmp")
        try:
            fd = os.open(temp, flags, 0o666)
        except FileExistsError:
            continue
        except OSError as err:
            raise unwritable(shown, option, err) from None
        return temp, final, open(fd, "w", encoding="utf-8", newline="")
    raise unwritable(shown, option, "no temporary file could be made beside it")


def _finish(staged: _Staged) -> None:
    """The staged text flushed to disk (a rename must not publish a file whose bytes are not there yet)."""
    if isinstance(staged.handle, _Spool):
        return
    try:
        staged.handle.flush()
        os.fsync(staged.handle.fileno())
        staged.handle.close()
    except OSError as err:
        raise unwritable(staged.final, staged.option, err) from None


def _place(staged: _Staged) -> None:
    try:
        if isinstance(staged.handle, _Spool):  # a device or a pipe: written in one go, nothing to rename
            with open(staged.final, "w", encoding="utf-8", newline="") as target:
                for chunk in staged.handle.chunks():
                    target.write(chunk)
            staged.handle.close()
            return
        assert staged.temp is not None
        os.replace(staged.temp, staged.final)
    except OSError as err:
        raise unwritable(staged.final, staged.option, err) from None
    _sync_folder(os.path.dirname(staged.final))


def _sync_folder(folder: str) -> None:
    """Make the rename itself durable where the system allows it (best effort: not every system can)."""
    try:
        fd = os.open(folder or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _Appended(NamedTuple):
    fd: int
    size: int | None  # the size before our append (None where it cannot be truncated back: a pipe, a device)


def _append_all(appends: Mapping[str, tuple[str, list[str]]]) -> list[_Appended]:
    """Every append target opened first (a refusal leaves all untouched), then one write each."""
    opened: list[tuple[_Appended, str, str, bytes]] = []
    try:
        for path, (option, texts) in appends.items():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
            except OSError as err:
                raise unwritable(path, option, err) from None
            info = os.fstat(fd)
            size = info.st_size if stat.S_ISREG(info.st_mode) else None
            opened.append((_Appended(fd, size), path, option, "".join(texts).encode("utf-8")))
        done: list[_Appended] = []
        for appended, path, option, data in opened:
            done.append(appended)
            try:
                _write_all(appended.fd, data)
            except OSError as err:
                raise unwritable(path, option, err) from None
    except BaseException:
        _undo([a for a, *_ in opened])
        raise
    return [a for a, *_ in opened]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _undo(appended: Sequence[_Appended]) -> None:
    """Take appends back: each file truncated to its size before (a pipe cannot be; it is only closed)."""
    for item in appended:
        if item.size is not None:
            with suppress(OSError):
                os.ftruncate(item.fd, item.size)
    _close(appended)


def _close(appended: Sequence[_Appended]) -> None:
    for item in appended:
        with suppress(OSError):
            os.close(item.fd)


def _remove(path: str) -> None:
    with suppress(OSError):
        os.remove(path)
