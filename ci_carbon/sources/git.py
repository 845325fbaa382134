"""Git through the `git` program itself: the pull request's merge-base and files (--base), the commits of a range.

Why not GitPython: what ci-carbon asks of git is a handful of plumbing commands, and GitPython runs the same `git`
processes underneath after an import that costs more than all of them together (benchmarks/bench_action.py, what
--base does in fresh processes: 0.94 s through GitPython against 0.16 s as plain `git` calls on the loaded 2-core
development machine; 0.21 s against 0.08 s on a quieter moment, 0.18 s of it GitPython's import). GitPython stays in
the tests, which build real repositories with it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence

from ci_carbon.errors import InputError, InputProblem


class GitError(Exception):
    """A git command failed (its exit status and first line of stderr)."""

    def __init__(self, status: int, message: str):
        self.status, self.message = status, message
        super().__init__(message)


class NotARepository(Exception):
    """The folder is not inside a git work tree, or git is not installed."""


class Git:
    """One repository's work tree; every method is one `git` call."""

    def __init__(self, root: str):
        self.root = root

    @classmethod
    def open(cls, path: str) -> Git:
        """The repository that ``path`` is inside (git's own search upwards)."""
        if not os.path.isdir(path):
            raise NotARepository(f"{path} is not a folder")
        try:
            return cls(_run(path, ("rev-parse", "--show-toplevel")).decode("utf-8", "replace").strip())
        except GitError as err:
            raise NotARepository(err.message) from None

    def run(self, *args: str) -> str:
        return self.raw(*args).decode("utf-8", "replace").strip()

    def raw(self, *args: str) -> bytes:
        return _run(self.root, args)

    def commit(self, ref: str) -> str | None:
        """The full SHA of the commit ``ref`` names, or None."""
        try:
            return self.run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}") or None
        except GitError:
            return None

    def remotes(self) -> list[str]:
        return self.run("remote").split()

    def blob(self, commit: str, path: str) -> bytes | None:
        """The bytes of ``path`` at ``commit``, or None when no file is there."""
        try:
            if self.run("cat-file", "-t", f"{commit}:{path}") != "blob":
                return None
        except GitError:
            return None
        return self.raw("cat-file", "blob", f"{commit}:{path}")


def _run(cwd: str, args: Sequence[str]) -> bytes:
    try:
        proc = subprocess.run(["git", "-c", "core.quotePath=false", *args], cwd=cwd, capture_output=True,
                              stdin=subprocess.DEVNULL, check=False)
    except FileNotFoundError:
        raise NotARepository("git is not installed (no `git` on PATH)") from None
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(proc.returncode, lines[-1] if lines else f"git {args[0]} failed")
    return proc.stdout


def commits_in_range(spec: str, repo_path: str = ".") -> tuple[str, ...]:
    """Full SHAs of ``A..B`` (commits reachable from B and not from A), or of a single commit-ish."""
    try:
        repo = Git.open(repo_path)
    except NotARepository:
        raise InputError([InputProblem(repo_path, None, "--git-range", "is not inside a git repository")]) from None
    if ".." not in spec:
        sha = repo.commit(spec)
        if sha is None:
            raise InputError([InputProblem(repo_path, None, "--git-range", f"cannot resolve '{spec}': unknown "
                                                                            "revision")])
        return (sha,)
    try:
        return tuple(repo.run("rev-list", "--end-of-options", spec).split())
    except GitError as err:
        raise InputError([InputProblem(repo_path, None, "--git-range", f"cannot resolve '{spec}': {err.message}")]
                         ) from None
