"""Inputs at the boundary: every file a command opens by path passes through here, and the paths it will write are
checked against them (the writing itself is :mod:`ci_carbon.core.outputs`'s).

Why one module: an input is never harmed, and a bad one is one line, by rule rather than case by case.

- **Inputs** are looked at before they are read. A directory, a named pipe (FIFO), a socket or a device
  (``/dev/zero``) is one line naming what it is, never a hang or a MemoryError; so is a file larger than
  :data:`MAX_INPUT_BYTES`. The file is opened without blocking (a FIFO with no writer would wait for ever) and judged
  by ``fstat`` of what was opened, so a path swapped after a check cannot slip through. ``-`` is standard input where
  a command says so (``--manifest -``), read up to the same limit.
- **Overlaps** are refused before any work (:func:`refuse_overlaps`): an output that is an input (``--output`` the
  manifest) or another output (``--json-output`` equal to ``--output``).
- **Formats** of output files come from their extension only when it names one (:func:`format_for`).
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import BinaryIO, NamedTuple

from ci_carbon.errors import InputError, InputProblem

MAX_INPUT_BYTES = 256 * 1024 * 1024  # far above any manifest, config or emissions.csv; below what would exhaust memory
STDIN = "-"
STDIN_NAME = "<stdin>"  # how standard input is named in error lines and the report's source

_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"))


class Unreadable(Exception):
    """An input that cannot be read, with why in words (the caller says where: file, option)."""


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MiB"


def _kind_problem(mode: int, what: str) -> str | None:
    """Why a file of this mode is no input: a directory, a pipe, a socket, a device; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return f"is a directory, not a {what}"
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return f"is {kind}, not a regular file; give a {what}"


def _size_problem(size: int, limit: int) -> str:
    return f"is too large ({_mib(size)}; at most {_mib(limit)} is read)"


@contextmanager
def open_input(path: str, what: str = "file", limit: int = MAX_INPUT_BYTES) -> Iterator[BinaryIO]:
    """The regular file at ``path`` opened for binary reading, or :class:`Unreadable` saying what it is instead."""
    try:
        before = os.stat(path)
    except FileNotFoundError:
        raise Unreadable("no such file") from None
    except OSError as err:
        raise Unreadable(f"cannot be read: {err.strerror}") from None
    why = _kind_problem(before.st_mode, what)  # a socket cannot even be opened: judge it from its path first
    if why is not None:
        raise Unreadable(why)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise Unreadable(f"cannot be read: {err.strerror}") from None
    handle = os.fdopen(fd, "rb")
    with handle:
        opened = os.fstat(fd)
        why = _kind_problem(opened.st_mode, what)
        if why is None and opened.st_size > limit:
            why = _size_problem(opened.st_size, limit)
        if why is not None:
            raise Unreadable(why)
        yield handle


def read_bytes(path: str, what: str = "file", limit: int = MAX_INPUT_BYTES) -> bytes:
    """The whole regular file at ``path`` (at most ``limit`` bytes), or :class:`Unreadable`."""
    with open_input(path, what, limit) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as err:
            raise Unreadable(f"cannot be read: {err.strerror}") from None
    if len(data) > limit:  # it grew while it was read
        raise Unreadable(_size_problem(len(data), limit))
    return data


def read_stdin(limit: int = MAX_INPUT_BYTES) -> bytes:
    """Standard input, to its end (at most ``limit`` bytes), for ``--manifest -``; :class:`Unreadable` if closed."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise Unreadable("standard input is closed")
    try:
        data: bytes = stream.read(limit + 1)
    except (OSError, ValueError) as err:
        raise Unreadable(f"standard input cannot be read: {getattr(err, 'strerror', None) or err}") from None
    if len(data) > limit:
        raise Unreadable(f"standard input is too large (more than {_mib(limit)})")
    return data


def read_input(path: str, field: str | None = None, what: str = "file") -> bytes:
    """:func:`read_bytes` for a command: a problem is one line ``path: field: why``, exit 2."""
    try:
        return read_bytes(path, what)
    except Unreadable as err:
        raise InputError([InputProblem(path, None, field, str(err))]) from None


# --- where outputs go, and which format a file name asks for ------------------------------------------------------

def format_for(path: str | None, extensions: Mapping[str, str], option: str = "--output") -> str | None:
    """The format an output file's extension asks for; None for standard output (the caller's default). An unknown
    or missing extension is refused: Markdown written into ``report.txt`` or ``report.pdf`` is never what was
    meant, and guessing hides the typo."""
    if path is None or path == STDIN:
        return None
    ext = os.path.splitext(path)[1].lower()
    found = extensions.get(ext)
    if found is not None:
        return found
    if not ext and _is_stream(path):  # /dev/stdout, a named pipe: standard output by another name
        return None
    if os.path.isdir(path):  # what is wrong with it is not its extension
        raise unwritable(path, option, "Is a directory")
    known = ", ".join(extensions)
    said = f"has an unknown extension '{ext}'" if ext else "has no extension"
    raise InputError([InputProblem(path, None, option, f"{said}; name it {known}, or give --format")])


def _is_stream(path: str) -> bool:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


class Named(NamedTuple):
    """One path a command reads or writes, with the option that named it (for the error line)."""

    path: str
    option: str


def _same(a: str, b: str) -> bool:
    """Whether two paths name one file: the same inode when both exist, else the same resolved path."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def _comparable(path: str | None) -> bool:
    """Standard input/output and devices (``/dev/null`` twice harms nothing) are not compared."""
    if not path or path == STDIN:
        return False
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True  # not there yet: compared by its resolved path


def refuse_overlaps(inputs: Sequence[Named], outputs: Sequence[Named]) -> None:
    """Refuse, before any work, an output that is one of the inputs or another output (exit 2, one line): writing
    the report over the manifest destroys the input, and two outputs in one file leave only the last of them."""
    streams = [p for p in outputs if p.path == STDIN]
    if len(streams) > 1:
        raise InputError([InputProblem(STDIN, None, streams[1].option, f"is standard output, as is "
                                       f"{streams[0].option}; give one of them a file")])
    ins = [p for p in inputs if _comparable(p.path)]
    outs = [p for p in outputs if _comparable(p.path)]
    for i, out in enumerate(outs):
        clash = next((p for p in ins if _same(out.path, p.path)), None)
        if clash is not None:
            raise InputError([InputProblem(out.path, None, out.option, f"is the same file as the {clash.option} "
                                           "input; it would be overwritten, so write to another file")])
        other = next((p for p in outs[:i] if _same(out.path, p.path)), None)
        if other is not None:
            raise InputError([InputProblem(out.path, None, out.option, f"is the same file as {other.option}; "
                                           "give each output its own file")])


def unwritable(path: str, option: str, err: OSError | str) -> InputError:
    why = err if isinstance(err, str) else (err.strerror or str(err))
    return InputError([InputProblem(path, None, option, f"cannot be written: {why}")])
